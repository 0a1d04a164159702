"""The suites' pytest side: `--oicp-sut`, the SUT and fake-hub fixtures, requirement bookkeeping, reports.

`pytest --oicp-sut oicp-sut.toml --pyargs conformance.suites.cpo` runs the CPO suite against a SUT;
without `--oicp-sut` it starts the bundled reference CPO. `oicp-conformance run` wraps this.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shlex
import shutil
import socket
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from uuid import uuid4

import allure
import pytest

from conformance.checks.failure import Failure
from conformance.hub import Call, FakeHub, Partners
from conformance.oicp.ids import operator_key
from conformance.redact import activate, current, for_sut, scrub_tree
from conformance.reports.allure_requirements import LINK_TYPE, explain, requirement_url, severity
from conformance.suites.cases import IdSource
from conformance.suites.emp_requirements import EMP, EMP_MANDATORY, EMP_MODES
from conformance.suites.requirements import CPO, Requirement
from conformance.suites.verdicts import (
    FAIL,
    NOT_APPLICABLE,
    NOT_JUDGED,
    RANK,
    VERDICT_INCOMPLETE,
    WARN,
    ConfigurationProblem,
    NotJudged,
    Outcome,
    Verdict,
    combine,
    run_verdict,
)
from conformance.sut import Sut, load
from conformance.sut.client import HANDED, SENT

REQUIREMENTS: dict[str, Requirement] = {**CPO, **EMP}
DEFAULT_EXAMPLES = 10  # per inbound operation: a whole run stays quick; `--examples 200` digs deeper
VERDICT_KEY = pytest.StashKey[Verdict]()
EXCHANGES_KEY = pytest.StashKey[list[dict[str, Any]]]()
SUITES_DIR = Path(__file__).resolve().parent
ROLES = ("cpo", "emp")


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
        "--oicp-reference-tls",
        default=None,
        metavar="DIR",
        help="the bundled reference, the fake hub and the suite over mutual TLS with the certificates "
        "`oicp-conformance certs DIR` wrote",
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
    group.addoption(
        "--oicp-progress",
        action="store_true",
        help="instead of pytest's own per-test output, one line per finished test with its requirements and a "
        "running count (a live bar on a terminal unless CI is set)",
    )
    group.addoption("--oicp-via-cli", action="store_true", help=argparse.SUPPRESS)
    # Hypothesis properties over the inbound operations (cpo/test_properties.py, issue 12 point 6).
    group.addoption(
        "--oicp-examples",
        type=int,
        default=None,
        metavar="N",
        help=f"generated requests per inbound operation in the property tests (default: {DEFAULT_EXAMPLES})",
    )
    group.addoption(
        "--oicp-examples-db",
        default=None,
        metavar="DIR",
        help="Hypothesis example database: failing requests kept here are replayed first by the next run "
        "(default: none; `oicp-conformance run` keeps it under REPORTS/<role>/hypothesis)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): the requirements a suite test checks")
    config.addinivalue_line("markers", "operation(id): the catalogue operation a suite test exercises")
    if config.getoption("oicp_seed", None) is None:
        config.option.oicp_seed = random.SystemRandom().randrange(2**31)
    config._oicp_results = {}  # type: ignore[attr-defined]
    config._oicp_config_problems = []  # type: ignore[attr-defined]
    config._oicp_started = datetime.now(UTC)  # type: ignore[attr-defined]
    config._oicp_test_outcomes = {}  # type: ignore[attr-defined]
    if config.getoption("oicp_progress", False):
        # Our lines replace pytest's per-test output; pytest still prints failures and its count at the end.
        config.option.verbose = min(config.option.verbose, -1)
        config.pluginmanager.register(Progress(config), "oicp-progress")
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


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """A suite module's test IDs read `cpo/test_inbound.py::...` whatever pytest takes as its rootdir.

    pytest derives IDs from the rootdir, which it guesses from path-like arguments: `--oicp-sut FILE` (space
    form) or the folder it is started from would make JUnit names, `-k` reruns and Allure's history depend
    on where the declaration lives."""
    where = Path(module_path).resolve()
    if where.parent.parent != SUITES_DIR or where.parent.name not in ROLES:
        return None
    return pytest.Module.from_parent(parent, path=Path(module_path), nodeid=f"{where.parent.name}/{where.name}")


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
        activate(for_sut(declared))  # everything this run writes or prints masks its secrets
        yield declared
        return
    from conformance.suites.reference import start_reference, start_reference_emp

    hub_port = _free_port()
    shape = pytestconfig.getoption("oicp_reference_shape")
    defects = tuple(pytestconfig.getoption("oicp_reference_defect"))
    folder = pytestconfig.getoption("oicp_reference_tls")
    tls = Path(folder).resolve() if folder else None
    if pytestconfig.getoption("oicp_role") == "emp":
        mode = pytestconfig.getoption("oicp_mode")
        started = start_reference_emp(hub_port, mode=mode, defects=defects, shape=shape, tls=tls)
        rerun = f"oicp-conformance run --role emp --mode {mode}"
    else:
        started = start_reference(hub_port, shape=shape, defects=defects, tls=tls)
        rerun = "oicp-conformance run --role cpo"
    rerun += (f" --shape {shape}" if shape != "official" else "") + "".join(f" --defect {d}" for d in defects)
    rerun += f" --tls {shlex.quote(str(tls))}" if tls else ""
    reference = replace(started.sut, rerun=rerun, reference_command=started.command)
    pytestconfig._oicp_sut = reference  # type: ignore[attr-defined]
    activate(for_sut(reference))
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
        tls=sut.hub_tls,  # [hub] tls: HTTPS, the caller known by its client certificate (the SUT calls https://)
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
def _allure_tree(request: pytest.FixtureRequest) -> Iterator[None]:
    """Label a suite test role › operation › requirement in Allure, and keep what it sends the SUT."""
    node = request.node
    if node.get_closest_marker("operation") is None and node.get_closest_marker("requirement") is None:
        yield
        return
    role, operation, rids = _tree(node)
    allure.dynamic.parent_suite(role)
    allure.dynamic.suite(operation)
    allure.dynamic.sub_suite(", ".join(rids))
    allure.dynamic.epic(role)
    allure.dynamic.feature(operation)
    known = [REQUIREMENTS[rid] for rid in rids if rid in REQUIREMENTS]
    for requirement in known:
        allure.dynamic.story(f"{requirement.id} {requirement.title}")
    allure.dynamic.severity(allure.severity_level(severity([r.strength for r in known])))
    patterns = dict(getattr(request.config.option, "allure_link_pattern", None) or [])
    for rid in rids:
        allure.dynamic.tag(rid)
        allure.dynamic.link(requirement_url(rid, patterns), link_type=LINK_TYPE, name=rid)
    if request.config.pluginmanager.get_plugin("allure_listener") is None:
        yield  # no Allure results written: nothing to attach
        return
    exchanges: list[dict[str, Any]] = []
    node.stash[EXCHANGES_KEY] = exchanges
    with _recording(exchanges):
        yield


def _tree(item: pytest.Item) -> tuple[str, str, list[str]]:
    """Role ("CPO"), OICP operation ("AuthorizeRemoteStart") and requirement IDs of a suite test."""
    module = getattr(getattr(item, "module", None), "__name__", "")
    parts = module.split(".")
    role = parts[-2].upper() if len(parts) >= 2 else "OICP"
    op = item.get_closest_marker("operation")
    operation = op.args[0].split(".")[0] if op is not None and op.args else "(no operation)"
    req = item.get_closest_marker("requirement")
    return role, operation, list(req.args) if req else []


_WORDS = {
    "cdr": "CDR",
    "cdrs": "CDRs",
    "cpo": "CPO",
    "emp": "EMP",
    "evse": "EVSE",
    "evses": "EVSEs",
    "evco": "EVCO",
    "http": "HTTP",
    "id": "ID",
    "ids": "IDs",
    "pin": "PIN",
    "rfid": "RFID",
}


def human_title(item: pytest.Item) -> str:
    """What a suite test checks, in words: its docstring's first sentence, else its name spelled out."""
    function = getattr(item, "function", None)
    doc = (getattr(function, "__doc__", None) or "").strip()
    if doc:
        paragraph = " ".join(line.strip() for line in doc.split("\n\n")[0].splitlines())
        title = paragraph.split(". ")[0].strip().rstrip(".")
    else:
        name = getattr(item, "originalname", None) or item.name
        words = [_WORDS.get(w, w) for w in name.removeprefix("test_").split("_") if w]
        title = " ".join(words)
        title = title[:1].upper() + title[1:]
    callspec = getattr(item, "callspec", None)
    return f"{title} [{callspec.id}]" if callspec is not None else title


