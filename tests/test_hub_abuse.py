"""The fake hub under abuse from a SUT: malformed, oversized, slow, odd and concurrent requests, and requests that
arrive while the hub is reset between tests. The hub must answer each in Hubject's error format (or give up on it
within a bound), keep its state and journal exact, never block other clients, and answer a valid push afterwards.

One hub serves the whole module (reset between tests, as the suites do); raw sockets send what httpx would refuse
to send, each with a timeout, so a hub that hangs fails the test instead of hanging it."""

from __future__ import annotations

import gc
import json
import select
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.hub import FakeHub
from conformance.hub.answers import VALIDATION_MESSAGE
from conformance.tls import client_context, write_certs

OP = "DE*ABC"
LIMIT = 64 * 1024  # the module hub's body limit: small, so oversized bodies cost little
SLOW = 1.0  # the module hub's read timeout (seconds): a request's head and body must arrive within it
STATUS_PATH = "/evsepush/v21/operators/DE*ABC/status-records"
RAW_PATH = "/api/oicp" + STATUS_PATH  # on the wire, under the hub's default prefix


def status_push(*evses: str, action: str = "update", status: str = "Available") -> dict[str, Any]:
    records = [{"EvseID": e, "EvseStatus": status} for e in evses]
    return {"ActionType": action, "OperatorEvseStatus": {"OperatorID": OP, "EvseStatusRecord": records}}


VALID = json.dumps(status_push("DE*ABC*E1*1")).encode()
# one client for the module's plain-HTTP calls (thread-safe): httpx.post would build a client and its TLS context
# per call, the bulk of these tests' CPU
HTTP = httpx.Client(timeout=10, verify=False, limits=httpx.Limits(max_connections=64))


@pytest.fixture(scope="module")
def server() -> Iterator[FakeHub]:
    with FakeHub(max_body=LIMIT) as hub:
        hub.read_timeout = SLOW
        yield hub


@pytest.fixture
def hub(server: FakeHub) -> Iterator[FakeHub]:
    """A clean hub; afterwards it must still judge, store and journal a valid push exactly, with no hub error."""
    server.reset()
    yield server
    server.check()
    server.reset()
    answer = HTTP.post(server.url + STATUS_PATH, content=VALID, headers={"Content-Type": "application/json"}, timeout=5)
    assert (answer.status_code, answer.json()["Result"]) == (200, True), answer.text
    [call] = server.calls()
    assert (call.operation, call.status, call.body, call.problems) == ("PushEvseStatus.hub", 200, json.loads(VALID), [])
    assert server.state.evse_status == {"DEABC": {"DE*ABC*E1*1": "Available"}}
    server.check()


def post(hub: FakeHub, content: bytes, path: str = STATUS_PATH, **headers: str) -> httpx.Response:
    return HTTP.post(
        hub.url + path, content=content, headers={"Content-Type": "application/json", **headers}, timeout=5
    )


def hubject_fault(answer: httpx.Response) -> dict[str, Any]:
    """The answer's body, asserted to be Hubject's error format."""
    assert answer.headers["Content-Type"].startswith("application/json"), answer.text[:300]
    body = answer.json()
    assert set(body) == {"message", "validationErrors"} and body["message"], body
    assert all(set(e) == {"fieldReference", "errorMessage"} for e in body["validationErrors"]), body
    return body


def head(path: str, body: bytes = b"", method: str = "POST", extra: str = "", length: int | None = None) -> bytes:
    """An HTTP/1.1 request head (and body) as bytes, for what httpx would not send."""
    size = len(body) if length is None else length
    return (
        f"{method} {path} HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n{extra}\r\n"
    ).encode() + body


def raw(hub: FakeHub, data: bytes, wait: float = 5.0, half_close: bool = False) -> tuple[int | None, bytes]:
    """Send bytes on a fresh connection and read until the hub closes it (werkzeug closes every connection):
    the status (None: closed without an answer) and the body."""
    with socket.create_connection(("127.0.0.1", hub.port), timeout=wait) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return _answer(_read_all(sock))


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def _answer(data: bytes) -> tuple[int | None, bytes]:
    if not data:
        return None, b""
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def nested(depth: int) -> bytes:
    """A valid push with an extra member nested `depth` arrays deep (schemas allow extra members)."""
    return VALID[:-1] + b', "X": ' + b"[" * depth + b"]" * depth + b"}"


