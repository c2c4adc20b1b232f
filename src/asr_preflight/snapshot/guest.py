"""Merge guest-facts files (from the in-guest probe) into a snapshot."""

from __future__ import annotations

from pathlib import Path

from asr_preflight.errors import InputError
from asr_preflight.snapshot import detect
from asr_preflight.snapshot.jsonfile import checked, read_bytes
from asr_preflight.snapshot.snapshot import Origin, Snapshot


def add_guest_facts(snap: Snapshot, path: Path) -> None:
    """Each file must be the probe's document; what is inside it is validated with the rest of
    the snapshot, when the model is built."""
    if not path.exists():
        raise InputError(str(path), "", "no such guest facts file or folder")
    files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
    if not files:
        raise InputError(str(path), "", "expected guest facts (*.json) in this folder")
    bucket = snap.records.setdefault(detect.GUEST_FACTS, [])
    for file in files:
        data = read_bytes(file)
        top = checked(lambda data=data, file=file: detect.decode_top(data, str(file)), file, data)
        document = detect.read_document(top, data, str(file))
        facts = document.records.get(detect.GUEST_FACTS, [])
        if not document.single or len(facts) != 1:
            raise InputError(
                str(file), "$.schema", f'expected guest facts ("schema": "{detect.GUEST_SCHEMA}")'
            )
        snap.origins.setdefault(detect.GUEST_FACTS, []).append(Origin(str(file), len(bucket), "$"))
        bucket.append(facts[0])
    if detect.GUEST_FACTS not in snap.present:
        snap.present.append(detect.GUEST_FACTS)
