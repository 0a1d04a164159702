"""The suites' pytest side: `--oicp-sut`, the SUT and fake-hub fixtures, requirement bookkeeping, reports.

`pytest --oicp-sut oicp-sut.toml --pyargs conformance.suites.cpo` runs the CPO suite against a SUT;
without `--oicp-sut` it starts the bundled reference CPO. `oicp-conformance run` wraps this.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import allure
import pytest

from conformance.hub import FakeHub, Partners
from conformance.oicp.ids import operator_key
from conformance.suites.cases import IdSource
from conformance.suites.emp_requirements import EMP, EMP_MANDATORY, EMP_MODES
from conformance.suites.requirements import CPO, Requirement
from conformance.suites.verdicts import (
    NOT_APPLICABLE,
    NOT_JUDGED,
    ConfigurationProblem,
    NotJudged,
    Outcome,
    Verdict,
    combine,
    run_verdict,
)
from conformance.sut import Sut, load
from conformance.sut.client import SENT

REQUIREMENTS: dict[str, Requirement] = {**CPO, **EMP}
VERDICT_KEY = pytest.StashKey[Verdict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("oicp", "OICP conformance suites")
    group.addoption("--oicp-sut", metavar="FILE", help="SUT declaration (oicp-sut.toml); default: bundled reference")
    group.addoption("--oicp-seed", type=int, help="seed for generated messages (printed; default: random)")
    group.addoption("--oicp-summary", metavar="FILE", help="write the per-requirement summary as JSON")
    group.addoption(
        "--oicp-strict", action="store_true", help="SHOULD and PRACTICE requirements fail the run instead of warning"
    )
    group.addoption(
        "--oicp-reference-defect",
        action="append",
        default=[],
        metavar="NAME",
        help="plant a defect in the bundled reference CPO (self-tests)",
    )
    group.addoption(
        "--oicp-reference-shape",
        default="official",
        metavar="SHAPE",
        help="deployment shape of the bundled reference CPO (see `oicp-conformance reference --help`)",
    )
    group.addoption(
        "--oicp-requirement", action="append", default=[], metavar="ID", help="run only the tests of these requirements"
    )
    group.addoption(
        "--oicp-role",
        choices=("cpo", "emp"),
        default="cpo",
        help="which bundled reference to start without --oicp-sut (default: cpo)",
    )
    group.addoption(
        "--oicp-mode",
        choices=("online", "offline"),
        default="online",
        help="the bundled reference EMP's mode (default: online)",
    )
    group.addoption("--oicp-via-cli", action="store_true", help=argparse.SUPPRESS)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): the requirements a suite test checks")
    config.addinivalue_line("markers", "operation(id): the catalogue operation a suite test exercises")
    if config.getoption("oicp_seed", None) is None:
        config.option.oicp_seed = random.SystemRandom().randrange(2**31)
    config._oicp_results = {}  # type: ignore[attr-defined]
    config._oicp_config_problems = []  # type: ignore[attr-defined]
    config._oicp_started = datetime.now(UTC)  # type: ignore[attr-defined]
    _keep_examples_out_of_the_package()
    _CONFIGS.append(config)


def _keep_examples_out_of_the_package() -> None:
    """Hypothesis keeps its example database in the working directory, which for `run` is the suites' folder
    inside the installed package (read-only, or shared by every user): a user cache folder instead."""
    from hypothesis.configuration import set_hypothesis_home_dir

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    set_hypothesis_home_dir(cache / "oicp-conformance" / "hypothesis")


def pytest_unconfigure(config: pytest.Config) -> None:
    if config in _CONFIGS:
        _CONFIGS.remove(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _same_role(config, items)
    wanted = set(config.getoption("oicp_requirement") or [])
    if not wanted:
        return
    keep = [i for i in items if (m := i.get_closest_marker("requirement")) is None or wanted & set(m.args)]
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = keep


def _same_role(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A CPO declaration never runs the EMP suite (nor the other way round): stop before any test."""
    names = [getattr(getattr(i, "module", None), "__name__", "") for i in items]
    suites = {n.split(".")[2] for n in names if n.startswith("conformance.suites.") and n.count(".") >= 3}
    path = config.getoption("oicp_sut", None)
    role = config.getoption("oicp_role", "cpo")
    if path:
        try:
            role = load(Path(path)).role
        except Exception:  # the sut fixture reports a broken declaration with its own words
            return
    if suites and suites != {role}:
        pytest.exit(f"the SUT's role is {role}, but this runs the {'/'.join(sorted(suites))} suite", 2)


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.getoption("oicp_via_cli", False):
        return None  # `oicp-conformance run` has printed the seed already
    if config.getoption("oicp_sut", None) or any("suites" in str(a) for a in config.args):
        return f"oicp-conformance: seed {config.getoption('oicp_seed')} (repeat with --oicp-seed)"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def seed(pytestconfig: pytest.Config) -> int:
    return int(pytestconfig.getoption("oicp_seed"))


