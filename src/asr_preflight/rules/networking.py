"""Networking area: every outbound flow ASR needs, hop by hop (NIC NSG → subnet NSG → route →
exit, in `analysis/network.py`), and the settings around it: the cache account's firewall, the
guest's proxy, custom DNS and the target network. Every finding names the NSG rule, route or
setting that decided it and the ASR error it predicts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

import msgspec

from asr_preflight.analysis.network import (
    AZURE_DNS,
    Decision,
    NetworkAnalysis,
    NsgVerdict,
    Path,
    Placement,
    RouteStatus,
    address_target,
    worst,
)
from asr_preflight.findings import Area, Status
from asr_preflight.fix.actions import (
    AddServiceEndpoint,
    AllowServiceTag,
    CreateVirtualNetwork,
    RouteServiceTag,
    SetCacheOption,
)
from asr_preflight.knowledge.endpoints import default_needs, destination_codes, need_purpose
from asr_preflight.knowledge.regions import display
from asr_preflight.model import ids
from asr_preflight.model.build import STORAGE, VNET
from asr_preflight.model.entities import GuestFacts, StorageAccount, VirtualMachine, VirtualNetwork
from asr_preflight.plan.existing import cache_accounts, target_vault
from asr_preflight.rules.base import Context, Out, not_whole, rule, vms_with

EXPORT_NETWORK = "az network nic list / nsg list / vnet list -o json"
EXPORT_ROUTES = "az network nic list / vnet list / route-table list -o json"
EXPORT_LBS = "az network lb list -o json > load-balancers.json"
EXPORT_TAGS = (
    "az network list-service-tags -l <source region> -o json > service-tags.json (then IP "
    "prefixes are compared with the real ranges)"
)
IP_LISTS = (
    "ASR no longer supports IP-based allow lists: use rules for the service tags instead "
    "(Microsoft changes the addresses behind them)"
)


def needs_of(vm: VirtualMachine) -> frozenset[str]:
    """Optional destinations a VM needs ('ade': Key Vault, 'auto_update': Automation). Nothing
    detects them yet, so the knowledge base's defaults decide (endpoints.toml [[need]])."""
    return default_needs()


def _paths(analysis: NetworkAnalysis, vm: VirtualMachine, guest: GuestFacts | None) -> list[Path]:
    needs = needs_of(vm)
    return [
        p
        for p in analysis.paths(vm, guest)
        if p.destination.required or p.destination.need in needs
    ]


def _first_code(paths: Iterable[Path]) -> int | None:
    """The error of the blocked destination registration meets first."""
    ordered = sorted(paths, key=lambda p: p.destination.stage)
    return ordered[0].destination.code if ordered else None


def _tags(paths: Iterable[Path]) -> str:
    return ", ".join(p.destination.service_tag for p in paths)


def _grouped(paths: list[Path], key: Callable[[Path], str]) -> dict[str, list[Path]]:
    groups: dict[str, list[Path]] = defaultdict(list)
    for path in paths:
        groups[key(path)].append(path)
    return groups


# --- ASR-NET-001: NSGs ---------------------------------------------------------------------


def _nsg_view(path: Path) -> tuple[Decision, NsgVerdict | None]:
    """What the guest saw, else the two NSGs: (decision, the NSG verdict that decided)."""
    if path.guest is not None:
        return (Decision.ALLOWED if path.guest[0] else Decision.BLOCKED), None
    for verdict in (path.nic_nsg, path.subnet_nsg):
        if verdict.decision is Decision.BLOCKED:
            return Decision.BLOCKED, verdict
    for verdict in (path.nic_nsg, path.subnet_nsg):
        if verdict.decision is Decision.UNKNOWN:
            return Decision.UNKNOWN, verdict
    return Decision.ALLOWED, None


