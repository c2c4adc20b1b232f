"""Reading and writing snapshots: raw Azure JSON kept verbatim, plus where and when it came from."""

from asr_preflight.snapshot.snapshot import Snapshot, load_snapshot, write_snapshot

__all__ = ["Snapshot", "load_snapshot", "write_snapshot"]
