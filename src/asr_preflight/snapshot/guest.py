"""Merge guest-facts files (from the in-guest probe) into a snapshot."""

from __future__ import annotations

from pathlib import Path

from asr_preflight.errors import InputError
from asr_preflight.snapshot import detect
from asr_preflight.snapshot.jsonfile import read_json
from asr_preflight.snapshot.snapshot import Snapshot


def add_guest_facts(snap: Snapshot, path: Path) -> None:
    if not path.exists():
        raise InputError(str(path), "", "no such guest facts file or folder")
    files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
    if not files:
        raise InputError(str(path), "", "expected guest facts (*.json) in this folder")
    for file in files:
        doc = read_json(file)
        if not (isinstance(doc, dict) and doc.get("schema") == detect.GUEST_SCHEMA):
            raise InputError(
                str(file), "$.schema", f'expected guest facts ("schema": "{detect.GUEST_SCHEMA}")'
            )
        snap.records.setdefault(detect.GUEST_FACTS, []).append(doc)
    if detect.GUEST_FACTS not in snap.present:
        snap.present.append(detect.GUEST_FACTS)
