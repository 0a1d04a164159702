"""Hypothesis settings profiles: `ci` repeats exactly, `dev` explores."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

CI = "ci"
DEV = "dev"
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

settings.register_profile(
    CI, derandomize=True, database=None, deadline=None, max_examples=50, suppress_health_check=_SLOW_OK, print_blob=True
)
settings.register_profile(DEV, deadline=None, max_examples=100, suppress_health_check=_SLOW_OK, print_blob=True)


def default_profile() -> str:
    """`ci` when a CI variable is set (deterministic runs), `dev` otherwise."""
    return CI if os.environ.get("CI") else DEV
