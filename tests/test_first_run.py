"""A first run that cannot mislead: configuration caught before any test, verdicts that say what was judged,
reports that never mix runs, and the user's own pytest set-up kept out."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from conformance.reference.cpo import Config, ReferenceCpo
from conformance.sut.default import reference_declaration
from tests.helpers import ROOT, cli


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def reference() -> Iterator[tuple[str, int]]:
    """A clean reference CPO whose Hubject URL points at a free port (where the suite's fake hub will listen)."""
    hub_port = _port()
    cpo = ReferenceCpo(Config(hub_url=f"http://127.0.0.1:{hub_port}/api/oicp"))
    url = cpo.start()
    yield url, hub_port
    cpo.stop()


class _NotFound(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        self.send_response(404)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"not found")

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def not_found() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_the_declaration_init_writes_ends_incomplete_and_says_what_to_declare(
    tmp_path: Path, reference: tuple[str, int]
) -> None:
    url, hub_port = reference
    sut = tmp_path / "oicp-sut.toml"
    written = cli(
        "init", "-o", str(sut), "--base-url", url, "--operator-id", "DE*REF", "--evse-id",
        "DE*REF*E1001*1,DE*REF*E1001*2", "--hub-port", str(hub_port), "--defaults", stdin="",
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    done = cli("run", "--role", "cpo", "--sut", str(sut), "--reports", str(tmp_path / "r"), "--seed", "3", timeout=400)
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-2000:]
    assert "verdict: INCOMPLETE" in done.stdout and done.stdout.count("verdict:") == 1
    assert "declare [triggers.push_evse_data]" in done.stdout
    summary = json.loads((tmp_path / "r" / "cpo" / "summary.json").read_text())
    rows = {r["id"]: r for r in summary["requirements"]}
    assert summary["verdict"] == "incomplete"
    for rid in ("CPO-EVSE-DATA-01", "CPO-EVSE-STATUS-01", "CPO-AUTH-01", "CPO-OUT-04"):
        assert rows[rid]["status"] == "not judged" and rows[rid]["declare"], rows[rid]
    assert rows["CPO-REMOTE-START-01"]["status"] == "pass"  # what the suite could judge, it judged


def test_the_shipped_reference_declaration_passes(tmp_path: Path, reference: tuple[str, int]) -> None:
    url, hub_port = reference
    sut = tmp_path / "ref.toml"
    sut.write_text(reference_declaration(url, hub_port))
    done = cli("run", "--role", "cpo", "--sut", str(sut), "--reports", str(tmp_path / "r"), "--seed", "4", timeout=400)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "verdict: PASS" in done.stdout


def test_a_server_answering_404_to_everything_stops_the_run_before_any_test(tmp_path: Path, not_found: str) -> None:
    sut = tmp_path / "sut.toml"
    sut.write_text(
        f'role = "cpo"\nbase_url = "{not_found}"\noperator_id = "DE*ABC"\nevse_ids = ["DE*ABC*E1*1"]\n'
        f'[probes]\nsessions = "{not_found}/state/sessions"\n'
        f'[triggers.push_evse_status]\nurl = "{not_found}/admin/push-status"\nbody = \'{{"a": "{{action}}"}}\'\n'
    )
    done = cli("run", "--role", "cpo", "--sut", str(sut), "--reports", str(tmp_path / "r"), timeout=120)
    assert done.returncode == 2, done.stdout[-2000:]
    assert "PASSED" not in done.stdout and "cpo/test_" not in done.stdout  # no test ran
    for where in ("/charging/v21/providers/DE-DCB/authorize-remote/start", "/admin/push-status", "/state/sessions"):
        assert where in done.stderr
    assert "Traceback" not in done.stderr
    checked = cli("check-config", str(sut), timeout=120)
    assert checked.returncode == 2 and "answered HTTP 404" in checked.stdout
    assert "every declared URL" not in checked.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"operator_id": "ACME"}, "operator_id 'ACME' is no OICP OperatorID"),
        ({"evse_ids": ["E1"]}, "evse_ids[0] 'E1' is no OICP EvseID"),
        ({"evse_ids": ["FR*XYZ*E1*1"]}, "belongs to neither operator DE*ABC nor a declared sub-operator"),
        ({"provider_id": "DCB"}, "provider_id 'DCB' is no OICP ProviderID"),
        ({"hub": {"port": 70000}}, "hub.port must be a port number from 1 to 65535"),
        (
            {"triggers": {"end_session": {"url": "http://x/{sesion_id}"}}},
            "triggers.end_session uses unknown placeholder(s) {sesion_id}",
        ),
    ],
)
def test_declaration_mistakes_are_one_line(tmp_path: Path, change: dict, message: str) -> None:
    data = {"role": "cpo", "base_url": "http://127.0.0.1:1", "operator_id": "DE*ABC", "evse_ids": ["DE*ABC*E1*1"]}
    data.update(change)
    sut = tmp_path / "sut.toml"
    sut.write_text(_toml(data))
    done = cli("run", "--role", "cpo", "--sut", str(sut))
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def _toml(data: dict, prefix: str = "") -> str:
    plain = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    lines = [f"{k} = {json.dumps(v)}" for k, v in plain.items()]
    for name, table in tables.items():
        if any(isinstance(v, dict) for v in table.values()):
            lines.append(_toml(table, f"{prefix}{name}."))
        else:
            lines += [f"[{prefix}{name}]", *(f"{k} = {json.dumps(v)}" for k, v in table.items())]
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)
    return text