@pytest.fixture(scope="session")
def sut(pytestconfig: pytest.Config) -> Iterator[Sut]:
    """The declared SUT, or the bundled reference CPO started on loopback for this session."""
    path = pytestconfig.getoption("oicp_sut")
    if path:
        rerun = f"oicp-conformance run --role cpo --sut {shlex.quote(str(Path(path).resolve()))}"
        declared = replace(load(Path(path)), rerun=rerun)
        pytestconfig._oicp_sut = declared  # type: ignore[attr-defined]
        yield declared
        return
    from conformance.suites.reference import start_reference, start_reference_emp

    hub_port = _free_port()
    shape = pytestconfig.getoption("oicp_reference_shape")
    defects = tuple(pytestconfig.getoption("oicp_reference_defect"))
    if pytestconfig.getoption("oicp_role") == "emp":
        mode = pytestconfig.getoption("oicp_mode")
        started = start_reference_emp(hub_port, mode=mode, defects=defects, shape=shape)
        rerun = f"oicp-conformance run --role emp --mode {mode}"
    else:
        started = start_reference(hub_port, shape=shape, defects=defects)
        rerun = "oicp-conformance run --role cpo"
    rerun += (f" --shape {shape}" if shape != "official" else "") + "".join(f" --defect {d}" for d in defects)
    reference = replace(started.sut, rerun=rerun, reference_command=started.command)
    pytestconfig._oicp_sut = reference  # type: ignore[attr-defined]
    try:
        yield reference
    finally:
        started.stop()


@pytest.fixture(scope="session")
def hub_server(sut: Sut) -> Iterator[FakeHub]:
    subs = {operator_key(sut.operator_id) or sut.operator_id: set(sut.sub_operators)}
    hub = FakeHub(
        release=sut.release,
        host=sut.hub_host,
        port=sut.hub_port,
        prefix=sut.hub_prefix,
        partners=Partners(operators={sut.operator_id}, providers={sut.provider_id}, sub_operators=subs),
    )
    hub.start()
    yield hub
    hub.stop()


@pytest.fixture
def hub(hub_server: FakeHub) -> Iterator[FakeHub]:
    """The fake hub, clean for this test; errors inside it fail this test."""
    with hub_server.clean() as clean_hub:
        yield clean_hub


@pytest.fixture(autouse=True)
def _allure_labels(request: pytest.FixtureRequest) -> None:
    op = request.node.get_closest_marker("operation")
    req = request.node.get_closest_marker("requirement")
    if op is None and req is None:
        return
    allure.dynamic.parent_suite(request.module.__name__.split(".")[-2].upper())
    if op is not None:
        service = op.args[0].split(".")[0]
        allure.dynamic.suite(op.kwargs.get("service", service))
        allure.dynamic.sub_suite(op.args[0])
    for requirement in req.args if req else ():
        allure.dynamic.tag(requirement)


@pytest.fixture
def verdict(request: pytest.FixtureRequest, seed: int) -> Verdict:
    """Record what the test judges with `verdict.check(...)`, then `verdict.conclude()` at its end."""
    found = Verdict(request.node, seed, REQUIREMENTS, strict=bool(request.config.getoption("oicp_strict")))
    request.node.stash[VERDICT_KEY] = found
    return found


@pytest.fixture
def ids(request: pytest.FixtureRequest, seed: int) -> IdSource:
    """Fresh, reproducible IDs for this test's cases (one SessionID per case, as Hubject issues them)."""
    return IdSource(seed, request.node.name)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    marker = item.get_closest_marker("requirement")
    if marker is None or report.when not in ("setup", "call"):
        return report
    if report.when == "setup" and report.passed:
        return report
    found: Verdict = item.stash.get(VERDICT_KEY, None) or Verdict(item, 0, REQUIREMENTS)
    stopped = call.excinfo.value if call.excinfo and isinstance(call.excinfo.value, NotJudged) else None
    if stopped is None and report.skipped:  # a plain pytest.skip: not judged, with its reason
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        stopped = NotJudged(reason.removeprefix("Skipped: "))
    error = None
    if report.failed and not found.concluded:
        error = f"the check broke: {_last_line(report.longreprtext)}"
    if isinstance(stopped, ConfigurationProblem):
        item.config._oicp_config_problems.append(stopped.reason)  # type: ignore[attr-defined]
    results = item.config._oicp_results  # type: ignore[attr-defined]
    for rid, outcome in found.outcomes(marker.args, error, stopped).items():
        entry = results.setdefault(rid, {"outcomes": [], "tests": [], "failures": []})
        entry["outcomes"].append(outcome)
        entry["tests"].append(item.name)
        entry["failures"] += [f.__dict__ for f in found.failures if f.requirement == rid]
    _allure_outcome(found, marker.args, report)
    if report.skipped and (blocking := found.blocking()):
        # A test that recorded a MUST failure and then could not go on has failed, not skipped: pytest's
        # own outcome (and exit code) must agree with the requirement table.
        report.outcome = "failed"
        report.longrepr = "\n\n".join(f.render(found.seed) for f in blocking)
    return report


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip()[:400] if lines else "unknown error"


