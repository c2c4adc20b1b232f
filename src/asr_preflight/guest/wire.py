"""Guest facts as they travel back from Run Command: one line on the probe's standard output,
compact enough for the last 4,096 bytes Run Command keeps of each stream (RUNCMD-LINUX), and
the streams as Azure returns them (Linux: one message with [stdout] and [stderr] sections;
Windows: one StdOut and one StdErr entry)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from typing import Any

import msgspec

# What the probes print: the facts, compressed (zlib or gzip) and base64-encoded; the shell
# probe, where gzip is missing, prints the JSON itself after the second marker.
MARKER = "asr-preflight-facts/1 "
PLAIN_MARKER = "asr-preflight-facts-json/1 "
STREAM_LIMIT = 4096  # bytes Run Command keeps of each stream: the last ones
MAX_DEPTH = 32  # the probes' facts nest 5 levels; anything far deeper is not theirs
_LINUX = re.compile(r"\[stdout\]\n?(?P<out>.*?)\n?\[stderr\]\n?(?P<err>.*)\Z", re.S)


class WireError(ValueError):
    """Why a VM's output holds no facts; said in the `unknown` of the findings that needed them."""


def streams(value: list[Any]) -> tuple[str, str]:
    """Standard output and error from a RunCommandResult's `value` (InstanceViewStatus list)."""
    out, err = [], []
    for status in value:
        code = str(getattr(status, "code", None) or _get(status, "code") or "")
        message = str(getattr(status, "message", None) or _get(status, "message") or "")
        if "StdOut" in code:
            out.append(message)
        elif "StdErr" in code:
            err.append(message)
        elif (match := _LINUX.search(message)) is not None:
            out.append(match["out"])
            err.append(match["err"])
        elif message:
            err.append(message)
    return "\n".join(out), "\n".join(err)


def _get(status: Any, key: str) -> Any:
    return status.get(key) if isinstance(status, dict) else None


def decode(stdout: str, stderr: str = "") -> dict[str, Any]:
    """The facts a probe printed. Raises WireError saying why there are none."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith(MARKER):
            return _payload(line[len(MARKER) :])
        if line.startswith(PLAIN_MARKER):
            return _json(line[len(PLAIN_MARKER) :].encode())
    if len(stdout.encode()) >= STREAM_LIMIT - 64:
        raise WireError(
            "the probe's output was cut by Run Command's 4,096-byte limit before the facts line"
        )
    said = next((line.strip() for line in stderr.splitlines() if line.strip()), "")
    raise WireError(
        "the probe printed no guest facts" + (f" (it said: {said[:200]})" if said else "")
    )


def _payload(text: str) -> dict[str, Any]:
    try:
        packed = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WireError("the facts line is not base64 (cut or mangled on the way)") from None
    try:
        data = zlib.decompress(packed, 47)  # zlib or gzip header, whichever it is
    except zlib.error:
        raise WireError("the facts line does not decompress (cut on the way)") from None
    return _json(data)


def _json(data: bytes) -> dict[str, Any]:
    try:
        facts = msgspec.json.decode(data)
    except RecursionError:
        raise WireError(f"the facts line nests deeper than {MAX_DEPTH} levels") from None
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise WireError("the facts line is not JSON") from None
    if not isinstance(facts, dict):
        raise WireError("the facts line holds no JSON object")
    if _depth(facts) > MAX_DEPTH:  # a guest's line must not make the snapshot unreadable
        raise WireError(f"the facts line nests deeper than {MAX_DEPTH} levels")
    return facts


def _depth(value: Any) -> int:
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            pending += [(v, level + 1) for v in item.values()]
        elif isinstance(item, list):
            pending += [(v, level + 1) for v in item]
    return deepest


def encode(facts: dict[str, Any]) -> str:
    """What the Python probe prints (the same as probe.compact_line): for tests and fixtures."""
    packed = zlib.compress(json.dumps(facts, separators=(",", ":")).encode(), 9)
    return MARKER + base64.b64encode(packed).decode()
