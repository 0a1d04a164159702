"""pytest plugin of oicp-conformance: registers the Hypothesis profiles and says which one runs.

`--hypothesis-profile ci|dev` and `--hypothesis-seed N` are Hypothesis's own options; without a
profile the plugin picks `ci` under CI (deterministic) and `dev` elsewhere.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

from conformance.hub.fixture import fake_hub, fake_hub_server
from conformance.profiles import default_profile

__all__ = ["fake_hub", "fake_hub_server"]


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("hypothesis_profile", None):
        settings.load_profile(default_profile())


def pytest_report_header(config: pytest.Config) -> str:
    profile = settings._current_profile  # the name Hypothesis loaded
    seed = config.getoption("hypothesis_seed", None)
    if settings.default.derandomize:
        how = "derandomized: every run draws the same examples"
    elif seed is not None:
        how = f"seed {seed}: repeat with --hypothesis-seed={seed}"
    else:
        how = "random seed: a failure prints how to reproduce it (@reproduce_failure / --hypothesis-seed)"
    return f"oicp-conformance: hypothesis profile {profile!r}, {how}"
