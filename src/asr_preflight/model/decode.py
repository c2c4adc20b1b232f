"""Decode one raw record into its schema, and say precisely what in it could not be understood.

The fast path decodes the record's bytes straight into the schema. Only a record that does not
fit takes the slow path: it is walked field by field so that every field that does not fit is
named, with its JSON path and what was expected (msgspec stops at the first). The reader then
leaves such a record out whole.
"""

from __future__ import annotations

import re
import types
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

import msgspec

from asr_preflight.model.schema import Schema

S = TypeVar("S", bound=msgspec.Struct)
Problem = tuple[str, str]  # (JSON path inside the record, what was expected)

_AT = re.compile(r"\s*- at `\$([^`]*)`")
_TYPES = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}


def decode(record: Any, schema: type[S]) -> tuple[S | None, list[Problem]]:
    """The typed record (None when it is not even an object) and the problems found in it."""
    try:
        if isinstance(record, msgspec.Raw):
            return msgspec.json.decode(record, type=schema, strict=False), []
        return msgspec.convert(record, schema, strict=False), []
    except msgspec.ValidationError:
        pass
    try:
        value = msgspec.json.decode(record) if isinstance(record, msgspec.Raw) else record
    except msgspec.ValidationError as exc:  # not even plain JSON values (a number out of range)
        return None, [_problem("$", str(exc))]
    problems: list[Problem] = []
    return _lenient(value, schema, "$", problems), problems


def _lenient(value: Any, schema: type[Any], path: str, problems: list[Problem]) -> Any:
    if not isinstance(value, dict):
        problems.append((path, f"expected an object, found {describe(value)}"))
        return None
    kept = {}
    for name, encoded, kind in _fields(schema):
        item = value.get(encoded)
        if item is None:
            continue
        here = f"{path}.{encoded}"
        try:
            kept[name] = msgspec.convert(item, kind, strict=False)
        except msgspec.ValidationError as exc:
            nested = _struct_of(kind)
            if nested is not None and isinstance(item, dict):
                kept[name] = _lenient(item, nested, here, problems)
            else:
                problems.append(_problem(here, str(exc)))
    return schema(**kept)


@cache
def _fields(schema: type[Any]) -> tuple[tuple[str, str, Any], ...]:
    return tuple((f.name, f.encode_name, f.type) for f in msgspec.structs.fields(schema))


def _struct_of(kind: Any) -> type[Any] | None:
    """The Struct type inside `X | None`, if that is what the field holds."""
    options = get_args(kind) if get_origin(kind) in (Union, types.UnionType) else (kind,)
    return next((o for o in options if isinstance(o, type) and issubclass(o, Schema)), None)


def _problem(path: str, message: str) -> Problem:
    match = _AT.search(message)
    where = path + (match.group(1) if match else "")
    reason = _AT.sub("", message).replace("`", "")
    reason = re.sub(r"^Expected (.*?)( \| null)?, got (.*)$", r"expected \1, found \3", reason)
    return where, reason[:1].lower() + reason[1:]


def describe(value: Any) -> str:
    """A JSON value's type in words, for error messages (never the value: it may be a secret)."""
    if value is None:
        return "null"
    for kind, words in _TYPES.items():
        if isinstance(value, kind):
            return words
    return "a number" if isinstance(value, int | float) else type(value).__name__
