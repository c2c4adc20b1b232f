"""Fixtures for tests/collect live in live_support (a unique module name: two conftest modules
would shadow each other when tests import helpers from them)."""

from live_support import *  # noqa: F403