def _description(item: pytest.Item, rids: list[str], journal: list[str] | None = None) -> str:
    doc = (getattr(getattr(item, "function", None), "__doc__", None) or "").strip()
    judged = [explain(REQUIREMENTS[rid]) for rid in rids if rid in REQUIREMENTS]
    also = [explain(REQUIREMENTS[rid]) for rid in journal or [] if rid in REQUIREMENTS]
    parts = [
        doc,
        "Judges:\n" + "\n".join(judged) if judged else "",
        "Also judged on the SUT's calls to the hub during this test:\n" + "\n".join(also) if also else "",
        f"pytest: {item.nodeid}",
    ]
    return "\n\n".join(p for p in parts if p)


# --- what the suite sent the SUT, and what the hub saw -------------------------------------------------------

BODY_LIMIT = 20_000  # characters of one JSON body kept in an attachment; a 10 000-EVSE page is cut


def _capped(value: Any) -> Any:
    """A body as it is, or cut (with its size) when it would flood the attachment."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= BODY_LIMIT:
        return value
    return {"truncated": True, "characters": len(text), "start": text[:BODY_LIMIT]}


@contextmanager
def _recording(exchanges: list[dict[str, Any]]) -> Iterator[None]:
    """Record every request the suite sends the SUT and every trigger it fires, with the answers.

    The suites reach the SUT only through `steps.send` (inbound operations) and `steps.fire` (triggers);
    wrapping those two names for the test keeps the client and the steps as they are."""
    from conformance.suites import steps

    send, fire = steps.send, steps.fire

    def sending(sut: Sut, op: Any, case: Any, timeout: float | None = None) -> Any:
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        answer = send(sut, op, case, timeout)
        raw = case.raw is not None
        exchanges.append(
            {
                "at": at,
                "operation": getattr(op, "id", str(op)),
                "case": case.describe(),
                "request": {
                    "content_type": case.content_type,
                    "body": _capped(case.payload().decode("utf-8", "replace") if raw else case.body),
                },
                "answer": {
                    "status": answer.status,
                    "body": _capped(answer.body if answer.body is not None else answer.text),
                    "seconds": round(answer.elapsed, 3),
                    "error": answer.error,
                },
                "reproduce": answer.curl,
            }
        )
        return answer

    def firing(sut: Sut, name: str, **values: Any) -> Any:
        entry: dict[str, Any] = {
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "trigger": name,
            "values": {k: _capped(v) for k, v in values.items()},
        }
        exchanges.append(entry)
        try:
            fired = fire(sut, name, **values)
        except Exception as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            raise
        entry["answer"] = {"status": fired.status, "ok": fired.ok, "output": _capped(fired.output), "note": fired.note}
        return fired

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(steps, "send", sending)
        patch.setattr(steps, "fire", firing)
        yield


def _call_json(call: Call) -> dict[str, Any]:
    """One journal entry as plain JSON: the request, the hub's answer and its verdict on the call."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(call):
        value = getattr(call, f.name)
        if f.name in ("body", "response"):
            value = _capped(value)
        elif f.name == "violations":
            value = [str(v) for v in value]
        elif f.name == "at":
            value = datetime.fromtimestamp(value, UTC).isoformat(timespec="milliseconds")
        elif f.name == "duration":
            value = round(value, 4)
        if value not in (None, "", [], {}):
            out[f.name] = value
    return out


