"""Azure's own REST reference examples (tests/fixtures/rest-examples, copied unchanged) go
through the real boundary: what they hold lands in the model, and what is merely odd in them is
left out with its file and JSON path while the rest of the file loads."""

from pathlib import Path

import pytest

from asr_preflight.model import build_estate
from asr_preflight.model.estate import Estate
from asr_preflight.snapshot import load_snapshot

EXAMPLES = Path(__file__).parents[1] / "fixtures" / "rest-examples"
BODY = '$.responses["200"].body'
EXTENSIONS = "microsoft.compute/virtualmachines/extensions"


def load(path: Path) -> Estate:
    return build_estate(load_snapshot(path))


@pytest.mark.parametrize(
    "path", [EXAMPLES / "VirtualMachine_ListAll_MaximumSet_Gen.json", EXAMPLES]
)
def test_an_unreadable_embedded_extension_is_reported_inside_its_vm(path):
    """The generated VM list embeds an extension whose id is a placeholder: it is left out and
    reported in the VM's own file, at its place in the VM's `resources`, naming the VM."""
    estate = load(path)
    [problem] = [p for p in estate.problems if p.kind == EXTENSIONS]
    assert problem.file == str(EXAMPLES / "VirtualMachine_ListAll_MaximumSet_Gen.json")
    assert problem.path == f"{BODY}.value[0].resources[0].id"
    assert problem.expected.endswith(
        "(embedded in VM /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
        "/providers/Microsoft.Compute/virtualMachines/{virtualMachineName})"
    )
    vm = next(v for v in estate.vms.values() if v.name == "{virtualMachineName}")
    assert estate.extensions_of(vm) == [] and not estate.has(EXTENSIONS)
