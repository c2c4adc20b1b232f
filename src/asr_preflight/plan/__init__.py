"""The target plan: what ASR would create with default settings, and the quota it needs."""

from asr_preflight.plan.build import PlanResult, build_plan

__all__ = ["PlanResult", "build_plan"]
