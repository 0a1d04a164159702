"""The CPO suite judged by the reference CPO: the clean one passes every check, each planted defect is caught
by the check named for it, and a SUT that is down, talks garbage or hangs ends the run cleanly."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conformance.runner import run_suite
from conformance.suites.requirements import CPO
from tests.helpers import cli


def test_state_probe_sees_a_second_cdr_record(tmp_path: Path) -> None:
    """CPO-STATE-02 has no defect of its own: the changed CDR after a lost acknowledgement shows in the probe."""
    outcome = run_suite(
        "cpo",
        tmp_path,
        seed=3,
        defects=["new-cdr-after-lost-ack"],
        requirements=["CPO-STATE-02"],
        quiet=True,
        allure=False,
    )
    rows = {r["id"]: r["status"] for r in outcome.summary["requirements"]}
    assert rows["CPO-STATE-02"] == "warn", outcome.output[-2000:]  # PRACTICE: a warning


def test_failure_output_names_requirement_seed_and_reproduction(tmp_path: Path) -> None:
    done = cli(
        "run",
        "--role",
        "cpo",
        "--defect",
        "own-session-id-in-cdr",
        "--requirement",
        "CPO-SESSION-01",
        "--seed",
        "42",
        "--reports",
        str(tmp_path),
        timeout=300,
    )
    assert done.returncode == 1, done.stdout[-2000:]
    assert "[CPO-SESSION-01] the CDR carries SessionID" in done.stdout
    assert "seed: 42" in done.stdout
    assert "oicp-conformance run --role cpo --defect own-session-id-in-cdr --seed 42 -k" in done.stdout
    assert "verdict: FAIL" in done.stdout and done.stdout.count("verdict:") == 1


def _declaration(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "sut.toml"
    path.write_text(
        f'role = "cpo"\nbase_url = "{base_url}"\noperator_id = "DE*ABC"\nevse_ids = ["DE*ABC*E1"]\n'
        "timeout = 2.0\n[hub]\nport = 0\n[outbound]\nretry_window = 2.0\n"
    )
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_sut_that_is_down_exits_2(tmp_path: Path) -> None:
    done = cli(
        "run",
        "--role",
        "cpo",
        "--sut",
        str(_declaration(tmp_path, f"http://127.0.0.1:{_free_port()}")),
        "--reports",
        str(tmp_path / "r"),
        timeout=60,
    )
    assert done.returncode == 2 and "unreachable: ConnectError" in done.stderr
    assert "/charging/v21/providers/DE-DCB/authorize-remote/start" in done.stderr  # names each URL
    assert "Traceback" not in done.stderr


@pytest.fixture
def hanging_server() -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # accepts connections, never answers
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_sut_that_hangs_exits_2_in_bounded_time(tmp_path: Path, hanging_server: str) -> None:
    done = cli(
        "run",
        "--role",
        "cpo",
        "--sut",
        str(_declaration(tmp_path, hanging_server)),
        "--reports",
        str(tmp_path / "r"),
        timeout=60,
    )
    assert done.returncode == 2 and "unreachable: ReadTimeout" in done.stderr


class _Garbage(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<html>garbage</html>")

    def log_message(self, *args: object) -> None:
        pass


def test_sut_that_answers_garbage_fails_clearly(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = cli(
            "run",
            "--role",
            "cpo",
            "--sut",
            str(_declaration(tmp_path, f"http://127.0.0.1:{server.server_port}")),
            "--reports",
            str(tmp_path / "r"),
            "--requirement",
            "CPO-REMOTE-START-01",
            timeout=120,
        )
    finally:
        server.shutdown()
    assert done.returncode == 1, done.stdout[-2000:]
    assert "[CPO-REMOTE-START-01] the RemoteStart answer is no valid acknowledgement" in done.stdout
    assert "HTTP 200 without a JSON acknowledgement: <html>garbage</html>" in done.stdout


def test_run_rejects_bad_arguments(tmp_path: Path) -> None:
    other = cli("run", "--role", "csms")
    assert other.returncode == 2 and "invalid choice: 'csms'" in other.stderr
    mode = cli("run", "--role", "cpo", "--mode", "offline")
    assert mode.returncode == 2 and "--mode is an EMP's" in mode.stderr
    bad = cli("run", "--role", "cpo", "--defect", "nope")
    assert bad.returncode == 2 and "unknown defect(s) ['nope']" in bad.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text('role = "cpo"\ncolour = 1\n')
    done = cli("run", "--role", "cpo", "--sut", str(broken))
    assert done.returncode == 2 and "unknown key 'colour'" in done.stderr


def test_every_requirement_is_covered_by_a_check_and_listed() -> None:
    from conformance.cli.requirements import coverage

    covered = coverage("conformance.suites.cpo")
    assert set(CPO) <= set(covered), sorted(set(CPO) - set(covered))
    done = cli("requirements", "--role", "cpo", "--format", "json")
    rows = json.loads(done.stdout)
    assert {r["id"] for r in rows} == set(CPO) and all(r["checks"] and r["source"] for r in rows)
    assert next(r for r in rows if r["id"] == "CPO-SESSION-04")["strength"] == "PRACTICE"
