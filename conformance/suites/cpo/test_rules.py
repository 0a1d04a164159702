"""OICP rules beyond the schema on what the CPO sends, and what it must (not) send after a refusal, a hub error
or a reservation stop.

The message rules themselves live in `conformance.checks.rules` (judged on every journal of the suite);
`test_messages_keep_oicp_rules` drives one flow that produces every message they govern, so each rule is
judged in one test that a `-k` or `--oicp-requirement` run repeats on its own."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from conformance.checks.rules import RULE_REQUIREMENTS, judge_calls, pushed_records
from conformance.hub import Call, FakeHub, Fault
from conformance.strategies.context import evco_id_for
from conformance.suites.cases import IdSource
from conformance.suites.cpo.helpers import (
    CDR,
    RES_START,
    RES_STOP,
    Undo,
    available_evses,
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
from conformance.suites.cpo.test_sessions import authorize
from conformance.suites.plugin import requirement
from conformance.suites.steps import judge_sent_again
from conformance.suites.verdicts import NotJudged, Verdict
from conformance.sut import Sut
from conformance.sut.client import ProbeError, probe
from conformance.sut.messages import wants_message

__all__ = ["undo"]

DATA, AUTH_START, NOTE = "PushEvseData.hub", "AuthorizeStart.hub", "ChargingNotification.hub"
# A customer the hub refuses (hub.deny): its card is unknown to every EMP.
REFUSED_CARD = {"RFIDMifareFamilyIdentification": {"UID": "0BADCAFE"}}
# The parts of the flow each message rule needs, so that every rule of its group is judged: the EVSE data
# (geo, energy, opening times, payment, country), a QR code AuthorizeStart (identification rules), the session's CDR
# (signed values against the EVSE data, MeteringSignature, local time).
NEEDS = {
    "CPO-RULE-01": ("qr",),
    "CPO-RULE-02": ("data", "cdr"),
    "CPO-RULE-03": ("data", "cdr"),
    "CPO-RULE-04": ("cdr",),
    "CPO-RULE-07": ("data",),
}
ZONE = 'time_zone = "Europe/Berlin"'


def qr_identification(sut: Sut) -> dict[str, Any]:
    """A QR code customer of the EMP the suite plays (the hub authorises it by its EvcoID's ProviderID)."""
    return {"QRCodeIdentification": {"EvcoID": evco_id_for(sut.provider_id, "00004711", "3"), "PIN": "1234"}}


def judge_rules(sut: Sut, calls: list[Call], verdict: Verdict, flow: dict[str, Any]) -> None:
    """Mark each message rule whose part of the flow did not happen as not judged, with the reason and what to
    declare: a group's pass must not rest on some of its rules alone.

    The breaches themselves (and the passes) are recorded by the suite's journal-wide judgement, which applies
    `conformance.checks.rules.judge_calls` to this test's journal as to every other's
    (conformance/checks/journal.py): recording them here too would report every breach twice."""
    found = judge_calls(sut, calls)
    missing = _missing(sut, calls, flow)
    for rid in RULE_REQUIREMENTS:
        gaps = [missing[part] for part in NEEDS[rid] if part in missing]
        if not gaps and rid == "CPO-RULE-04" and rid not in found:
            why = "no local time is known for the CDR's charge point: no time_zone is declared and no Address.TimeZone"
            gaps = [(f"{why} in EVSE data pushed before it", ZONE)]
        if not gaps and rid not in found:
            gaps = [("nothing the flow sent was governed by these rules", None)]
        if gaps:
            reason, declare = gaps[0]
            verdict.not_judged(rid, reason, declare)


def _missing(sut: Sut, calls: list[Call], flow: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """Which parts of the flow did not happen ("data", "qr", "cdr"), each with why and what to declare."""
    missing: dict[str, tuple[str, str | None]] = {}
    if "push_evse_data" not in sut.triggers:
        missing["data"] = ("trigger 'push_evse_data' is not declared: no EVSE data", "[triggers.push_evse_data]")
    elif not of(calls, DATA):
        missing["data"] = ("no EVSE data reached the hub (see CPO-EVSE-DATA-01)", None)
    starts = of(calls, AUTH_START)
    if "authorize_start" not in sut.triggers:
        missing["qr"] = ("trigger 'authorize_start' is not declared: no AuthorizeStart", "[triggers.authorize_start]")
    elif not starts:
        missing["qr"] = ("no AuthorizeStart reached the hub (see CPO-AUTH-01)", None)
    elif not any("QRCodeIdentification" in ((c.body or {}).get("Identification") or {}) for c in starts):
        missing["qr"] = ("the AuthorizeStart carried no QR code identification, though the trigger was given one", None)
    if "end_session" not in sut.triggers:
        missing["cdr"] = ("trigger 'end_session' is not declared: no CDR", "[triggers.end_session]")
    elif "authorize_start" not in sut.triggers:
        missing["cdr"] = ("trigger 'authorize_start' is not declared: no session, no CDR", "[triggers.authorize_start]")
    elif not flow:
        missing["cdr"] = ("the QR code session never started (see CPO-AUTH-01): no CDR", None)
    elif not of(calls, CDR):
        missing["cdr"] = ("no CDR reached the hub (see CPO-SESSION-01)", None)
    records = pushed_records(calls)
    if records and of(calls, CDR) and not any((c.body or {}).get("EvseID") in records for c in of(calls, CDR)):
        missing["data"] = ("the CDR names an EVSE whose data were not pushed: its calibration law is unknown", None)
    return missing


def _authorize_qr(sut: Sut, hub: FakeHub, verdict: Verdict, ids: IdSource, evse: str, seed: int) -> dict[str, Any]:
    """Authorise a QR code customer at `evse`; the flow state of the accepted session, or {} (none accepted)."""
    started_at = datetime.now(UTC).replace(microsecond=0)
    identification = qr_identification(sut)
    partner = ids.partner_session_id("cpo") if wants_message(sut, "authorize_start") else None
    trigger(
        sut,
        hub,
        verdict,
        "authorize_start",
        seed,
        identification=identification,
        evse_id=evse,
        started_at=started_at,
        cpo_partner_session_id=partner,
    )
    calls = wait_for(hub, lambda cs: any(c.accepted for c in of(cs, AUTH_START)), sut.retry_window)
    starts = [c for c in of(calls, AUTH_START) if c.accepted and isinstance(c.response, dict)]
    if not starts or not starts[-1].response.get("SessionID"):
        return {}
    body = starts[-1].body or {}
    return {
        "session_id": starts[-1].response["SessionID"],
        "evse_id": body.get("EvseID", evse),
        "identification": body.get("Identification", identification),
        "cpo_partner_session_id": body.get("CPOPartnerSessionID"),
        "emp_partner_session_id": starts[-1].response.get("EMPPartnerSessionID"),
        "started_at": started_at,
    }


@pytest.mark.operation(CDR, service="cdrmgmt")
@requirement(*RULE_REQUIREMENTS)
def test_messages_keep_oicp_rules(sut: Sut, hub: FakeHub, seed: int, ids: IdSource, verdict: Verdict) -> None:
    """The CPO's EVSE data, a QR code authorisation and its CDR keep the OICP rules the schema cannot express.

    One flow (full load of the EVSE data, AuthorizeStart with a QR code, the session's CDR) so the CDR's EVSE
    data and the charge point's time zone are known; each rule is judged on whatever of it reached the hub."""
    evse = available_evses(sut)[0]
    flow: dict[str, Any] = {}
    if "push_evse_data" in sut.triggers:
        trigger(sut, hub, verdict, "push_evse_data", seed, action="fullLoad", evse_ids=json.dumps(list(sut.evse_ids)))
        wait_for(hub, lambda cs: any(c.accepted for c in of(cs, DATA)), sut.retry_window)
    if "authorize_start" in sut.triggers:
        flow = _authorize_qr(sut, hub, verdict, ids, evse, seed + 1)
        if flow and "end_session" in sut.triggers:
            trigger(sut, hub, verdict, "end_session", seed + 2, **flow)
            wait_for(hub, lambda cs: bool(of(cs, CDR)), sut.retry_window)
    judge_rules(sut, settle(hub), verdict, flow)
    verdict.conclude()


@pytest.mark.operation(AUTH_START, service="charging")
@requirement("CPO-RULE-05")
def test_nothing_is_charged_after_not_authorized(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    """After the hub answered AuthorizeStart with NotAuthorized the CPO charges nothing: no session, no
    notification, no CDR."""
    require_trigger(sut, "authorize_start")
    reproduce = rerun(sut, seed, "test_nothing_is_charged_after_not_authorized")
    before = _sessions(sut, verdict)
    hub.deny(REFUSED_CARD)
    trigger(
        sut,
        hub,
        verdict,
        "authorize_start",
        seed,
        identification=REFUSED_CARD,
        evse_id=available_evses(sut)[0],
        started_at=datetime.now(UTC).replace(microsecond=0),
    )
    starts = of(wait_for(hub, lambda cs: bool(of(cs, AUTH_START)), sut.retry_window), AUTH_START)
    refused = [
        c for c in starts if isinstance(c.response, dict) and c.response.get("AuthorizationStatus") == "NotAuthorized"
    ]
    if not refused:
        raise NotJudged("no AuthorizeStart was answered NotAuthorized by the hub (see CPO-AUTH-01)")
    calls = settle(hub, quiet=2.0, seconds=min(sut.retry_window, 10.0))
    after = [c for c in calls if c.seq > refused[0].seq and c.operation in (CDR, NOTE)]
    verdict.check(
        not after,
        "CPO-RULE-05",
        f"after NotAuthorized the CPO sent {len(after)} CDR(s) or charging notification(s) all the same",
        journal_text(calls),
        reproduce,
    )
    now = _sessions(sut, verdict)
    if before is not None and now is not None:
        new = sorted(set(now) - set(before))
        verdict.check(
            not new,
            "CPO-RULE-05",
            f"after NotAuthorized the CPO's records show {len(new)} new session(s): {', '.join(new[:5])}",
            f"probe {sut.probes['sessions']}\n{journal_text(calls)}",
            reproduce,
        )
    verdict.conclude()


def _sessions(sut: Sut, verdict: Verdict) -> list[str] | None:
    """The SessionIDs the sessions probe shows (None without a probe, or when it fails: noted as context)."""
    try:
        return probe(sut, "sessions")
    except ProbeError as exc:
        verdict.note(f"the sessions probe failed, so the CPO's records were not compared: {exc}")
        return None


@pytest.mark.operation(CDR, service="cdrmgmt")
@requirement("CPO-ACK-06")
def test_cdr_refused_with_hub_error_is_sent_again(
    sut: Sut, hub: FakeHub, seed: int, ids: IdSource, verdict: Verdict
) -> None:
    """A CDR the hub answered with StatusCode 009 (its own data transaction error) is sent again, not dropped."""
    require_trigger(sut, "end_session")
    start, flow = authorize(sut, hub, verdict, ids, available_evses(sut)[0])
    if start is None:
        raise NotJudged("setup failed: no accepted AuthorizeStart (see CPO-AUTH-01)")
    hub.script(CDR, [Fault.result_false("009")])
    trigger(sut, hub, verdict, "end_session", seed + 1, **flow)
    calls = of(wait_for(hub, lambda cs: any(c.accepted for c in of(cs, CDR)), sut.retry_window), CDR)
    if not calls:
        raise NotJudged("no CDR reached the hub (see CPO-SESSION-01)")
    judge_sent_again(
        verdict, calls, "CPO-ACK-06", "a CDR", rerun(sut, seed, "test_cdr_refused_with_hub_error_is_sent_again")
    )
    verdict.conclude()


@pytest.mark.operation(RES_STOP)
@requirement("CPO-RULE-06")
def test_reservation_stop_is_followed_by_a_cdr(
    sut: Sut, hub: FakeHub, seed: int, ids: IdSource, undo: Undo, verdict: Verdict
) -> None:
    """After a reservation stop the CPO sends a CDR for the reservation's SessionID."""
    if not sut.has("reservation"):
        raise NotJudged(f"{sut.source} does not declare the optional feature 'reservation'", declare="features")
    evse = available_evses(sut)[0]
    start = case(sut, ids, RES_START, evse)
    session_id = start.body["SessionID"]
    # For the hub a reservation's SessionID is a session, as in a real forward: its CDR must find it.
    hub.open_session(session_id, evse, sut.provider_id, start.body.get("Identification"), origin="reservation")
    answer = call_inbound(sut, RES_START, start)
    undo.reserved(start, answer)
    if answer.result is not True:
        raise NotJudged(f"setup failed: reservation not accepted ({answer.describe()[:200]}); see CPO-RESERVATION-01")
    stop = call_inbound(sut, RES_STOP, case(sut, ids, RES_STOP, evse, session_id=session_id))
    if stop.result is not True:
        raise NotJudged(
            f"setup failed: reservation stop not accepted ({stop.describe()[:200]}); see CPO-RESERVATION-01"
        )
    undo.forget(session_id)

    def mine(calls: list[Call]) -> list[Call]:
        return [c for c in of(calls, CDR) if isinstance(c.body, dict) and c.body.get("SessionID") == session_id]

    calls = wait_for(hub, lambda cs: bool(mine(cs)), sut.retry_window)
    verdict.check(
        bool(mine(calls)),
        "CPO-RULE-06",
        f"no CDR for reservation {session_id} reached the hub within {sut.retry_window:g} s of its accepted stop",
        journal_text(calls),
        rerun(sut, seed, "test_reservation_stop_is_followed_by_a_cdr"),
    )
    verdict.conclude()
