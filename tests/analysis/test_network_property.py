"""Property: the NSG evaluator agrees with a brute-force reference written independently — every
address of the target walked through the rules one by one with the `ipaddress` module, first
match wins, no interval arithmetic, no name reasoning, no caches.

With every tag's ranges known the evaluator must give exactly the reference's answer (and name
the same deciding rule). With names only it may say `unknown`, but when it decides, it must be
right for any ranges consistent with the names (Storage ⊇ Storage.EastUS, regions of a service
disjoint, services disjoint, AzureCloud ⊇ all, all public)."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from asr_preflight.analysis.network import (
    Decision,
    NetworkAnalysis,
    Scope,
    Source,
    evaluate_nsg,
    tag_target,
)
from asr_preflight.analysis.service_tags import AddressSet, ServiceTagIndex
from asr_preflight.model.build import one
from asr_preflight.model.entities import NetworkSecurityGroup, SecurityRule
from asr_preflight.snapshot.detect import SERVICE_TAGS

BASE = ipaddress.ip_network("20.0.0.0/24")  # a small public universe, enumerable
BLOCKS = list(BASE.subnets(new_prefix=28))  # 16 blocks of 16 addresses
VM_IP = "10.0.0.4"
VNET = "10.0.0.0/16"
TARGETS = ("Storage.EastUS", "AzureActiveDirectory", "AzureKeyVault")


@st.composite
def tag_ranges(draw):
    """Blocks dealt to tags so that the name hierarchy holds, and every tag holds at least one
    block: Azure publishes no empty service tag, and a regional tag is always part of its
    service's addresses (which is what the names-only analysis relies on)."""
    named = ["Storage.EastUS", "Storage.WestUS", "AAD", "KV.EastUS", "KV"]
    owner = named + draw(
        st.lists(
            st.sampled_from([*named, None]),
            min_size=len(BLOCKS) - len(named),
            max_size=len(BLOCKS) - len(named),
        )
    )
    pick = {
        name: [str(b) for b, o in zip(BLOCKS, owner, strict=True) if o == name]
        for name in set(owner)
    }
    east, west = pick.get("Storage.EastUS", []), pick.get("Storage.WestUS", [])
    kv_east = pick.get("KV.EastUS", [])
    tags = {
        "Storage.EastUS": east,
        "Storage.WestUS": west,
        "Storage": east + west,
        "AzureActiveDirectory": pick.get("AAD", []),
        "AzureKeyVault.EastUS": kv_east,
        "AzureKeyVault": kv_east + pick.get("KV", []),
    }
    tags["AzureCloud"] = [str(b) for b in BLOCKS]
    return tags


prefixes = st.builds(
    lambda block, length: str(
        ipaddress.ip_network(f"{block.network_address}/{length}", strict=False)
    ),
    st.sampled_from(BLOCKS),
    st.integers(24, 32),
)
destinations = st.one_of(
    st.sampled_from(
        [
            "*",
            "Internet",
            "VirtualNetwork",
            "AzureLoadBalancer",
            "Storage",
            "Storage.EastUS",
            "Storage.WestUS",
            "AzureActiveDirectory",
            "AzureKeyVault",
            "AzureKeyVault.EastUS",
            "AzureCloud",
            "10.0.0.0/8",
            "Sql",
        ]
    ),
    prefixes,
)
sources = st.sampled_from(
    ["*", "*", "*", "VirtualNetwork", "10.0.0.0/24", "10.9.0.0/16", "Internet"]
)


@st.composite
def rule_sets(draw):
    count = draw(st.integers(0, 7))
    priorities = draw(st.lists(st.integers(100, 4096), min_size=count, max_size=count, unique=True))
    rules = []
    for n, priority in enumerate(priorities):
        rules.append(
            SecurityRule(
                name=f"r{n}",
                priority=priority,
                direction=draw(st.sampled_from(["Outbound", "Outbound", "Inbound"])),
                access=draw(st.sampled_from(["Allow", "Deny"])),
                protocol=draw(st.sampled_from(["Tcp", "*", "Udp"])),
                destinations=tuple(draw(st.lists(destinations, min_size=1, max_size=3))),
                destination_ports=(draw(st.sampled_from(["443", "*", "80", "400-500", "1-442"])),),
                sources=(draw(sources),),
            )
        )
    return rules


# --- the reference ---------------------------------------------------------------------------

DEFAULTS = [  # (name, priority, access, sources, destinations)
    ("AllowVnetOutBound", 65000, "Allow", ("VirtualNetwork",), ("VirtualNetwork",)),
    ("AllowInternetOutBound", 65001, "Allow", ("*",), ("Internet",)),
    ("DenyAllOutBound", 65500, "Deny", ("*",), ("*",)),
]


def _in(address, entry, tags):
    if entry in ("*",):
        return True
    if entry == "Internet":
        return not address.is_private
    if entry == "VirtualNetwork":
        return address in ipaddress.ip_network(VNET)
    if entry in tags:
        return any(address in ipaddress.ip_network(p) for p in tags[entry])
    try:
        return address in ipaddress.ip_network(entry)
    except ValueError:
        return False  # AzureLoadBalancer, a tag without ranges here (Sql): no public address


