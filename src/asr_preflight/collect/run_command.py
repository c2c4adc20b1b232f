"""Guest facts at scale: the probe, run in each selected VM through the VM Run Command action
(`POST …/virtualMachines/{vm}/runCommand`) with the official compute SDK, a few VMs at a time,
each with a time limit. The only thing asr-preflight ever does inside a VM, and only when the
user said so (--yes-run-in-vms, or yes at the prompt): everything else stays read-only.

A VM that cannot run it (not running, agent not ready, no permission, no answer in time, output
cut by Run Command's 4 KB limit) gets no facts and a collection error naming why: the in-guest
findings for it are `unknown` with that reason, and the run goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError

from asr_preflight.collect.clouds import Cloud
from asr_preflight.collect.pipeline import (
    Counts,
    GraphQuota,
    PipelineSettings,
    make_policies,
    make_transport,
)
from asr_preflight.guest.delivery import ProbeArgs, linux_script, windows_script
from asr_preflight.guest.wire import WireError, decode, streams
from asr_preflight.model.entities import VirtualMachine
from asr_preflight.secrets import scrub
from asr_preflight.snapshot import Snapshot, detect
from asr_preflight.snapshot.snapshot import CollectionError, Origin

RUN_PERMISSION = "Microsoft.Compute/virtualMachines/runCommand/action"
OPERATION = "run the guest probe (Run Command)"


@dataclass(frozen=True)
class GuestRunSettings:
    concurrency: int = 8  # VMs at once; one Run Command per VM is all Azure allows anyway
    timeout: float = 600.0  # seconds per VM, from the request to the result
    polling_interval: float = 5.0


@dataclass(frozen=True)
class Outcome:
    vm: VirtualMachine
    facts: dict[str, Any] | None = None
    reason: str | None = None  # why there are no facts


@dataclass
class Question:
    """Where the VMs replicate to and through which cache: what the probe is told."""

    cloud: str
    targets: dict[str, str]  # source region -> target region
    cache_account: str | None = None
    vms: list[VirtualMachine] = field(default_factory=list)


def runnable(vm: VirtualMachine) -> str | None:
    """Why Run Command cannot reach this VM, from what the instance view says; None: try."""
    power = (vm.power_state or "").lower()
    if power and "running" not in power:
        return f"the VM is not running ({vm.power_state}): Run Command needs a running VM"
    if (vm.agent_status or "").lower() == "not ready":
        return "the VM's guest agent is not ready: Run Command goes through the agent"
    if (vm.os_type or "").lower() not in ("linux", "windows"):
        return "the VM's OS type is not known, so no probe fits it"
    return None


def run_probes(
    question: Question,
    credential: Any,
    cloud: Cloud,
    settings: GuestRunSettings | None = None,
    pipeline: PipelineSettings | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[Outcome]:
    settings = settings or GuestRunSettings()
    pipeline = pipeline or PipelineSettings()
    transport = make_transport(pipeline)
    counts, quota = Counts(), GraphQuota()
    clients: dict[str, Any] = {}
    lock = threading.Lock()
    done = [0]

    def client(subscription: str) -> Any:
        from azure.mgmt.compute import ComputeManagementClient

        with lock:
            if subscription not in clients:
                clients[subscription] = ComputeManagementClient(
                    credential,
                    subscription,
                    base_url=cloud.arm_endpoint,
                    credential_scopes=[cloud.scope],
                    policies=make_policies(
                        credential, cloud.scope, pipeline, quota, counts, run_command=True
                    ),
                    transport=transport,
                    polling_interval=settings.polling_interval,
                )
            return clients[subscription]

    def one(vm: VirtualMachine) -> Outcome:
        try:
            reason = runnable(vm)
            return Outcome(vm, reason=reason) if reason else _run(vm, question, client, settings)
        finally:
            with lock:
                done[0] += 1
            if progress:
                progress(done[0], len(question.vms), vm.name)

    try:
        with ThreadPoolExecutor(max_workers=max(1, settings.concurrency)) as pool:
            return list(pool.map(one, question.vms))
    finally:
        if transport.session is not None:
            transport.session.close()


def _run(
    vm: VirtualMachine, question: Question, client: Callable[[str], Any], settings: GuestRunSettings
) -> Outcome:
    from azure.mgmt.compute.models import RunCommandInput

    args = ProbeArgs(
        vm_id=vm.vm_id or vm.id,
        vm_name=vm.name,
        cloud=question.cloud,
        source_region=vm.location,
        target_region=question.targets.get(vm.location, ""),
        cache_account=question.cache_account,
    )
    windows = (vm.os_type or "").lower() == "windows"
    command = RunCommandInput(
        command_id="RunPowerShellScript" if windows else "RunShellScript",
        script=windows_script(args) if windows else linux_script(args),
    )
    try:
        poller = client(vm.subscription_id).virtual_machines.begin_run_command(
            vm.resource_group, vm.name, command
        )
        result = poller.result(timeout=settings.timeout)
        if not poller.done() or result is None:
            return Outcome(vm, reason=f"Run Command gave no result within {settings.timeout:g} s")
    except HttpResponseError as exc:
        return Outcome(vm, reason=_refused(exc))
    except AzureError as exc:
        return Outcome(vm, reason=f"Run Command failed: {scrub(str(exc).splitlines()[0])}")
    stdout, stderr = streams(result.value or [])
    try:
        facts = decode(stdout, scrub(stderr))
    except WireError as exc:
        return Outcome(vm, reason=str(exc))
    # Run Command knows which VM answered, whatever the guest believes it is.
    # (whatever the guest wrote there, a VM's object or not: the boundary validates the rest)
    said = facts.get("vm")
    facts["vm"] = {
        **(said if isinstance(said, dict) else {}),
        "vm_id": vm.vm_id or vm.id,
        "name": vm.name,
    }
    facts["collected_via"] = "run-command"
    return Outcome(vm, facts=facts)


def _refused(exc: HttpResponseError) -> str:
    code = getattr(exc.error, "code", None) if exc.error else None
    if exc.status_code == 403:
        return f"no permission to run commands in the VM (needs {RUN_PERMISSION})"
    if exc.status_code == 409:
        text = (exc.message or "").splitlines()[0] if exc.message else ""
        return f"Run Command refused ({code or 'Conflict'}): {scrub(text)}"
    return f"Run Command failed with HTTP {exc.status_code} ({code or 'error'})"


def merge(snap: Snapshot, outcomes: Iterable[Outcome]) -> tuple[int, int]:
    """The facts into the snapshot, as --guest-dir adds files; each VM without them becomes a
    collection error naming why. Returns (VMs with facts, VMs without)."""
    bucket = snap.records.setdefault(detect.GUEST_FACTS, [])
    origins = snap.origins.setdefault(detect.GUEST_FACTS, [])
    got = missed = 0
    for outcome in outcomes:
        if outcome.facts is not None:
            origins.append(Origin(f"run-command: {outcome.vm.id}", len(bucket), "$"))
            bucket.append(outcome.facts)
            got += 1
        else:
            snap.collection_errors.append(
                CollectionError(
                    scope=outcome.vm.id,
                    operation=OPERATION,
                    message=outcome.reason or "no facts",
                    kinds=[detect.GUEST_FACTS],
                )
            )
            missed += 1
    if detect.GUEST_FACTS not in snap.present:
        snap.present.append(detect.GUEST_FACTS)
    return got, missed
