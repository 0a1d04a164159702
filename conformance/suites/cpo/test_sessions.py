"""Charging sessions end to end: authorisation, stop, notifications and the CDR, one SessionID throughout."""

from __future__ import annotations

import itertools

import pytest

from conformance.hub import FakeHub
from conformance.hub.state import fingerprint
from conformance.oicp.ids import belongs_to
from conformance.oicp.sessions import cdr_problems
from conformance.suites.cpo.helpers import (
    RFID,
    available_evses,
    call_inbound,
    case,
    journal_text,
    of,
    rerun,
    settle,
    trigger,
    wait_for,
)
from conformance.suites.plugin import Verdict, requirement
from conformance.sut import Sut

START, STOP, CDR, NOTE = "AuthorizeStart.hub", "AuthorizeStop.hub", "ChargeDetailRecord.hub", "ChargingNotification.hub"


def _judge_cdrs(
    sut: Sut, session_id: str, calls: list, verdict: Verdict, reproduce: str, partner_id: str | None
) -> None:
    cdrs = of(calls, CDR)
    verdict.check(
        bool(cdrs), "CPO-SESSION-01", "no CDR reached the hub after the session ended", journal_text(calls), reproduce
    )
    for call in cdrs:
        verdict.check(
            not call.violations,
            "CPO-CDR-01",
            "the CDR is not schema-valid",
            "\n".join(str(v) for v in call.violations[:10]),
            reproduce,
        )
        if isinstance(call.body, dict) and not call.violations:
            problems = cdr_problems(call.body)
            verdict.check(
                not problems, "CPO-CDR-01", "the CDR breaks OICP's session rules", "\n".join(problems), reproduce
            )
        sid = call.body.get("SessionID") if isinstance(call.body, dict) else None
        verdict.check(
            sid == session_id,
            "CPO-SESSION-01",
            f"the CDR carries SessionID {sid}, the hub issued {session_id}",
            call.summary(),
            reproduce,
        )
        if partner_id and isinstance(call.body, dict):
            verdict.check(
                call.body.get("CPOPartnerSessionID") == partner_id,
                "CPO-SESSION-04",
                "the CDR dropped the CPOPartnerSessionID of the session",
                f"expected {partner_id}, got {call.body.get('CPOPartnerSessionID')}",
                reproduce,
            )
    mine = [c for c in cdrs if isinstance(c.body, dict) and c.body.get("SessionID") == session_id]
    # A second CDR is a retry only where the one before got no clean acknowledgement (a scripted fault).
    extra = [later for earlier, later in itertools.pairwise(mine) if earlier.accepted and not earlier.fault]
    verdict.check(
        not extra,
        "CPO-SESSION-02",
        f"{len(mine)} CDRs were sent for session {session_id} although the first was acknowledged",
        journal_text(mine),
        reproduce,
    )


@pytest.mark.operation(START, service="charging")
@requirement("CPO-AUTH-01", "CPO-SESSION-01", "CPO-SESSION-02", "CPO-SESSION-03", "CPO-SESSION-04", "CPO-CDR-01")
def test_authorize_start_stop_cdr(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    evse = available_evses(sut)[0]
    reproduce = rerun(sut, seed, "test_authorize_start_stop_cdr")
    trigger(sut, "authorize_start", identification=RFID, evse_id=evse)
    calls = wait_for(hub, lambda cs: any(c.accepted for c in of(cs, START)), sut.retry_window)
    starts = [c for c in of(calls, START) if c.accepted]
    if not starts:
        verdict.add("CPO-AUTH-01", "no accepted AuthorizeStart reached the hub", journal_text(calls), reproduce)
        verdict.conclude()
        return
    start = starts[-1]
    body = start.body or {}
    verdict.check(
        belongs_to(body.get("EvseID", evse), sut.operator_id),
        "CPO-AUTH-01",
        "AuthorizeStart names an EVSE of another operator",
        start.summary(),
        reproduce,
    )
    session_id, partner_id = start.response["SessionID"], body.get("CPOPartnerSessionID")
    if sut.has("authorize_stop"):
        trigger(sut, "authorize_stop", session_id=session_id)
        calls = wait_for(hub, lambda cs: bool(of(cs, STOP)), sut.retry_window)
        for stop in of(calls, STOP):
            sent = stop.body or {}
            verdict.check(
                sent.get("SessionID") == session_id,
                "CPO-SESSION-01",
                f"AuthorizeStop carries SessionID {sent.get('SessionID')}, not {session_id}",
                stop.summary(),
                reproduce,
            )
            verdict.check(
                fingerprint(sent.get("Identification")) == fingerprint(body.get("Identification")),
                "CPO-SESSION-03",
                "the session was stopped with another identification than its start",
                f"start: {body.get('Identification')}\nstop:  {sent.get('Identification')}",
                reproduce,
            )
    trigger(sut, "end_session", session_id=session_id)
    wait_for(hub, lambda cs: bool(of(cs, CDR)), sut.retry_window)
    _judge_cdrs(sut, session_id, settle(hub), verdict, reproduce, partner_id)
    verdict.conclude()


@pytest.mark.operation("AuthorizeRemoteStart.cpo", service="charging")
@requirement("CPO-SESSION-01", "CPO-SESSION-02", "CPO-CDR-01", "CPO-NOTIFY-01")
def test_remote_start_notify_stop_cdr(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    evse = available_evses(sut)[-1]
    reproduce = rerun(sut, seed, "test_remote_start_notify_stop_cdr")
    start = case(sut, "AuthorizeRemoteStart.cpo", seed, evse)
    session_id = start.body["SessionID"]
    hub.open_session(session_id, evse, sut.provider_id, start.body["Identification"])
    answer = call_inbound(sut, "AuthorizeRemoteStart.cpo", start)
    if answer.result is not True:
        pytest.skip(f"RemoteStart not accepted ({answer.describe()}); see CPO-REMOTE-START-01")
    partner_id = answer.body.get("CPOPartnerSessionID")
    if sut.has("charging_notifications") and "send_notification" in sut.triggers:
        trigger(sut, "send_notification", session_id=session_id, type="Start")
        notes = of(wait_for(hub, lambda cs: bool(of(cs, NOTE)), sut.retry_window), NOTE)
        verdict.check(
            bool(notes) and all(n.accepted for n in notes),
            "CPO-NOTIFY-01",
            "the Start notification is missing or was refused",
            journal_text(notes),
            reproduce,
        )
        for note in notes:
            verdict.check(
                (note.body or {}).get("SessionID") == session_id,
                "CPO-SESSION-01",
                "the notification carries another SessionID",
                note.summary(),
                reproduce,
            )
    stop = case(sut, "AuthorizeRemoteStop.cpo", seed, evse, session_id=session_id)
    call_inbound(sut, "AuthorizeRemoteStop.cpo", stop)
    if "end_session" in sut.triggers and not wait_for(hub, lambda cs: bool(of(cs, CDR)), 3):
        trigger(sut, "end_session", session_id=session_id)
    wait_for(hub, lambda cs: bool(of(cs, CDR)), sut.retry_window)
    _judge_cdrs(sut, session_id, settle(hub), verdict, reproduce, partner_id)
    verdict.conclude()
