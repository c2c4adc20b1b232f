"""Every report format, from one run: the table and JSON as before, SARIF, JUnit, Markdown, CSV
and HTML. All but the table are built from the JSON report's model, so they agree with it."""

from __future__ import annotations

import io
import json
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from rich.console import Console

from asr_preflight.engine import CheckResult
from asr_preflight.errors import InputError
from asr_preflight.report import console as console_report
from asr_preflight.report import csv_rows, html, junit, markdown, sarif
from asr_preflight.report.model import Report
from asr_preflight.report.model import write as write_json


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    CSV = "csv"
    HTML = "html"


FILE_NAMES = {
    Format.TABLE: "report.txt",
    Format.JSON: "report.json",
    Format.SARIF: "report.sarif",
    Format.JUNIT: "report.junit.xml",
    Format.MARKDOWN: "report.md",
    Format.CSV: "report.csv",
    Format.HTML: "report.html",
}


def write(
    fmt: Format,
    result: CheckResult,
    report: Report,
    stream: BinaryIO,
    *,
    details: bool = False,
    terminal: bool = False,
) -> None:
    """One format to `stream`. `terminal`: the table may use the terminal's width and colour."""
    if fmt is Format.JSON:
        write_json(report, stream)
    elif fmt is Format.TABLE:
        text = io.TextIOWrapper(stream, encoding="utf-8", write_through=True)
        console = (
            Console(highlight=False)
            if terminal
            else Console(highlight=False, file=text, width=100, color_system=None)
        )
        console_report.render(result, console, details=details)
        text.detach()
    elif fmt is Format.SARIF:
        stream.write(json.dumps(sarif.render(result, report), indent=1).encode() + b"\n")
    elif fmt is Format.JUNIT:
        stream.write(junit.render(result, report))
    elif fmt is Format.MARKDOWN:
        stream.write(markdown.render(result, report).encode())
    elif fmt is Format.CSV:
        stream.write(csv_rows.render(result, report).encode())
    else:
        stream.write(html.render(result, report).encode())


def write_all(folder: Path, result: CheckResult, report: Report) -> list[Path]:
    """Every format into `folder`, one file each (see FILE_NAMES)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(str(folder), "", f"cannot create the folder ({exc.strerror})") from None
    written = []
    for fmt, name in FILE_NAMES.items():
        path = folder / name
        with path.open("wb") as stream:
            write(fmt, result, report, stream)
        written.append(path)
    return written
