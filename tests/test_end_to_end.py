"""End to end: the reference EMP and the reference CPO talk to each other through the fake hub (forwarding mode).

Each side is tested against the hub alone elsewhere; only here do the two bundled references meet, so a
disagreement between them (a SessionID, a path, a message shape) shows up as a broken leg. Every call is judged
on both legs: the partner's request into the hub and the hub's forwarded copy to the other partner.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest

from conformance.catalog import load_release
from conformance.hub import DEFAULT_PREFIX, Call, Endpoint, FakeHub, Forwarding
from conformance.reference.cpo import Config as CpoConfig
from conformance.reference.cpo import ReferenceCpo
from conformance.reference.emp import Config as EmpConfig
from conformance.reference.emp import ReferenceEmp
from conformance.validation import validate

RELEASE = "2.3"
HOST = "127.0.0.1"
OPERATOR, PROVIDER = "DE*REF", "DE-REF"  # the reference CPO's and the reference EMP's IDs
EVSE = "DE*REF*E1001*1"
KNOWN_CARD = {"RFIDMifareFamilyIdentification": {"UID": "AABBCCDD"}}  # one of the reference EMP's cards
UNKNOWN_CARD = {"RFIDMifareFamilyIdentification": {"UID": "11223344"}}
OPERATIONS = {op.id: op for op in load_release(RELEASE).operations}
WAIT = 10.0  # seconds a background step (the CPO's CDR after a stop) may take before the test gives up
T = TypeVar("T")


@dataclass
class Trio:
    """The three systems of one end-to-end run: the hub object, and the partners' base URLs."""

    hub: FakeHub
    cpo: str
    emp: str


def _free_port() -> int:
    """A loopback port for the hub, known before it starts: the partners need its URL in their Config."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@pytest.fixture
def trio() -> Iterator[Trio]:
    """Fresh reference CPO and EMP pointed at a fresh forwarding hub; all three stopped afterwards."""
    port = _free_port()
    hub_url = f"http://{HOST}:{port}{DEFAULT_PREFIX}"
    with contextlib.ExitStack() as stack:
        cpo = ReferenceCpo(CpoConfig(hub_url=hub_url))
        cpo_url = cpo.start(HOST)
        stack.callback(cpo.stop)
        emp = ReferenceEmp(EmpConfig(hub_url=hub_url, mode="online"))
        emp_url = emp.start(HOST)
        stack.callback(emp.stop)
        forward = Forwarding(
            cpo=Endpoint(cpo_url, timeout=5),
            emp=Endpoint(emp_url, timeout=5),
            cpo_operator=OPERATOR,
            emp_provider=PROVIDER,
        )
        hub = FakeHub(release=RELEASE, host=HOST, port=port, forward_to=forward).start()
        stack.callback(hub.stop)  # stopped first: nothing reaches a partner that is already gone
        yield Trio(hub, cpo_url, emp_url)


def trigger(base: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    """Run a partner's trigger (sync mode: it answers once the hub has answered)."""
    answer = httpx.post(f"{base}/_trigger/{action}", json=body, timeout=15)
    assert answer.status_code == 200, f"{action}: HTTP {answer.status_code} {answer.text}"
    return answer.json()


def probe(base: str, name: str) -> dict[str, Any]:
    answer = httpx.get(f"{base}/_trigger/{name}", timeout=5)
    assert answer.status_code == 200, f"{name}: HTTP {answer.status_code} {answer.text}"
    return answer.json()


def until(what: str, found: Callable[[], T | None], seconds: float = WAIT) -> T:
    """Poll until `found` gives something truthy: the partners work in their own threads."""
    deadline = time.monotonic() + seconds
    while True:
        if value := found():
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {seconds} s")
        time.sleep(0.05)


def legs(hub: FakeHub) -> list[tuple[str, str | None]]:
    return [(c.direction, c.operation) for c in hub.calls()]