@rule(
    "ASR-NET-001",
    Area.NETWORKING,
    "NSGs allow outbound HTTPS to Site Recovery's service tags",
    label="NSG rules",
    sources=("ARCH-2022", "NET-2021", "TSNET-2024", "TS-2024", "TSO-2025"),
    code=151037,
    also=(*destination_codes(), 151195),
)
def outbound_https(ctx: Context, out: Out) -> None:
    """Each VM needs outbound TCP 443 to Storage (source region), Microsoft Entra ID, Event Hubs
    (target region) and Site Recovery, through the NSG of its primary NIC and the NSG of that
    NIC's subnet: rules in priority order, first match wins, with protocols, port ranges, source
    and destination prefixes, service tags and their hierarchy, application security groups and
    the default rules. Rules naming IP prefixes are decided with the service-tag ranges when the
    snapshot has them, else `unknown`; an allow that rests on IP prefixes warns, since ASR no
    longer supports IP-based allow lists. What the guest itself reached takes precedence."""
    analysis = NetworkAnalysis.of(ctx, everything=True)
    for vm in ctx.vms:
        guest = ctx.estate.guest(vm)
        paths = _paths(analysis, vm, guest)
        placement = analysis.placement(vm)
        views = [(p, *_nsg_view(p)) for p in paths]
        blocked = [(p, v) for p, d, v in views if d is Decision.BLOCKED]
        undecided = [(p, v) for p, d, v in views if d is Decision.UNKNOWN]
        if blocked:
            _blocked(out, vm, blocked, placement)
        elif placement.missing and undecided:
            out.unknown(vm.id, f"not exported: {', '.join(placement.missing)}", EXPORT_NETWORK)
        elif undecided:
            groups = _grouped([p for p, _ in undecided], lambda p: _nsg_view(p)[1].detail)  # type: ignore[union-attr]
            ip_based = any("IP prefix" in detail for detail in groups)
            out.unknown(
                vm.id,
                "; ".join(f"{_tags(ps)}: {detail}" for detail, ps in groups.items()),
                (EXPORT_TAGS + "; " + IP_LISTS) if ip_based else EXPORT_NETWORK,
            )
        else:
            _allowed(out, vm, paths, placement, analysis)


def _config_block(path: Path) -> NsgVerdict | None:
    return next(
        (v for v in (path.nic_nsg, path.subnet_nsg) if v.decision is Decision.BLOCKED), None
    )


def _allow_rules(paths: list[Path], placement: Placement) -> tuple[AllowServiceTag, ...]:
    """An allow rule for each blocked service tag in each NSG that blocks it (NIC and subnet
    alike: the flow must pass both), ahead of the blocking rule."""
    nsgs = {n.name: n for n in (placement.nic_nsg, placement.subnet_nsg) if n is not None}
    actions = []
    for path in paths:
        for verdict in (path.nic_nsg, path.subnet_nsg):
            nsg = nsgs.get(verdict.nsg or "")
            if verdict.decision is Decision.BLOCKED and nsg and verdict.priority is not None:
                actions.append(
                    AllowServiceTag(nsg.id, path.destination.service_tag, verdict.priority)
                )
    return tuple(actions)


def _blocked(
    out: Out,
    vm: VirtualMachine,
    blocked: list[tuple[Path, NsgVerdict | None]],
    placement: Placement,
) -> None:
    """One sentence per cause: the NSG rule that blocks (also when the guest confirms it), or
    what the VM itself saw when its NSGs allow the flow."""
    parts, remedies = [], []
    paths = [p for p, _ in blocked]
    by_cause = _grouped(paths, lambda p: v.deciding if (v := _config_block(p)) else "")
    for cause, group in by_cause.items():
        if not cause:
            seen = "; ".join(p.guest[1] for p in group if p.guest)
            parts.append(f"{_tags(group)} unreachable from inside the VM ({seen})")
            continue
        verdict = _config_block(group[0])
        assert verdict is not None
        tags = ", ".join(
            p.destination.service_tag
            + (f" ({v.share})" if (v := _config_block(p)) and v.share else "")
            for p in group
        )
        text = f"{tags} blocked by {cause} (priority {verdict.priority})"
        if any(v.share and v.exact for p in group if (v := _config_block(p))):
            text += ", decided with the exported service-tag ranges"
        if any(p.guest for p in group):
            text += "; the VM saw it too"
        parts.append(text)
        remedies.append(
            f"in {verdict.nsg}, add an outbound Allow rule for TCP 443 to "
            f"{_tags(group)} with a priority number below {verdict.priority}"
        )
    dns = [p for p in paths if p.guest and "could not resolve" in p.guest[1]]
    # unresolvable names: 151037 since the December 2025 troubleshooting page (151195 before)
    code = 151037 if dns and len(dns) == len(paths) else _first_code(paths)
    if not remedies:
        remedies.append(
            f"allow outbound 443 to these endpoints (service tags {_tags(paths)}) on the "
            "firewall, proxy or DNS in the way"
        )
    out.fail(
        vm.id,
        "; ".join(parts),
        "; ".join(remedies),
        code=code,
        actions=_allow_rules(paths, placement),
    )


def _allowed(
    out: Out,
    vm: VirtualMachine,
    paths: list[Path],
    placement: Placement,
    analysis: NetworkAnalysis,
) -> None:
    ip_rules = sorted(
        {r for p in paths if p.guest is None for v in (p.nic_nsg, p.subnet_nsg) for r in v.ip_rules}
    )
    if ip_rules:
        out.warn(
            vm.id,
            f"outbound 443 is allowed, but rests on IP-address rules ({', '.join(ip_rules)})",
            IP_LISTS,
            code=_first_code(paths),
        )
        return
    probed = [p for p in paths if p.guest is not None]
    rules = dict.fromkeys(
        v.deciding for p in paths if p.guest is None for v in (p.nic_nsg, p.subnet_nsg) if v.rule
    )
    nsgs = [n.name for n in (placement.nic_nsg, placement.subnet_nsg) if n is not None]
    how = []
    if probed:
        how.append(f"the VM reached {len(probed)} of them")
    if rules:
        how.append("allowed by " + ", ".join(rules))
    elif not probed and not nsgs:
        how.append("no NSG on the NIC or subnet")
    out.pass_(vm.id, f"outbound 443 to {_tags(paths)}: " + "; ".join(how))