def _redact(text: str, sut: Sut | None) -> str:
    """Secrets of the declaration (header values read from the environment) as their `${VAR}`, never as such;
    PINs, credentials, private keys and declared fields masked (conformance.redact)."""
    for secret, shown in (sut.redacted if sut else {}).items():
        if secret:
            text = text.replace(secret, shown)
    return current().text(text)


def _hub_step(call: Call) -> None:
    """One Allure step per hub call: what was called, how the hub answered, and its verdict on the call."""
    from allure_commons import plugin_manager

    what = call.operation or f"{call.method} {call.path or call.url}"
    code = call.response.get("StatusCode", {}).get("Code") if isinstance(call.response, dict) else None
    answer = f"HTTP {call.status}" + (f" StatusCode {code}" if code else "")
    if call.direction == "out":
        title = f"#{call.seq} hub → SUT {what}: " + (answer if call.error is None else f"no answer ({call.error})")
    else:
        title = f"#{call.seq} SUT → hub {what}: {answer}" + (f" (scripted {call.fault})" if call.fault else "")
    findings = [str(v) for v in call.violations] + list(call.problems)
    uid = str(uuid4())
    plugin_manager.hook.start_step(uuid=uid, title=title, params={})
    failed = AssertionError("\n".join(findings)) if findings else None
    plugin_manager.hook.stop_step(
        uuid=uid, title=title, exc_type=type(failed) if failed else None, exc_val=failed, exc_tb=None
    )


