"""The typed estate: the only thing rules see, built once from a snapshot."""

from asr_preflight.model.build import build_estate
from asr_preflight.model.estate import Estate

__all__ = ["Estate", "build_estate"]
