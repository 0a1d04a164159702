"""Suite -> CPO: remote start/stop and reservations, valid and broken, as Hubject sends them.

Every case has its own SessionID; what the CPO accepted is stopped or cancelled before the next test;
each refusal case runs on its own, whether or not the happy path worked."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from conformance.hub import FakeHub
from conformance.oicp.limits import REMOTE_START_SECONDS
from conformance.strategies import Case
from conformance.suites.cases import IdSource, broken_request, broken_requests
from conformance.suites.cpo.helpers import (
    RES_START,
    RES_STOP,
    START,
    STOP,
    Undo,
    ack_problems,
    available_evses,
    call_inbound,
    case,
    expect_ack,
    pins,
    probed,
    rerun,
    undo,
    unknown_evse,
)
from conformance.suites.plugin import requirement
from conformance.suites.steps import invalid_requirement, judge_broken_request
from conformance.suites.verdicts import NotJudged, Verdict
from conformance.sut import Sut
from conformance.sut.client import Answer

__all__ = ["undo"]  # the fixture, imported for pytest


def _start(sut: Sut, hub: FakeHub, ids: IdSource, evse: str, undo: Undo, timeout: float | None = None):
    drawn = case(sut, ids, START, evse)
    hub.open_session(drawn.body["SessionID"], evse, sut.provider_id, drawn.body["Identification"])
    answer = call_inbound(sut, START, drawn, timeout or min(sut.timeout, REMOTE_START_SECONDS) + 1)
    undo.started(drawn, answer)
    return drawn, answer


@pytest.mark.operation(START)
@requirement("CPO-REMOTE-START-01", "CPO-REMOTE-START-03", "CPO-OUT-05")
def test_remote_start_is_accepted(sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict) -> None:
    """A valid RemoteStart is accepted in time, with an acknowledgement in UTF-8 (answers are service messages too;
    the CPO's requests are judged for CPO-OUT-05 on every hub journal)."""
    # An EVSE may be in use (a real customer, or a session an earlier run could not end: no end_session trigger):
    # a well-formed "602 in use" sends the start to the next declared EVSE; only a CPO refusing all of them fails.
    for evse in available_evses(sut):
        drawn, answer = _start(sut, hub, ids, evse, undo, timeout=max(sut.timeout, REMOTE_START_SECONDS + 2))
        if not (answer.result is False and answer.code == "602" and not ack_problems(answer, sut.release)):
            break
        verdict.note(f"EVSE {evse} answered 602 (in use): tried the next declared EVSE")
    problems = ack_problems(answer, sut.release)
    verdict.check(
        not problems,
        "CPO-REMOTE-START-01",
        "the RemoteStart answer is no valid acknowledgement",
        "\n".join(problems),
        answer.curl,
    )
    if not problems:
        verdict.about(
            answer,
            answer.result is True and answer.code == "000",
            "CPO-REMOTE-START-01",
            f"a RemoteStart for available EVSE {evse} was not accepted",
        )
        sid = answer.body.get("SessionID")
        verdict.about(
            answer,
            sid in (None, drawn.body["SessionID"]),
            "CPO-REMOTE-START-01",
            "the acknowledgement names another SessionID than the request",
        )
    if answer.status is None and answer.elapsed < REMOTE_START_SECONDS:
        verdict.not_judged("CPO-REMOTE-START-03", f"no answer to time ({answer.describe()})")
    else:
        verdict.about(
            answer,
            answer.status is not None and answer.elapsed <= REMOTE_START_SECONDS,
            "CPO-REMOTE-START-03",
            f"RemoteStart answered after {answer.elapsed:.1f} s (best practice: under {REMOTE_START_SECONDS:g} s)",
        )
    if answer.status is None or (answer.body is None and not answer.encoding):
        verdict.not_judged("CPO-OUT-05", f"no JSON answer whose encoding to judge ({answer.describe()[:200]})")
    else:
        verdict.about(answer, not answer.encoding, "CPO-OUT-05", f"the acknowledgement is not UTF-8: {answer.encoding}")
    verdict.conclude()


def _refusal(
    sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict, what: str, target: str, fitting: set[str]
) -> None:
    """One RemoteStart the CPO cannot serve: refused with an acknowledgement, a fitting code, no session kept."""
    drawn, refused = _start(sut, hub, ids, target, undo)
    if expect_ack(
        verdict,
        sut,
        refused,
        False,
        "CPO-REMOTE-START-02",
        f"RemoteStart for {what} ({target}) was not refused with an acknowledgement",
    ):
        verdict.about(
            refused, refused.code != "000", "CPO-REMOTE-START-04", f"the refusal for {what} carries StatusCode 000"
        )
        verdict.about(
            refused,
            refused.code in fitting,
            "CPO-REMOTE-START-05",
            f"the refusal for {what} carries StatusCode {refused.code}, expected one of {sorted(fitting)}",
        )
    else:
        for rid in ("CPO-REMOTE-START-04", "CPO-REMOTE-START-05"):
            verdict.not_judged(rid, f"no refusal to read (see CPO-REMOTE-START-02 for {what})")
    recorded = probed(sut, verdict, "sessions", "CPO-STATE-01")
    if recorded is not None:
        if refused.result is not False:
            verdict.not_judged("CPO-STATE-01", f"the RemoteStart for {what} was not refused")
        else:
            verdict.check(
                drawn.body["SessionID"] not in recorded,
                "CPO-STATE-01",
                f"the CPO recorded a session for the RemoteStart it refused ({what})",
                f"SessionID {drawn.body['SessionID']} appears in probe {sut.probes['sessions']}",
                rerun(sut, verdict.seed, verdict.node.name),
            )
    verdict.conclude()


REFUSALS = ("CPO-REMOTE-START-02", "CPO-REMOTE-START-04", "CPO-REMOTE-START-05", "CPO-STATE-01")


@pytest.mark.operation(START)
@requirement(*REFUSALS)
def test_remote_start_unknown_evse(sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict) -> None:
    _refusal(sut, hub, ids, undo, verdict, "an unknown EVSE", unknown_evse(sut), {"603", "604"})


@pytest.mark.operation(START)
@requirement(*REFUSALS)
def test_remote_start_out_of_service_evse(sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict) -> None:
    if not sut.out_of_service_evse:
        raise NotJudged("no out-of-service EVSE is declared", declare="out_of_service_evse")
    _refusal(sut, hub, ids, undo, verdict, "an EVSE out of service", sut.out_of_service_evse, {"700", "501"})


@pytest.mark.operation(START)
@requirement(*REFUSALS)
def test_remote_start_busy_evse(sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict) -> None:
    evse = available_evses(sut)[0]
    _, first = _start(sut, hub, ids, evse, undo)
    if first.result is not True:
        raise NotJudged(f"setup failed: the first RemoteStart on {evse} was not accepted ({first.describe()[:200]})")
    _refusal(sut, hub, ids, undo, verdict, "an EVSE busy with another session", evse, {"602"})


@pytest.mark.operation(STOP)
@requirement("CPO-REMOTE-STOP-01")
def test_remote_stop_of_running_session(sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict) -> None:
    evse = available_evses(sut)[-1]
    drawn, started = _start(sut, hub, ids, evse, undo)
    if started.result is not True:
        raise NotJudged(f"setup failed: RemoteStart was not accepted ({started.describe()[:200]})")
    stopped = call_inbound(sut, STOP, case(sut, ids, STOP, evse, session_id=drawn.body["SessionID"]))
    if stopped.result is True:
        undo.forget(drawn.body["SessionID"])
    expect_ack(verdict, sut, stopped, True, "CPO-REMOTE-STOP-01", "RemoteStop of a running session was not accepted")
    verdict.conclude()


@pytest.mark.operation(STOP)
@requirement("CPO-REMOTE-STOP-01")
def test_remote_stop_of_unknown_session(sut: Sut, hub: FakeHub, ids: IdSource, verdict: Verdict) -> None:
    answer = call_inbound(sut, STOP, case(sut, ids, STOP, available_evses(sut)[-1]))
    expect_ack(
        verdict,
        sut,
        answer,
        False,
        "CPO-REMOTE-STOP-01",
        "RemoteStop of a session that never existed was not refused with an acknowledgement",
    )
    verdict.conclude()


def _inbound_operations(sut: Sut) -> list[str]:
    return [START, STOP] + ([RES_START, RES_STOP] if sut.has("reservation") else [])


@pytest.mark.operation(START)
@requirement("CPO-IN-INVALID-01", "CPO-IN-INVALID-02")
def test_invalid_requests_are_refused(sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict) -> None:
    evse = available_evses(sut)[0]
    for op_id in _inbound_operations(sut):
        for drawn in broken_requests(ids, op_id, sut.release, pins(sut, evse)):
            if drawn.mutation == "path-id-mismatch":
                continue  # CPO-IN-PATH-01 judges it, where the URL carries the ProviderID
            rid = invalid_requirement(drawn, "cpo")
            answer = call_inbound(sut, op_id, drawn)
            undo.accepted(op_id, drawn, answer)
            undo.run()  # a broken request the SUT accepted must not leave its EVSE taken for the next case
            judge_broken_request(verdict, rid, op_id, drawn, answer, served=answer.result is True)
    verdict.conclude()


@pytest.mark.operation(START)
@requirement("CPO-IN-PATH-01")
def test_path_provider_must_match_body(sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict) -> None:
    route = sut.inbound.get(START)
    if route is not None and "{providerID}" not in route.url:
        raise NotJudged(
            f"the declared RemoteStart URL carries no {{providerID}} ({route.url}): nothing to compare", applies=False
        )
    evse = available_evses(sut)[0]
    drawn = broken_request(ids, START, sut.release, pins(sut, evse), "path-id-mismatch")
    hub.open_session(drawn.body["SessionID"], evse, sut.provider_id, drawn.body["Identification"])
    answer = call_inbound(sut, START, drawn)
    undo.started(drawn, answer)
    if answer.status is None or answer.status >= 500:
        what = answer.describe()[:200] if answer.status is None else f"answered HTTP {answer.status} (a server error)"
        verdict.about(answer, False, "CPO-IN-PATH-01", f"RemoteStart with a path ProviderID unlike the body's {what}")
    else:
        verdict.about(
            answer,
            answer.result is not True,
            "CPO-IN-PATH-01",
            f"RemoteStart with path providerID {drawn.path_params.get('providerID')} and body ProviderID "
            f"{drawn.body.get('ProviderID')} was accepted",
        )
    verdict.conclude()


@pytest.mark.operation(RES_START)
@requirement("CPO-RESERVATION-01")
def test_reservation_start_and_stop(sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict) -> None:
    if not sut.has("reservation"):
        raise NotJudged(f"{sut.source} does not declare the optional feature 'reservation'", declare="features")
    evse = available_evses(sut)[0]
    start = case(sut, ids, RES_START, evse)
    session_id = start.body["SessionID"]
    # For the hub a reservation's SessionID is a session: the CDR that may follow its stop must find it.
    hub.open_session(session_id, evse, sut.provider_id, start.body.get("Identification"), origin="reservation")
    answer = call_inbound(sut, RES_START, start)
    undo.reserved(start, answer)
    if not expect_ack(
        verdict, sut, answer, True, "CPO-RESERVATION-01", f"reservation of available EVSE {evse} was not accepted"
    ):
        verdict.conclude()
        return
    stop = call_inbound(sut, RES_STOP, case(sut, ids, RES_STOP, evse, session_id=session_id))
    if stop.result is True:
        undo.forget(session_id)
    expect_ack(verdict, sut, stop, True, "CPO-RESERVATION-01", "cancelling the reservation was not accepted")
    verdict.conclude()


def _refused_reservation(
    sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict, op_id: str, rid: str, what: str, evse: str
) -> None:
    """One reservation request the CPO cannot serve: a valid request, refused with an acknowledgement.

    Runs on its own, whether or not a reservation of an available EVSE succeeds (CPO-RESERVATION-01)."""
    if not sut.has("reservation"):
        raise NotJudged(f"{sut.source} does not declare the optional feature 'reservation'", declare="features")
    drawn = case(sut, ids, op_id, evse)
    if op_id == RES_START:  # for the hub a reservation's SessionID is a session, as in a real forward
        hub.open_session(drawn.body["SessionID"], evse, sut.provider_id, drawn.body.get("Identification"))
    answer = call_inbound(sut, op_id, drawn)
    undo.accepted(op_id, drawn, answer)
    expect_ack(verdict, sut, answer, False, rid, f"{what} was not refused with an acknowledgement (Result false)")
    verdict.conclude()


@pytest.mark.operation(RES_START)
@requirement("CPO-RESERVATION-02")
def test_reservation_of_unknown_evse_is_refused(
    sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict
) -> None:
    target = unknown_evse(sut)
    _refused_reservation(
        sut, hub, ids, undo, verdict, RES_START, "CPO-RESERVATION-02", f"a reservation of unknown EVSE {target}", target
    )


@pytest.mark.operation(RES_START)
@requirement("CPO-RESERVATION-02")
def test_reservation_of_out_of_service_evse_is_refused(
    sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict
) -> None:
    if not sut.out_of_service_evse:
        raise NotJudged("no out-of-service EVSE is declared", declare="out_of_service_evse")
    target = sut.out_of_service_evse
    what = f"a reservation of EVSE {target}, which is out of service"
    _refused_reservation(sut, hub, ids, undo, verdict, RES_START, "CPO-RESERVATION-02", what, target)


@pytest.mark.operation(RES_STOP)
@requirement("CPO-RESERVATION-03")
def test_stop_of_unknown_reservation_is_refused(
    sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict
) -> None:
    what = "a reservation stop whose SessionID no reservation start created"
    _refused_reservation(sut, hub, ids, undo, verdict, RES_STOP, "CPO-RESERVATION-03", what, available_evses(sut)[0])


def _judge_echo(verdict: Verdict, sent: Case, answer: Answer, what: str) -> None:
    """What an acknowledgement carries back of the request's session identifiers (both PRACTICE: warnings)."""
    if not isinstance(answer.body, dict):
        verdict.not_judged("CPO-ACK-IN-01", f"the answer to {what} is no JSON acknowledgement")
        verdict.not_judged("CPO-ACK-IN-02", f"the answer to {what} is no JSON acknowledgement")
        return
    said = answer.body.get("SessionID")
    verdict.about(
        answer,
        said is None or said == sent.body["SessionID"],
        "CPO-ACK-IN-01",
        f"the acknowledgement of {what} names SessionID {said!r}, the request's was {sent.body['SessionID']!r}",
    )
    for key in ("EMPPartnerSessionID", "CPOPartnerSessionID"):
        if isinstance(sent.body.get(key), str):
            verdict.about(
                answer,
                answer.body.get(key) == sent.body[key],
                "CPO-ACK-IN-02",
                f"the acknowledgement of {what} carries {key} {answer.body.get(key)!r}, the request's was "
                f"{sent.body[key]!r}",
            )


@pytest.mark.operation(START)
@requirement("CPO-ACK-IN-01", "CPO-ACK-IN-02")
def test_acknowledgements_carry_the_request_session(
    sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict
) -> None:
    """Every inbound operation, accepted and refused, with an EMPPartnerSessionID in the request."""
    evse = available_evses(sut)[-1]

    def sent(op_id: str, target: str, session_id: str | None = None, cpo_own: Any = None) -> tuple[Case, Answer]:
        drawn = case(sut, ids, op_id, target, session_id)
        # Hubject relays only a CPOPartnerSessionID the CPO gave it; a generated one would be the suite's invention.
        body = {k: v for k, v in drawn.body.items() if k != "CPOPartnerSessionID"}
        body["EMPPartnerSessionID"] = ids.partner_session_id("emp")
        if isinstance(cpo_own, str):
            body["CPOPartnerSessionID"] = cpo_own
        drawn = replace(drawn, body=body)
        if op_id in (START, RES_START):
            hub.open_session(drawn.body["SessionID"], target, sut.provider_id, drawn.body.get("Identification"))
        answer = call_inbound(sut, op_id, drawn)
        undo.accepted(op_id, drawn, answer)
        return drawn, answer

    started, answer = sent(START, evse)
    _judge_echo(verdict, started, answer, "a RemoteStart")
    own = answer.body.get("CPOPartnerSessionID") if isinstance(answer.body, dict) else None
    stopped, answer = sent(STOP, evse, started.body["SessionID"], own)
    if answer.result is True:
        undo.forget(started.body["SessionID"])
    _judge_echo(verdict, stopped, answer, "a RemoteStop")
    for op_id, target, what in (
        (START, unknown_evse(sut), "a refused RemoteStart"),
        (STOP, evse, "a refused RemoteStop"),
    ):
        drawn, answer = sent(op_id, target)
        _judge_echo(verdict, drawn, answer, what)
    if sut.has("reservation"):
        reserved, answer = sent(RES_START, evse)
        _judge_echo(verdict, reserved, answer, "a reservation start")
        drawn, answer = sent(RES_STOP, evse, reserved.body["SessionID"])
        if answer.result is True:
            undo.forget(reserved.body["SessionID"])
        _judge_echo(verdict, drawn, answer, "a reservation stop")
    verdict.conclude()
