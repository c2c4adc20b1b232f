"""The Makefile makes .venv anew when another Python made it (or it no longer runs), and keeps a
.venv of the Python it is asked to use: checked with `make -n clean`, since make decides that
as it reads the Makefile, before any target runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _venv(tmp_path: Path, python: str) -> Path:
    """A .venv whose bin/python is `python` (a script that prints a version, or our own)."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text(python)
    (bin_dir / "python").chmod(0o755)
    return tmp_path / ".venv"


def _dry_run(folder: Path) -> None:
    subprocess.run(
        ["make", "-n", "clean", f"PYTHON={sys.executable}"],
        cwd=folder,
        capture_output=True,
        check=True,
    )


@pytest.mark.parametrize(
    "python",
    [
        "#!/bin/sh\necho 3.9\n",  # made by another Python
        "#!/bin/sh\nexit 127\n",  # its Python is gone
    ],
)
def test_a_venv_of_another_python_is_made_anew(tmp_path, python):
    venv = _venv(tmp_path, python)
    _dry_run(tmp_path)
    assert not venv.exists()


def test_a_venv_of_the_same_python_is_kept(tmp_path):
    version = "{}.{}".format(*sys.version_info[:2])
    venv = _venv(tmp_path, f"#!/bin/sh\necho {version}\n")
    _dry_run(tmp_path)
    assert (venv / "bin" / "python").exists()
