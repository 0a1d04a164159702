"""The hostile-SUT matrix: every way a broken SUT can answer ends in one clear failure within a stated bound.

Each case runs a purpose-built misbehaving server on loopback (tests/hostile_servers.py) and calls it the way the
suite does (`conformance.sut.client.send`, the preflight, the fake hub's `PartnerClient`): the answer names the
problem, carries a reproduce command, and comes within BOUND seconds of a declaration with `timeout = 2`.
Two end-to-end runs cover what only the command shows: an unreachable SUT exits 2 naming its URL, and
`run --deadline` cuts a run whose SUT hangs, saying so (exit 4).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance import runner
from conformance.catalog import load_release
from conformance.cli.main import main
from conformance.hub.partners import PartnerClient
from conformance.runner import run_suite
from conformance.strategies import Case
from conformance.suites.steps import ack_problems
from conformance.sut import load
from conformance.sut.client import Answer, send
from conformance.sut.declaration import Sut
from conformance.sut.preflight import problems
from tests.hostile_servers import ACK, BEHAVIOURS, HUGE, Certificates, Connection, Hostile, refused_url

TIMEOUT = 2.0  # the declaration's `timeout`: the total deadline of one call
# The stated bound of one call is its timeout; the margins are for `.ci/run`'s 20 workers on two cores.
BOUND = TIMEOUT + 3.0  # a case that waits (hang, drip) ends at the deadline, not when the server gives up
FAST = TIMEOUT + 1.0  # a case that needs no waiting (refused, TLS, a bad body); its words show no deadline ended it
OPERATION = load_release("2.3").operation("AuthorizeRemoteStart.cpo")


def _start_case() -> Case:
    body = {
        "ProviderID": "DE-DCB",
        "EvseID": "DE*ABC*E100*1",
        "SessionID": "b2688855-7f00-0002-6d8e-48d883f6abb6",
        "Identification": {"RemoteIdentification": {"EvcoID": "DE-DCB-C12345678-X"}},
    }
    return Case(
        "eRoamingAuthorizeRemoteStart", "2.3", body, {"providerID": "DE-DCB"}, operation="AuthorizeRemoteStart.cpo"
    )


def _declaration(folder: Path, url: str, ca: Path | None = None, extra: str = "") -> Path:
    path = folder / "oicp-sut.toml"
    tls = f'\n[tls]\nca_file = "{ca}"\n' if ca else ""
    path.write_text(
        f'name = "hostile"\nrole = "cpo"\nrelease = "2.3"\nbase_url = "{url}"\noperator_id = "DE*ABC"\n'
        f'evse_ids = ["DE*ABC*E100*1"]\nprovider_id = "DE-DCB"\ntimeout = {TIMEOUT}\n{extra}{tls}',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Certificates, Path]]:
    made = Certificates()
    ca = tmp_path_factory.mktemp("ca") / "ca.pem"
    made.ca.cert_pem.write_to_path(str(ca))
    yield made, ca


def _sut(tmp_path: Path, url: str, ca: Path | None = None) -> Sut:
    return load(_declaration(tmp_path, url, ca))


def _serve(behaviour: str, certs: Certificates | None = None, tls: str | None = None) -> Hostile:
    return Hostile(BEHAVIOURS[behaviour], certs.server(tls) if certs and tls else None)


def _stream_huge(conn: Connection) -> None:
    """10 MB with no Content-Length (the end is the connection's): only reading tells the size."""
    conn.read_request()
    conn.sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
    block, sent = b"x" * 65536, 0
    while sent < HUGE and not conn.stopping.is_set():
        conn.sock.sendall(block)
        sent += len(block)


# name: (behaviour, TLS case of the server (None: plain HTTP), URL scheme, what the answer must say, bound)
MATRIX: dict[str, tuple[str | None, str | None, str, tuple[str, ...], float]] = {
    "connection refused": (None, None, "http", ("ConnectError", "connection refused", "nothing listens"), FAST),
    "accepts, never answers": (
        "hang",
        None,
        "http",
        ("ReadTimeout", "within 2 s", "deadline of the whole call"),
        BOUND,
    ),
    "one byte a second": ("drip", None, "http", ("ReadTimeout", "within 2 s", "deadline of the whole call"), BOUND),
    "10 MB body": ("huge", None, "http", ("answer too large", f"{HUGE} bytes", "not read to the end"), FAST),
    "10 MB body, no length": ("huge-stream", None, "http", ("answer too large", "over the 1 MB"), FAST),
    "invalid JSON": ("invalid-json", None, "http", ("without a JSON acknowledgement", '{"Result": true'), FAST),
    "another message": ("other-message", None, "http", ("an eRoamingPushEvseData, not", "'Result' is missing"), FAST),
    "text/html": ("html", None, "http", ("without a JSON acknowledgement", "<html>"), FAST),
    "redirect loop": ("redirect-loop", None, "http", ("HTTP 302 redirect to /", "not followed"), FAST),
    "HTTP 200, empty body": ("empty", None, "http", ("HTTP 200 without a JSON acknowledgement", "empty body"), FAST),
    "TLS handshake failure": ("garbage", None, "https", ("TLS handshake", "does not speak TLS"), FAST),
    "certificate for another host": ("ack", "other-host", "https", ("TLS", "is for another host"), FAST),
    "expired certificate": ("ack", "expired", "https", ("TLS", "has expired"), FAST),
    "certificate of an unknown CA": ("ack", "unknown-ca", "https", ("TLS", "not signed by a trusted CA"), FAST),
    "client certificate required": ("ack", "client-cert", "https", ("TLS", "requires a client certificate"), FAST),
}


def _problem(answer: Answer) -> str:
    """What every acknowledgement check of the suite reports for this answer (empty: it would pass)."""
    return "\n".join(ack_problems(answer, "2.3"))


@pytest.mark.parametrize("name", list(MATRIX))
def test_each_hostile_sut_ends_in_one_clear_failure_within_its_bound(
    name: str, tmp_path: Path, certs: tuple[Certificates, Path]
) -> None:
    behaviour, tls, scheme, said, bound = MATRIX[name]
    made, ca = certs
    server = None
    if behaviour is None:
        url = refused_url()
    elif behaviour == "huge-stream":
        server = Hostile(_stream_huge)
    else:
        server = _serve(behaviour, made, tls)
    try:
        url = server.url.replace("http:", f"{scheme}:") if server else url
        sut = _sut(tmp_path, url, ca if scheme == "https" else None)
        started = time.monotonic()
        answer = send(sut, OPERATION, _start_case())
        took = time.monotonic() - started
    finally:
        if server:
            server.stop()
    problem = _problem(answer)
    assert took < bound, f"{name}: {took:.1f} s (bound {bound} s): {problem}"
    if bound == BOUND:  # it was the deadline that ended it, not the server
        assert took >= TIMEOUT - 0.05, f"{name}: {took:.2f} s"
    assert problem, f"{name}: the answer would pass as an acknowledgement: {answer}"
    for words in said:
        assert words in problem, f"{name}: {words!r} not in {problem!r}"
    assert url.split("://")[1] in answer.curl and answer.curl.startswith("curl "), answer.curl
    if answer.status is None:  # no answer: the checks file it under "no answer", the URL in the words
        assert answer.error and url.split("://")[1] in answer.error, answer.error
    if scheme == "https":
        assert "ConnectError" in answer.error or "ReadError" in answer.error, answer.error


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_sound_sut_passes_the_same_way(scheme: str, tmp_path: Path, certs: tuple[Certificates, Path]) -> None:
    """The other way round: a valid acknowledgement, over HTTP and over TLS with a certificate the suite trusts,
    passes every part of the judgement the matrix fails (no false failure from the bounds or the TLS naming)."""
    made, ca = certs
    server = _serve("ack", made, "ok" if scheme == "https" else None)
    try:
        answer = send(_sut(tmp_path, server.url, ca if scheme == "https" else None), OPERATION, _start_case())
    finally:
        server.stop()
    assert (answer.status, answer.body, answer.error, _problem(answer)) == (200, ACK, None, "")


def test_the_drip_server_defeats_a_per_read_timeout() -> None:
    """Why the deadline is total: a plain httpx call with timeout=2 to the one-byte-a-second server is still waiting
    after twice its timeout (the matrix's drip case ends in under BOUND with the same timeout)."""
    server = _serve("drip")
    outcome: list[Any] = []

    def call() -> None:
        try:
            outcome.append(httpx.post(server.url, content=b"{}", timeout=TIMEOUT))
        except httpx.HTTPError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(2 * TIMEOUT)
    still_waiting = worker.is_alive()
    server.stop()  # ends the connection: the call returns with an error
    worker.join(5)
    assert still_waiting, f"the plain call ended within {2 * TIMEOUT} s: {outcome}"


@pytest.mark.parametrize("behaviour", ["hang", "drip", "huge"])
def test_the_fake_hubs_calls_to_a_partner_are_bounded_too(behaviour: str) -> None:
    server = _serve(behaviour)
    try:
        client = PartnerClient(server.url, timeout=TIMEOUT)
        started = time.monotonic()
        exchange = client.call("AuthorizeRemoteStart.cpo", _start_case().body, {"providerID": "DE-DCB"})
        took = time.monotonic() - started
    finally:
        server.stop()
    assert took < (FAST if behaviour == "huge" else BOUND), took
    assert not exchange.ok and exchange.curl.startswith("curl ")
    expected = "answer too large" if behaviour == "huge" else "deadline of the whole call"
    assert any(expected in p for p in exchange.problems), exchange.problems
    assert exchange.call is not None and exchange.call in client.journal.calls()


def test_preflight_names_a_redirect_and_an_unreachable_sut(tmp_path: Path) -> None:
    """Before any test: a redirecting base_url (http -> https, say) and a refused one are configuration problems."""
    server = _serve("redirect-loop")
    try:
        found = problems(_sut(tmp_path, server.url))
    finally:
        server.stop()
    inbound = [line for line in found if line.startswith("inbound ")]
    assert inbound and all("redirect to /" in line and "declare the URL" in line for line in inbound), found
    found = problems(_sut(tmp_path, refused_url()))
    assert found and all("unreachable" in line and "connection refused" in line for line in found), found
    server = _serve("ack")
    try:
        assert problems(_sut(tmp_path, server.url)) == []  # a SUT that answers where declared passes
    finally:
        server.stop()


def test_run_against_a_refused_sut_exits_2_naming_the_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = refused_url()
    declaration = _declaration(tmp_path, url)
    started = time.monotonic()
    code = main(["run", "--role", "cpo", "--sut", str(declaration), "--reports", str(tmp_path / "r")])
    took = time.monotonic() - started
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "unreachable" in line]
    assert code == 2 and lines and took < 5, err
    assert all(url.removeprefix("http://") in line and "connection refused" in line for line in lines), err
    assert "Traceback" not in err and not (tmp_path / "r" / "cpo").exists()


