"""Hubject -> online EMP: authorisations, stops, CDRs and notifications, valid and broken, as Hubject forwards them.

Every case carries a SessionID of its own; a CDR or stop names a session the EMP itself authorised in the
same test, so the EMP is never blamed for a session the suite made up (except where that is the case)."""

from __future__ import annotations

import pytest

from conformance.strategies import Pins
from conformance.suites.cases import IdSource, broken_requests, hub_request
from conformance.suites.emp.helpers import (
    AUTH_START,
    AUTH_STOP,
    CDR,
    NOTE,
    authorize_start,
    authorized,
    hub_pins,
    known_identifications,
    online_only,
    unknown_identification,
)
from conformance.suites.plugin import requirement
from conformance.suites.steps import (
    ack_problems,
    call_inbound,
    expect_ack,
    invalid_requirement,
    judge_broken_request,
    probed,
)
from conformance.suites.verdicts import NotJudged, Verdict
from conformance.sut import Sut

AUTHORIZATION = "eRoamingAuthorizationStart"
TIME_LIMIT = 10.0  # seconds: the CPO chapters' RemoteStart best practice, the only figure the spec gives


def _judge_authorization(verdict: Verdict, sut: Sut, answer, rid: str, message: str, what: str) -> bool:
    problems = ack_problems(answer, sut.release, message)
    return verdict.about(
        answer, not problems, rid, f"{what} was not answered with a valid {message}", "\n".join(problems) or None
    )


@pytest.mark.operation(AUTH_START)
@requirement(
    "EMP-IN-AUTH-START-01",
    "EMP-IN-AUTH-START-02",
    "EMP-IN-AUTH-START-03",
    "EMP-IN-AUTH-START-04",
    "EMP-IN-AUTH-START-06",
    "EMP-IN-TIME-01",
)
def test_known_identifications_are_authorized(sut: Sut, ids: IdSource, verdict: Verdict) -> None:
    online_only(sut)
    known = known_identifications(sut)
    if not known:
        raise NotJudged("the declaration lists no identification the EMP knows", declare="[identifications]")
    for what, identification in known:
        drawn, answer = authorize_start(sut, ids, identification)
        if not _judge_authorization(
            verdict, sut, answer, "EMP-IN-AUTH-START-01", AUTHORIZATION, f"AuthorizeStart for {what}"
        ):
            continue
        body = answer.body
        verdict.about(
            answer, authorized(answer), "EMP-IN-AUTH-START-04", f"AuthorizeStart for known {what} was not Authorized"
        )
        if authorized(answer):
            verdict.about(
                answer, "ProviderID" in body, "EMP-IN-AUTH-START-02", f"Authorized answer for {what} has no ProviderID"
            )
            if "ProviderID" in body:
                verdict.about(
                    answer,
                    body["ProviderID"] == sut.provider_id,
                    "EMP-IN-AUTH-START-03",
                    f"Authorized answer for {what} names ProviderID {body['ProviderID']}, not {sut.provider_id}",
                )
        allowed = (drawn.body["SessionID"],) if authorized(answer) else (None, drawn.body["SessionID"])
        verdict.about(
            answer,
            body.get("SessionID") in allowed,
            "EMP-IN-AUTH-START-06",
            f"the answer for {what} names SessionID {body.get('SessionID')}, Hubject sent {drawn.body['SessionID']}",
        )
        verdict.about(
            answer,
            answer.elapsed <= TIME_LIMIT,
            "EMP-IN-TIME-01",
            f"AuthorizeStart answered after {answer.elapsed:.1f} s",
        )
    verdict.conclude()


@pytest.mark.operation(AUTH_START)
@requirement("EMP-IN-AUTH-START-01", "EMP-IN-AUTH-START-05", "EMP-IN-AUTH-START-07", "EMP-IN-AUTH-START-08")
def test_unknown_identification_is_not_authorized(sut: Sut, ids: IdSource, verdict: Verdict) -> None:
    online_only(sut)
    identification = unknown_identification(sut, ids)
    uid = identification["RFIDMifareFamilyIdentification"]["UID"]
    _, answer = authorize_start(sut, ids, identification)
    if _judge_authorization(
        verdict, sut, answer, "EMP-IN-AUTH-START-01", AUTHORIZATION, f"AuthorizeStart for unknown UID {uid}"
    ):
        refused = answer.body.get("AuthorizationStatus") == "NotAuthorized"
        verdict.about(
            answer, refused, "EMP-IN-AUTH-START-05", f"AuthorizeStart for unknown UID {uid} was not NotAuthorized"
        )
        if refused:
            verdict.about(
                answer, answer.code != "000", "EMP-IN-AUTH-START-07", "the NotAuthorized answer carries StatusCode 000"
            )
            verdict.about(
                answer,
                answer.code in {"102", "106", "210"},
                "EMP-IN-AUTH-START-08",
                f"the NotAuthorized answer for an unknown UID carries StatusCode {answer.code}, expected 102",
            )
        else:
            for rid in ("EMP-IN-AUTH-START-07", "EMP-IN-AUTH-START-08"):
                verdict.not_judged(rid, "the unknown UID was not refused (see EMP-IN-AUTH-START-05)")
    verdict.conclude()