# --- malformed JSON -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"ActionType": "fullLoad", "OperatorEvseStatus": {"Oper', "body is not JSON"),
        (VALID.replace(b"Available", b"Avail\xffable"), "body is not UTF-8"),
        (b"[" * 30_000 + b"]" * 30_000, "body is not JSON"),
        (b"{" * 60_000, "body is not JSON"),
        (nested(200), "body is not JSON"),  # parses in Python, but breaks every later json.dumps of the journal
        (VALID[:-1] + b', "X": ' + b"1" * 5000 + b"}", "body is not JSON"),
        (VALID[:-1] + b', "X": NaN}', "body is not JSON"),
        (VALID[:-1] + b', "X": Infinity}', "body is not JSON"),
        (VALID[:-1] + b', "X": -Infinity}', "body is not JSON"),
        (VALID[:-1] + b', "X": 1e999}', "body is not JSON"),  # beyond binary64: Infinity in every report
        (b"[]", None),
        (b'"OperatorEvseStatus"', None),
        (b"null", None),
        (b"42", None),
        (b"", "body is not JSON"),
    ],
    ids=[
        "truncated",
        "invalid-utf8",
        "deep-arrays",
        "deep-unclosed-objects",
        "nested-200",
        "huge-integer",
        "NaN",
        "Infinity",
        "-Infinity",
        "1e999",
        "array",
        "string",
        "null",
        "number",
        "empty",
    ],
)
def test_malformed_json_gets_hubjects_400(hub: FakeHub, content: bytes, problem: str | None) -> None:
    answer = post(hub, content)
    assert answer.status_code == 400
    fault = hubject_fault(answer)
    assert fault["message"] == VALIDATION_MESSAGE and fault["validationErrors"]
    [call] = hub.calls()
    assert (call.operation, call.status, call.response) == ("PushEvseStatus.hub", 400, fault)
    if problem is None:  # JSON, but not an object: a schema violation at the root
        assert [v.pointer for v in call.violations] == [""] and not call.problems
    else:
        assert call.problems[0].startswith(problem) and call.body is None
    assert hub.state.evse_status == {}
    assert len(fault["validationErrors"][0]["errorMessage"]) < 1000  # a hostile body is not echoed back whole


def test_nesting_within_the_limit_is_read(hub: FakeHub) -> None:
    """The depth limit refuses no real message: an extra member 60 levels deep is still taken (and stored)."""
    assert post(hub, nested(60)).json()["Result"] is True
    assert hub.state.evse_status == {"DEABC": {"DE*ABC*E1*1": "Available"}}


def test_duplicate_keys_take_the_last_as_hubjects_parser_does(hub: FakeHub) -> None:
    """Jackson (Hubject's JSON reader) keeps the last of duplicate members by default: so does the hub, silently."""
    content = VALID.replace(b'"EvseStatus": "Available"', b'"EvseStatus": "Occupied", "EvseStatus": "Available"')
    assert post(hub, content.replace(b'"update"', b'"fullLoad", "ActionType": "update"')).json()["Result"] is True
    [call] = hub.calls()
    assert call.body == json.loads(VALID) and not call.problems
    assert hub.state.evse_status == {"DEABC": {"DE*ABC*E1*1": "Available"}}


# --- oversized bodies -----------------------------------------------------------------------------------------


