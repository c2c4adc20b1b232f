"""Load the knowledge-base TOML files once."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> dict[str, Any]:
    text = (
        resources.files("asr_preflight.knowledge")
        .joinpath("data", f"{name}.toml")
        .read_text(encoding="utf-8")
    )
    return tomllib.loads(text)


@cache
def sources() -> dict[str, dict[str, str]]:
    return load("sources")


def cite(tag: str) -> str:
    """A short human reference for a source tag: title, date and address."""
    src = sources().get(tag)
    if src is None:
        return tag
    date = f", {src['date']}" if src.get("date") else ""
    return f"{src.get('title', tag)}{date} — {src.get('url') or src.get('path', '')}"


def dated(tag: str) -> str:
    """A source tag with the date of the version read: `SM-2026 (2026-01-01)`."""
    date = sources().get(tag, {}).get("date")
    return f"{tag} ({date})" if date else tag


def url(tag: str) -> str:
    """Where to read a source: its address, else its repository path."""
    src = sources().get(tag, {})
    return src.get("url") or src.get("path") or tag
