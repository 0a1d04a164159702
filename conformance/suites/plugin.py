"""The suites' pytest side: `--oicp-sut`, the SUT and fake-hub fixtures, requirement bookkeeping, reports.

`pytest --oicp-sut oicp-sut.toml --pyargs conformance.suites.cpo` runs the CPO suite against a SUT;
without `--oicp-sut` it starts the bundled reference CPO. `oicp-conformance run` wraps this.
"""

from __future__ import annotations

import json
import random
import socket
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import allure
import pytest

from conformance.checks.failure import Failure
from conformance.hub import FakeHub, Partners
from conformance.suites.requirements import CPO, Requirement
from conformance.sut import Sut, load

FAILURES_KEY = "oicp_failures"


class ConformanceWarning(UserWarning):
    """A SHOULD or DERIVED requirement that the SUT does not meet (reported, does not fail the verdict)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("oicp", "OICP conformance suites")
    group.addoption("--oicp-sut", metavar="FILE", help="SUT declaration (oicp-sut.toml); default: bundled reference")
    group.addoption("--oicp-seed", type=int, help="seed for generated messages (printed; default: random)")
    group.addoption("--oicp-summary", metavar="FILE", help="write the per-requirement summary as JSON")
    group.addoption(
        "--oicp-reference-defect",
        action="append",
        default=[],
        metavar="NAME",
        help="plant a defect in the bundled reference CPO (self-tests)",
    )
    group.addoption(
        "--oicp-requirement", action="append", default=[], metavar="ID", help="run only the tests of these requirements"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): the requirements a suite test checks")
    config.addinivalue_line("markers", "operation(id): the catalogue operation a suite test exercises")
    if config.getoption("oicp_seed", None) is None:
        config.option.oicp_seed = random.SystemRandom().randrange(2**31)
    config._oicp_results = {}  # type: ignore[attr-defined]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(config.getoption("oicp_requirement") or [])
    if not wanted:
        return
    keep = [i for i in items if (m := i.get_closest_marker("requirement")) is None or wanted & set(m.args)]
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = keep


def pytest_report_header(config: pytest.Config) -> str | None:
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
        yield load(Path(path))
        return
    from conformance.reference.cpo import Config, ReferenceCpo
    from conformance.sut.default import reference_sut

    hub_port = _free_port()
    cpo = ReferenceCpo(
        Config(
            hub_url=f"http://127.0.0.1:{hub_port}/api/oicp",
            defects=frozenset(pytestconfig.getoption("oicp_reference_defect")),
        )
    )
    url = cpo.start()
    try:
        yield reference_sut(url, hub_port)
    finally:
        cpo.stop()


@pytest.fixture(scope="session")
def hub_server(sut: Sut) -> Iterator[FakeHub]:
    hub = FakeHub(
        release=sut.release,
        host=sut.hub_host,
        port=sut.hub_port,
        prefix=sut.hub_prefix,
        partners=Partners(operators={sut.operator_id}, providers={sut.provider_id}),
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
    allure.dynamic.parent_suite("CPO")
    if op is not None:
        service = op.args[0].split(".")[0]
        allure.dynamic.suite(op.kwargs.get("service", service))
        allure.dynamic.sub_suite(op.args[0])
    for requirement in req.args if req else ():
        allure.dynamic.tag(requirement)


class Verdict:
    """Collects failures of one test and turns them into a pass, warnings, or one clear failure."""

    def __init__(self, node: pytest.Item, seed: int):
        self.node, self.seed = node, seed
        self.failures: list[Failure] = []

    def add(self, requirement: str, title: str, body: str = "", reproduce: str = "") -> None:
        assert requirement in CPO, f"unknown requirement {requirement}"
        self.failures.append(Failure(requirement, title, body, reproduce))

    def check(self, ok: bool, requirement: str, title: str, body: str = "", reproduce: str = "") -> bool:
        if not ok:
            self.add(requirement, title, body, reproduce)
        return ok

    def about(self, answer: Any, ok: bool, requirement: str, title: str, body: str | None = None) -> bool:
        """`check` for a SUT answer: the answer is the failure's body, its curl command the reproduction."""
        return self.check(ok, requirement, title, body or answer.describe(), answer.curl)

    def conclude(self) -> None:
        self.node.user_properties.append((FAILURES_KEY, [f.__dict__ for f in self.failures]))
        blocking = [f for f in self.failures if CPO[f.requirement].fails_verdict]
        for failure in self.failures:
            allure.attach(
                failure.render(self.seed),
                name=f"{failure.requirement}: {failure.title}",
                attachment_type=allure.attachment_type.TEXT,
            )
            if failure not in blocking:
                warnings.warn(ConformanceWarning(failure.render(self.seed)), stacklevel=2)
        if blocking:
            pytest.fail("\n\n".join(f.render(self.seed) for f in blocking), pytrace=False)


