"""Allure reads as the user thinks (role › operation › requirement), and test IDs never depend on where the
declaration lives: JUnit names, `-k` reruns and Allure's history stay the same wherever a team keeps it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from conformance.checks.journal import JOURNAL_REQUIREMENTS
from conformance.checks.rules import RULE_REQUIREMENTS
from conformance.reference.cpo import Config, ReferenceCpo
from conformance.runner import run_suite
from conformance.suites.plugin import human_title
from conformance.sut.default import reference_declaration
from tests.helpers import ROOT


def _results(folder: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(per-test results, per-requirement results) of an allure-results folder."""
    found = [json.loads(p.read_text()) for p in folder.glob("*-result.json")]
    per_requirement = [r for r in found if ".requirements." in r["fullName"]]
    return [r for r in found if r not in per_requirement], per_requirement


def _labels(result: dict[str, Any], name: str) -> list[str]:
    return [label["value"] for label in result["labels"] if label["name"] == name]


def test_cpo_results_read_role_operation_requirement(tmp_path: Path) -> None:
    outcome = run_suite(
        "cpo",
        tmp_path,
        seed=4,
        requirements=["CPO-EVSE-STATUS-01", "CPO-REMOTE-STOP-01"],
        quiet=True,
        allure=True,
        fork=True,
    )
    assert outcome.summary is not None and outcome.summary["verdict"] == "pass", outcome.output[-3000:]
    results = tmp_path / "cpo" / "allure-results"
    tests, per_requirement = _results(results)
    by_name = {r["name"]: r for r in tests}
    # the tests marked with these requirements (variant and property tests judge them too)
    assert {"Status push", "Remote stop of running session", "Remote stop of unknown session"} <= set(by_name)

    push = by_name["Status push"]
    assert _labels(push, "parentSuite") == ["CPO"] and _labels(push, "epic") == ["CPO"]
    assert _labels(push, "suite") == ["PushEvseStatus"] and _labels(push, "feature") == ["PushEvseStatus"]
    marked = ["CPO-EVSE-STATUS-01", "CPO-OUT-01", "CPO-OUT-02", "CPO-OUT-03"]
    assert _labels(push, "subSuite") == [", ".join(marked)]
    assert [s.split()[0] for s in _labels(push, "story")] == marked  # ID and title
    assert _labels(push, "severity") == ["critical"]  # a MUST among them
    assert push["titlePath"] == ["CPO", "PushEvseStatus", ", ".join(marked)]  # not the module's path
    links = [(link["type"], link["name"]) for link in push["links"]]
    assert links[: len(marked)] == [("requirement", rid) for rid in marked]
    assert {name for _, name in links[len(marked) :]} <= JOURNAL_REQUIREMENTS  # judged on its journal too (UTF-8)
    assert "CPO-EVSE-STATUS-01 (MUST)" in push["description"] and "OperatorEvseStatus" in push["description"]
    # one step per hub call, with the hub's verdict; the journal and what the suite sent as JSON
    assert push["steps"] and all(s["name"].startswith("#") and "PushEvseStatus.hub" in s["name"] for s in push["steps"])
    assert all(s["status"] == "passed" for s in push["steps"])
    attachments = {a["name"].split(" (")[0]: results / a["source"] for a in push["attachments"]}
    journal = json.loads(attachments["hub journal"].read_text())
    assert journal[0]["operation"] == "PushEvseStatus.hub" and journal[0]["body"]["OperatorEvseStatus"]
    sent = json.loads(attachments["requests to the SUT"].read_text())
    assert sent[0]["trigger"] == "push_evse_status" and sent[0]["answer"]["status"] == 200

    stop = by_name["Remote stop of running session"]
    assert (_labels(stop, "suite"), _labels(stop, "subSuite")) == (["AuthorizeRemoteStop"], ["CPO-REMOTE-STOP-01"])
    attachments = {a["name"].split(" (")[0]: results / a["source"] for a in stop["attachments"]}
    sent = json.loads(attachments["requests to the SUT"].read_text())
    assert [s["operation"] for s in sent] == ["AuthorizeRemoteStart.cpo", "AuthorizeRemoteStop.cpo"]
    assert sent[1]["answer"]["body"]["Result"] is True and sent[1]["reproduce"].count("curl") == 1

    # the per-requirement results sit under the same role, in the suite "Requirements": the tests' own, and what
    # the journal-wide judgement judged on the SUT's hub calls (the CDR after a RemoteStop)
    named = {r["name"].split()[0] for r in per_requirement}
    own = {rid for r in tests for rid in _labels(r, "subSuite")[0].split(", ")}
    journal = JOURNAL_REQUIREMENTS | set(RULE_REQUIREMENTS)
    assert {*marked, "CPO-REMOTE-STOP-01"} <= own <= named and named - own <= journal
    assert all(set(_labels(r, "tag")) <= own | journal for r in tests)  # journal-judged ones tagged on the test
    for result in per_requirement:
        assert _labels(result, "parentSuite") == ["CPO"] and _labels(result, "suite") == ["Requirements"]
        assert result["titlePath"] == ["CPO", "Requirements", _labels(result, "subSuite")[0]]
        assert result["links"][0]["name"] == result["name"].split()[0]
    assert {_labels(r, "severity")[0] for r in per_requirement} == {"critical", "minor"}  # MUST and PRACTICE


