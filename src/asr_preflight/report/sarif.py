"""SARIF 2.1.0: one result per `fail` (error) and `warn` (warning) finding, for GitHub code
scanning and Azure DevOps. A finding's Azure resource is its logical location, and its
fingerprint (rule, resource, VMs) stays the same from run to run, so alerts de-duplicate."""

from __future__ import annotations

import hashlib
from typing import Any

from asr_preflight import __version__
from asr_preflight.engine import CheckResult
from asr_preflight.findings import Finding, Status
from asr_preflight.report.model import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/asr-preflight/asr-preflight"
_LEVEL = {Status.FAIL: "error", Status.WARN: "warning"}


def fingerprint(finding: Finding) -> str:
    """Stable across runs: what the finding is about, never its wording or its order."""
    about = "|".join(
        (finding.rule, (finding.resource_id or "").lower(), *sorted(finding.affected_vms or ()))
    )
    return hashlib.sha256(about.encode()).hexdigest()[:32]


def render(result: CheckResult, report: Report) -> dict[str, Any]:
    rules = sorted(result.rules, key=lambda r: r.id)
    index = {rule.id: i for i, rule in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "asr-preflight",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(rule) for rule in rules],
                    }
                },
                "originalUriBaseIds": {
                    "AZURE": {
                        "uri": "https://management.azure.com/",
                        "description": {"text": "Azure Resource Manager: a finding's resource"},
                    }
                },
                "automationDetails": {
                    "id": f"asr-preflight/{report.summary.source_region}-"
                    f"{report.summary.target_region}/"
                },
                "results": [
                    _result(f, index[f.rule])
                    for f in result.findings
                    if f.status in _LEVEL and not f.waived
                ],
            }
        ],
    }


def _rule(rule: Any) -> dict[str, Any]:
    help_uri = next((r for r in rule.references if r.startswith("https://")), INFORMATION_URI)
    codes = ", ".join(str(c) for c in rule.codes)
    return {
        "id": rule.id,
        "name": "".join(word.capitalize() for word in rule.title.split()[:8] if word.isalnum()),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description or rule.title},
        "help": {
            "text": f"{rule.description or rule.title} Predicts ASR error(s): {codes or 'none'}. "
            f"Sources: {'; '.join(rule.citations)}"
        },
        "helpUri": help_uri,
        "properties": {"area": rule.area.value, "asrErrorCodes": list(rule.codes)},
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    resource = finding.resource_id or "/"
    text = finding.message + (f" Fix: {finding.remedy}" if finding.remedy else "")
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.status],
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": resource.lstrip("/") or ".", "uriBaseId": "AZURE"}
                },
                "logicalLocations": [
                    {"fullyQualifiedName": resource, "kind": "resource"},
                ],
            }
        ],
        "partialFingerprints": {"asrPreflightFinding/v1": fingerprint(finding)},
        "properties": {
            "area": finding.area.value,
            "asrErrorCode": finding.asr_error_code,
            "affectedVms": list(finding.affected_vms or ()),
        },
    }
