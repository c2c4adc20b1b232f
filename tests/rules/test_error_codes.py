"""One source of truth for error codes: a finding predicts only an error its rule's catalog entry
lists (the rules command, docs/rules.md and the JSON report's `rules` all show `Rule.codes`)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from asr_preflight.rules import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "src" / "asr_preflight" / "rules"
EXAMPLE = ROOT / "examples" / "contoso"


def _literal_codes() -> list[tuple[str, str, int]]:
    """(file, rule id, code) for every `code=<number>` inside a rule's function."""
    found = []
    for path in sorted(RULES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            rule_id = next(
                (
                    d.args[0].value
                    for d in node.decorator_list
                    if isinstance(d, ast.Call) and getattr(d.func, "id", None) == "rule"
                ),
                None,
            )
            if rule_id is None:
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.keyword) and inner.arg == "code":
                    values = [n.value for n in ast.walk(inner.value) if isinstance(n, ast.Constant)]
                    found += [(path.name, rule_id, v) for v in values if isinstance(v, int)]
    return found


def test_every_literal_code_a_rule_emits_is_in_its_catalog_entry():
    literals = _literal_codes()
    assert literals, "the scan found no code= at all: it is broken"
    stray = [(f, r, c) for f, r, c in literals if c not in REGISTRY[r].codes]
    assert stray == []


@pytest.mark.parametrize(
    "pair",
    [
        ["--target-region", "centralus"],
        ["--target-region", "eastus", "--target-zone", "2"],
        ["--target-region", "westus2"],
    ],
)
def test_every_finding_of_the_example_predicts_a_listed_code(pair):
    result = subprocess.run(
        [str(Path(sys.executable).parent / "asr-preflight"), "check", "--snapshot", str(EXAMPLE),
         "--source-region", "eastus", *pair, "--output", "json", "--all-findings",
         "--principal-id", "bbbbbbbb-0000-4000-8000-000000000002"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    coded = [f for f in report["findings"] if f.get("asr_error_code")]
    assert coded, "the example predicts errors"
    for finding in coded:
        assert finding["asr_error_code"] in report["rules"][finding["rule"]]["asr_error_codes"], (
            finding
        )


def test_the_catalog_shows_every_code():
    catalog = (ROOT / "docs" / "rules.md").read_text()
    assert "predicts ASR errors 151037, 151196" in catalog  # ASR-NET-001: its finer errors too
