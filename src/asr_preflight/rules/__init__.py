"""Rules, one module per prerequisite area; importing this package registers them all."""

from asr_preflight.rules import (  # noqa: F401  (imported to register their rules)
    capacity,
    encryption,
    guest_os,
    networking,
    permissions,
    protected,
    replication,
    storage,
    subscription,
    vault,
    vm,
    zone_to_zone,
)
from asr_preflight.rules.base import REGISTRY, Context, Rule

__all__ = ["REGISTRY", "Context", "Rule", "all_rules"]


def all_rules() -> list[Rule]:
    return sorted(REGISTRY.values(), key=lambda r: r.id)
