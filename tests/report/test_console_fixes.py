"""How the console splits a fix into prose and commands: a command is printed whole on a line
of its own (a copy gives all of it); everything else is prose that may wrap."""

from __future__ import annotations

import pytest

from asr_preflight.report.console import _remedy_parts

SUB = "22222222-2222-4222-8222-222222222222"
GUEST = "collect guest facts (roots, endpoints; format in docs/inputs.md), then pass them"


@pytest.mark.parametrize(
    ("remedy", "parts"),
    [
        (  # a command after a colon, then prose again
            f"register it: az provider register --namespace Microsoft.RecoveryServices "
            f"--subscription {SUB}, then check again",
            [
                (
                    "register it:",
                    "az provider register --namespace Microsoft.RecoveryServices "
                    f"--subscription {SUB}",
                ),
                ("then check again", ""),
            ],
        ),
        (  # "; " inside parentheses does not end the sentence
            GUEST,
            [(GUEST, "")],
        ),
        (  # a command elided with … cannot be copied: it stays prose
            "attach a NAT gateway (az network nat gateway create …)",
            [("attach a NAT gateway (az network nat gateway create …)", "")],
        ),
        (  # a name with a lone ")" does not keep the next "; " from splitting
            "move rg) away; az group show -n rg-x",
            [("move rg) away", ""), ("", "az group show -n rg-x")],
        ),
    ],
)
def test_a_fix_is_split_into_prose_and_whole_commands(remedy, parts):
    assert _remedy_parts(remedy) == parts
