"""The EMP suite against the reference EMP in every deployment shape real EMP backends come in.

The clean reference passes in every shape, online and offline (nothing unjudged that its declaration supports);
every planted defect is caught by its intended check in every shape where it applies. An offline EMP is never
judged on what only online EMPs serve."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.reference.emp.defects import DEFECTS as EMP_DEFECTS
from conformance.reference.emp.defects import mode_for
from conformance.reference.emp.shapes import SHAPES
from conformance.runner import run_suite
from conformance.suites.emp_requirements import EMP, EMP_INBOUND, EMP_MANDATORY, EMP_MODES
from tests.helpers import clean_run_problems

EXPECTED_WARNINGS = {"lenient": {"EMP-IN-INVALID-02"}}  # takes text/plain on purpose; no sentence forbids it


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_clean_reference_emp_passes_in_every_shape(tmp_path: Path, shape: str) -> None:
    outcome = run_suite("emp", tmp_path, seed=13, shape=shape, quiet=True, allure=False, fork=True)
    summary = outcome.summary
    assert summary is not None, outcome.output[-3000:]
    assert not clean_run_problems(summary, EXPECTED_WARNINGS.get(shape, set())), shape
    assert summary["verdict"] == "pass" and outcome.exit_code == 0, outcome.output[-3000:]
    rows = {r["id"]: r for r in summary["requirements"]}
    assert set(rows) == set(EMP)  # a whole run lists every requirement of the role
    judged = {rid for rid, row in rows.items() if row["status"] not in ("not judged", "n/a")}
    inbound = {r for r in EMP_INBOUND if r.startswith("EMP-IN-")}
    if SHAPES[shape].config.get("mode") == "offline":  # never judged on what only online EMPs serve
        assert all(rows[rid]["status"] == "n/a" for rid in inbound)
        assert len(judged) >= 15, sorted(judged)
    else:
        assert inbound <= judged and len(judged) >= 25, sorted(judged)
        for row in rows.values():  # n/a only for what an online EMP is not asked, or its shape does not choose
            assert row["status"] != "n/a" or "offline EMP" in row["reason"] or "suite writes" in row["reason"], row


def _mode(shape: str, defect: str) -> str:
    """The mode a shape runs in: its own where it names one, else where the defect's check is mandatory."""
    chosen = mode_for(EMP_DEFECTS[defect], EMP_MANDATORY[EMP_DEFECTS[defect].caught_by])
    return str(SHAPES[shape].config.get("mode", chosen))


MATRIX = [
    (shape, name)
    for shape in sorted(SHAPES)
    for name in sorted(EMP_DEFECTS)
    if EMP_DEFECTS[name].applies(SHAPES[shape].build(mode=_mode(shape, name)))
    and _mode(shape, name) in EMP_MODES[EMP_DEFECTS[name].caught_by]  # the check applies in that mode
]


@pytest.mark.parametrize(("shape", "defect"), MATRIX)
def test_each_emp_defect_is_caught_by_its_check_in_every_shape(tmp_path: Path, shape: str, defect: str) -> None:
    intended = EMP_DEFECTS[defect].caught_by
    outcome = run_suite(
        "emp",
        tmp_path,
        seed=3,
        mode=_mode(shape, defect),
        shape=shape,
        defects=[defect],
        requirements=[intended],
        quiet=True,
        allure=False,
        fork=True,
    )
    assert outcome.summary is not None, outcome.output[-3000:]
    rows = {r["id"]: r for r in outcome.summary["requirements"]}
    expected = "fail" if EMP[intended].fails_verdict else "warn"
    assert rows[intended]["status"] == expected, (rows[intended], outcome.output[-3000:])
    assert rows[intended]["failures"][0]["reproduce"], "every failure carries a reproduce command"


def test_every_emp_defect_has_a_check_and_a_shape_to_show_in() -> None:
    assert all(d.caught_by in EMP for d in EMP_DEFECTS.values()), [n for n, d in EMP_DEFECTS.items() if not d.caught_by]
    assert {d for _, d in MATRIX} == set(EMP_DEFECTS)
    assert {s for s, _ in MATRIX} == set(SHAPES)
    assert len(EMP_DEFECTS) >= 15
