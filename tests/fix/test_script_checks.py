"""Every script `fix` writes passes `bash -n` and Debian's shellcheck, and every az command line in
it (guards included) is accepted by the real Azure CLI's parser, never run (tests/fix/az_parse.py
in the azure-cli environment `make azcli` installs)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from asr_preflight.fix.script import blocks, resolve
from fix.cases import CASES, outcome_of
from fix.test_fix_cli import WHOLE
from test_cli import BOB, cli

HERE = Path(__file__).resolve().parent
AZ_PYTHON = HERE.parent.parent / ".venv-azcli" / "bin" / "python"


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    return [outcome_of(case, tmp_path_factory.mktemp(case.name)) for case in CASES]


@pytest.fixture(scope="module")
def example_script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("example") / "fix.sh"
    result = cli("fix", *WHOLE, "--principal-id", BOB, "--script", str(path))
    assert result.returncode == 1 and path.exists(), result.stderr
    return path


def test_every_script_passes_bash_n_and_shellcheck(outcomes, example_script, tmp_path):
    paths = [example_script]
    for case, outcome in zip(CASES, outcomes, strict=True):
        path = tmp_path / f"{case.name}.sh"
        path.write_text(outcome.script)
        paths.append(path)
    for path in paths:
        syntax = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert syntax.returncode == 0, (path.name, syntax.stderr)
    lint = subprocess.run(
        ["shellcheck", "--severity=style", *map(str, paths)], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout


def test_shellcheck_catches_what_it_should(tmp_path):
    """The check above can fail: an unquoted variable is reported."""
    path = tmp_path / "bad.sh"
    path.write_text("#!/usr/bin/env bash\nname=$1\naz group show --name $name\n")
    assert subprocess.run(["shellcheck", str(path)], capture_output=True).returncode != 0


def _parse(lines: list[list[str]]) -> list[dict]:
    assert AZ_PYTHON.exists(), "the azure-cli environment is missing: run `make azcli`"
    result = subprocess.run(
        [str(AZ_PYTHON), str(HERE / "az_parse.py")],
        input="".join(json.dumps(argv) + "\n" for argv in lines),
        capture_output=True,
        text=True,
        timeout=900,
        env={
            **os.environ,
            "AZURE_CONFIG_DIR": str(HERE / ".azure-config"),
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
        },
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_az_command_line_parses_with_the_real_azure_cli(outcomes):
    lines: dict[str, list[str]] = {}
    for outcome in outcomes:
        for _, block in blocks(outcome.plan):
            for command in block.commands:
                argv = resolve(command)
                assert argv[0] == "az"
                lines.setdefault(" ".join(argv), argv[1:])
    answers = _parse(list(lines.values()))
    assert len(answers) == len(lines)
    refused = [(a["argv"][:4], a["error"]) for a in answers if a["error"]]
    assert not refused, refused
    # every kind of command the fixes use was seen
    seen = {" ".join(a["argv"][:3]) for a in answers}
    assert {"provider register --namespace", "backup vault create", "rest --method put"} <= seen


def test_the_parser_check_refuses_a_wrong_command_line():
    answers = _parse(
        [
            ["network", "nsg", "rule", "create", "--nsg-name", "n", "--name", "r",
             "--resource-group", "g", "--priority", "100", "--direction", "Sideways"],
            ["storage", "account", "update", "--ids", "/x", "--no-such-option", "1"],
        ]
    )  # fmt: skip
    assert all(a["error"] for a in answers), answers