def test_oversized_bodies_are_refused_without_reading_them_whole(hub: FakeHub) -> None:
    too_big = VALID[:-1] + b', "X": "' + b"y" * LIMIT + b'"}'
    with_length = post(hub, too_big)
    assert with_length.status_code == 413 and "larger than" in hubject_fault(with_length)["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must stop the read all the same
        for start in range(0, len(too_big), 4096):
            yield too_big[start : start + 4096]

    chunked = HTTP.post(
        hub.url + STATUS_PATH, content=chunks(), headers={"Content-Type": "application/json"}, timeout=5
    )
    assert chunked.status_code == 413 and "larger than" in hubject_fault(chunked)["message"]
    started = time.monotonic()  # a declared 1 GB that never comes is refused at once, not waited for
    assert raw(hub, head(RAW_PATH, length=1 << 30), wait=3)[0] == 413
    assert time.monotonic() - started < 2
    assert [(c.status, c.size) for c in hub.calls()] == [(413, len(too_big)), (413, 0), (413, 1 << 30)]
    assert "chunked" in hub.calls()[1].problems[0]
    assert hub.state.evse_status == {}


def test_a_chunked_body_within_the_limit_is_read(hub: FakeHub) -> None:
    answer = HTTP.post(
        hub.url + STATUS_PATH,
        content=iter([VALID[:10], VALID[10:]]),
        timeout=5,
        headers={"Content-Type": "application/json"},
    )
    assert answer.json()["Result"] is True and hub.calls()[0].size == len(VALID)


def test_a_body_cut_short_is_journaled_as_incomplete(hub: FakeHub) -> None:
    status, body = raw(hub, head(RAW_PATH, VALID[:20], length=len(VALID)), half_close=True)
    assert status == 400 and json.loads(body)["validationErrors"] == []
    [call] = hub.calls()
    assert (call.operation, call.status) == ("PushEvseStatus.hub", 400) and "not received in full" in call.problems[0]


def test_bodies_are_not_kept_beyond_the_journal(hub: FakeHub) -> None:
    """pytest-httpserver logs every request with its body until the next reset: the hub must not (the journal
    keeps what it needs), or a standalone hub, never reset, grows with every call."""
    junk = b"x" * (2 << 20)
    hub.max_body = 10 << 20
    try:
        post(hub, junk)  # warm-up: the first big allocation of each kind
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(3):
                assert post(hub, junk).status_code == 400
            deadline = time.monotonic() + 3  # the last request's thread may still hold its body while it closes
            while (grown := tracemalloc.get_traced_memory()[0] - before) >= 1 << 20 and time.monotonic() < deadline:
                time.sleep(0.05)
                gc.collect()
        finally:
            tracemalloc.stop()
    finally:
        hub.max_body = LIMIT
    assert grown < 1 << 20, f"{grown} bytes kept after three 2 MB bodies"
    assert [c.size for c in hub.calls()] == [len(junk)] * 4


# --- slow clients ---------------------------------------------------------------------------------------------


def _trickle(hub: FakeHub, now: bytes, data: bytes, every: float, out: dict[str, Any], name: str) -> None:
    """Send `now`, then `data` a byte at a time until the hub answers or closes; note the answer and when."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", hub.port), timeout=6) as sock:
        sock.sendall(now)
        for byte in data:
            if select.select([sock], [], [], every)[0]:
                break
            try:
                sock.send(bytes([byte]))
            except OSError:
                break
        else:
            select.select([sock], [], [], 6)
        out[name] = (*_answer(_read_all(sock)), time.monotonic() - started)


def _stall(hub: FakeHub, data: bytes, out: dict[str, Any], name: str) -> None:
    """Send `data` (perhaps nothing), then nothing more: note the answer and when the hub gave up."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", hub.port), timeout=6) as sock:
        sock.sendall(data)
        out[name] = (*_answer(_read_all(sock)), time.monotonic() - started)


def test_slow_clients_are_given_up_on_without_blocking_others(hub: FakeHub) -> None:
    out: dict[str, Any] = {}
    clients = [
        threading.Thread(
            target=_trickle, args=(hub, head(RAW_PATH, length=len(VALID)), VALID, 0.25, out, "body trickle")
        ),
        threading.Thread(target=_trickle, args=(hub, b"", head(RAW_PATH, VALID), 0.1, out, "head trickle")),
        threading.Thread(target=_stall, args=(hub, head(RAW_PATH, VALID[:10], length=len(VALID)), out, "stall")),
        threading.Thread(target=_stall, args=(hub, b"", out, "silent")),
    ]
    for client in clients:
        client.start()
    time.sleep(0.2)  # all four are now holding a connection
    started = time.monotonic()
    assert post(hub, VALID).json()["Result"] is True
    assert time.monotonic() - started < SLOW  # answered while the slow ones still hold theirs
    for client in clients:
        client.join(8)
    # a request whose body is late is answered 408 and journaled; one whose head never came is just closed
    assert {name: status for name, (status, _, _) in out.items()} == {
        "body trickle": 408,
        "head trickle": None,
        "stall": 408,
        "silent": None,
    }
    assert all(SLOW * 0.8 < took < SLOW + 2 for _, _, took in out.values()), out
    assert set(json.loads(out["stall"][1])) == {"message", "validationErrors"}
    calls = hub.calls()
    assert sorted(c.status for c in calls) == [200, 408, 408]
    late = [c for c in calls if c.status == 408]
    assert all(c.operation == "PushEvseStatus.hub" and "not received within" in c.problems[0] for c in late)
    assert hub.state.evse_status == {"DEABC": {"DE*ABC*E1*1": "Available"}}


