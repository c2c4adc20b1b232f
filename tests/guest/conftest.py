"""Fixtures for tests/guest live in guest_support (a unique module name: two conftest modules
would shadow each other when tests import helpers from them)."""

from guest_support import *  # noqa: F403