@pytest.fixture
def verdict(request: pytest.FixtureRequest, seed: int) -> Verdict:
    """Record failures with `verdict.check(...)`, then `verdict.conclude()` at the end of the test."""
    return Verdict(request.node, seed)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    marker = item.get_closest_marker("requirement")
    if marker is None or report.when not in ("setup", "call"):
        return report
    if report.when == "setup" and report.passed:
        return report
    results = item.config._oicp_results  # type: ignore[attr-defined]
    failures = next((v for k, v in item.user_properties if k == FAILURES_KEY), [])
    failed_ids = {f["requirement"] for f in failures}
    for requirement in marker.args:
        entry = results.setdefault(requirement, {"status": "pass", "tests": [], "failures": []})
        entry["tests"].append(item.nodeid)
        entry["failures"] += [f for f in failures if f["requirement"] == requirement]
        if report.skipped:
            status = "skip"
        elif requirement in failed_ids:
            status = "fail" if CPO[requirement].fails_verdict else "warn"
        elif report.failed and not any(CPO[r].fails_verdict for r in failed_ids):
            status = "error"  # the test broke by itself, not by a recorded failure
        else:
            status = "pass"
        rank = {"skip": 0, "pass": 1, "warn": 2, "error": 3, "fail": 4}
        if entry["status"] == "pass" and status == "skip" and len(entry["tests"]) == 1:
            entry["status"] = "skip"
        elif rank[status] > rank[entry["status"]] or entry["status"] == "skip":
            entry["status"] = status
    return report


def summary(config: pytest.Config) -> dict[str, Any]:
    results = config._oicp_results  # type: ignore[attr-defined]
    rows = []
    for requirement in CPO.values():
        entry = results.get(requirement.id)
        if entry is None:
            continue
        rows.append(
            {
                "id": requirement.id,
                "title": requirement.title,
                "strength": requirement.strength,
                "source": requirement.source,
                "status": entry["status"],
                "tests": entry["tests"],
                "failures": entry["failures"],
            }
        )
    failed = any(r["status"] in ("fail", "error") for r in rows)
    return {"seed": config.getoption("oicp_seed"), "verdict": "fail" if failed else "pass", "requirements": rows}


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not config._oicp_results:  # type: ignore[attr-defined]
        return
    data = summary(config)
    write = terminalreporter.write_line
    terminalreporter.section("OICP requirements")
    for row in data["requirements"]:
        write(f"{row['status'].upper():5} {row['id']:22} {row['strength']:7} {row['title']}")
    write(f"verdict: {data['verdict'].upper()} (seed {data['seed']})")
    if path := config.getoption("oicp_summary"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(data, indent=2), encoding="utf-8")


def requirement(*ids: str) -> pytest.MarkDecorator:
    for rid in ids:
        assert rid in CPO, rid
    return pytest.mark.requirement(*ids)


__all__ = ["ConformanceWarning", "Requirement", "Verdict", "requirement"]
