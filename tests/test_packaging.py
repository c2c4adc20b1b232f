"""What `pipx install .` installs from a clone: a wheel with its data files, the command, and
dependency ranges that leave room for the tools installed beside it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_the_data_the_command_and_ranges(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            str(ROOT),
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,  # no build/ folder left in the clone
    )
    [wheel] = tmp_path.glob("asr_preflight-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(meta).decode()
        entry_points = archive.read(meta.replace("METADATA", "entry_points.txt")).decode()
    shipped = {p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src").rglob("*.toml")}
    assert shipped <= names and "asr_preflight/export_script.sh" in names
    assert "asr-preflight = asr_preflight.cli:main" in entry_points
    runtime = [
        line
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert runtime and all("==" not in line and "<" in line for line in runtime), runtime
