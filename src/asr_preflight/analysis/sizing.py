"""Choose each VM's target size the way ASR does: the same size when the target region offers it
to the subscription and it fits the VM; otherwise the closest size that fits.

Fit: NIC count, data-disk count, premium IO for premium disks, the VM's Hyper-V generation,
accelerated networking when a NIC uses it, Trusted Launch / Confidential VM support, the CPU
architecture, and the VM's availability zone when the target region has zones.

Ranking of the sizes that fit (deterministic, first difference wins):
1. the source size's family first (the portal only lists that family);
2. sizes with at least the source's vCPUs and memory before smaller ones;
3. the smallest distance |log2(vCPU ratio)| + |log2(memory ratio)| from the source size;
4. fewer vCPUs, then the name, so equal candidates always resolve the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from asr_preflight.knowledge import regions
from asr_preflight.model.entities import VirtualMachine, VmSku
from asr_preflight.model.estate import Estate


class Choice(StrEnum):
    SAME = "same"  # the source size
    CLOSEST = "closest"  # another size: the source size is missing, restricted or does not fit
    NONE = "none"  # no size fits: enabling fails with 150097
    UNKNOWN = "unknown"  # the SKU exports needed to decide are missing


@dataclass(frozen=True, slots=True)
class Needs:
    """What the target size must offer to host the VM."""

    nics: int
    data_disks: int
    premium_io: bool
    generation: str | None
    accelerated_networking: bool
    trusted_launch: bool
    confidential: bool
    architecture: str | None
    zone: str | None  # the logical zone to keep, when the target region has zones

    def describe(self) -> list[str]:
        parts = [f"{self.nics} NIC{'s' if self.nics != 1 else ''}"]
        if self.data_disks:
            parts.append(f"{self.data_disks} data disks")
        if self.premium_io:
            parts.append("premium disks")
        if self.generation:
            parts.append(f"generation {self.generation}")
        if self.accelerated_networking:
            parts.append("accelerated networking")
        if self.trusted_launch:
            parts.append("Trusted Launch")
        if self.confidential:
            parts.append("confidential computing")
        if self.architecture and self.architecture.lower() != "x64":
            parts.append(f"{self.architecture} CPUs")
        if self.zone:
            parts.append(f"zone {self.zone}")
        return parts


@dataclass(frozen=True, slots=True)
class Candidate:
    """A size offered in the target region, its capabilities parsed once."""

    name: str
    family: str
    vcpus: float
    memory: float
    max_nics: int | None
    max_data_disks: int | None
    premium_io: bool
    generations: frozenset[str]
    accelerated_networking: bool
    trusted_launch: bool
    confidential: bool
    architecture: str
    zones: frozenset[str]
    restriction: str | None  # a Location restriction reason: not available to the subscription

    @classmethod
    def of(cls, sku: VmSku, region: str) -> Candidate:
        caps = sku.capabilities

        def flag(name: str) -> bool:
            return caps.get(name, "").lower() == "true"

        def count(name: str) -> int | None:
            try:
                return int(float(caps[name]))
            except (KeyError, ValueError):
                return None  # not stated: not a constraint

        zones = set(sku.zones.get(region, ()))
        restriction = None
        for r in sku.restrictions:
            if region in r.locations and r.type == "Location":
                restriction = r.reason or "restricted"
            elif region in r.locations and r.type == "Zone":
                zones -= set(r.zones)
        generations = caps.get("HyperVGenerations", "V1")
        return cls(
            name=sku.name,
            family=sku.family or "",
            vcpus=sku.vcpus or 0.0,
            memory=sku.memory_gib or 0.0,
            max_nics=count("MaxNetworkInterfaces"),
            max_data_disks=count("MaxDataDiskCount"),
            premium_io=flag("PremiumIO"),
            generations=frozenset(g.strip().upper() for g in generations.split(",") if g.strip()),
            accelerated_networking=flag("AcceleratedNetworkingEnabled"),
            trusted_launch=not flag("TrustedLaunchDisabled"),
            confidential=bool(caps.get("ConfidentialComputingType")),
            architecture=caps.get("CpuArchitectureType", "x64"),
            zones=frozenset(zones),
            restriction=restriction,
        )

    def unmet(self, needs: Needs) -> list[str]:
        """The needs this size does not meet, in words."""
        missing = []
        if self.restriction:
            missing.append(f"not available to the subscription ({self.restriction})")
        if self.max_nics is not None and needs.nics > self.max_nics:
            missing.append(f"{needs.nics} NICs")
        if self.max_data_disks is not None and needs.data_disks > self.max_data_disks:
            missing.append(f"{needs.data_disks} data disks")
        if needs.premium_io and not self.premium_io:
            missing.append("premium disks")
        if needs.generation and needs.generation not in self.generations:
            missing.append(f"generation {needs.generation}")
        if needs.accelerated_networking and not self.accelerated_networking:
            missing.append("accelerated networking")
        if needs.trusted_launch and not self.trusted_launch:
            missing.append("Trusted Launch")
        if needs.confidential and not self.confidential:
            missing.append("confidential computing")
        if needs.architecture and needs.architecture.lower() != self.architecture.lower():
            missing.append(f"{needs.architecture} CPUs")
        if needs.zone and needs.zone not in self.zones:
            missing.append(f"zone {needs.zone}")
        return missing


@dataclass(frozen=True, slots=True)
class Shrink:
    """A closest size smaller than the source: how much smaller, and the sizes that are not.

    ASR prefers the source's family, so a missing E64s_v5 can become an E8s_v5; the workload then
    fails over onto an eighth of its CPUs. The larger sizes are in any family, closest first."""

    source_vcpus: float
    source_memory: float
    vcpus: float
    memory: float
    larger: tuple[Candidate, ...]  # fitting sizes that keep the source's vCPUs and memory

    def describe(self) -> str:
        return (
            f"{_share(self.vcpus, self.source_vcpus)} of the vCPUs "
            f"({self.vcpus:g} of {self.source_vcpus:g}) and "
            f"{_share(self.memory, self.source_memory)} of the memory "
            f"({self.memory:g} of {self.source_memory:g} GiB)"
        )


def _share(part: float, whole: float) -> str:
    ratio = part / whole if whole else 1.0
    if ratio >= 1:
        return "all"
    inverse = whole / part if part else math.inf
    return f"1/{inverse:g}" if inverse == int(inverse) else f"{ratio:.0%}"


@dataclass(frozen=True, slots=True)
class SizeChoice:
    choice: Choice
    size: str | None
    family: str | None
    vcpus: float | None
    zone: str | None
    reason: str
    shrink: Shrink | None = None  # set when the closest size is smaller than the source


class Sizer:
    """Sizes VMs for one target region; VMs with the same size and needs share one answer."""

    def __init__(self, estate: Estate, target_region: str, zone: str | None = None) -> None:
        self.estate = estate
        self.region = target_region
        self.zone = zone  # the zone every VM fails over to (zone to zone, or chosen)
        self.candidates = [
            Candidate.of(sku, target_region) for sku in estate.skus.get(target_region, {}).values()
        ]
        self.by_name = {c.name.lower(): c for c in self.candidates}
        known = regions.get(target_region)
        self.region_has_zones = (known.availability_zones if known else False) or any(
            c.zones for c in self.candidates
        )
        self._answers: dict[tuple[str, Needs], SizeChoice] = {}

    def needs(self, vm: VirtualMachine, source: VmSku | None) -> Needs:
        nics = self.estate.nics_of(vm)
        source_caps = source.capabilities if source else {}
        return Needs(
            nics=max(len(vm.nic_ids or ()), 1),
            data_disks=sum(1 for d in vm.disks or () if d.role == "data"),
            premium_io=any((d.sku or "").lower().startswith("premium") for d in vm.disks or ()),
            generation=vm.hyper_v_generation,
            accelerated_networking=any(n is not None and n.accelerated_networking for n in nics),
            trusted_launch=(vm.security_type or "").lower() == "trustedlaunch",
            confidential=(vm.security_type or "").lower() == "confidentialvm",
            architecture=source_caps.get("CpuArchitectureType"),
            zone=self.zone or (vm.zones[0] if vm.zones and self.region_has_zones else None),
        )

    def choose(self, vm: VirtualMachine) -> SizeChoice:
        source = self.estate.sku(vm.location, vm.size)
        needs = self.needs(vm, source)
        key = ((vm.size or "").lower(), needs)
        if key not in self._answers:
            self._answers[key] = self._choose(vm.size or "", source, needs)
        return self._answers[key]

    def _choose(self, size: str, source: VmSku | None, needs: Needs) -> SizeChoice:
        region = regions.display(self.region)
        if not self.candidates:
            return SizeChoice(
                Choice.UNKNOWN, None, None, None, None, f"no VM sizes were exported for {region}"
            )
        same = self.by_name.get(size.lower())
        if same is not None and not same.unmet(needs):
            return SizeChoice(
                Choice.SAME,
                same.name,
                same.family,
                same.vcpus,
                needs.zone,
                f"{same.name} is offered in {region} and fits",
            )
        baseline = source or (same and self.estate.sku(self.region, size))
        if baseline is None or not baseline.vcpus or not baseline.memory_gib:
            return SizeChoice(
                Choice.UNKNOWN,
                None,
                None,
                None,
                needs.zone,
                f"{size} is not in the source region's SKU export, so the closest "
                "size cannot be ranked",
            )
        why_not = (
            f"{size} is {', '.join(same.unmet(needs))} in {region}"
            if same
            else f"{size} is not offered in {region}"
        )
        fitting = [c for c in self.candidates if not c.unmet(needs)]
        if not fitting:
            return SizeChoice(
                Choice.NONE,
                None,
                None,
                None,
                needs.zone,
                f"{why_not}, and no size in {region} allows {self._blockers(needs)}",
            )
        best = min(fitting, key=lambda c: _rank(c, baseline))
        family = "same family" if best.family == baseline.family else "another family"
        return SizeChoice(
            Choice.CLOSEST,
            best.name,
            best.family,
            best.vcpus,
            needs.zone,
            f"{why_not}; {best.name} ({family}, {best.vcpus:g} vCPUs, "
            f"{best.memory:g} GiB) is the closest size that fits",
            _shrink(best, baseline, fitting),
        )

    def _blockers(self, needs: Needs) -> str:
        """The needs that rule every size out: alone when one does, else all of them."""
        available = [c for c in self.candidates if not c.restriction]
        if not available:
            return "anything: no size there is available to the subscription"
        alone = [
            need for need in needs.describe() if all(need in c.unmet(needs) for c in available)
        ]
        return " and ".join(alone or needs.describe())


def _shrink(best: Candidate, source: VmSku, fitting: list[Candidate]) -> Shrink | None:
    vcpus, memory = source.vcpus or 0.0, source.memory_gib or 0.0
    if best.vcpus >= vcpus and best.memory >= memory:
        return None
    larger = sorted(
        (c for c in fitting if c.vcpus >= vcpus and c.memory >= memory),
        key=lambda c: _rank(c, source)[2:],  # nearest first, whatever the family
    )
    return Shrink(vcpus, memory, best.vcpus, best.memory, tuple(larger[:3]))


def _rank(candidate: Candidate, source: VmSku) -> tuple[bool, bool, float, float, str]:
    vcpus, memory = source.vcpus or 1.0, source.memory_gib or 1.0
    smaller = candidate.vcpus < vcpus or candidate.memory < memory
    distance = abs(math.log2(max(candidate.vcpus, 0.5) / vcpus)) + abs(
        math.log2(max(candidate.memory, 0.5) / memory)
    )
    return (
        candidate.family != (source.family or ""),
        smaller,
        round(distance, 6),
        candidate.vcpus,
        candidate.name,
    )
