"""Waivers: accept a known gap for a while without hiding it.

A TOML file of `[[waiver]]` tables: `rule` (an id, or a pattern such as "ASR-NET-*"),
`resource` (a pattern over the finding's Azure resource id or the ids of the VMs it decides,
case-insensitive; "*" for all), `reason` and `expires` (a date). A matching fail, warn or
unknown finding is marked waived: still listed and counted, but it decides no verdict and no exit
code until its expiry date, from which it counts again (and says its waiver expired)."""

from __future__ import annotations

import tomllib
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path

import msgspec

from asr_preflight.errors import InputError
from asr_preflight.findings import Finding, Status, WaiverMark


class Waiver(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    rule: str
    resource: str
    reason: str
    expires: date

    def matches(self, finding: Finding) -> bool:
        if not fnmatchcase(finding.rule.upper(), self.rule.upper()):
            return False
        pattern = self.resource.lower()
        about = [(finding.resource_id or "").lower(), *(finding.affected_vms or ())]
        return any(fnmatchcase(target, pattern) for target in about)


class _File(msgspec.Struct, forbid_unknown_fields=True):
    waiver: list[Waiver] = msgspec.field(default_factory=list)


def load_waivers(path: Path) -> list[Waiver]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(str(path), "", f"cannot read the waivers ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(str(path), "", f"expected TOML ({exc})") from None
    try:
        return msgspec.convert(data, _File).waiver
    except msgspec.ValidationError as exc:
        raise InputError(
            str(path),
            str(exc).rsplit(" - at ", 1)[-1].replace("$.", "", 1) if " - at " in str(exc) else "",
            f"expected [[waiver]] tables of rule, resource, reason and expires (a date): {exc}",
        ) from None


def apply_waivers(findings: list[Finding], waivers: list[Waiver], today: date) -> list[Finding]:
    """The findings, each matching one marked with its waiver (the first that matches)."""
    if not waivers:
        return findings
    out = []
    for finding in findings:
        waiver = None
        if finding.status is not Status.PASS:
            waiver = next((w for w in waivers if w.matches(finding)), None)
        if waiver is None:
            out.append(finding)
            continue
        mark = WaiverMark(waiver.reason, waiver.expires.isoformat(), waiver.expires <= today)
        out.append(msgspec.structs.replace(finding, waiver=mark))
    return out