def _authorized_session(sut: Sut, ids: IdSource):
    """A session the EMP itself authorised in this test: the start case and its flow pins, or not judged."""
    known = known_identifications(sut)
    if not known:
        raise NotJudged("the declaration lists no identification the EMP knows", declare="[identifications]")
    what, identification = known[0]
    drawn, answer = authorize_start(sut, ids, identification)
    if not authorized(answer):
        raise NotJudged(f"setup failed: AuthorizeStart for {what} was not Authorized ({answer.describe()[:200]})")
    return drawn, identification


@pytest.mark.operation(AUTH_STOP)
@requirement("EMP-IN-AUTH-STOP-01", "EMP-IN-AUTH-STOP-02", "EMP-IN-AUTH-STOP-03")
def test_authorize_stop(sut: Sut, ids: IdSource, verdict: Verdict) -> None:
    online_only(sut)
    if not sut.has("authorize_stop"):
        raise NotJudged(f"{sut.source} does not declare the optional feature 'authorize_stop'", declare="features")
    start, identification = _authorized_session(sut, ids)
    pins = hub_pins(sut, identification)
    stop = hub_request(ids, AUTH_STOP, sut.release, pins, session_id=start.body["SessionID"])
    answer = call_inbound(sut, AUTH_STOP, stop)
    if _judge_authorization(verdict, sut, answer, "EMP-IN-AUTH-STOP-01", "eRoamingAuthorizationStop", "AuthorizeStop"):
        verdict.about(
            answer,
            authorized(answer),
            "EMP-IN-AUTH-STOP-03",
            "AuthorizeStop of the EMP's own session was not Authorized",
        )
    stranger = hub_request(ids, AUTH_STOP, sut.release, pins)  # a SessionID no AuthorizeStart created
    answer = call_inbound(sut, AUTH_STOP, stranger)
    if _judge_authorization(
        verdict, sut, answer, "EMP-IN-AUTH-STOP-01", "eRoamingAuthorizationStop", "AuthorizeStop of an unknown session"
    ):
        verdict.about(
            answer,
            not authorized(answer),
            "EMP-IN-AUTH-STOP-02",
            "AuthorizeStop of a session the EMP never saw was Authorized",
        )
    verdict.conclude()


def _cdr_for(sut: Sut, ids: IdSource, start, identification):
    pins = hub_pins(sut, identification)
    return hub_request(ids, CDR, sut.release, Pins(**{**pins.__dict__, "evse_ids": (start.body["EvseID"],)}),
                       session_id=start.body["SessionID"])  # fmt: skip


@pytest.mark.operation(CDR)
@requirement("EMP-IN-CDR-01", "EMP-IN-CDR-02", "EMP-IN-CDR-05", "EMP-IN-CDR-06")
def test_cdr_is_booked_once_also_when_sent_again(sut: Sut, ids: IdSource, verdict: Verdict) -> None:
    online_only(sut)
    start, identification = _authorized_session(sut, ids)
    session_id = start.body["SessionID"]
    cdr = _cdr_for(sut, ids, start, identification)
    first = call_inbound(sut, CDR, cdr)
    if _judge_authorization(verdict, sut, first, "EMP-IN-CDR-01", "eRoamingAcknowledgment", "the CDR"):
        verdict.about(
            first, first.result is True, "EMP-IN-CDR-01", "the CDR of a session the EMP authorised was refused"
        )
    again = call_inbound(sut, CDR, cdr)  # as after an acknowledgement lost on the way back
    verdict.about(
        again,
        again.status is not None and again.status < 500,
        "EMP-IN-CDR-05",
        "the CDR sent again got no answer or a 5xx",
    )
    verdict.about(
        again, again.result is first.result, "EMP-IN-CDR-06", "the CDR sent again was answered otherwise than the first"
    )
    booked = probed(sut, verdict, "cdrs", "EMP-IN-CDR-02")
    if booked is not None:
        count = booked.count(session_id)
        verdict.check(
            count == (1 if first.result is True else 0),
            "EMP-IN-CDR-02",
            f"the EMP answered Result {first.result} but its records show {count} CDR(s) for session {session_id}",
            f"probe {sut.probes['cdrs']}",
            first.curl,
        )
        verdict.check(count <= 1, "EMP-IN-CDR-05", f"the CDR sent twice was booked {count} times", "", first.curl)
    else:
        verdict.not_judged("EMP-IN-CDR-05", "no cdrs probe to see how often the CDR was booked", "[probes] cdrs")
    verdict.conclude()