# --- ASR-NET-002: routes -------------------------------------------------------------------


@rule(
    "ASR-NET-002",
    Area.NETWORKING,
    "ASR traffic is routed out directly, not dropped or forced through an appliance",
    label="routes",
    sources=("NET-2021", "SM-2025", "TSNET-2024"),
    also=destination_codes(),
)
def forced_tunnelling(ctx: Context, out: Out) -> None:
    """The subnet's routes decide where each destination's traffic goes: the longest prefix
    wins. 0.0.0.0/0 (or a prefix covering a destination) to a virtual appliance or gateway is
    forced tunnelling: the appliance may throttle or block replication, and ASR traffic must
    not go on-premises; a Microsoft.Storage service endpoint keeps the cache traffic on Azure's
    backbone. A route to `None` drops the traffic."""
    analysis = NetworkAnalysis.of(ctx, everything=True)
    for vm in ctx.vms:
        placement = analysis.placement(vm)
        paths = _paths(analysis, vm, None)
        statuses = {p.route.status for p in paths}
        subnet = placement.subnet
        if RouteStatus.BLOCKED in statuses:
            dropped = [p for p in paths if p.route.status is RouteStatus.BLOCKED]
            out.fail(
                vm.id,
                "; ".join(
                    f"route {route} ({ps[0].route.hop}) on subnet {subnet.name} drops {_tags(ps)}"  # type: ignore[union-attr]
                    for route, ps in _grouped(dropped, lambda p: p.route.route or "").items()
                ),
                "remove the route, or send these destinations to the internet or an appliance "
                "that forwards them",
                code=_first_code(dropped),
                actions=_tag_routes(dropped, placement),
            )
        elif RouteStatus.UNKNOWN in statuses:
            # NSGs do not matter here: only a missing NIC, subnet or route table does.
            lacking = [m for m in placement.missing if m.startswith(("NIC ", "subnet "))]
            unknown = {p.route.detail for p in paths if p.route.status is RouteStatus.UNKNOWN}
            what = [f"not exported: {', '.join(lacking)}"] if lacking else sorted(unknown)
            out.unknown(vm.id, "; ".join(what), EXPORT_ROUTES)
        elif statuses & {RouteStatus.TUNNELLED, RouteStatus.MAYBE_TUNNELLED}:
            _tunnelled(out, vm, paths, placement)
        else:
            endpoint = [p for p in paths if p.route.service_endpoint]
            message = "no route sends ASR traffic through an appliance, gateway or nowhere"
            if endpoint:
                message += f"; {_tags(endpoint)} through the {endpoint[0].route.hop}"
            out.pass_(vm.id, message)


def _tag_routes(dropped: list[Path], placement: Placement) -> tuple[RouteServiceTag, ...]:
    """Service-tag routes to the internet win over a default route (0.0.0.0/0) that drops the
    traffic; a more specific dropping route would still win, so that needs a person."""
    table = placement.route_table
    if table is None:
        return ()
    defaults = {r.name for r in table.routes if r.address_prefix.strip() == "0.0.0.0/0"}
    if not all((p.route.route or "").rsplit("/", 1)[-1] in defaults for p in dropped):
        return ()
    return tuple(RouteServiceTag(table.id, p.destination.service_tag) for p in dropped)


def _tunnelled(out: Out, vm: VirtualMachine, paths: list[Path], placement: Placement) -> None:
    subnet = placement.subnet
    tunnelled = [
        p for p in paths if p.route.status in (RouteStatus.TUNNELLED, RouteStatus.MAYBE_TUNNELLED)
    ]
    parts = []
    for route, ps in _grouped(tunnelled, lambda p: p.route.route or "").items():
        verb = "sends" if ps[0].route.status is RouteStatus.TUNNELLED else "may send"
        prefix = ps[0].route.detail.split("(", 1)[-1].split(")", 1)[0]
        parts.append(
            f"route {route} ({prefix}) {verb} {_tags(ps)} from subnet {subnet.name} "  # type: ignore[union-attr]
            f"to {ps[0].route.hop}"
        )
    storage = [p for p in paths if p.destination.service_endpoint]
    direct = [p for p in storage if p.route.service_endpoint]
    if direct:
        parts.append(
            f"the subnet's {direct[0].destination.service_endpoint} service endpoint keeps "
            f"{_tags(direct)} direct"
        )
    elif storage and any(p in tunnelled for p in storage):
        parts.append(f"no {storage[0].destination.service_endpoint} service endpoint")
    remedy = ""
    actions: tuple[AddServiceEndpoint, ...] = ()
    if storage and not direct and any(p in tunnelled for p in storage) and subnet is not None:
        service = storage[0].destination.service_endpoint or "Microsoft.Storage"
        remedy = (
            f"az network vnet subnet update --ids {subnet.id} --service-endpoints "
            + " ".join((*subnet.service_endpoints, service))
            + "; "
        )
        actions = (AddServiceEndpoint(subnet.id, service, subnet.service_endpoints),)
    remedy += "and allow the ASR service tags through the appliance (not on-premises)"
    out.warn(vm.id, "; ".join(parts), remedy, actions=actions)


