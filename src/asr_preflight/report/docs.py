"""Generated documentation: the rule catalog (docs/rules.md) and the report schema."""

from __future__ import annotations

import json

from asr_preflight.findings import Area
from asr_preflight.report.model import json_schema
from asr_preflight.rules import all_rules


def rules_markdown() -> str:
    lines = [
        "# Rule catalog",
        "",
        "Generated from the rule registry by `make docs`; a test keeps it current.",
        "Each rule answers `pass`, `fail`, `warn`, `unknown` or `skip` per VM or per "
        "resource, with the ASR error code it predicts where one exists.",
        "",
    ]
    for area in Area:
        rules = [r for r in all_rules() if r.area is area]
        lines += [f"## {area.value}", ""]
        for r in rules:
            codes = ", ".join(map(str, r.codes))
            code = (
                f" — predicts ASR error{'s' if len(r.codes) > 1 else ''} {codes}" if codes else ""
            )
            lines += [
                f"### {r.id}: {r.title}",
                "",
                f"{r.description}{code}",
                "",
                f"Follows: {r.docs}. Sources:",
            ]
            lines += [f"- {ref}" for ref in r.citations] + [""]
    return "\n".join(lines)


def report_schema_json() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