def judge(call: Call) -> None:
    """One call, both messages: answered 200, nothing noted by the hub, request and answer schema-valid.

    `violations` only cover the partner's side of the call; the hub's own side (its answer to an "in" call,
    its forwarded request on an "out" call) is validated here too, so neither leg goes unjudged."""
    where = call.summary()
    assert call.operation is not None, where
    op = OPERATIONS[call.operation]
    assert (call.status, call.error, call.violations, call.problems) == (200, None, [], []), where
    assert validate(call.body, op.request[0], RELEASE) == [], f"{where}: request {call.body}"
    assert validate(call.response, op.response[0], RELEASE) == [], f"{where}: answer {call.response}"


def cdrs_of(base: str, session_id: str) -> list[dict[str, Any]]:
    return [c for c in probe(base, "state-cdrs")["cdrs"] if c.get("SessionID") == session_id]


def test_remote_start_and_stop_go_through_the_hub_and_the_cdr_comes_back(trio: Trio) -> None:
    """EMP RemoteStart -> hub (issues the SessionID) -> CPO; RemoteStop the same way; the CPO's CDR -> hub -> EMP."""
    hub = trio.hub

    # 1. RemoteStart: the EMP sends none, the hub issues the SessionID, the CPO accepts it, the EMP keeps it.
    started = trigger(trio.emp, "remote-start", {"evse_id": EVSE})
    session_id = started["session_id"]
    assert isinstance(session_id, str) and session_id, started
    assert started["ok"] is True and started["attempts"] == 1, started
    assert (started["hub_answer"]["Result"], started["hub_answer"]["SessionID"]) == (True, session_id), started
    last = probe(trio.emp, "state-last-calls")["last"]["remote-start"]
    assert (last["accepted"], last["SessionID"]) == (True, session_id), last
    [emp_session] = [s for s in probe(trio.emp, "state-sessions")["sessions"] if s["SessionID"] == session_id]
    assert (emp_session["origin"], emp_session["EvseID"]) == ("remote-start", EVSE), emp_session
    assert probe(trio.cpo, "state-sessions")["sessions"] == [{"SessionID": session_id}]

    # 2. RemoteStop with that SessionID: the CPO ends the session and sends its CDR, which the hub forwards.
    stopped = trigger(trio.emp, "remote-stop", {"session_id": session_id, "evse_id": EVSE})
    assert stopped["ok"] is True and stopped["session_id"] == session_id, stopped
    assert (stopped["hub_answer"]["Result"], stopped["hub_answer"]["SessionID"]) == (True, session_id), stopped
    # The hub journals the CPO's CDR once it has the EMP's answer to the forwarded copy, so by then the EMP has
    # decided; a refusal anywhere fails here at once, not after the wait.
    until("CDR from the CPO at the hub", lambda: hub.calls("ChargeDetailRecord.hub", "in"))
    booked_cdrs = cdrs_of(trio.emp, session_id)
    assert len(booked_cdrs) == 1, (booked_cdrs, probe(trio.emp, "state-cdrs")["refused"], legs(hub))  # booked once
    [booked] = booked_cdrs
    [created] = cdrs_of(trio.cpo, session_id)
    assert booked == created  # "will not be changed by Hubject"
    assert probe(trio.emp, "state-cdrs")["refused"] == []
    [emp_session] = [s for s in probe(trio.emp, "state-sessions")["sessions"] if s["SessionID"] == session_id]
    assert emp_session["stopped"] is True

    # 3. The journal, both legs of each step, in order.
    assert legs(hub) == [
        ("in", "AuthorizeRemoteStart.hub"),
        ("out", "AuthorizeRemoteStart.cpo"),
        ("in", "AuthorizeRemoteStop.hub"),
        ("out", "AuthorizeRemoteStop.cpo"),
        ("in", "ChargeDetailRecord.hub"),
        ("out", "ChargeDetailRecord.emp"),
    ]
    calls = hub.calls()
    for call in calls:
        judge(call)
        assert call.accepted, call.summary()
    start_in, start_out, stop_in, stop_out, cdr_in, cdr_out = calls
    for inbound, outbound in ((start_in, start_out), (stop_in, stop_out), (cdr_in, cdr_out)):
        assert inbound.caused_by is None, inbound.summary()
        assert outbound.caused_by == inbound.seq, outbound.summary()
    assert "SessionID" not in start_in.body  # "should not be filled in by the EMP in the initial" RemoteStart
    carried = {
        "RemoteStart answer to the EMP": start_in.response["SessionID"],
        "RemoteStart forwarded to the CPO": start_out.body["SessionID"],
        "CPO's RemoteStart answer": start_out.response["SessionID"],
        "RemoteStop from the EMP": stop_in.body["SessionID"],
        "RemoteStop forwarded to the CPO": stop_out.body["SessionID"],
        "RemoteStop answer to the EMP": stop_in.response["SessionID"],
        "CDR from the CPO": cdr_in.body["SessionID"],
        "CDR forwarded to the EMP": cdr_out.body["SessionID"],
        "CDR answer to the CPO": cdr_in.response["SessionID"],
    }
    assert carried == dict.fromkeys(carried, session_id)
    assert cdr_out.body == cdr_in.body == created
    assert start_out.body["EvseID"] == cdr_in.body["EvseID"] == EVSE
    assert hub.state.sessions[session_id].cdr_forwarded is True
    hub.check()


