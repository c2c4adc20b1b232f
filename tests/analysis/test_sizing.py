"""Sizing on SKU lists shaped like `az vm list-skus`: same size when it fits, else a documented,
deterministic ranking of the sizes that fit."""

from __future__ import annotations

import random
from dataclasses import replace

from asr_preflight.analysis.sizing import Candidate, Choice, Needs, Sizer
from asr_preflight.model.build import one
from asr_preflight.snapshot import load_snapshot
from asr_preflight.snapshot.detect import SKUS
from builders import Estate, sku

NEEDS = Needs(
    nics=1,
    data_disks=0,
    premium_io=True,
    generation="V2",
    accelerated_networking=False,
    trusted_launch=False,
    confidential=False,
    architecture="x64",
    zone=None,
)


def candidate(name, family, vcpus, memory, **caps):
    record = sku(name, family, vcpus, memory, "centralus")
    for cap in record["capabilities"]:
        if cap["name"] in caps:
            cap["value"] = str(caps.pop(cap["name"]))
    record["capabilities"] += [{"name": k, "value": str(v)} for k, v in caps.items()]
    return Candidate.of(one(SKUS, record), "centralus")


def test_candidate_reads_capabilities_and_restrictions():
    c = Candidate.of(
        one(SKUS, sku("Standard_D2s_v5", "f", 2, 8, "centralus", restricted=True)), "centralus"
    )
    assert (c.vcpus, c.memory, c.max_nics, c.premium_io, c.generations) == (
        2.0,
        8.0,
        4,
        True,
        frozenset({"V1", "V2"}),
    )
    assert c.restriction == "NotAvailableForSubscription"
    assert "not available to the subscription (NotAvailableForSubscription)" in c.unmet(NEEDS)


def test_each_need_rules_a_size_out():
    assert candidate("a", "f", 2, 8, PremiumIO="False").unmet(NEEDS) == ["premium disks"]
    assert candidate("a", "f", 2, 8, HyperVGenerations="V1").unmet(NEEDS) == ["generation V2"]
    assert candidate("a", "f", 2, 8, MaxNetworkInterfaces=2).unmet(replace(NEEDS, nics=3)) == [
        "3 NICs"
    ]
    assert candidate("a", "f", 2, 8, AcceleratedNetworkingEnabled="False").unmet(
        replace(NEEDS, accelerated_networking=True)
    ) == ["accelerated networking"]
    assert candidate("a", "f", 2, 8, TrustedLaunchDisabled="True").unmet(
        replace(NEEDS, trusted_launch=True)
    ) == ["Trusted Launch"]
    assert candidate("a", "f", 2, 8, CpuArchitectureType="Arm64").unmet(NEEDS) == ["x64 CPUs"]
    assert candidate("a", "f", 2, 8).unmet(replace(NEEDS, zone="1")) == []
    assert candidate("a", "f", 2, 8).unmet(replace(NEEDS, zone="4")) == ["zone 4"]


def _sizer(tmp_path, target_skus, vm_size="Standard_D4s_v5"):
    estate = Estate()
    estate.vm1["hardwareProfile"]["vmSize"] = vm_size
    estate.files["skus-eastus.json"] = [sku(vm_size, "standardDSv5Family", 4, 16, "eastus")]
    estate.files["skus-centralus.json"] = target_skus
    from asr_preflight.model import build_estate

    model = build_estate(load_snapshot(estate.write(tmp_path)))
    return Sizer(model, "centralus"), next(iter(model.vms.values()))


def test_ranking_prefers_family_then_not_smaller_then_distance(tmp_path):
    skus = [
        sku("Standard_D2s_v5", "standardDSv5Family", 2, 8, "centralus"),
        sku("Standard_D8s_v5", "standardDSv5Family", 8, 32, "centralus"),
        sku("Standard_D16s_v5", "standardDSv5Family", 16, 64, "centralus"),
        sku("Standard_E4s_v5", "standardESv5Family", 4, 32, "centralus"),
    ]
    sizer, vm = _sizer(tmp_path, skus)
    choice = sizer.choose(vm)
    assert (choice.choice, choice.size) == (Choice.CLOSEST, "Standard_D8s_v5")
    assert "same family" in choice.reason


def test_ranking_is_deterministic_whatever_the_catalog_order(tmp_path):
    skus = [
        sku(f"Standard_D{n}s_v5", "standardDSv5Family", n, 4 * n, "centralus")
        for n in (2, 8, 16, 32)
    ] + [sku("Standard_D8as_v5", "standardDSv5Family", 8, 32, "centralus")]
    answers = set()
    for seed in range(5):
        random.Random(seed).shuffle(skus)
        sizer, vm = _sizer(tmp_path / str(seed), list(skus))
        answers.add(sizer.choose(vm).size)
    assert answers == {"Standard_D8as_v5"}  # equal size and family: the name decides


def test_vms_with_the_same_size_and_needs_share_one_answer(tmp_path):
    sizer, vm = _sizer(tmp_path, [sku("Standard_D4s_v5", "standardDSv5Family", 4, 16, "centralus")])
    assert sizer.choose(vm) is sizer.choose(vm)
    assert sizer.choose(vm).choice is Choice.SAME