def _port(ports):
    for item in ports:
        if item == "*":
            return True
        low, _, high = item.partition("-")
        if int(low) <= 443 <= int(high or low):
            return True
    return False


def reference(rules, target, tags):
    """(decision, first denying rule, how many addresses it denies)."""
    ordered = sorted(
        [(r.priority, r.name, r) for r in rules if r.direction == "Outbound"]
        + [(p, n, None, a, s, d) for n, p, a, s, d in DEFAULTS],
        key=lambda x: x[0],
    )
    vm = ipaddress.ip_address(VM_IP)
    denied: dict[tuple[int, str], int] = {}
    for prefix in tags[target]:
        for address in ipaddress.ip_network(prefix):
            for entry in ordered:
                if entry[2] is None:  # a default rule
                    _, name, _, access, srcs, dsts = entry
                else:
                    rule = entry[2]
                    if rule.protocol not in ("Tcp", "*") or not _port(rule.destination_ports):
                        continue
                    name, access, srcs, dsts = (
                        rule.name,
                        rule.access,
                        rule.sources,
                        rule.destinations,
                    )
                if not any(_in(vm, s, {}) for s in srcs):
                    continue
                if any(_in(address, d, tags) for d in dsts):
                    if access == "Deny":
                        denied[(entry[0], name)] = denied.get((entry[0], name), 0) + 1
                    break
    if denied:
        (_, name), count = min(denied.items())
        return Decision.BLOCKED, name, count
    return Decision.ALLOWED, None, 0


def _index(tags):
    record = {
        "changeNumber": "1",
        "values": [{"name": n, "properties": {"addressPrefixes": p}} for n, p in tags.items()],
    }
    return ServiceTagIndex.from_sets([one(SERVICE_TAGS, record)])


SCOPE = Scope("s", AddressSet.from_prefixes([VNET]), AddressSet.from_prefixes([VNET]))
SOURCE = Source((VM_IP,))


@settings(max_examples=300, deadline=None)
@given(rule_sets(), tag_ranges(), st.sampled_from(TARGETS))
def test_exact_with_ranges(rules, tags, target):
    if not tags[target]:
        return  # an empty tag has nothing to decide
    nsg = NetworkSecurityGroup("id", "n", "eastus", tuple(rules))
    index = _index(tags)
    verdict = evaluate_nsg(nsg, tag_target(target, index), SCOPE, SOURCE, index)
    decision, rule, count = reference(rules, target, tags)
    assert verdict.decision is decision
    if decision is Decision.BLOCKED:
        assert verdict.rule == rule
        total = sum(ipaddress.ip_network(p).num_addresses for p in tags[target])
        expected = "" if count == total else f"{count:,} of {total:,} addresses"
        assert verdict.share == expected


@settings(max_examples=300, deadline=None)
@given(rule_sets(), tag_ranges(), st.sampled_from(TARGETS), st.booleans())
def test_names_only_is_sound(rules, tags, target, some_ranges):
    """Without ranges (or with only some tags' ranges), a decided answer is the true one."""
    if not tags[target]:
        return
    nsg = NetworkSecurityGroup("id", "n", "eastus", tuple(rules))
    index = _index({k: v for k, v in tags.items() if k != target}) if some_ranges else None
    verdict = evaluate_nsg(nsg, tag_target(target, index), SCOPE, SOURCE, index)
    if verdict.decision is not Decision.UNKNOWN:
        assert verdict.decision is reference(rules, target, tags)[0]


def test_engine_caches_do_not_change_answers(estate, tmp_path):
    """The shared-signature caches give each VM what evaluating it alone would."""
    from asr_preflight.engine import Scope as CheckScope
    from asr_preflight.engine import select_vms
    from asr_preflight.model import build_estate
    from asr_preflight.rules import Context
    from asr_preflight.snapshot import load_snapshot

    nsg = estate.files["nsgs.json"][0]
    nsg["securityRules"] = [
        {
            "name": "DenyHalf",
            "priority": 100,
            "direction": "Outbound",
            "access": "Deny",
            "protocol": "*",
            "sourceAddressPrefix": "10.0.0.0/25",
            "sourcePortRange": "*",
            "destinationAddressPrefix": "*",
            "destinationPortRange": "*",
        }
    ]
    template = estate.files["nics.json"][0]
    estate.files["nics.json"] = []
    estate.files["vms.json"] = []
    for n, ip in enumerate(("10.0.0.4", "10.0.0.200", "10.0.0.5")):
        vm = estate.vm(f"vm{n}")
        nic = dict(
            template, id=vm["networkProfile"]["networkInterfaces"][0]["id"], name=f"vm{n}-nic"
        )
        nic["ipConfigurations"] = [dict(template["ipConfigurations"][0], privateIPAddress=ip)]
        estate.files["vms.json"].append(vm)
        estate.files["nics.json"].append(nic)
    built = build_estate(load_snapshot(estate.write(tmp_path)))
    ctx = Context(
        built, "eastus", "centralus", select_vms(built, CheckScope("eastus", "centralus"))
    )
    analysis = NetworkAnalysis.of(ctx)
    got = {vm.name: analysis.paths(vm)[0].subnet_nsg.decision for vm in ctx.vms}
    assert got == {"vm0": Decision.BLOCKED, "vm1": Decision.ALLOWED, "vm2": Decision.BLOCKED}
