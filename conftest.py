"""Project-wide pytest set-up: where the official spec lives for the tests that rebuild from it."""

from __future__ import annotations

import os
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


# Tests that take half a minute or more (whole suite runs, exhaustive generation): started first, so that no
# worker begins one of them when the rest of the run is done (pytest-xdist hands tests out in this order).
LONG = (
    "test_clean_reference",
    "test_the_suite_does_not_fail_a_correct_cpo",
    "test_twice_against",
    "test_no_two_cases",
    "test_generation_reaches_every_optional_member",
    "test_generated_messages_keep_the_validate_rules",
    "test_the_shipped_reference_declaration_passes",
    "test_custom_urls_header_and_prefix_pass_the_suite",
    "test_a_baseline_accepts",
    "test_test_ids_do_not_depend",
    "test_the_declaration_init_writes",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """pytest-xdist's worksteal gives each worker one contiguous slice of this order: the long tests spread over
    the heads of the slices, the rest in their own order (every worker computes the same order, as xdist requires)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers < 2:
        return
    long = [item for item in items if item.name.startswith(LONG)]
    rest = [item for item in items if not item.name.startswith(LONG)]
    size = -(-len(items) // workers)  # the slice each worker starts with
    per_slice = -(-len(long) // workers)
    ordered: list[pytest.Item] = []
    while long or rest:
        head, long = long[:per_slice], long[per_slice:]
        ordered += head + rest[: size - len(head)]
        rest = rest[size - len(head) :]
    items[:] = ordered