# --- methods, paths, queries, content types, headers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "ctype", "status"),
    [
        *[(m, STATUS_PATH, "application/json", 405) for m in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE")],
        ("POST", "/evsepush/v21/operators/DE*ABC/status-records/extra", "application/json", 404),
        ("POST", "/../../../etc/passwd", "application/json", 404),
        ("POST", "/evsepush/v21/operators/%ff%fe%00/status-records/..%2f", "application/json", 404),
        ("POST", "/" + "a/" * 4000, "application/json", 404),
        ("POST", STATUS_PATH, "text/plain", 415),
        ("POST", STATUS_PATH, "application/xml", 415),
        ("POST", STATUS_PATH, "multipart/form-data; boundary=x", 415),
        ("POST", STATUS_PATH, "", 415),
    ],
)
def test_wrong_method_path_or_content_type_gets_hubject_format(
    hub: FakeHub, method: str, path: str, ctype: str, status: int
) -> None:
    answer = HTTP.request(method, hub.url + path, content=VALID, headers={"Content-Type": ctype}, timeout=5)
    assert answer.status_code == status
    hubject_fault(answer)
    [call] = hub.calls()
    assert call.status == status and call.method == method
    assert hub.state.evse_status == {}
    if status == 405:
        assert answer.headers["Allow"] == "POST"


def test_head_and_query_strings(hub: FakeHub) -> None:
    assert HTTP.head(hub.url + STATUS_PATH).status_code == 405
    answer = post(hub, VALID, path=STATUS_PATH + "?page=%ff&size=-1&size=2&x=" + "q" * 2000)
    assert answer.json()["Result"] is True
    assert [c.status for c in hub.calls()] == [405, 200]
    assert hub.calls()[1].query["size"] == "-1" and len(hub.calls()[1].query["x"]) == 2000


@pytest.mark.parametrize(
    ("extra", "path", "status"),
    [
        ("".join(f"X-Flood-{i}: {i}\r\n" for i in range(150)), RAW_PATH, 431),
        (f"X-Long: {'v' * 70_000}\r\n", RAW_PATH, 431),
        ("", RAW_PATH + "?" + "q" * 70_000, 414),
        ("", RAW_PATH + " x", 400),
        ("".join(f"X-Many-{i}: {'v' * 500}\r\n" for i in range(90)), RAW_PATH, 200),
    ],
    ids=["150 headers", "70 kB header", "70 kB request line", "bad request line", "90 headers of 500 B"],
)
def test_header_floods_get_hubject_format(hub: FakeHub, extra: str, path: str, status: int) -> None:
    got, body = raw(hub, head(path, VALID, extra=extra))
    assert got == status
    answer = json.loads(body)
    if status == 200:
        assert answer["Result"] is True
    else:
        assert set(answer) == {"message", "validationErrors"}
        assert hub.state.evse_status == {}
    [call] = hub.calls()
    assert call.status == status
    if status in (431, 414):
        assert call.problems and call.body is None


# --- concurrency and resets -----------------------------------------------------------------------------------


def test_fifty_requests_at_once_are_each_journaled_whole(hub: FakeHub) -> None:
    gate = threading.Barrier(50, timeout=10)
    answers: dict[int, Any] = {}

    def client(i: int) -> None:
        gate.wait()
        if i % 5:
            answers[i] = post(hub, json.dumps(status_push(f"DE*ABC*E{i}*1", status="Occupied")).encode())
        else:
            start = {"OperatorID": OP, "EvseID": f"DE*ABC*E{i}*1", "CPOPartnerSessionID": f"cpo-{i}"}
            start["Identification"] = {"RFIDMifareFamilyIdentification": {"UID": f"{i:08X}"}}
            answers[i] = HTTP.post(hub.url_for("AuthorizeStart.hub", operatorID=OP), json=start)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(answers) == list(range(50)) and all(a.status_code == 200 for a in answers.values())
    calls = hub.calls()
    assert [c.seq for c in calls] == list(range(1, 51))
    pushes = [c for c in calls if c.operation == "PushEvseStatus.hub"]
    starts = [c for c in calls if c.operation == "AuthorizeStart.hub"]
    assert sorted(c.call_no for c in pushes) == list(range(1, 41))
    assert sorted(c.call_no for c in starts) == list(range(1, 11))
    for call in pushes:  # each call carries its own body and its own answer, never another's
        [record] = call.body["OperatorEvseStatus"]["EvseStatusRecord"]
        i = int(record["EvseID"].split("*")[2][1:])
        assert answers[i].json() == call.response and call.response["Result"] is True
    for call in starts:
        i = int(call.body["EvseID"].split("*")[2][1:])
        assert answers[i].json() == call.response and call.response["CPOPartnerSessionID"] == f"cpo-{i}"
    expected = {f"DE*ABC*E{i}*1": "Occupied" for i in range(50) if i % 5}
    assert hub.state.evse_status == {"DEABC": expected}
    assert {s.session_id for s in hub.state.sessions.values()} == {c.response["SessionID"] for c in starts}
    assert set(hub.state.in_flight.values()) == {0}  # every push left, concurrent or not