def _allure_finish(item: pytest.Item) -> None:
    """At the end of a suite test: its human title and description, Allure's default tree path (titlePath)
    as role › operation › requirements, and what it exchanged with the SUT and the hub as JSON."""
    listener = item.config.pluginmanager.get_plugin("allure_listener")
    if listener is None:
        return
    role, operation, rids = _tree(item)
    allure.dynamic.title(human_title(item))
    found = item.stash.get(VERDICT_KEY, None)
    allure.dynamic.description(_description(item, rids, sorted(found.journal - set(rids)) if found else []))
    from allure_commons.model2 import TestResult

    result = listener.allure_logger.get_last_item(TestResult)
    if result is not None:  # set by allure at setup from the module path; no public API changes it
        result.titlePath = [role, operation, ", ".join(rids)]
    sut: Sut | None = getattr(item.config, "_oicp_sut", None)
    if found is not None:  # requirements the hub journal judged beyond the test's own: findable by tag and link
        patterns = dict(getattr(item.config.option, "allure_link_pattern", None) or [])
        for rid in sorted(found.journal - set(rids)):
            allure.dynamic.tag(rid)
            allure.dynamic.link(requirement_url(rid, patterns), link_type=LINK_TYPE, name=rid)
        if found.journal_notes:
            text = "\n".join(found.journal_notes)
            allure.attach(_redact(text, sut), name="hub calls not judged", attachment_type=allure.attachment_type.TEXT)
    sent = item.stash.get(EXCHANGES_KEY, None)
    if sent:
        text = json.dumps(current().json(sent), indent=2, ensure_ascii=False, default=str)
        name = f"requests to the SUT ({len(sent)})"
        allure.attach(_redact(text, sut), name=name, attachment_type=allure.attachment_type.JSON)
    hub = (getattr(item, "funcargs", None) or {}).get("hub")
    calls = hub.calls() if isinstance(hub, FakeHub) else []
    if calls:
        text = json.dumps(current().json([_call_json(c) for c in calls]), indent=2, ensure_ascii=False, default=str)
        name = f"hub journal ({len(calls)} call{'s' if len(calls) != 1 else ''})"
        allure.attach(_redact(text, sut), name=name, attachment_type=allure.attachment_type.JSON)
        for call in calls:
            _hub_step(call)


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
    if marker is not None and report.when == "teardown":
        _judge_late_calls(item, report)
        _allure_finish(item)
    if marker is None or report.when not in ("setup", "call"):
        return report
    if report.when == "setup" and report.passed:
        return report
    found: Verdict = item.stash.get(VERDICT_KEY, None) or Verdict(item, 0, REQUIREMENTS)
    item.stash[VERDICT_KEY] = found
    stopped = call.excinfo.value if call.excinfo and isinstance(call.excinfo.value, NotJudged) else None
    if stopped is None and report.skipped:  # a plain pytest.skip: not judged, with its reason
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        stopped = NotJudged(reason.removeprefix("Skipped: "))
    error = None
    if report.failed and not found.concluded:
        error = f"the check broke: {_last_line(report.longreprtext)}"
    if isinstance(stopped, ConfigurationProblem):
        item.config._oicp_config_problems.append(stopped.reason)  # type: ignore[attr-defined]
    _, from_journal = _judge_journal(item, found)
    results = item.config._oicp_results  # type: ignore[attr-defined]
    mine = found.outcomes(marker.args, error, stopped)
    item.config._oicp_test_outcomes[item.nodeid] = {rid: o.status for rid, o in mine.items()}  # type: ignore[attr-defined]
    recorded: dict[str, int] = {}
    for rid, outcome in mine.items():
        entry = results.setdefault(rid, {"outcomes": [], "tests": [], "failures": []})
        recorded[rid] = len(entry["outcomes"])
        entry["outcomes"].append(outcome)
        entry["tests"].append(item.name)
        if outcome.status in (FAIL, WARN):  # a failure whose requirement ended not judged is no evidence against it
            entry["failures"] += [f.__dict__ for f in found.failures if f.requirement == rid]
    item.stash[RECORDED_KEY] = recorded
    _allure_outcome(found, marker.args, report)
    _allure_journal_failures(found, from_journal)
    blocking = found.blocking()
    refused = found.refused_identity()
    if refused is not None and blocking and error is None:  # (a check that broke keeps its own report)
        # The hub refused this test's calls for the caller's identity: the test fails on that, not on what followed
        # from it (those requirements are not judged, see Verdict.outcomes).
        others = sorted({f.requirement for f in blocking} & set(found.not_performed()))
        after = f"\n\nnot judged in this test, the hub having performed none of it: {', '.join(others)}"
        report.outcome = "failed"
        report.longrepr = refused.render(found.seed) + (after if others else "")
    elif blocking and (report.skipped or report.passed):
        # A test that recorded a MUST failure (itself, or the journal-wide judgement of its hub calls) and then
        # could not go on or ended well has failed: pytest's own outcome (and exit code) must agree with the
        # requirement table.
        report.outcome = "failed"
        report.longrepr = "\n\n".join(f.render(found.seed) for f in blocking)
    elif late := [f for f in from_journal if f in blocking]:  # failed already: the journal's findings as well
        report.sections.append(("OICP hub journal", "\n\n".join(f.render(found.seed) for f in late)))
    return report


