"""Write docs/rules.md and docs/report-schema.json from the code (`make docs`)."""

from pathlib import Path

from asr_preflight.report.docs import report_schema_json, rules_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs"

if __name__ == "__main__":
    (DOCS / "rules.md").write_text(rules_markdown(), encoding="utf-8")
    (DOCS / "report-schema.json").write_text(report_schema_json(), encoding="utf-8")
    print(f"wrote {DOCS / 'rules.md'} and {DOCS / 'report-schema.json'}")