# --- ASR-NET-003: egress -------------------------------------------------------------------


@rule(
    "ASR-NET-003",
    Area.NETWORKING,
    "The VM has outbound internet access for the endpoints routed there",
    label="outbound access",
    sources=("TSNET-2024", "TS-2019"),
    code=151196,
    also=destination_codes(),
)
def outbound_access(ctx: Context, out: Out) -> None:
    """What the routes send to the internet needs outbound connectivity: a public IP on the NIC,
    a NAT gateway on the subnet, a public load balancer's outbound rule, or Azure's default
    outbound access. A VM in the backend pool of a Standard load balancer (internal ones too)
    loses default outbound access, so without one of the others it cannot reach
    login.microsoftonline.com (151196); nor can a VM in a private subnet. The fix the docs give is
    a NAT gateway."""
    analysis = NetworkAnalysis.of(ctx, everything=True)
    for vm in ctx.vms:
        guest = ctx.estate.guest(vm)
        paths = [p for p in _paths(analysis, vm, guest) if p.route.needs_egress]
        placement = analysis.placement(vm)
        unproven = [p for p in paths if p.guest is None or not p.guest[0]]
        if not paths:
            out.pass_(vm.id, "no ASR traffic leaves through the internet from this VM's own path")
            continue
        if not unproven:
            out.pass_(vm.id, f"the VM reached {_tags(paths)}")
            continue
        exit_ = analysis.egress(placement)
        if exit_.decision is Decision.BLOCKED:
            subnet = placement.subnet
            out.fail(
                vm.id,
                f"{exit_.detail}: {_tags(unproven)} cannot leave",
                f"attach a NAT gateway to subnet {subnet.name if subnet else '?'} (az network "
                "nat gateway create …; az network vnet subnet update --nat-gateway …), or add "
                "an outbound rule on a public Standard load balancer",
                code=151196
                if any(p.destination.name == "identity" for p in unproven)
                else _first_code(unproven),
            )
        elif exit_.decision is Decision.UNKNOWN:
            out.unknown(
                vm.id, exit_.detail, EXPORT_LBS if "load balancer" in exit_.via else EXPORT_NETWORK
            )
        else:
            out.pass_(vm.id, f"outbound through {exit_.via}")


# --- ASR-NET-004: cache storage firewall ---------------------------------------------------


@rule(
    "ASR-NET-004",
    Area.NETWORKING,
    "The cache storage account's firewall lets the VMs write",
    label="cache firewall",
    sources=("SM-2026", "SM-2025", "NET-2021"),
    code=151037,
)
def cache_firewall(ctx: Context, out: Out) -> None:
    """A cache account whose firewall denies by default must let trusted Azure services in and
    allow the VMs' subnet (which needs a Microsoft.Storage service endpoint for the rule to
    work), or be reached through a private endpoint in the VMs' network; one with public
    network access disabled needs such a private endpoint. Accounts chosen with
    --cache-storage-account fail the VMs they block; otherwise ASR-named accounts warn. When the
    vault uses a user-assigned managed identity, the 2026 support matrix asks the cache account
    to allow all networks."""
    if not ctx.estate.has(STORAGE):
        out.unknown(
            None,
            not_whole(ctx.estate, "storage accounts", STORAGE),
            "az storage account list -o json",
        )
        return
    accounts, missing, chosen = cache_accounts(ctx)
    for name in missing:
        out.unknown(
            None,
            f"cache account {name} is not in the storage export",
            "az storage account list -o json",
        )
    if not accounts and not missing:
        out.skip(None, "no cache account chosen; ASR creates one that accepts all networks")
    analysis = NetworkAnalysis.of(ctx, everything=True)
    for account in accounts:
        if account.location != ctx.source_region:
            out.skip(
                account.id, f"{account.name} is not in {display(ctx.source_region)} (ASR-STO-002)"
            )
            continue
        _account(ctx, out, analysis, account, chosen)