# --- the journal-wide judgement: every call the SUT made to the fake hub, whatever the test is about ---------

JOURNAL_SEEN_KEY = pytest.StashKey[int]()  # the last journal seq judged for this test
RECORDED_KEY = pytest.StashKey[dict[str, int]]()  # requirement -> index of this test's outcome in the results


def _judge_journal(item: pytest.Item, found: Verdict) -> tuple[set[str], list[Failure]]:
    """Judge the CPO's calls to the hub since this test's last judgement (see conformance.checks.journal):
    the requirements judged and the failures not recorded before. Nothing without calls to judge, so a test
    whose SUT never called the hub leaves these requirements unjudged."""
    hub = (getattr(item, "funcargs", None) or {}).get("hub")
    sut: Sut | None = getattr(item.config, "_oicp_sut", None)
    if not isinstance(hub, FakeHub) or sut is None or sut.role != "cpo":
        return set(), []
    calls = hub.calls(direction="in")
    seen = item.stash.get(JOURNAL_SEEN_KEY, 0)
    if not any(c.seq > seen for c in calls):
        return set(), []
    from conformance.checks.journal import RunMemory, judge_journal
    from conformance.suites.steps import rerun

    config = item.config
    memory = getattr(config, "_oicp_journal_memory", None) or RunMemory()
    config._oicp_journal_memory = memory  # type: ignore[attr-defined]
    with hub.state.lock:
        handed = HANDED | set(hub.state.sessions)
    seed = int(config.getoption("oicp_seed") or 0)
    judgement = judge_journal(
        sut, calls, reproduce=rerun(sut, seed, item.name), memory=memory, handed=handed, after=seen
    )
    item.stash[JOURNAL_SEEN_KEY] = max(c.seq for c in calls)
    judged = {rid for rid in judgement.judged if rid in REQUIREMENTS}
    failures = [f for f in judgement.failures if f.requirement in REQUIREMENTS]
    return judged, found.record_journal(judged, failures, judgement.notes)


