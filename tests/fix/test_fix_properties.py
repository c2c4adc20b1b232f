"""Defects together, as estates have them: whatever mix of scriptable defects an estate has, the
simulation of the script turns every one of them pass and makes nothing else worse."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import Estate
from fix.cases import CASES, fix
from fix.test_fix import worst

# Two ways of breaking the same thing cannot both hold: keep one of each group.
EXCLUSIVE = [{"vault-in-source", "no-vault", "cache-identity-vault"},
             {"cache-kind", "cache-region", "cache-firewall", "cache-identity-vault",
              "cache-settings"}, {"ade-target-vault", "ade-access-policy", "role"}]  # fmt: skip


def compatible(names: frozenset[str]) -> bool:
    return all(len(names & group) <= 1 for group in EXCLUSIVE)


mixes = (
    st.sets(st.sampled_from([c.name for c in CASES]), min_size=2, max_size=4)
    .map(frozenset)
    .filter(compatible)
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixes)
def test_any_mix_of_defects_is_fixed_whole(names):
    chosen = [c for c in CASES if c.name in names]
    estate = Estate()
    options: dict = {}
    for case in chosen:
        case.defect(estate)
        options.update(case.options)
    with tempfile.TemporaryDirectory() as folder:
        outcome = fix(estate, Path(folder), **options)
    failing = {f.rule for f in outcome.after.findings if f.status.value == "fail"}
    assert not failing & {c.rule for c in chosen}, (sorted(names), failing)
    was, now = worst(outcome.before.findings), worst(outcome.after.findings)
    worse = {k: (was.get(k, 0), v) for k, v in now.items() if v > was.get(k, 0)}
    assert not worse, (sorted(names), worse)