def _account(
    ctx: Context, out: Out, analysis: NetworkAnalysis, account: StorageAccount, chosen: bool
) -> None:
    """Chosen accounts: one finding per outcome, for the VMs it concerns. Detected ones (not
    chosen, so they block nobody yet): one warning that sums up what would block."""
    vms = [vm for vm in ctx.vms if vm.subscription_id == account.subscription_id]
    vault = target_vault(ctx)
    restricted = (account.default_action or "").lower() == "deny" or (
        account.public_network_access or ""
    ).lower() == "disabled"
    if vault and vault.user_assigned_identity and restricted:
        message = (
            f"vault {vault.name} uses a user-assigned managed identity, and with one the cache "
            f"account must allow access from all networks (SM-2026); {account.name} restricts "
            "network access"
        )
        remedy = (
            f"az storage account update -n {account.name} --public-network-access Enabled "
            "--default-action Allow"
        )
        if chosen:
            out.fail(
                account.id,
                message,
                remedy,
                affected_vms=tuple(vm.key for vm in vms),
                actions=(SetCacheOption(account.id, "all-networks"),),
            )
        else:
            out.warn(account.id, "if chosen as cache: " + message, remedy, affected_vms=())
        return
    verdicts = [(vm, analysis.cache_access(account, analysis.placement(vm))) for vm in vms]
    if not chosen:
        blocked = [v for _, v in verdicts if v.decision is Decision.BLOCKED]
        if blocked:
            problems = list(dict.fromkeys(p for v in blocked for p in v.problems))
            remedies = list(dict.fromkeys(r for v in blocked for r in v.remedies))
            out.warn(
                account.id,
                f"if chosen as cache, {account.name} (networkRuleSet.defaultAction Deny) would "
                f"block {len(blocked)} of {len(verdicts)} VMs: " + "; ".join(problems),
                "; ".join(remedies),
                affected_vms=(),
            )
            return
    groups: dict[tuple[Decision, str, str, str | None], list[str]] = defaultdict(list)
    actions: dict[tuple[Decision, str, str, str | None], tuple] = {}
    for vm, verdict in verdicts:
        group = (verdict.decision, verdict.setting, verdict.detail, verdict.remedy)
        groups[group].append(vm.key)
        actions[group] = tuple(dict.fromkeys((*actions.get(group, ()), *verdict.actions)))
    for (decision, setting, detail, remedy), keys in groups.items():
        affected = tuple(keys) if chosen else ()
        message = f"{detail} ({setting}); {len(keys)} VM{'s' if len(keys) != 1 else ''}"
        if decision is Decision.ALLOWED:
            out.pass_(account.id, message, affected_vms=affected)
        elif decision is Decision.BLOCKED:
            out.fail(
                account.id,
                message,
                remedy or "allow trusted Azure services and the VMs' subnet",
                affected_vms=affected,
                actions=actions[(decision, setting, detail, remedy)],
            )
        else:
            out.unknown(account.id, message, remedy or EXPORT_NETWORK, affected_vms=affected)


# --- ASR-NET-005: proxy --------------------------------------------------------------------


def proxy_view(guest: GuestFacts | None) -> tuple[Status, str]:
    if guest is None:
        return Status.SKIP, "no guest facts: the proxy is only visible inside the VM"
    if not guest.proxy_reported:
        return Status.UNKNOWN, "the guest facts do not say whether the VM uses a proxy"
    if guest.proxy_authenticated:
        return (
            Status.FAIL,
            "the VM goes out through a proxy that asks for credentials "
            f"({guest.proxy_url or 'no address given'})",
        )
    if guest.proxy_url and guest.proxy_authenticated is None:
        return (
            Status.UNKNOWN,
            f"proxy {guest.proxy_url}: whether it asks for credentials is not in the guest facts",
        )
    if guest.proxy_url:
        return Status.PASS, f"unauthenticated proxy {guest.proxy_url}"
    return Status.PASS, "no proxy"


@rule(
    "ASR-NET-005",
    Area.NETWORKING,
    "The VM's proxy asks for no credentials",
    label="proxy credentials",
    sources=("NET-2021", "SM-2025", "TSNET-2024"),
    code=151072,
)
def proxy(ctx: Context, out: Out) -> None:
    """The Mobility service takes the proxy from the system settings (Internet Explorer on
    Windows, /etc/environment on Linux) or from ProxyInfo.conf, and supports only
    unauthenticated proxies (151072). Only the guest facts show the proxy."""
    without = []
    for vm in ctx.vms:
        guest = ctx.estate.guest(vm)
        status, message = proxy_view(guest)
        if status is Status.SKIP:
            without.append(vm.key)
        elif status is Status.FAIL:
            out.fail(
                vm.id,
                message + "; the Mobility service only supports unauthenticated proxies",
                "let the ASR endpoints bypass the proxy, or give ASR an unauthenticated proxy in "
                "ProxyInfo.conf",
            )
        elif status is Status.UNKNOWN:
            out.unknown(vm.id, message, "record proxy.authenticated in the guest facts")
        else:
            out.pass_(vm.id, message)
    if without:
        out.skip(
            None, f"{len(without)} VMs have no guest facts; their proxy settings are not known"
        )


