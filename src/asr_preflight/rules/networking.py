"""Networking area (first rules): outbound HTTPS to ASR's service tags through the VM's NSGs, and
forced tunnelling. Full path analysis (prefixes, ASGs, egress, storage firewall) is the
"Networking prerequisites" issue."""

from __future__ import annotations

from asr_preflight.analysis.network import Decision, Verdict, evaluate
from asr_preflight.findings import Area
from asr_preflight.knowledge.endpoints import required_service_tags
from asr_preflight.model import ids
from asr_preflight.rules.base import Context, Out, rule

# Which ASR error a blocked destination predicts (troubleshooting docs), in the order the
# registration meets them: sign-in first, then the service, then the cache account.
_CODE_BY_TAG = {
    "AzureActiveDirectory": 151196,
    "AzureSiteRecovery": 151197,
    "EventHub": 151197,
    "Storage": 151037,
}
_CODE_BY_HOST = (
    ("login.", 151196),
    ("hypervrecoverymanager", 151197),
    ("servicebus", 151197),
    ("blob.", 151037),
)


_TAG_ORDER = list(_CODE_BY_TAG)


def _code_for_tags(tags: list[str]) -> int:
    """The error of the blocked destination registration meets first."""
    first = min(
        tags,
        key=lambda t: (
            _TAG_ORDER.index(t.split(".")[0]) if t.split(".")[0] in _TAG_ORDER else len(_TAG_ORDER)
        ),
    )
    return _CODE_BY_TAG.get(first.split(".")[0], 151037)


def _code_for_hosts(hosts: list[str]) -> int:
    codes = [code for part, code in _CODE_BY_HOST for host in hosts if part in host]
    return codes[0] if codes else 151037


@rule(
    "ASR-NET-001",
    Area.NETWORKING,
    "Outbound HTTPS to Site Recovery's service tags is allowed",
    sources=("ARCH-2022", "NET-2021", "TSNET-2024"),
    code=151037,
)
def outbound_https(ctx: Context, out: Out) -> None:
    """Each VM needs outbound 443 to Storage (source region), Microsoft Entra ID, Event Hubs
    (target region) and Site Recovery. Guest facts show what the VM really reached; otherwise
    the NIC and subnet NSGs decide."""
    tags = required_service_tags(ctx.source_region, ctx.target_region)
    by_nsgs: dict[tuple[str, ...], NsgAnswer] = {}
    for vm in ctx.vms:
        guest = ctx.estate.guest(vm)
        if guest and guest.proxy_authenticated:
            out.fail(
                vm.id,
                "the VM reaches the internet through a proxy that asks for credentials; the "
                "Mobility service only supports unauthenticated proxies",
                "allow the ASR endpoints to bypass the proxy, or give ASR an unauthenticated "
                "proxy in ProxyInfo.conf",
                code=151072,
            )
            continue
        if guest and guest.endpoints:
            failed = [e for e in guest.endpoints if e.connected is False or e.resolved is False]
            if failed:
                out.fail(
                    vm.id,
                    "from inside the VM: "
                    + "; ".join(f"{e.host}: {e.error or 'unreachable'}" for e in failed),
                    "allow outbound 443 to these endpoints (service tags "
                    + ", ".join(t.name for t in tags)
                    + ")",
                    code=_code_for_hosts([e.host for e in failed]),
                )
            else:
                out.pass_(vm.id, f"the VM reached all {len(guest.endpoints)} ASR endpoints")
            continue
        network = ctx.estate.network_of(vm)
        if network.nsg_ids not in by_nsgs:
            by_nsgs[network.nsg_ids] = _nsg_verdicts(ctx, network.nsg_ids, [t.name for t in tags])
        verdicts, missing_nsgs = by_nsgs[network.nsg_ids]
        missing = network.missing + missing_nsgs
        blocked = [(tag, v) for tag, v in verdicts if v.decision is Decision.BLOCKED]
        undecided = [(tag, v) for tag, v in verdicts if v.decision is Decision.UNKNOWN]
        if blocked:
            first = blocked[0][1]
            out.fail(
                vm.id,
                "; ".join(f"{t} blocked by {v.nsg}/{v.rule}" for t, v in blocked),
                f"add an outbound Allow rule for TCP 443 to {', '.join(t for t, _ in blocked)} "
                f"above {first.rule} in {first.nsg}",
                code=_code_for_tags([t for t, _ in blocked]),
            )
        elif missing:
            out.unknown(
                vm.id,
                f"not exported: {', '.join(missing)}",
                "az network nic list / nsg list / vnet list -o json",
            )
        elif undecided:
            out.unknown(
                vm.id,
                "; ".join(
                    f"{t}: rule {v.nsg}/{v.rule} names addresses or application security groups"
                    for t, v in undecided
                ),
                "export service tag ranges (az network list-service-tags) or use service "
                "tags in the rule; ASR no longer supports IP-based allow lists",
            )
        else:
            out.pass_(vm.id, "NSGs allow outbound 443 to " + ", ".join(t.name for t in tags))