@pytest.mark.parametrize(
    ("card", "status", "code"),
    [(KNOWN_CARD, "Authorized", "000"), (UNKNOWN_CARD, "NotAuthorized", "102")],
    ids=["known-card", "unknown-card"],
)
def test_authorize_start_is_decided_by_the_emp(trio: Trio, card: dict[str, Any], status: str, code: str) -> None:
    """A CPO's AuthorizeStart with an RFID card goes to the EMP; the CPO gets the EMP's verdict, not the hub's."""
    hub = trio.hub
    answer = trigger(trio.cpo, "authorize-start", {"identification": card, "evse_id": EVSE})
    verdict = answer["hub_answer"]
    assert (answer["status"], answer["attempts"]) == (200, 1), answer  # a refusal is final: never retried
    assert (verdict["AuthorizationStatus"], verdict["StatusCode"]["Code"]) == (status, code), verdict

    assert legs(hub) == [("in", "AuthorizeStart.hub"), ("out", "AuthorizeStart.emp")]
    inbound, outbound = hub.calls()
    judge(inbound)
    judge(outbound)
    assert (inbound.caused_by, outbound.caused_by) == (None, inbound.seq)
    assert outbound.body == {**inbound.body, "SessionID": outbound.body["SessionID"]}  # the hub adds its SessionID
    assert outbound.response["AuthorizationStatus"] == status
    assert outbound.response.get("ProviderID") == PROVIDER  # "MUST contain the ProviderID", NotAuthorized too
    emp_seen = probe(trio.emp, "state-authorizations")
    cpo_sessions = probe(trio.cpo, "state-sessions")["sessions"]

    if status == "Authorized":
        session_id = outbound.body["SessionID"]
        assert answer["session_id"] == verdict["SessionID"] == outbound.response["SessionID"] == session_id
        assert (verdict["ProviderID"], inbound.accepted, outbound.accepted) == (PROVIDER, True, True)
        assert [a["SessionID"] for a in emp_seen["authorizations"]] == [session_id]
        assert cpo_sessions == [{"SessionID": session_id}]
        assert session_id in hub.state.sessions
    else:
        assert answer["session_id"] is None and "SessionID" not in verdict, answer
        assert not inbound.accepted and not outbound.accepted
        assert emp_seen["authorizations"] == []
        assert emp_seen["refusals"] == [
            {"SessionID": outbound.body["SessionID"], "Identification": card, "StatusCode": "102"}
        ]
        assert cpo_sessions == []
        assert hub.state.sessions == {}
    hub.check()