# --- ASR-NET-006: DNS ----------------------------------------------------------------------


def dns_view(
    analysis: NetworkAnalysis, placement: Placement
) -> tuple[Status, str, str | None, str]:
    """(status, message, remedy, resource id) for a VM's DNS servers."""
    nic, vnet = placement.nic, placement.vnet
    if nic is None or placement.subnet is None:
        return Status.UNKNOWN, f"not exported: {', '.join(placement.missing)}", EXPORT_NETWORK, ""
    own = bool(nic.dns_servers)
    servers = nic.dns_servers if own else (vnet.dns_servers if vnet else ())
    where = f"NIC {nic.name}" if own else f"VNet {vnet.name if vnet else '?'}"
    resource = nic.id if own else (vnet.id if vnet else placement.subnet.id)
    custom = [s for s in servers if s.strip() != AZURE_DNS]
    if not custom:
        return Status.PASS, f"Azure-provided DNS ({where})", None, resource
    blocked, unknown = [], []
    for server in custom:
        if address_target(server).addresses is None or not address_target(server).addresses:
            unknown.append(server)
            continue
        verdicts = analysis.nsg_verdicts(placement, address_target(server))
        decision = worst(v.decision for v in verdicts)
        if decision is Decision.BLOCKED:
            deciding = next(v for v in verdicts if v.decision is Decision.BLOCKED)
            blocked.append(f"{server} (UDP 53 blocked by {deciding.deciding})")
        elif decision is Decision.UNKNOWN:
            unknown.append(server)
    if blocked:
        return (
            Status.FAIL,
            f"custom DNS servers of {where}: {', '.join(blocked)}: the VM cannot resolve "
            "ASR's endpoints",
            "allow outbound UDP and TCP 53 to the DNS servers",
            resource,
        )
    note = f" (the NSGs' verdict on {', '.join(unknown)} is undecidable)" if unknown else ""
    return (
        Status.WARN,
        f"custom DNS servers {', '.join(custom)} ({where}){note}: after failover the VM keeps "
        "resolving through them, so they must answer in the target region too",
        "make these DNS servers reachable from the target region (fail them over too, or "
        "give the target network a path to them), or use Azure-provided DNS",
        resource,
    )


@rule(
    "ASR-NET-006",
    Area.NETWORKING,
    "Custom DNS servers answer now and from the target region",
    label="custom DNS",
    sources=("TSNET-2024", "TS-2024", "TSO-2025"),
    code=151037,
    also=(151195,),
)
def dns(ctx: Context, out: Out) -> None:
    """ASR's endpoints are resolved through the DNS servers of the VM's NIC or VNet. Custom
    ones must be reachable through the NSGs (UDP 53) and, since a failed-over VM keeps them,
    from the target region as well, else registration fails: 151037 in the current docs, 151195
    in older ones (typically at reprotection)."""
    analysis = NetworkAnalysis.of(ctx, everything=True)
    groups: dict[tuple[Status, str, str | None, str], list[str]] = defaultdict(list)
    for vm in ctx.vms:
        groups[dns_view(analysis, analysis.placement(vm))].append(vm.key)
    for (status, message, remedy, resource), keys in groups.items():
        resource_id = resource or None
        if status is Status.PASS:
            out.pass_(resource_id, message, affected_vms=tuple(keys))
        else:
            out.add(status, resource_id, message, remedy, affected_vms=tuple(keys))


# --- ASR-NET-007: target network -----------------------------------------------------------


