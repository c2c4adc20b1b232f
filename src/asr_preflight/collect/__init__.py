"""Live collection: read an estate with the Azure SDKs and Resource Graph, read-only."""

from asr_preflight.collect.clouds import CLOUDS, Cloud
from asr_preflight.collect.collector import Result, Stats, Target, collect
from asr_preflight.collect.pipeline import PipelineSettings, ReadOnlyViolation

__all__ = [
    "CLOUDS",
    "Cloud",
    "PipelineSettings",
    "ReadOnlyViolation",
    "Result",
    "Stats",
    "Target",
    "collect",
]