def test_run_deadline_holds_while_the_declaration_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A SUT that never answers makes each check before the first test wait its whole timeout (30 s here, for each
    inbound endpoint): `--deadline 2` still ends the run at 2 s, exit 4, saying no test ran."""
    server = _serve("hang")
    try:
        declaration = _declaration(tmp_path, server.url).read_text().replace(f"timeout = {TIMEOUT}", "timeout = 30.0")
        (tmp_path / "oicp-sut.toml").write_text(declaration)
        started = time.monotonic()
        args = ["run", "--role", "cpo", "--sut", str(tmp_path / "oicp-sut.toml"), "--reports", str(tmp_path / "r")]
        code = main([*args, "--deadline", "2"])
        took = time.monotonic() - started
    finally:
        server.stop()
    err = capsys.readouterr().err
    assert code == 4 and "deadline of 2 s passed before the first test" in err, err
    assert 2 <= took < 2 + 3, took
    assert not (tmp_path / "r" / "cpo").exists()


def _hang_after_preflight(seen: threading.Event | None = None) -> Any:
    """A SUT that answers the preflight's `{}` at once, then hangs on every real request (and sets `seen`): it
    passes the checks of its declaration and stalls the run."""

    def behave(conn: Connection) -> None:
        request = conn.read_request()
        if request.endswith(b"\r\n\r\n{}"):
            conn.answer("200 OK", json.dumps(ACK).encode())
        else:
            if seen is not None:
                seen.set()
            conn.hold()

    return behave


CUT = 20  # s: a new interpreter reaches its first request in a few seconds, under .ci/run's 20 workers in over 8


def test_run_deadline_cuts_a_hanging_run_and_says_what_was_not_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run --deadline 20` against a SUT that hangs (each call bounded by timeout = 30): the child is stopped at the
    deadline, the summary and the table say the run was cut and list what was not judged, exit 4. (20 s: time for
    the suite to start and reach a hanging call even on a loaded machine.)"""
    seen = threading.Event()
    server = Hostile(_hang_after_preflight(seen))
    try:
        declaration = _declaration(tmp_path, server.url).read_text().replace(f"timeout = {TIMEOUT}", "timeout = 30.0")
        (tmp_path / "oicp-sut.toml").write_text(declaration)
        started = time.monotonic()
        args = ["run", "--role", "cpo", "--sut", str(tmp_path / "oicp-sut.toml"), "--reports", str(tmp_path / "r")]
        code = main([*args, "--deadline", str(CUT), "--seed", "1"])
        took = time.monotonic() - started
    finally:
        server.stop()
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "r" / "cpo" / "summary.json").read_text())
    assert code == 4, out[-3000:]
    assert seen.is_set(), "the run never reached a request the SUT hangs on"
    assert CUT <= took < CUT + 5 + 7, took  # the deadline, the stop grace, margin for reports on a loaded machine
    assert summary["verdict"] == "deadline" and summary["deadline_s"] == CUT
    assert f"cut at the deadline of {CUT} s" in summary["reason"] and "verdict: DEADLINE" in out
    cut = [r for r in summary["requirements"] if "cut at the deadline" in r["reason"]]
    assert cut and all(r["status"] == "not judged" for r in cut)
    junit = (tmp_path / "r" / "cpo" / "junit.xml").read_text()
    assert "cut at the deadline" in junit
    compliance = json.loads((tmp_path / "r" / "cpo" / "compliance.json").read_text())
    assert compliance["verdict"]["run_verdict"] == "deadline" and compliance["verdict"]["key"] == "incomplete"


