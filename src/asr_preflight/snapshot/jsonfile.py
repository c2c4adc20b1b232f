"""Read one JSON file, and turn anything that keeps it from being JSON into one clear InputError.

A file that cannot be read at all (missing, not JSON, not UTF-8, nested deeper than the decoder
allows, empty) stops the run: nothing in it can be trusted. Everything finer is a per-record
problem, decided later. File names are printed escaped, so every message stays on one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from asr_preflight.errors import InputError

T = TypeVar("T")
MAX_DEPTH = 900  # the decoder's recursion limit; Azure's exports nest about 20 levels deep

_decoder = msgspec.json.Decoder()
_BYTE_AT = re.compile(r"\(byte (\d+)\)")


def read_bytes(path: Path) -> bytes:
    """The file's bytes, without the UTF-8 BOM PowerShell's Out-File writes."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), "", f"cannot read the file ({exc.strerror})") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise InputError(str(path), "$", "expected JSON, found an empty file")
    if not data.isascii():  # records stay raw until the model reads them: check the text once
        checked(lambda: data.decode("utf-8"), path, data)
    return data


def read_json(path: Path) -> Any:
    data = read_bytes(path)
    return checked(lambda: _decoder.decode(data), path, data)


def checked(decode: Callable[[], T], path: Path | str, data: bytes) -> T:
    """Run a decode of `data`, turning every way JSON can be unreadable into an InputError."""
    try:
        return decode()
    except RecursionError:
        raise InputError(
            str(path), "$", f"expected JSON nested at most {MAX_DEPTH} levels deep"
        ) from None
    except UnicodeDecodeError:
        raise InputError(str(path), "$", f"expected UTF-8 text: {_bad_utf8(data)}") from None
    except msgspec.DecodeError as exc:
        raise InputError(
            str(path), "$", f"expected valid JSON: {_locate(str(exc), data)}"
        ) from None
    except msgspec.ValidationError as exc:  # e.g. a number beyond what JSON numbers can hold
        raise InputError(str(path), "$", f"expected valid JSON: {exc}") from None


def _bad_utf8(data: bytes) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid byte at {_line_column(data, exc.start)}"
    return "an invalid escape sequence"


def _locate(message: str, data: bytes) -> str:
    match = _BYTE_AT.search(message)
    if not match:
        return message
    reason = _BYTE_AT.sub("", message).strip()
    return f"{reason} ({_line_column(data, int(match.group(1)))})"


def _line_column(data: bytes, offset: int) -> str:
    before = data[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return f"line {line}, column {column}"
