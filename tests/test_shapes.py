"""The CPO suite against the reference CPO in every deployment shape real backends come in.

The clean reference passes in every shape: no failure, error or warning (save what a shape does on purpose),
and nothing left unjudged that its declaration supports. Every planted defect is caught by its intended
check in every shape where it applies. This is the guard against checks tuned to one backend's quirks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.reference.cpo.defects import DEFECTS
from conformance.reference.cpo.shapes import SHAPES
from conformance.runner import run_suite
from conformance.suites.requirements import CPO

# What a shape does on purpose that a check reports as a warning (never a failure).
EXPECTED_WARNINGS = {"lenient": {"CPO-IN-INVALID-02"}}  # takes text/plain; no sentence demands refusing it


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_clean_reference_passes_in_every_shape(tmp_path: Path, shape: str) -> None:
    outcome = run_suite("cpo", tmp_path, seed=11, shape=shape, quiet=True, allure=shape == "official", fork=True)
    summary = outcome.summary
    assert summary is not None, outcome.output[-3000:]
    rows = {r["id"]: r for r in summary["requirements"]}
    assert set(rows) == set(CPO)
    allowed = EXPECTED_WARNINGS.get(shape, set())
    for rid, row in rows.items():
        fine = (
            row["status"] == "pass"
            or (row["status"] == "warn" and rid in allowed)
            or (row["status"] == "not judged" and not row["expected"])  # an optional feature the shape lacks
        )
        assert fine, (shape, rid, row["status"], row["reason"], [f["title"] for f in row["failures"]])
    assert summary["verdict"] == "pass" and outcome.exit_code == 0, outcome.output[-3000:]
    if shape == "official":
        results = tmp_path / "cpo" / "allure-results"
        found = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
        tests = [r["labels"] for r in found if not r["fullName"].startswith("CPO.requirements.")]
        assert tests and all({"name": "parentSuite", "value": "CPO"} in ls for ls in tests)
        per_requirement = [r for r in found if r["fullName"].startswith("CPO.requirements.")]
        assert {r["name"].split()[0] for r in per_requirement} == set(CPO)
        assert (tmp_path / "cpo" / "junit.xml").is_file()


MATRIX = [(shape, name) for shape in sorted(SHAPES) for name in sorted(DEFECTS) if DEFECTS[name].applies(shape)]


@pytest.mark.parametrize(("shape", "defect"), MATRIX)
def test_each_defect_is_caught_by_its_check_in_every_shape(tmp_path: Path, shape: str, defect: str) -> None:
    intended = DEFECTS[defect].caught_by
    outcome = run_suite(
        "cpo",
        tmp_path,
        seed=3,
        shape=shape,
        defects=[defect],
        requirements=[intended],
        quiet=True,
        allure=False,
        fork=True,
    )
    assert outcome.summary is not None, outcome.output[-3000:]
    rows = {r["id"]: r for r in outcome.summary["requirements"]}
    expected = "fail" if CPO[intended].fails_verdict else "warn"
    assert rows[intended]["status"] == expected, (rows[intended], outcome.output[-3000:])
    failure = rows[intended]["failures"][0]
    assert failure["reproduce"], "every failure carries a reproduce command"
    # pytest's own exit code agrees: a test fails exactly where a blocking failure was recorded
    assert (outcome.exit_code == 1) == any(r["status"] == "fail" for r in rows.values()), outcome.output[-2000:]


def test_every_shape_has_defects_to_catch_and_every_defect_a_shape() -> None:
    assert {d for _, d in MATRIX} == set(DEFECTS)
    assert {s for s, _ in MATRIX} == set(SHAPES)


def test_no_two_cases_share_a_session_id_and_a_seed_repeats_them(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    # three independent runs (each its own reference CPO and hub), side by side: new interpreters, not forks,
    # since a fork from one of several threads is unsafe
    runs = (("a", 21), ("b", 21), ("c", 22))
    with ThreadPoolExecutor(len(runs)) as pool:
        first, again, other = pool.map(
            lambda run: run_suite("cpo", tmp_path / run[0], seed=run[1], shape="strict", quiet=True, allure=False),
            runs,
        )
    ids = [o.summary["inbound"]["opened_sessions"] for o in (first, again, other)]  # type: ignore[index]
    assert len(ids[0]) > 20 and len(set(ids[0])) == len(ids[0])  # every start or reservation its own SessionID
    assert ids[0] == ids[1]  # the same seed, the same cases
    assert not set(ids[0]) & set(ids[2])  # another seed, other IDs


def test_twice_against_one_running_sut_gives_the_same_verdicts(tmp_path: Path) -> None:
    """A strict SUT that remembers every SessionID it saw, not restarted between two runs."""
    import socket

    from conformance.reference.cpo.shapes import SHAPES as shapes
    from conformance.sut.default import reference_declaration
    from tests.helpers import cli

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        hub_port = probe.getsockname()[1]
    from conformance.reference.cpo import ReferenceCpo

    cpo = ReferenceCpo(shapes["queue"].build(hub_url=f"http://127.0.0.1:{hub_port}/api/oicp"))
    url = cpo.start()
    try:
        sut = tmp_path / "sut.toml"
        sut.write_text(reference_declaration(url, hub_port, shape="queue"))
        verdicts = []
        for seed in ("5", "6"):
            done = cli("run", "--role", "cpo", "--sut", str(sut), "--reports", str(tmp_path / seed), "--seed", seed,
                       timeout=400)  # fmt: skip
            summary = json.loads((tmp_path / seed / "cpo" / "summary.json").read_text())
            verdicts.append({r["id"]: r["status"] for r in summary["requirements"]})
            assert done.returncode == 0, done.stdout[-3000:]
    finally:
        cpo.stop()
    assert verdicts[0] == verdicts[1] == dict.fromkeys(CPO, "pass")
