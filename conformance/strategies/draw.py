"""Draw examples outside a test, reproducibly: the same seed gives the same sequence."""

from __future__ import annotations

from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

T = TypeVar("T")


def draw_many(strategy: st.SearchStrategy[T], count: int, seed_value: int) -> list[T]:
    """`count` examples of `strategy`, fixed by `seed_value` (no example database, no shrinking).

    Hypothesis tries the simplest example first, the same for every seed; it is dropped, so that
    different seeds give different examples even for `count=1`."""
    drawn: list[Any] = []

    @settings(
        max_examples=count + 1,
        database=None,
        derandomize=False,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @seed(seed_value)
    @given(strategy)
    def collect(value: T) -> None:
        drawn.append(value)

    collect()
    return drawn[1 : count + 1]