def _allure_journal_failures(found: Verdict, new: list[Failure]) -> None:
    """The journal's blocking failures as readable attachments: the test's own failure message may not name them."""
    for failure in (f for f in new if f in found.blocking()):
        allure.attach(
            failure.render(found.seed),
            name=current().text(f"failure {failure.requirement}: {failure.title}"),
            attachment_type=allure.attachment_type.TEXT,
        )


def _judge_late_calls(item: pytest.Item, report: pytest.TestReport) -> None:
    """Calls that reached the hub after the test's own end (while its fixtures cleaned up: the CDRs of the
    sessions it stopped), judged like the rest and merged into this test's outcomes."""
    found = item.stash.get(VERDICT_KEY, None)
    if found is None:
        return
    judged, new = _judge_journal(item, found)
    if not judged:
        return
    results = item.config._oicp_results  # type: ignore[attr-defined]
    recorded = item.stash.get(RECORDED_KEY, {})
    shown = item.config._oicp_test_outcomes.setdefault(item.nodeid, {})  # type: ignore[attr-defined]
    for rid in sorted(judged):
        late = found.journal_outcome(rid)
        entry = results.setdefault(rid, {"outcomes": [], "tests": [], "failures": []})
        if rid in recorded:
            if RANK[late.status] > RANK[entry["outcomes"][recorded[rid]].status]:
                entry["outcomes"][recorded[rid]] = late
        else:
            recorded[rid] = len(entry["outcomes"])
            entry["outcomes"].append(late)
            entry["tests"].append(item.name)
        entry["failures"] += [f.__dict__ for f in new if f.requirement == rid]
        shown[rid] = entry["outcomes"][recorded[rid]].status
    item.stash[RECORDED_KEY] = recorded
    blocking = [f for f in new if f in found.blocking()]
    for failure in (f for f in new if f not in blocking):
        allure.attach(
            failure.render(found.seed),
            name=current().text(f"warning {failure.requirement}: {failure.title}"),
            attachment_type=allure.attachment_type.TEXT,
        )
    _allure_journal_failures(found, new)
    if blocking and not report.failed:
        report.outcome = "failed"
        report.longrepr = "calls the SUT made to the hub while the test cleaned up:\n\n" + "\n\n".join(
            f.render(found.seed) for f in blocking
        )


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip()[:400] if lines else "unknown error"