def test_a_forked_run_is_judged_to_its_end_or_cut_at_its_deadline(tmp_path: Path) -> None:
    """The forked runner (defects, the project's tests) keeps the deadline too. Without one, a hostile SUT is judged
    to the end: its invalid JSON fails the RemoteStart requirement, with the reproduce command; with one, a SUT that
    hangs is cut there."""
    server = _serve("invalid-json")
    try:
        judged = run_suite(
            "cpo",
            tmp_path / "judged",
            sut=_declaration(tmp_path, server.url),
            seed=2,
            requirements=["CPO-REMOTE-START-01"],
            quiet=True,
            allure=False,
            fork=True,
        )
    finally:
        server.stop()
    assert judged.summary is not None and judged.summary["verdict"] == "fail", judged.output[-3000:]
    row = next(r for r in judged.summary["requirements"] if r["id"] == "CPO-REMOTE-START-01")
    assert row["status"] == "fail" and row["failures"], row
    failure = row["failures"][0]
    assert "without a JSON acknowledgement" in json.dumps(failure) and "curl " in failure["reproduce"], failure

    server = Hostile(_hang_after_preflight())
    try:
        started = time.monotonic()
        cut = run_suite(
            "cpo",
            tmp_path / "cut",
            sut=_declaration(tmp_path, server.url),
            seed=2,
            quiet=True,
            allure=False,
            fork=True,
            deadline=1.5,
        )
        took = time.monotonic() - started
    finally:
        server.stop()
    assert cut.summary is not None and cut.summary["verdict"] == "deadline", cut.output[-3000:]
    assert took < 1.5 + 5 + 5, took


