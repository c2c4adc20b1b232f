"""Generated docs stay in step with the code (regenerate with `make docs`)."""

from pathlib import Path

from asr_preflight.report.docs import report_schema_json, rules_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_rule_catalog_is_current():
    assert (DOCS / "rules.md").read_text(encoding="utf-8") == rules_markdown(), "run make docs"


def test_report_schema_is_current():
    assert (DOCS / "report-schema.json").read_text(encoding="utf-8") == report_schema_json(), (
        "run make docs"
    )