def _allure_outcome(found: Verdict, marked: tuple[str, ...], report: pytest.TestReport) -> None:
    """Warnings and not-judged requirements as readable attachments of the test in Allure."""
    for failure in found.failures:
        if failure not in found.blocking():
            allure.attach(
                failure.render(found.seed),
                name=current().text(f"warning {failure.requirement}: {failure.title}"),
                attachment_type=allure.attachment_type.TEXT,
            )
    for rid, outcome in found.unjudged.items():
        reason = current().text(outcome.reason)
        allure.attach(reason, name=f"{outcome.status}: {rid}", attachment_type=allure.attachment_type.TEXT)
    for rid, reason in sorted(found.not_performed().items()):  # what the test's failure message names, not judged
        if rid not in found.unjudged:
            text = current().text(reason)
            allure.attach(text, name=f"not judged: {rid}", attachment_type=allure.attachment_type.TEXT)


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
        # no requirement row at all: the suite never got as far as its requirements (no declaration it could
        # load, a collection error): nothing was judged, which is never a pass
        "verdict": run_verdict(rows, problems, interrupted) if rows or interrupted else VERDICT_INCOMPLETE,
        "counts": counts,
        "configuration_problems": problems,
        "inbound": {
            "requests": len(SENT),
            "opened_sessions": [sid for op, sid in SENT if sid and ("Start" in op)],  # RemoteStart, ReservationStart
        },
        "properties": property_totals(getattr(config, "_oicp_properties", [])),
        "requirements": rows,
    }


