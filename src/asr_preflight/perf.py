"""Keep Python's cyclic garbage collector out of the way of one batch check."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def batch_gc() -> Iterator[None]:
    """A check builds millions of short-lived dicts and structs with no cycles worth collecting;
    the collector would rescan them again and again (about 40% of load time at 10,000 VMs)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