def test_requests_during_a_reset_count_whole_for_one_test(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests keep coming while the hub is reset between tests (a slow reset, as of a big store): each must
    land whole in one test, its journal entry and its effect on the store together, and none may fail."""
    forget = hub.state.reset

    def slow_forget() -> None:
        time.sleep(0.05)
        forget()

    monkeypatch.setattr(hub.state, "reset", slow_forget)
    stop = threading.Event()
    sent: list[tuple[float, str, int]] = []  # (when sent, EvseID, HTTP status)

    def client(t: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            evse = f"DE*ABC*E{t}*{n}"
            at = time.monotonic()
            sent.append((at, evse, post(hub, json.dumps(status_push(evse)).encode()).status_code))

    threads = [threading.Thread(target=client, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(5):
        time.sleep(0.05)
        hub.reset()
    last_reset = time.monotonic()
    time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join(10)
    assert sent and {status for _, _, status in sent} == {200}
    journaled = {c.body["OperatorEvseStatus"]["EvseStatusRecord"][0]["EvseID"] for c in hub.calls()}
    stored = set(hub.state.evse_status.get("DEABC", {}))
    assert journaled == stored  # no call journaled whose push was forgotten, no push stored that was not journaled
    assert {evse for at, evse, _ in sent if at > last_reset} <= journaled  # nothing sent after the reset was lost
    assert len(hub.calls()) == len(journaled)


def test_a_silent_tls_client_blocks_no_one_and_is_given_up_on(tmp_path: Path) -> None:
    """Over mutual TLS a client that connects and never says hello must not stall the hub (the handshake runs in
    the connection's own thread) and is dropped within the read timeout."""
    certs = write_certs(tmp_path, operator=OP)
    with FakeHub(tls=tmp_path, read_timeout=SLOW) as hub:
        out: dict[str, Any] = {}
        silent = threading.Thread(target=_stall, args=(hub, b"", out, "silent"))
        silent.start()
        time.sleep(0.2)
        started = time.monotonic()
        context = client_context(certs.ca, certs.cert, certs.key)
        with httpx.Client(verify=context, timeout=5, headers={"Content-Type": "application/json"}) as http:
            assert http.post(hub.url + STATUS_PATH, content=VALID).json()["Result"] is True
        assert time.monotonic() - started < SLOW
        silent.join(8)
        status, _, took = out["silent"]
        assert status is None and SLOW * 0.8 < took < SLOW + 2
        assert [c.status for c in hub.calls()] == [200]
        hub.check()


class _SlowWhenEmpty(set):  # type: ignore[type-arg]
    """An operator set that takes its time to say it is empty: it widens the window between the hub's look at its
    partners and its registration of the first caller, where two first calls at once would both get in."""

    def __len__(self) -> int:
        if not set.__len__(self):
            time.sleep(0.1)
        return set.__len__(self)


def test_of_two_first_callers_at_once_only_one_is_registered() -> None:
    """With no operator declared the first CPO to call is the hub's partner; two calling at the same moment must not
    both become it (the second is refused with 017), however their threads interleave."""
    from conformance.hub.state import Partners

    with FakeHub(partners=Partners()) as hub:
        hub.state.partners.operators = _SlowWhenEmpty()
        codes: dict[str, str] = {}

        def push(operator: str) -> None:
            body = {"ActionType": "fullLoad", "OperatorEvseStatus": {"OperatorID": operator, "EvseStatusRecord": []}}
            url = f"{hub.url}/evsepush/v21/operators/{operator}/status-records"
            codes[operator] = httpx.post(url, json=body, timeout=10).json()["StatusCode"]["Code"]

        threads = [threading.Thread(target=push, args=(op,)) for op in ("DE*AAA", "DE*BBB")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        registered = set(hub.state.partners.operators)
    assert sorted(codes.values()) == ["000", "017"], codes
    assert registered == {op for op, code in codes.items() if code == "000"}
