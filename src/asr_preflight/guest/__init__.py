"""The in-guest probe: `probe.py` runs inside a VM (standard library only) and writes guest facts.

`probe.py` must stay importable and runnable on its own, copied onto a VM as a single file
(`asr-preflight guest --emit-script`), so it imports nothing from this package.
"""

from __future__ import annotations

from importlib import resources

PROBE_FILE = "probe.py"


def probe_source() -> bytes:
    """The probe script exactly as shipped in the package."""
    return resources.files(__name__).joinpath(PROBE_FILE).read_bytes()