def test_emp_results_sit_under_the_emp_role(tmp_path: Path) -> None:
    outcome = run_suite("emp", tmp_path, seed=4, requirements=["EMP-IN-CDR-03"], quiet=True, allure=True, fork=True)
    assert outcome.summary is not None, outcome.output[-3000:]
    tests, per_requirement = _results(tmp_path / "emp" / "allure-results")
    assert [r["name"] for r in tests] == ["CDR of an unknown session is refused"]
    assert tests[0]["titlePath"] == ["EMP", "ChargeDetailRecord", "EMP-IN-CDR-03"]
    assert [_labels(r, "parentSuite") for r in tests + per_requirement] == [["EMP"], ["EMP"]]


def test_a_test_title_is_its_docstring_or_its_name_in_words() -> None:
    class Item:
        name = originalname = "test_cdr_of_an_unknown_evse_id_is_refused"
        function = None

    assert human_title(Item()) == "CDR of an unknown EVSE ID is refused"  # type: ignore[arg-type]

    def checked() -> None:
        """Pushes of one operation wait for the previous answer: the hub
        refuses overlapping ones. More words that stay in the description.

        And more."""

    Item.function = checked  # type: ignore[assignment]
    expected = "Pushes of one operation wait for the previous answer: the hub refuses overlapping ones"
    assert human_title(Item()) == expected  # type: ignore[arg-type]


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def reference(tmp_path: Path) -> Iterator[str]:
    """The declaration of a running reference CPO (its text, to copy into any folder)."""
    hub_port = _port()
    cpo = ReferenceCpo(Config(hub_url=f"http://127.0.0.1:{hub_port}/api/oicp"))
    url = cpo.start()
    yield reference_declaration(url, hub_port)
    cpo.stop()


def _plain_pytest(declaration: Path, cwd: Path, out: Path) -> ET.Element:
    """The suite under plain pytest, the declaration given in the space form pytest takes for a path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's suite and plugin, wherever the child starts
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "--pyargs", "conformance.suites.cpo", "--noconftest",
            "-p", "no:cacheprovider", "--oicp-sut", str(declaration), "--oicp-requirement", "CPO-REMOTE-STOP-01",
            f"--junitxml={out / 'junit.xml'}", f"--alluredir={out / 'allure'}",
        ],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return ET.parse(out / "junit.xml").getroot()


def test_test_ids_do_not_depend_on_where_the_declaration_lives(tmp_path: Path, reference: str) -> None:
    """pytest guesses its rootdir from the folder it starts in and from path-like arguments (the declaration
    in `--oicp-sut FILE`): the same test used to get other IDs (`test_inbound.py::...`, or the package's path
    from wherever the rootdir landed, `h/orig/conformance/suites/cpo/test_inbound.py::...`)."""
    ids = []
    for cwd, folder in ((ROOT, tmp_path / "a"), (tmp_path, tmp_path / "b" / "deeper")):
        folder.mkdir(parents=True)
        (folder / "oicp-sut.toml").write_text(reference)
        junit = _plain_pytest(folder / "oicp-sut.toml", cwd, folder)
        cases = sorted((c.get("classname"), c.get("name")) for c in junit.iter("testcase"))
        tests, _ = _results(folder / "allure")
        ids.append((cases, sorted(r["fullName"] for r in tests)))
    assert ids[0] == ids[1]
    assert {
        ("cpo.test_inbound", "test_remote_stop_of_running_session"),
        ("cpo.test_inbound", "test_remote_stop_of_unknown_session"),
    } <= set(ids[0][0])  # the IDs `oicp-conformance run` gives: cpo/test_inbound.py::...
    assert all(module.startswith("cpo.test_") for module, _ in ids[0][0])