def property_totals(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Cases the property tests sent and how fast (None when none ran), with each operation's own numbers."""
    if not runs:
        return None
    cases = sum(r["cases"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    return {
        "examples": runs[0]["examples"],
        "cases": cases,
        "seconds": round(seconds, 2),
        "cases_per_second": round(cases / seconds, 1) if seconds > 0 else None,
        "skipped": sum(r.get("skipped", 0) for r in runs),  # not sent: an operation's time budget ran out
        "operations": runs,
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


@pytest.hookimpl(trylast=True)  # after pytest's own tear-down of session fixtures (and Allure's last files)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the summary even for an interrupted run, whose verdict then says so; mask every secret in the Allure
    results (what Allure itself wrote too: failure texts, captured output, parameters)."""
    config = session.config
    if folder := getattr(config.option, "allure_report_dir", None):
        scrub_tree(Path(folder), current())
    if exitstatus == pytest.ExitCode.INTERRUPTED or session.shouldstop:
        config._oicp_interrupted = True  # type: ignore[attr-defined]
    if not config._oicp_results and not getattr(config, "_oicp_interrupted", False):  # type: ignore[attr-defined]
        return
    if path := config.getoption("oicp_summary"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(current().json(summary(config)), indent=2), encoding="utf-8")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not config._oicp_results or config.getoption("oicp_via_cli"):  # type: ignore[attr-defined]
        return  # `oicp-conformance run` prints the table itself, once
    from conformance.cli.run import properties_line
    from conformance.reports import render

    terminalreporter.section("OICP requirements")
    found = current().json(summary(config))
    for line in render(found).splitlines():
        terminalreporter.write_line(line)
    if line := properties_line(found):
        terminalreporter.write_line(line)


_WORST_FIRST = ("FAILED", "ERROR", "XPASS", "SKIPPED", "XFAIL", "PASSED")
_WORD_MARKUP = {"PASSED": {"green": True}, "FAILED": {"red": True}, "ERROR": {"red": True}}


def live_output(isatty: bool, environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether the progress may redraw a bar: only on a terminal, never under CI (logs keep every byte)."""
    return isatty and not environ.get("CI") and environ.get("TERM") != "dumb"


def progress_line(done: int, total: int, nodeid: str, word: str, outcomes: dict[str, str], seconds: float) -> str:
    """`[ 6/21] cpo/test_x.py::test_y PASSED  CPO-STATE-02 warn; CPO-ACK-04 pass  (4.4 s)`: what finished,
    and what it found for each requirement it judges, worst first (the nodeid is what pytest's summary names)."""
    return "".join(_progress_parts(done, total, nodeid, word, outcomes, seconds))


def _progress_parts(
    done: int, total: int, nodeid: str, word: str, outcomes: dict[str, str], seconds: float
) -> tuple[str, str, str]:
    """The line before the outcome word, the word, and the rest: a terminal colours only the word."""
    count = f"[{done:>{len(str(total))}}/{total}]" if total else f"[{done}]"
    grouped: dict[str, list[str]] = {}
    for rid, status in outcomes.items():
        grouped.setdefault(status, []).append(rid)
    worst_first = sorted(grouped.items(), key=lambda kv: -RANK.get(kv[0], 0))
    judged = "; ".join(f"{', '.join(rids)} {status}" for status, rids in worst_first)
    return f"{count} {nodeid} ", word, (f"  {judged}" if judged else "") + f"  ({seconds:.1f} s)"


def progress_bar(done: int, total: int, running: str, elapsed: float, width: int) -> str:
    """One terminal line: how far the run is, for how long it has run, and which test runs now."""
    cells = 20
    filled = cells * done // total if total else 0
    minutes, seconds = divmod(int(elapsed), 60)
    line = f"[{'#' * filled}{'.' * (cells - filled)}] {done}/{total} {minutes}:{seconds:02d}  {running}"
    return line[: max(width - 1, 10)]


class Progress:
    """`--oicp-progress`: one line per finished test with its requirements' outcomes and a running count,
    under a live bar on a terminal; plain lines (no escape codes) under CI or into a pipe.

    pytest's own per-test letters and words are blanked while it reports a test, so its summary (failures,
    `-ra` reasons, the final count) stays as pytest prints it."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.total = 0
        self.done = 0
        self.started = time.monotonic()
        self.reporting = False
        self.words: dict[str, list[str]] = {}
        self.seconds: dict[str, float] = {}
        self.bar_shown = False

    @property
    def terminal(self) -> Any:
        return self.config.pluginmanager.get_plugin("terminalreporter")

    @property
    def live(self) -> bool:
        terminal = self.terminal
        return terminal is not None and live_output(bool(terminal.isatty))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> Generator[None, Any, Any]:
        self.reporting = True
        try:
            return (yield)
        finally:
            self.reporting = False
            self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Generator[None, Any, Any]:
        category, letter, word = yield
        if not self.reporting:  # the summary asks too (`-ra` lines): those keep pytest's words
            return category, letter, word
        text = word[0] if isinstance(word, tuple) else word
        if text:
            self.words.setdefault(report.nodeid, []).append(text)
        return category, "", ""

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        if self.live:
            self._bar(nodeid)

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        terminal = self.terminal
        if terminal is None:
            return
        self.done += 1
        words = self.words.pop(nodeid, [])
        word = next((w for w in _WORST_FIRST if w in words), words[-1] if words else "PASSED")
        outcomes = self.config._oicp_test_outcomes.get(nodeid, {})  # type: ignore[attr-defined]
        head, word, tail = _progress_parts(self.done, self.total, nodeid, word, outcomes, self.seconds.pop(nodeid, 0.0))
        if not self.live:
            terminal.write_line(head + word + tail)
            terminal.flush()
            return
        self._erase()
        terminal.write(head)
        terminal.write(word, **_WORD_MARKUP.get(word, {"yellow": True}))
        terminal.write(tail + "\n")
        terminal.flush()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.bar_shown:  # pytest's summary starts on a clean line
            self._erase()
            self.terminal.flush()

    def _bar(self, running: str) -> None:
        width = shutil.get_terminal_size((80, 24)).columns
        self._erase()
        self.terminal.write(progress_bar(self.done, self.total, running, time.monotonic() - self.started, width))
        self.terminal.flush()
        self.bar_shown = True

    def _erase(self) -> None:
        if self.bar_shown:
            width = shutil.get_terminal_size((80, 24)).columns
            self.terminal.write("\r" + " " * (width - 1) + "\r")
            self.bar_shown = False


def requirement(*ids: str) -> pytest.MarkDecorator:
    for rid in ids:
        assert rid in REQUIREMENTS, rid
    return pytest.mark.requirement(*ids)


__all__ = ["NotJudged", "Requirement", "Verdict", "requirement"]
