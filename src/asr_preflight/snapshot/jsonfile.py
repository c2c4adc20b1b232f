"""Read one JSON file fast, and turn a parse failure into an InputError with line and column."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec

from asr_preflight.errors import InputError

_decoder = msgspec.json.Decoder()
_BYTE_AT = re.compile(r"\(byte (\d+)\)")


def read_json(path: Path) -> Any:
    return read_json_bytes(path)[0]


def read_json_bytes(path: Path) -> tuple[Any, bytes]:
    """The decoded document and the raw bytes (for the secret-marker scan)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), "", f"cannot read the file ({exc.strerror})") from None
    if data.startswith(b"\xef\xbb\xbf"):  # PowerShell's Out-File writes a UTF-8 BOM
        data = data[3:]
    if not data.strip():
        raise InputError(str(path), "$", "expected JSON, found an empty file")
    try:
        return _decoder.decode(data), data
    except msgspec.DecodeError as exc:
        raise InputError(
            str(path), "$", f"expected valid JSON: {_locate(str(exc), data)}"
        ) from None


def _locate(message: str, data: bytes) -> str:
    match = _BYTE_AT.search(message)
    if not match:
        return message
    offset = int(match.group(1))
    before = data[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    reason = _BYTE_AT.sub("", message).strip()
    return f"{reason} (line {line}, column {column})"