NsgAnswer = tuple[tuple[tuple[str, Verdict], ...], tuple[str, ...]]


def _nsg_verdicts(ctx: Context, nsg_ids: tuple[str, ...], tags: list[str]) -> NsgAnswer:
    """(verdict of each NSG for each tag, NSGs not exported); VMs share NSGs, so callers cache."""
    verdicts, missing = [], []
    for nsg_id in nsg_ids:
        nsg = ctx.estate.nsgs.get(nsg_id)
        if nsg is None:
            missing.append(f"NSG {ids.name(nsg_id)}")
            continue
        verdicts += [(tag, evaluate(nsg, tag)) for tag in tags]
    return tuple(verdicts), tuple(missing)


_TUNNEL_HOPS = ("virtualappliance", "virtualnetworkgateway")


@rule(
    "ASR-NET-002",
    Area.NETWORKING,
    "ASR traffic is not forced through an appliance or on-premises",
    sources=("NET-2021", "SM-2025"),
)
def forced_tunnelling(ctx: Context, out: Out) -> None:
    """A default route (0.0.0.0/0) to a virtual appliance or gateway sends replication traffic
    through it; it may be throttled or blocked. A Microsoft.Storage service endpoint keeps the
    cache traffic on Azure's backbone."""
    for vm in ctx.vms:
        network = ctx.estate.network_of(vm)
        missing = list(network.missing)
        tunnels, unexported = [], []
        for subnet in network.subnets:
            if not subnet.route_table_id:
                continue
            table = ctx.estate.route_tables.get(ids.key(subnet.route_table_id))
            if table is None:
                unexported.append(ids.name(subnet.route_table_id))
                continue
            for route in table.routes:
                if (
                    route.address_prefix == "0.0.0.0/0"
                    and route.next_hop_type.lower() in _TUNNEL_HOPS
                ):
                    storage = any(
                        e.lower() == "microsoft.storage" for e in subnet.service_endpoints
                    )
                    tunnels.append((subnet, table, route, storage))
        if tunnels:
            subnet, table, route, storage = tunnels[0]
            hop = f"{route.next_hop_type} {route.next_hop_ip or ''}".strip()
            endpoint = (
                "the subnet's Microsoft.Storage service endpoint keeps cache traffic direct"
                if storage
                else "no Microsoft.Storage service endpoint"
            )
            out.warn(
                vm.id,
                f"route {table.name}/{route.name} sends 0.0.0.0/0 to {hop} from subnet "
                f"{subnet.name}; {endpoint}",
                (
                    ""
                    if storage
                    else f"az network vnet subnet update --ids {subnet.id} "
                    "--service-endpoints Microsoft.Storage; "
                )
                + "and allow the ASR service tags through the appliance",
            )
        elif missing or unexported:
            out.unknown(
                vm.id,
                f"not exported: {', '.join(missing + unexported)}",
                "az network nic list / vnet list / route-table list -o json",
            )
        else:
            out.pass_(vm.id, "no default route through an appliance or gateway")
