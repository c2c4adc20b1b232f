"""Guest facts always land on their VM or are reported: never dropped without a word."""

from __future__ import annotations

from pathlib import Path

from asr_preflight.model import build_estate
from asr_preflight.snapshot import load_snapshot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "contoso"


def _problems(estate, tmp_path):
    model = build_estate(load_snapshot(estate.write(tmp_path)))
    return model, [p for p in model.problems if p.kind == "guest_facts"]


def test_facts_that_name_their_vm_land(estate, tmp_path):
    model, problems = _problems(estate, tmp_path)
    assert problems == []
    assert model.guest(next(iter(model.vms.values()))) is not None


def test_facts_recorded_under_the_host_name_are_reported(estate, tmp_path):
    facts = estate.files["guest/vm1.json"]
    facts["vm"] = {"vm_id": None, "name": "vm"}  # what a probe without the VM's identity writes
    model, [problem] = _problems(estate, tmp_path)
    assert problem.file.endswith("vm1.json") and problem.path == "$.vm"
    assert "vm.name 'vm', which matches no exported VM" in problem.expected
    assert "--vm-id" in problem.expected
    assert model.guest(next(iter(model.vms.values()))) is None


def test_facts_of_another_vm_id_are_reported(estate, tmp_path):
    estate.files["guest/vm1.json"]["vm"]["vm_id"] = "00000000-0000-4000-8000-00000000dead"
    _, [problem] = _problems(estate, tmp_path)
    assert "vm.vm_id '00000000-0000-4000-8000-00000000dead'" in problem.expected


def test_the_example_estate_loads_without_input_problems():
    assert build_estate(load_snapshot(EXAMPLE)).problems == []