@pytest.mark.operation(CDR)
@requirement("EMP-IN-CDR-03")
def test_cdr_of_an_unknown_session_is_refused(sut: Sut, ids: IdSource, verdict: Verdict) -> None:
    online_only(sut)
    identification = unknown_identification(sut, ids)  # no customer of the EMP ...
    cdr = hub_request(ids, CDR, sut.release, hub_pins(sut, identification))  # ... and a SessionID it never saw
    answer = call_inbound(sut, CDR, cdr)
    expect_ack(
        verdict,
        sut,
        answer,
        False,
        "EMP-IN-CDR-03",
        "a CDR for a session the EMP never authorised, of no customer of its, was not refused with Result false",
    )
    verdict.conclude()


@pytest.mark.operation(CDR)
@requirement("EMP-IN-CDR-04")
def test_impossible_cdr_is_refused(sut: Sut, ids: IdSource, verdict: Verdict) -> None:
    online_only(sut)
    start, identification = _authorized_session(sut, ids)
    cdr = _cdr_for(sut, ids, start, identification)
    body = dict(cdr.body)
    body["SessionEnd"], body["SessionStart"] = body["SessionStart"], body["SessionEnd"]  # ends before it starts
    if body["SessionEnd"] == body["SessionStart"]:
        body["ConsumedEnergy"] = float(body["ConsumedEnergy"]) + 5  # else: energy that does not add up
    impossible = type(cdr)(**{**cdr.__dict__, "body": body})
    answer = call_inbound(sut, CDR, impossible)
    expect_ack(
        verdict,
        sut,
        answer,
        False,
        "EMP-IN-CDR-04",
        "a CDR that ends before it starts was not refused with Result false",
    )
    verdict.conclude()


@pytest.mark.operation(NOTE)
@requirement("EMP-IN-NOTIFY-01")
def test_every_notification_type_is_acknowledged(sut: Sut, ids: IdSource, verdict: Verdict) -> None:
    online_only(sut)
    if not sut.has("charging_notifications"):
        raise NotJudged(f"{sut.source} does not declare 'charging_notifications'", declare="features")
    start, identification = _authorized_session(sut, ids)
    for kind in ("Start", "Progress", "End", "Error"):
        note = hub_request(
            ids, NOTE, sut.release, hub_pins(sut, identification), session_id=start.body["SessionID"],
            message=f"eRoamingChargingNotification{kind}",
        )  # fmt: skip
        answer = call_inbound(sut, NOTE, note)
        expect_ack(verdict, sut, answer, True, "EMP-IN-NOTIFY-01", f"the {kind} notification was not acknowledged")
    verdict.conclude()


@pytest.mark.operation(AUTH_START)
@requirement("EMP-IN-INVALID-01", "EMP-IN-INVALID-02")
def test_invalid_requests_are_refused(sut: Sut, ids: IdSource, verdict: Verdict) -> None:
    online_only(sut)
    known = known_identifications(sut)
    pins = hub_pins(sut, known[0][1] if known else None)
    # The requests an EMP decides on; a notification only informs, and no sentence asks the EMP to refuse one.
    decided = [AUTH_START, CDR] + ([AUTH_STOP] if sut.has("authorize_stop") else [])
    for op_id in decided:
        for drawn in broken_requests(ids, op_id, sut.release, pins):
            if drawn.mutation == "path-id-mismatch":
                continue  # the path names the CPO's operator, which the EMP has no reason to compare
            answer = call_inbound(sut, op_id, drawn)
            served = authorized(answer) or answer.result is True
            judge_broken_request(verdict, invalid_requirement(drawn, "emp"), op_id, drawn, answer, served)
    verdict.conclude()
