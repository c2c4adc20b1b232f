"""`asr-preflight export-script`: a bash script that exports what `check --snapshot` reads.

Written for large estates and Cloud Shell sessions: a fixed number of list calls per
subscription (never one per VM), Resource Graph for what would otherwise take a loop, paging
followed to the end, progress on stderr, and optional calls that fail are skipped and listed
instead of aborting the export. It works for users, service principals and managed identities
(group memberships come from Microsoft Graph's directoryObjects, which takes any of them).
The script itself is `export_script.sh`; this module fills in the question's choices.
"""

from __future__ import annotations

import shlex
from importlib import resources

# API versions of the REST calls the script makes (the az commands pick their own).
COMPUTE_API = "2024-07-01"
AUTHORIZATION_API = "2022-04-01"
PER_SUBSCRIPTION = "# --- per subscription ---"
ESTATE_WIDE = "# --- estate-wide ---"


def template() -> str:
    return resources.files("asr_preflight").joinpath("export_script.sh").read_text("utf-8")


def _steps(section: str, principal: bool) -> int:
    """The `step` lines of a section: its progress count (those for a principal only if one)."""
    lines = [line.strip() for line in section.splitlines()]
    return sum(
        1
        for line in lines
        if line.startswith("step ") and (principal or not line.endswith("# principal"))
    )


def export_script(
    subscriptions: list[str],
    source_region: str,
    target_region: str,
    principal_id: str | None,
    out: str = "asr-export",
) -> str:
    """The script, with the question's choices filled in (quoted for bash)."""
    text = template()
    per_subscription = text[text.index(PER_SUBSCRIPTION) : text.index(ESTATE_WIDE)]
    estate_wide = text[text.index(ESTATE_WIDE) :]
    has_principal = principal_id is not None
    total = len(subscriptions) * _steps(per_subscription, has_principal)
    total += _steps(estate_wide, has_principal)
    values = {
        "SUBSCRIPTIONS": " ".join(shlex.quote(s) for s in subscriptions),
        "SOURCE": shlex.quote(source_region),
        "TARGET": shlex.quote(target_region),
        "PRINCIPAL": shlex.quote(principal_id or ""),
        "OUT": shlex.quote(out),
        "TOTAL": str(total),
        "COMPUTE_API": COMPUTE_API,
        "AUTHORIZATION_API": AUTHORIZATION_API,
    }
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    return text