def test_a_child_that_ignores_the_stop_is_killed_after_the_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadline holds even for a suite that does not stop on SIGINT (stuck in a call that ignores it): SIGKILL
    after STOP_GRACE, for both ways the runner starts the suite. The children ignore SIGINT from birth (inherited
    from here), so a slow start on a loaded machine cannot let the SIGINT in first."""
    monkeypatch.setattr(runner, "STOP_GRACE", 0.3)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        started = time.monotonic()
        output, code, interrupted, cut = runner._run(
            [sys.executable, "-c", "import time; print('started', flush=True); time.sleep(30)"],
            dict(os.environ),
            True,
            Path.cwd(),
            deadline=0.5,
        )
        took = time.monotonic() - started
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: says so, and would sleep far past the deadline
            try:
                os.write(write, b"started")
                time.sleep(30)
            finally:
                os._exit(0)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (cut, interrupted, code) == (True, False, -signal.SIGKILL), output
    assert took < 0.5 + 0.3 + 3, took
    os.close(write)
    started = time.monotonic()
    output, cut = runner._read_child(read, pid, 0.3)
    _, status = os.waitpid(pid, 0)
    assert (cut, os.waitstatus_to_exitcode(status)) == (True, -signal.SIGKILL), output
    assert time.monotonic() - started < 0.3 + 0.3 + 3


def test_a_deadline_during_the_suites_start_up_leaves_no_traceback(tmp_path: Path) -> None:
    """A deadline shorter than the suite's start-up stops the new interpreter while it still imports pytest and the
    suite: the run is cut (verdict deadline) and its output holds no KeyboardInterrupt traceback."""
    from conformance.runner import run_suite

    outcome = run_suite("cpo", tmp_path / "r", deadline=0.3, quiet=True, allure=False, fork=False)
    assert outcome.summary is not None and outcome.summary["verdict"] == "deadline"
    assert "Traceback" not in outcome.output, outcome.output[-2000:]
