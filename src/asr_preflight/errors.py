"""Errors the CLI turns into a one-line message and a distinct exit code (never a traceback)."""

from __future__ import annotations

from asr_preflight.secrets import scrub

EXIT_READY = 0
EXIT_BLOCKED = 1
EXIT_USAGE = 2


class InputError(Exception):
    """Bad input: names the file, the JSON path inside it and what was expected."""

    exit_code = EXIT_USAGE

    def __init__(self, file: str, path: str, expected: str) -> None:
        self.file = file
        self.path = path
        self.expected = expected
        where = f"{printable(file)}: {path}" if path else printable(file)
        super().__init__(scrub(f"{where}: {expected}"))


def printable(text: str) -> str:
    """Text from the input (a file name, a key) escaped so that a message stays one line."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
