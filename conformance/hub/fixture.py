"""pytest fixtures: one fake hub per session (port stays put), reset and checked around every test.

Function-scoped servers clash with `@given` (a fresh port per example); inside a `@given` test,
call `fake_hub.reset()` at the start of each example instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.hub.hub import FakeHub


@pytest.fixture(scope="session")
def fake_hub_server() -> Iterator[FakeHub]:
    hub = FakeHub(release="2.3").start()
    yield hub
    hub.stop()


@pytest.fixture
def fake_hub(fake_hub_server: FakeHub) -> Iterator[FakeHub]:
    """A clean fake hub; errors raised while it handled this test's requests fail this test."""
    with fake_hub_server.clean() as hub:
        yield hub
