"""Charging sessions end to end: authorisation, stop, notifications and the CDR, one SessionID throughout.

Messages the suite generates for a `{message}` trigger carry the flow's state (SessionID, Identification,
EvseID, partner session IDs, timestamps after the start), so a forwarding SUT is never blamed for them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from conformance.hub import FakeHub
from conformance.oicp.sessions import cdr_problems
from conformance.suites.cases import IdSource
from conformance.suites.cpo.authorize_stop import stop_and_judge
from conformance.suites.cpo.helpers import (
    CDR,
    RFID,
    START,
    STOP,
    Undo,
    available_evses,
    belongs_to_sut,
    call_inbound,
    case,
    journal_text,
    of,
    require_trigger,
    rerun,
    settle,
    trigger,
    undo,
    wait_for,
)
from conformance.suites.plugin import requirement
from conformance.suites.verdicts import NotJudged, Verdict
from conformance.sut import Sut
from conformance.sut.messages import wants_message

__all__ = ["undo"]

AUTH_START, AUTH_STOP, NOTE = "AuthorizeStart.hub", "AuthorizeStop.hub", "ChargingNotification.hub"


def _judge_cdrs(sut: Sut, session_id: str, calls: list, verdict: Verdict, reproduce: str, partner_id: Any) -> None:
    cdrs = of(calls, CDR)
    verdict.check(
        bool(cdrs), "CPO-SESSION-01", "no CDR reached the hub after the session ended", journal_text(calls), reproduce
    )
    if not cdrs:
        for rid in ("CPO-CDR-01", "CPO-CDR-02", "CPO-SESSION-02", "CPO-SESSION-04"):
            verdict.not_judged(rid, "no CDR reached the hub (see CPO-SESSION-01)")
        return
    for call in cdrs:  # schema validity and the hub's refusals: judged on every call by the journal-wide judgement
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
        if not partner_id:
            verdict.not_judged("CPO-SESSION-04", "the session had no CPOPartnerSessionID to keep", applies=False)
        elif isinstance(call.body, dict):
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


def authorize(sut: Sut, hub: FakeHub, verdict: Verdict, ids: IdSource, evse: str) -> tuple[Any, dict[str, Any]]:
    """Make the CPO authorise RFID at `evse`; the accepted AuthorizeStart call and the flow state, or not judged.

    A forwarding SUT gets an AuthorizeStart with a CPOPartnerSessionID of its own, as a CPO would send it."""
    require_trigger(sut, "authorize_start")
    started_at = datetime.now(UTC).replace(microsecond=0)
    partner = ids.partner_session_id("cpo") if wants_message(sut, "authorize_start") else None
    trigger(
        sut,
        hub,
        verdict,
        "authorize_start",
        ids.seed(),
        identification=RFID,
        evse_id=evse,
        started_at=started_at,
        cpo_partner_session_id=partner,
    )
    calls = wait_for(hub, lambda cs: any(c.accepted for c in of(cs, AUTH_START)), sut.retry_window)
    starts = [c for c in of(calls, AUTH_START) if c.accepted]
    if not starts:
        return None, {"calls": calls}
    start = starts[-1]
    body = start.body or {}
    flow = {
        "session_id": start.response["SessionID"],
        "evse_id": body.get("EvseID", evse),
        "identification": body.get("Identification", RFID),
        "cpo_partner_session_id": body.get("CPOPartnerSessionID"),
        "emp_partner_session_id": start.response.get("EMPPartnerSessionID"),
        "started_at": started_at,
    }
    return start, flow


@pytest.mark.operation(AUTH_START, service="charging")
@requirement(
    "CPO-AUTH-01",
    "CPO-SESSION-01",
    "CPO-SESSION-02",
    "CPO-SESSION-03",
    "CPO-SESSION-04",
    "CPO-CDR-01",
    "CPO-CDR-02",  # with CPO-AUTH-STOP-01 judged on the journal too (conformance/checks/journal.py)
    "CPO-AUTH-STOP-01",
)
def test_authorize_start_stop_cdr(sut: Sut, hub: FakeHub, seed: int, ids: IdSource, verdict: Verdict) -> None:
    evse = available_evses(sut)[0]
    reproduce = rerun(sut, seed, "test_authorize_start_stop_cdr")
    start, flow = authorize(sut, hub, verdict, ids, evse)
    if start is None:
        verdict.add("CPO-AUTH-01", "no accepted AuthorizeStart reached the hub", journal_text(flow["calls"]), reproduce)
        raise NotJudged("the session never started (see CPO-AUTH-01)")
    body = start.body or {}
    verdict.check(
        belongs_to_sut(sut, body.get("EvseID", evse)),
        "CPO-AUTH-01",
        "AuthorizeStart names an EVSE of another operator",
        start.summary(),
        reproduce,
    )
    session_id = flow["session_id"]
    if not sut.has("authorize_stop"):
        for rid in ("CPO-SESSION-03", "CPO-AUTH-STOP-01"):
            verdict.not_judged(rid, "the optional feature 'authorize_stop' is not declared", "features")
    elif "authorize_stop" not in sut.triggers:
        for rid in ("CPO-SESSION-03", "CPO-AUTH-STOP-01"):
            verdict.not_judged(rid, "trigger 'authorize_stop' is not declared", "[triggers.authorize_stop]")
    else:
        stop_and_judge(sut, hub, verdict, flow, start, seed + 1, reproduce)
    if "end_session" not in sut.triggers:
        for rid in ("CPO-SESSION-01", "CPO-SESSION-02", "CPO-SESSION-04", "CPO-CDR-01", "CPO-CDR-02"):
            verdict.not_judged(rid, "trigger 'end_session' is not declared: no CDR to judge", "[triggers.end_session]")
        verdict.conclude()
        return
    trigger(sut, hub, verdict, "end_session", seed + 2, **flow)
    wait_for(hub, lambda cs: bool(of(cs, CDR)), sut.retry_window)
    _judge_cdrs(sut, session_id, settle(hub), verdict, reproduce, flow["cpo_partner_session_id"])
    verdict.conclude()


@pytest.mark.operation(START, service="charging")
@requirement("CPO-SESSION-01", "CPO-SESSION-02", "CPO-CDR-01", "CPO-CDR-02", "CPO-NOTIFY-01", "CPO-RULE-08")
def test_remote_start_notify_stop_cdr(
    sut: Sut, hub: FakeHub, seed: int, ids: IdSource, undo: Undo, verdict: Verdict
) -> None:
    evse = available_evses(sut)[-1]
    reproduce = rerun(sut, seed, "test_remote_start_notify_stop_cdr")
    started_at = datetime.now(UTC).replace(microsecond=0)
    start = case(sut, ids, START, evse)
    session_id = start.body["SessionID"]
    hub.open_session(session_id, evse, sut.provider_id, start.body["Identification"])
    answer = call_inbound(sut, START, start)
    undo.started(start, answer)
    if answer.result is not True:
        raise NotJudged(f"setup failed: RemoteStart not accepted ({answer.describe()[:200]}); see CPO-REMOTE-START-01")
    flow = {
        "session_id": session_id,
        "evse_id": evse,
        "identification": start.body["Identification"],
        "cpo_partner_session_id": answer.body.get("CPOPartnerSessionID"),
        "emp_partner_session_id": start.body.get("EMPPartnerSessionID"),
        "started_at": started_at,
    }
    if not sut.has("charging_notifications"):
        verdict.not_judged("CPO-NOTIFY-01", "the optional feature 'charging_notifications' is not declared", "features")
    elif "send_notification" not in sut.triggers:
        verdict.not_judged(
            "CPO-NOTIFY-01", "trigger 'send_notification' is not declared", "[triggers.send_notification]"
        )
    else:
        trigger(sut, hub, verdict, "send_notification", seed, type="Start", **flow)
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
    stopped = call_inbound(sut, STOP, case(sut, ids, STOP, evse, session_id=session_id))
    if stopped.result is True:
        undo.forget(session_id)
    if "end_session" in sut.triggers and not of(wait_for(hub, lambda cs: bool(of(cs, CDR)), 3), CDR):
        trigger(sut, hub, verdict, "end_session", seed + 1, **flow)
    wait_for(hub, lambda cs: bool(of(cs, CDR)), sut.retry_window)
    calls = settle(hub)
    _judge_cdrs(sut, session_id, calls, verdict, reproduce, flow["cpo_partner_session_id"])
    # CPO-RULE-08 (RemoteIdentification only) is judged on the CDR and notifications by the journal-wide judgement
    if not any(c.session_origin == "remote" for c in of(calls, CDR)):
        declare = None if "end_session" in sut.triggers else "[triggers.end_session]"
        why = "" if declare is None else " (trigger 'end_session' is not declared)"
        reason = f"no CDR of remote session {session_id} was taken up by the hub{why}"
        verdict.not_judged("CPO-RULE-08", reason, declare)
    verdict.conclude()