def target_network_view(ctx: Context, vnet: VirtualNetwork) -> tuple[Status, str, str | None]:
    """Which network the VMs of `vnet` fail over into: a mapping's, an existing `<vnet>-asr`,
    or the one ASR creates."""
    estate, target = ctx.estate, ctx.target_region
    where = display(target)
    others = []
    for mapping in estate.network_mappings:
        if ids.key(mapping.primary_network_id) != ids.key(vnet.id):
            continue
        recovery = estate.vnets.get(ids.key(mapping.recovery_network_id))
        location = recovery.location if recovery else mapping.recovery_location
        name = recovery.name if recovery else ids.name(mapping.recovery_network_id)
        if location == target or (location is None and mapping.recovery_location is None):
            if (
                recovery is not None
                and mapping.recovery_location
                and recovery.location != mapping.recovery_location
            ):
                return (
                    Status.FAIL,
                    f"network mapping {mapping.name} maps {vnet.name} to {name}, which is in "
                    f"{display(recovery.location)}, not {where}",
                    f"map {vnet.name} to a VNet in {where}",
                )
            return (
                Status.PASS,
                f"network mapping {mapping.name} sends {vnet.name} to {name} in {where}",
                None,
            )
        if recovery is not None and mapping.recovery_location == target:
            return (
                Status.FAIL,
                f"network mapping {mapping.name} maps {vnet.name} for {where} to {name}, which "
                f"is in {display(recovery.location)}",
                f"map {vnet.name} to a VNet in {where}",
            )
        others.append(f"{mapping.name} → {name} ({display(location) if location else '?'})")
    planned = f"{vnet.name}-asr"
    same_name = [v for v in estate.vnets.values() if v.name.lower() == planned.lower()]
    here = [v for v in same_name if v.location == target]
    note = f"; mappings for other regions: {', '.join(others)}" if others else ""
    if here:
        found = here[0]
        return (
            Status.PASS,
            f"{planned} already exists in {where} ({ids.part(found.id, 'resourceGroups')}); "
            f"choose it as the target network{note}",
            None,
        )
    if same_name:
        found = same_name[0]
        return (
            Status.WARN,
            f"ASR's default target network name {planned} is taken by a VNet in "
            f"{display(found.location)} ({ids.part(found.id, 'resourceGroups')}), which cannot "
            f"serve {where}{note}",
            f"create or choose a target VNet in {where} and select it (or map {vnet.name} to it) "
            "when you enable replication",
        )
    space = ", ".join(vnet.address_prefixes) or "the source address space"
    return (
        Status.PASS,
        f"no target network yet: ASR creates {planned} in {where} with address space {space}{note}",
        None,
    )


def _new_target_network(
    ctx: Context, vnet: VirtualNetwork, vms: list[str]
) -> tuple[CreateVirtualNetwork, ...]:
    """ASR's default name, `<vnet>-asr`, in the target resource group of the VNet's first VM."""
    first = ctx.estate.vms[vms[0]]
    subnets = tuple(
        (s.name, s.address_prefixes[0])
        for s in ctx.estate.subnets.values()
        if ids.key(s.vnet_id) == ids.key(vnet.id) and s.address_prefixes
    )
    return (
        CreateVirtualNetwork(
            ctx.target_subscription_of(first),
            ids.name(ctx.target_resource_group_id(first)),
            f"{vnet.name}-asr",
            ctx.target_region,
            vnet.address_prefixes or tuple(prefix for _, prefix in subnets),
            subnets,
        ),
    )


@rule(
    "ASR-NET-007",
    Area.NETWORKING,
    "The target network is in the target region",
    label="target network",
    sources=("ARCH-2022", "TUT-2020", "WT-PREREQ-2017"),
)
def target_network(ctx: Context, out: Out) -> None:
    """The VMs fail over into a network in the target region (the 2017 prerequisites: in the
    vault's region): the VNet a network mapping names, or else the one ASR creates, named after
    the source VNet with an "-asr" suffix and the same address space."""
    if not ctx.estate.has(VNET):
        out.unknown(
            None, not_whole(ctx.estate, "virtual networks", VNET), "az network vnet list -o json"
        )
        return
    analysis = NetworkAnalysis.of(ctx, everything=True)
    by_vnet: dict[str, list[str]] = defaultdict(list)
    unplaced: list[str] = []
    for vm in ctx.vms:
        vnet = analysis.placement(vm).vnet
        if vnet is None:
            unplaced.append(vm.key)
        else:
            by_vnet[ids.key(vnet.id)].append(vm.key)
    for key, vms in by_vnet.items():
        vnet = ctx.estate.vnets[key]
        status, message, remedy = target_network_view(ctx, vnet)
        if status is Status.PASS:
            out.pass_(vnet.id, message, affected_vms=tuple(vms))
        else:
            out.add(
                status,
                vnet.id,
                message,
                remedy,
                affected_vms=tuple(vms),
                actions=_new_target_network(ctx, vnet, vms) if "is taken by" in message else (),
            )
    if unplaced:
        out.unknown(
            None,
            "the VNet of some VMs is not exported",
            EXPORT_NETWORK,
            affected_vms=tuple(unplaced),
        )


@rule(
    "ASR-NET-008",
    Area.NETWORKING,
    "The VM's NICs are in no application security group",
    label="application security groups",
    sources=("SM-2026",),
)
def application_security_groups(ctx: Context, out: Out) -> None:
    """Site Recovery does not support application security groups: the replica's NICs are in
    none, so NSG rules that allow or deny by ASG do not apply to it after failover."""
    for vm in vms_with(ctx, out, "nic_ids"):
        nics = ctx.estate.nics_of(vm)
        if not nics or any(nic is None for nic in nics):
            out.unknown(vm.id, "a NIC of the VM was not exported", EXPORT_NETWORK)
            continue
        groups = sorted({ids.name(a) for nic in nics if nic for a in nic.asg_ids})
        if groups:
            out.warn(
                vm.id,
                f"its NICs are in application security groups ({', '.join(groups)}), which ASR "
                "does not carry over: NSG rules that name them won't match the replica",
                "after failover, add the replica's NICs to matching groups in the target region, "
                "or write the target NSG rules by address",
            )
        else:
            out.pass_(vm.id, "no NIC is in an application security group")


