"""The EMP suite, as far as it goes (issue 11 is open): its inbound checks judge the reference EMP, and a run
says honestly that the EMP's outbound requirements are not judged yet instead of passing them."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.reference.emp.defects import DEFECTS as EMP_DEFECTS
from conformance.reference.emp.defects import mode_for
from conformance.runner import run_suite
from conformance.suites.emp_requirements import EMP, EMP_INBOUND, EMP_MANDATORY


def test_inbound_checks_pass_on_the_reference_emp_and_the_rest_is_not_judged(tmp_path: Path) -> None:
    outcome = run_suite("emp", tmp_path, seed=5, quiet=True, allure=False, fork=True)
    summary = outcome.summary
    assert summary is not None, outcome.output[-3000:]
    rows = {r["id"]: r for r in summary["requirements"]}
    assert set(rows) == set(EMP)  # a whole run lists every requirement of the role
    judged = {rid for rid, row in rows.items() if row["status"] not in ("not judged", "n/a")}
    assert judged, outcome.output[-3000:]
    for rid in judged:
        assert rows[rid]["status"] == "pass", (rid, rows[rid])
    for row in rows.values():
        if row["status"] == "n/a":  # only what an online EMP is not asked may be n/a
            assert "offline EMP" in row["reason"] or "applies to offline" in row["reason"], row
    assert {r for r in EMP_INBOUND if r.startswith("EMP-IN-")} <= judged
    unjudged_musts = [
        r for r in rows.values() if r["status"] == "not judged" and r["strength"] == "MUST" and r["expected"]
    ]
    assert summary["verdict"] == ("incomplete" if unjudged_musts else "pass")  # never a pass over unjudged MUSTs


def test_an_offline_emp_is_never_judged_on_what_only_online_emps_serve(tmp_path: Path) -> None:
    outcome = run_suite("emp", tmp_path, seed=5, mode="offline", quiet=True, allure=False, fork=True)
    rows = {r["id"]: r for r in outcome.summary["requirements"]}  # type: ignore[index]
    for rid in (r for r in EMP_INBOUND if r.startswith("EMP-IN-")):
        assert rows[rid]["status"] == "n/a", rows[rid]
    assert outcome.summary["verdict"] in ("pass", "incomplete")  # type: ignore[index]


CHECKED = sorted(name for name, d in EMP_DEFECTS.items() if d.caught_by)


@pytest.mark.parametrize("defect", CHECKED)
def test_each_emp_defect_with_a_check_is_caught_by_it(tmp_path: Path, defect: str) -> None:
    intended = EMP_DEFECTS[defect].caught_by
    mode = mode_for(EMP_DEFECTS[defect], EMP_MANDATORY[intended])
    outcome = run_suite(
        "emp",
        tmp_path,
        seed=3,
        mode=mode,
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
    assert rows[intended]["failures"][0]["reproduce"]


EMP_SHAPES = ("official", "custom-urls", "relay", "queue", "lenient", "offline")
EXPECTED_WARNINGS = {"lenient": {"EMP-IN-INVALID-02"}}  # takes text/plain on purpose; no sentence forbids it


@pytest.mark.parametrize("shape", EMP_SHAPES)
def test_clean_reference_emp_passes_in_every_shape(tmp_path: Path, shape: str) -> None:
    outcome = run_suite("emp", tmp_path, seed=13, shape=shape, quiet=True, allure=False, fork=True)
    summary = outcome.summary
    assert summary is not None, outcome.output[-3000:]
    for row in summary["requirements"]:
        fine = (
            row["status"] in ("pass", "n/a")
            or (row["status"] == "warn" and row["id"] in EXPECTED_WARNINGS.get(shape, set()))
            or (row["status"] == "not judged" and not row["expected"])
        )
        assert fine, (shape, row["id"], row["status"], row["reason"], [f["title"] for f in row["failures"]])
    assert summary["verdict"] == "pass", outcome.output[-3000:]
