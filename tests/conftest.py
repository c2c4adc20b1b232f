import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

from builders import Estate


@pytest.fixture
def estate() -> Estate:
    """A healthy one-VM estate (East US → Central US) that a test breaks one thing at a time."""
    return Estate()


# Property tests: a bounded, repeatable run in `make test`; `make fuzz` picks the long random one.
settings.register_profile("ci", max_examples=60, derandomize=True, print_blob=True)
settings.register_profile(
    "fuzz", max_examples=int(os.environ.get("ASR_FUZZ_EXAMPLES", "10000")), print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