def test_the_hub_port_taken_is_a_configuration_problem(tmp_path: Path, reference: tuple[str, int]) -> None:
    url, _ = reference
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        sut = tmp_path / "sut.toml"
        sut.write_text(reference_declaration(url, taken.getsockname()[1]))
        done = cli("run", "--role", "cpo", "--sut", str(sut), "--reports", str(tmp_path / "r"), timeout=120)
    assert done.returncode == 2 and "is taken by another program" in done.stderr


def test_the_users_own_pytest_setup_stays_out(tmp_path: Path) -> None:
    """CPO teams run the tool from their backend's repository, with its pytest.ini, conftest.py and addopts."""
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --no-such-option -x\n")
    (tmp_path / "conftest.py").write_text("raise RuntimeError('the backend team conftest was imported')\n")
    env = {**os.environ, "PYTEST_ADDOPTS": "--also-no-such-option"}
    done = cli(
        "run", "--role", "cpo", "--requirement", "CPO-REMOTE-STOP-01", "--reports", "out", "--seed", "2",
        cwd=tmp_path, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (tmp_path / "out" / "cpo" / "summary.json").is_file()
    assert "cpo/test_inbound.py::test_remote_stop_of_running_session PASSED" in done.stdout


def test_reports_never_mix_runs_and_keep_what_the_user_wrote(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    (reports / "cpo" / "allure-results").mkdir(parents=True)
    stale = reports / "cpo" / "allure-results" / "old-result.json"
    stale.write_text("{}")
    args = ("run", "--role", "cpo", "--requirement", "CPO-REMOTE-STOP-01", "--reports", str(reports))
    done = cli(*args, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    assert not stale.exists() and (reports / "cpo" / "junit.xml").is_file()
    assert not [p for p in reports.iterdir() if p.name.startswith(".")]  # no work folder left behind
    mine = reports / "cpo" / "notes.txt"
    mine.write_text("my notes")
    refused = cli(*args, timeout=60)
    assert refused.returncode == 2 and "notes.txt" in refused.stderr and mine.read_text() == "my notes"
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    done = cli("run", "--role", "cpo", "--reports", str(a_file))
    assert done.returncode == 2 and "is a file, not a folder" in done.stderr and len(done.stderr.splitlines()) == 1


def test_summary_and_junit_say_what_the_run_was(tmp_path: Path) -> None:
    done = cli(
        "run", "--role", "cpo", "--defect", "drop-partner-session-id", "--requirement", "CPO-SESSION-04",
        "--requirement", "CPO-REMOTE-STOP-01", "--reports", str(tmp_path), "--seed", "9", timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]  # a PRACTICE failure warns
    summary = json.loads((tmp_path / "cpo" / "summary.json").read_text())
    for key in ("started", "duration_s", "tool_version", "release", "sut", "seed", "counts", "verdict"):
        assert summary[key] not in (None, ""), key
    assert summary["sut"]["base_url"].startswith("http://127.0.0.1:") and summary["seed"] == 9
    rows = {r["id"]: r for r in summary["requirements"]}
    assert rows["CPO-SESSION-04"]["status"] == "warn"
    suite = ET.parse(tmp_path / "cpo" / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    cases = {c.get("name", "").split()[0]: c for c in suite.iter("testcase")}
    assert set(cases) == set(rows)
    allure = [json.loads(p.read_text()) for p in (tmp_path / "cpo" / "allure-results").glob("*-result.json")]
    per_requirement = {r["name"].split()[0]: r for r in allure if r["fullName"].startswith("CPO.requirements.")}
    assert set(per_requirement) == set(rows)  # Allure's requirement tree agrees with the table
    assert per_requirement["CPO-SESSION-04"]["statusDetails"]["message"].startswith("warning")
    assert per_requirement["CPO-REMOTE-STOP-01"]["status"] == "passed"
    warned = cases["CPO-SESSION-04"].findtext("system-out") or ""
    assert "[CPO-SESSION-04] the CDR dropped the CPOPartnerSessionID" in warned and "Failure(" not in warned
    assert "--defect drop-partner-session-id" in warned  # the reproduce command repeats the defect


def test_an_interrupted_run_leaves_a_summary_that_says_so(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli.main", "run", "--role", "cpo", "--reports", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        # as from a terminal: a worker of pytest-xdist may ignore SIGINT, and a child inherits that (Python then
        # installs no KeyboardInterrupt handler, and Ctrl-C would never reach the run)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # wait until the first test has finished
        seen.append(line)
        if "PASSED" in line or "FAILED" in line:
            break
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == 130, "".join(seen)[-1500:] + "\n--- after the signal ---\n" + rest[-2500:]
    summary = json.loads((tmp_path / "cpo" / "summary.json").read_text())
    assert summary["verdict"] == "interrupted"


def test_a_run_that_reached_no_requirement_is_never_a_pass(tmp_path: Path) -> None:
    """A declaration the suite cannot load (here not TOML at all) leaves no requirement row: nothing was judged,
    so the run is incomplete, never the pass an empty table would otherwise add up to."""
    from conformance.runner import run_suite

    declaration = tmp_path / "sut.toml"
    declaration.write_text("this is not toml [", encoding="utf-8")
    outcome = run_suite(
        "emp", tmp_path / "r", sut=declaration, requirements=["EMP-OUT-02"], quiet=True, allure=False, fork=True
    )
    assert outcome.summary is not None and outcome.summary["requirements"] == []
    assert outcome.summary["verdict"] == "incomplete" and outcome.exit_code != 0
