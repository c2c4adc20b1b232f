"""Engines several rules share: network paths, (later) sizing and permissions."""