def _allure_outcome(found: Verdict, marked: tuple[str, ...], report: pytest.TestReport) -> None:
    """Warnings and not-judged requirements as readable attachments of the test in Allure."""
    for failure in found.failures:
        if failure not in found.blocking():
            allure.attach(
                failure.render(found.seed),
                name=f"warning {failure.requirement}: {failure.title}",
                attachment_type=allure.attachment_type.TEXT,
            )
    for rid, outcome in found.unjudged.items():
        allure.attach(outcome.reason, name=f"{outcome.status}: {rid}", attachment_type=allure.attachment_type.TEXT)


def _expected(requirement: Requirement, sut: Sut | None) -> bool:
    """Whether the SUT must implement what the requirement judges: a mandatory operation, or a declared feature.

    For an EMP, where an operation is mandatory depends on its mode (offline EMPs must pull CDRs, online
    ones must answer authorisations)."""
    if requirement.id in EMP:
        mode = sut.mode if sut is not None else "online"
        if mode not in EMP_MODES[requirement.id]:
            return False
        declared = sut is not None and requirement.feature is not None and sut.has(requirement.feature)
        return mode in EMP_MANDATORY[requirement.id] or declared
    return requirement.feature is None or (sut is not None and sut.has(requirement.feature))


def summary(config: pytest.Config) -> dict[str, Any]:
    """The per-requirement results and the run's verdict, as `summary.json` stores them."""
    results = config._oicp_results  # type: ignore[attr-defined]
    sut: Sut | None = getattr(config, "_oicp_sut", None)
    rows = []
    role_requirements = EMP if sut is not None and sut.role == "emp" else CPO
    # A run narrowed by the user (-k, --oicp-requirement) reports what it ran; a whole run reports every
    # requirement of the role, so one no check judges yet shows as not judged instead of vanishing.
    narrowed = bool(config.getoption("oicp_requirement") or config.getoption("keyword", ""))
    for requirement in role_requirements.values():
        entry = results.get(requirement.id)
        if entry is None and narrowed:
            continue
        if entry is None:
            if requirement.id in EMP and sut is not None and sut.mode not in EMP_MODES[requirement.id]:
                missing = Outcome(NOT_APPLICABLE, f"applies to {' and '.join(sorted(EMP_MODES[requirement.id]))} EMPs")
            else:
                missing = Outcome(NOT_JUDGED, "no check of this suite judges it yet")
            entry = {"outcomes": [missing], "tests": [], "failures": []}
        outcome = combine(entry["outcomes"])
        rows.append(
            {
                "id": requirement.id,
                "title": requirement.title,
                "strength": requirement.strength,
                "source": requirement.source,
                "feature": requirement.feature,
                "expected": _expected(requirement, sut),
                "status": outcome.status,
                "reason": outcome.reason,
                "declare": outcome.declare,
                "tests": entry["tests"],
                "failures": entry["failures"],
            }
        )
    problems = list(dict.fromkeys(config._oicp_config_problems))  # type: ignore[attr-defined]
    interrupted = bool(getattr(config, "_oicp_interrupted", False))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    started = config._oicp_started  # type: ignore[attr-defined]
    return {
        "tool": "oicp-conformance",
        "tool_version": _version(),
        "role": sut.role if sut else None,
        "release": sut.release if sut else None,
        "sut": {"name": sut.name, "base_url": sut.base_url, "declaration": sut.source} if sut else None,
        "seed": config.getoption("oicp_seed"),
        "strict": bool(config.getoption("oicp_strict")),
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round((datetime.now(UTC) - started).total_seconds(), 1),
        "verdict": run_verdict(rows, problems, interrupted),
        "counts": counts,
        "configuration_problems": problems,
        "inbound": {
            "requests": len(SENT),
            "opened_sessions": [sid for op, sid in SENT if sid and ("Start" in op)],  # RemoteStart, ReservationStart
        },
        "requirements": rows,
    }


def _version() -> str:
    try:
        return metadata.version("oicp-conformance")
    except metadata.PackageNotFoundError:
        return "unknown"


def pytest_keyboard_interrupt(excinfo: Any) -> None:
    for config in _CONFIGS:
        config._oicp_interrupted = True  # type: ignore[attr-defined]


_CONFIGS: list[pytest.Config] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the summary even for an interrupted run, whose verdict then says so."""
    config = session.config
    if exitstatus == pytest.ExitCode.INTERRUPTED or session.shouldstop:
        config._oicp_interrupted = True  # type: ignore[attr-defined]
    if not config._oicp_results and not getattr(config, "_oicp_interrupted", False):  # type: ignore[attr-defined]
        return
    if path := config.getoption("oicp_summary"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(summary(config), indent=2), encoding="utf-8")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not config._oicp_results or config.getoption("oicp_via_cli"):  # type: ignore[attr-defined]
        return  # `oicp-conformance run` prints the table itself, once
    from conformance.reports import render

    terminalreporter.section("OICP requirements")
    for line in render(summary(config)).splitlines():
        terminalreporter.write_line(line)


def requirement(*ids: str) -> pytest.MarkDecorator:
    for rid in ids:
        assert rid in REQUIREMENTS, rid
    return pytest.mark.requirement(*ids)


__all__ = ["NotJudged", "Requirement", "Verdict", "requirement"]
