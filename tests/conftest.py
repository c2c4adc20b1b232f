import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from builders import Estate


@pytest.fixture
def estate() -> Estate:
    """A healthy one-VM estate (East US → Central US) that a test breaks one thing at a time."""
    return Estate()
