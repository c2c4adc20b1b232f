"""Reading one kind's records through the boundary: decode each once, typed, and keep count of
what could not be understood.

A record that does not fit its schema, or lacks a part the model cannot do without (an id, a
readable region, an NSG's rules), is left out of the model and reported with its file and JSON
path; the findings that needed it then say `unknown` and name it. Absent fields the model can do
without stay None, which it reads as "not exported", never as "none".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import msgspec

from asr_preflight.knowledge import regions
from asr_preflight.model import ids
from asr_preflight.model.decode import decode, describe
from asr_preflight.model.entities import InputProblem
from asr_preflight.secrets import scrub
from asr_preflight.snapshot import Snapshot

S = TypeVar("S", bound=msgspec.Struct)
LEFT_OUT = "left out"


class Unreadable(Exception):
    """Raised by a builder for a record the model cannot use; carries where and why."""

    def __init__(self, path: str, expected: str) -> None:
        super().__init__(expected)
        self.path = path
        self.expected = expected


class Reader:
    """Decodes a snapshot's records kind by kind and collects the input problems."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.problems: list[InputProblem] = []
        self.left_out: dict[str, int] = {}  # kind -> records left out
        # Regions the subscriptions themselves list: a region newer than our table still loads.
        self.exported_regions: set[str] = set()

    def each(
        self, kind: str, schema: type[S], records: list[Any] | None = None
    ) -> Iterator[tuple[int, S]]:
        """(index, typed record) of each record of `kind` that fits its schema. A record with
        any field that does not fit is left out whole: a half-read record could pass a check
        on the half that is missing (an NSG without its deny rule, a size without its
        restrictions)."""
        for index, record in enumerate(self.snapshot.of(kind) if records is None else records):
            typed, problems = decode(record, schema)
            if not problems and typed is not None:
                yield index, typed
                continue
            rid = getattr(typed, "id", None)
            for path, expected in problems:
                self.report(kind, index, path, expected, rid if isinstance(rid, str) else None)

    def build(
        self, kind: str, schema: type[S], make: Any, records: list[Any] | None = None
    ) -> Iterator[Any]:
        """Each record built into its entity by `make`; an Unreadable one is left out."""
        for _, entity in self.indexed(kind, schema, make, records):
            yield entity

    def indexed(
        self, kind: str, schema: type[S], make: Any, records: list[Any] | None = None
    ) -> Iterator[tuple[int, Any]]:
        """(index, entity) of each record `make` could build; an Unreadable one is left out."""
        for index, typed in self.each(kind, schema, records):
            try:
                yield index, make(typed)
            except Unreadable as exc:
                rid = getattr(typed, "id", None)
                self.report(
                    kind, index, exc.path, exc.expected, rid if isinstance(rid, str) else None
                )

    def report(
        self,
        kind: str,
        index: int,
        path: str,
        expected: str,
        resource_id: str | None,
        origin_kind: str | None = None,
    ) -> None:
        """`origin_kind`: the kind whose record `index` points at, when the problem sits inside
        a record of another kind (an extension embedded in its VM)."""
        file, where = self.snapshot.origin_of(origin_kind or kind, index)
        self.left_out[kind] = self.left_out.get(kind, 0) + 1
        self.problems.append(
            InputProblem(
                file=file,
                path=where + path[1:],
                expected=scrub(expected),  # it may quote the value it could not read
                kind=kind,
                resource_id=resource_id,
            )
        )

    def region(self, name: str | None, path: str = "$.location") -> str:
        """The record's region, normalized; a name no table or subscription knows is unreadable."""
        if not name:
            raise Unreadable(path, "expected the resource's region, found none")
        known = regions.normalize(name)
        if known:
            return known
        plain = name.lower().replace(" ", "")
        if plain in self.exported_regions:
            return plain
        raise Unreadable(path, f"expected an Azure region name, found {describe_name(name)}")


def required(value: str | None, path: str, what: str) -> str:
    if not value:
        raise Unreadable(path, f"expected {what}")
    return value


def resource_id(record: Any, path: str = "$.id") -> str:
    """A resource's ARM id, which every lookup needs."""
    rid = getattr(record, "id", None)
    if not rid or not rid.lower().startswith("/subscriptions/"):
        raise Unreadable(path, "expected an ARM resource id (/subscriptions/…)")
    return rid


def name_of(record: Any, rid: str) -> str:
    return getattr(record, "name", None) or ids.name(rid)


def describe_name(value: str) -> str:
    """A name from the input, quoted and cut short: it goes into one-line messages."""
    text = value if len(value) <= 60 else value[:57] + "..."
    return repr(text) if text.isprintable() else describe(value)
