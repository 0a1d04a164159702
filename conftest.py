"""Project-wide pytest set-up: where the official spec lives for the tests that rebuild from it."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
SPEC = ROOT.parent / "shared" / "oicp-spec"


@pytest.fixture(scope="session")
def spec_dir() -> Path:
    """The official OICP material; tests that need it are skipped, with the reason, where it is absent."""
    if not (SPEC / "openapi-2.3-cpo").is_dir():
        pytest.skip(f"official OICP material not found at {SPEC}: cannot rebuild from the spec here")
    return SPEC