# --- explain network ------------------------------------------------------------------------


class Step(msgspec.Struct, frozen=True):
    hop: str  # "NIC NSG", "subnet NSG", "route", "exit", "cache firewall", "guest"
    name: str | None  # the NSG, route table, account … (None: none on this hop)
    decision: str
    rule: str | None  # the deciding rule, route or setting
    detail: str


class ExplainPath(msgspec.Struct, frozen=True):
    destination: str
    service_tag: str
    url: str | None
    required: bool
    need: str  # "always", or what makes it needed
    decision: str
    decided_by: str
    asr_error_code: int | None
    steps: list[Step]


class ExplainVm(msgspec.Struct, frozen=True):
    vm: str
    id: str
    nic: str | None
    private_ip: str | None
    subnet: str | None
    vnet: str | None
    missing: list[str]
    service_tag_ranges: str | None
    paths: list[ExplainPath]
    proxy: str
    dns: str
    target_network: str


def explain_network(ctx: Context) -> list[ExplainVm]:
    """`explain network`: per VM and destination, the path hop by hop and what decided it."""
    analysis = NetworkAnalysis.of(ctx, everything=True)
    accounts = (
        [a for a in cache_accounts(ctx)[0] if a.location == ctx.source_region]
        if ctx.estate.has(STORAGE)
        else []
    )
    rows = []
    for vm in ctx.vms:
        guest = ctx.estate.guest(vm)
        placement = analysis.placement(vm)
        needs = needs_of(vm)
        account = next((a for a in accounts if a.subscription_id == vm.subscription_id), None)
        paths = []
        for path in analysis.paths(vm, guest):
            steps = [
                _nsg_step("NIC NSG", path.nic_nsg),
                _nsg_step("subnet NSG", path.subnet_nsg),
                Step(
                    "route",
                    path.route.route or "system route",
                    path.route.status.value,
                    path.route.hop,
                    path.route.detail,
                ),
            ]
            if path.egress is not None:
                steps.append(
                    Step(
                        "exit",
                        path.egress.via,
                        path.egress.decision.value,
                        path.egress.via,
                        path.egress.detail,
                    )
                )
            elif path.route.service_endpoint:
                steps.append(
                    Step("exit", path.route.hop, "allowed", path.route.hop, "Azure backbone")
                )
            else:
                steps.append(
                    Step(
                        "exit",
                        path.route.hop,
                        "appliance",
                        path.route.hop,
                        "what leaves depends on the appliance",
                    )
                )
            decision, decided_by = path.decision, path.deciding
            if path.destination.service_endpoint and account is not None:
                firewall = analysis.cache_access(account, placement)
                steps.append(
                    Step(
                        "cache firewall",
                        account.name,
                        firewall.decision.value,
                        firewall.setting,
                        firewall.detail,
                    )
                )
                if (
                    path.guest is None
                    and firewall.decision is not Decision.ALLOWED
                    and decision is not Decision.BLOCKED
                ):
                    decision, decided_by = firewall.decision, f"{account.name}: {firewall.setting}"
            if path.guest is not None:
                steps.append(
                    Step(
                        "guest",
                        vm.name,
                        "allowed" if path.guest[0] else "blocked",
                        None,
                        path.guest[1],
                    )
                )
            required = path.destination.required or path.destination.need in needs
            paths.append(
                ExplainPath(
                    destination=path.destination.name,
                    service_tag=path.destination.service_tag,
                    url=path.destination.url,
                    required=required,
                    need=path.destination.need
                    if path.destination.required
                    else need_purpose(path.destination.need),
                    decision=decision.value,
                    decided_by=decided_by,
                    asr_error_code=path.code if decision is not Decision.ALLOWED else None,
                    steps=steps,
                )
            )
        vnet = placement.vnet
        rows.append(
            ExplainVm(
                vm=vm.name,
                id=vm.id,
                nic=placement.nic.name if placement.nic else None,
                private_ip=placement.ip,
                subnet=placement.subnet.name if placement.subnet else None,
                vnet=vnet.name if vnet else None,
                missing=list(placement.missing),
                service_tag_ranges=analysis.tags.describe() if analysis.has_tag_ranges else None,
                paths=paths,
                proxy=proxy_view(guest)[1],
                dns=dns_view(analysis, placement)[1],
                target_network=target_network_view(ctx, vnet)[1] if vnet else "VNet not exported",
            )
        )
    return rows


def _nsg_step(hop: str, verdict: NsgVerdict) -> Step:
    return Step(hop, verdict.nsg, verdict.decision.value, verdict.rule, verdict.detail)
