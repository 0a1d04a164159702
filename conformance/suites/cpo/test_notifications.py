"""Every charging notification type, judged on one session: Start, Progress, Error and End.

One RemoteStart opens a session as Hubject brokers it; the suite then makes the CPO send each notification type
for that session (trigger `send_notification`, `{type}`) and judges what reached the hub: the session's SessionID
(CPO-NOTIFY-01), the type asked for, schema-valid with its type's mandatory members and accepted (-02), the
session's EvseID with times and figures that agree (-03), a Progress that carries a measurement (-04).

A `{message}` trigger gets a notification the suite generated from the session's state, and the generator keeps
every one of these rules, so a forwarding CPO is judged on what it changed, never on what the suite chose."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from conformance.hub import Call, FakeHub
from conformance.oicp.sessions import ENERGY_TOLERANCE_KWH
from conformance.oicp.time import parse
from conformance.suites.cases import IdSource
from conformance.suites.cpo.helpers import (
    START,
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
from conformance.suites.plugin import requirement
from conformance.suites.verdicts import NotJudged, Verdict
from conformance.sut import Sut

__all__ = ["undo"]

NOTE = "ChargingNotification.hub"
TYPES = ("Start", "Progress", "Error", "End")  # in the order a session lives them
# The members each type's message table marks M beyond Type, SessionID, EvseID and OperatorID (CPO 2).
MANDATORY = {
    "Start": ("ChargingStart",),
    "Progress": ("ChargingStart", "EventOccurred"),
    "End": ("ChargingEnd",),
    "Error": ("ErrorType",),
}
# The times each type may carry, in the order they happen.
TIME_ORDER = {
    "Start": ("SessionStart", "ChargingStart"),
    "Progress": ("SessionStart", "ChargingStart", "EventOccurred"),
    "End": ("SessionStart", "ChargingStart", "ChargingEnd", "SessionEnd"),
}
DURATION_TOLERANCE_MS = 1000  # times in whole seconds beside a duration taken from a millisecond clock


def _remote_session(sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo) -> dict[str, Any]:
    """A session the suite opened with a RemoteStart (stopped again after the test): the flow's state."""
    evse = available_evses(sut)[0]
    started_at = datetime.now(UTC).replace(microsecond=0)
    start = case(sut, ids, START, evse)
    session_id = start.body["SessionID"]
    hub.open_session(session_id, evse, sut.provider_id, start.body["Identification"])
    answer = call_inbound(sut, START, start)
    undo.started(start, answer)
    if answer.result is not True:
        raise NotJudged(f"setup failed: RemoteStart not accepted ({answer.describe()[:200]}); see CPO-REMOTE-START-01")
    return {
        "session_id": session_id,
        "evse_id": evse,
        "identification": start.body["Identification"],
        "cpo_partner_session_id": answer.body.get("CPOPartnerSessionID"),
        "emp_partner_session_id": start.body.get("EMPPartnerSessionID"),
        "started_at": started_at,
    }


def figure_problems(body: dict[str, Any]) -> list[str]:
    """Where a notification's own times and figures disagree with each other (empty: they agree).

    A time without offset is left to the schema (CPO-NOTIFY-02): it cannot be placed in time at all."""
    problems: list[str] = []
    order = [k for k in TIME_ORDER.get(str(body.get("Type")), ()) if isinstance(body.get(k), str)]
    try:
        moments = {k: parse(body[k]) for k in order}
    except ValueError:
        return problems
    for earlier, later in itertools.pairwise(order):
        if moments[earlier] > moments[later]:
            problems.append(f"{earlier} {body[earlier]} is after {later} {body[later]}")
    duration = body.get("ChargingDuration")
    if isinstance(duration, int) and {"ChargingStart", "EventOccurred"} <= set(moments):
        elapsed = round((moments["EventOccurred"] - moments["ChargingStart"]).total_seconds() * 1000)
        if abs(duration - elapsed) > DURATION_TOLERANCE_MS:
            problems.append(f"ChargingDuration {duration} ms, but EventOccurred - ChargingStart is {elapsed} ms")
    energy, start, end = (body.get(k) for k in ("ConsumedEnergy", "MeterValueStart", "MeterValueEnd"))
    if (
        all(isinstance(v, int | float) for v in (energy, start, end))
        and abs(end - start - energy) > ENERGY_TOLERANCE_KWH
    ):
        problems.append(f"ConsumedEnergy {energy}, but MeterValueEnd - MeterValueStart is {round(end - start, 3)}")
    return problems


def _windows(sut: Sut, hub: FakeHub, verdict: Verdict, seed: int, flow: dict[str, Any]) -> dict[str, Any]:
    """Fire the trigger once per type; the notification calls that arrived for each, and what each trigger said."""
    windows: dict[str, Any] = {}
    for index, kind in enumerate(TYPES):
        before = len(of(hub.calls(), NOTE))
        fired = trigger(sut, hub, verdict, "send_notification", seed + index, type=kind, **flow)
        wait_for(hub, lambda cs, before=before: len(of(cs, NOTE)) > before, sut.retry_window)
        windows[kind] = (before, fired)
    calls = of(settle(hub), NOTE)  # retries still under way belong to the type asked last
    bounds = [before for before, _ in windows.values()] + [len(calls)]
    return {kind: (calls[bounds[i] : bounds[i + 1]], fired) for i, (kind, (_, fired)) in enumerate(windows.items())}


def _judge_one(note: Call, kind: str, flow: dict[str, Any], verdict: Verdict, reproduce: str) -> None:
    body = note.body if isinstance(note.body, dict) else {}
    session_id, evse = flow["session_id"], flow["evse_id"]
    verdict.check(
        body.get("SessionID") == session_id,
        "CPO-NOTIFY-01",
        f"the {body.get('Type', kind)} notification carries SessionID {body.get('SessionID')}, not {session_id}",
        note.summary(),
        reproduce,
    )
    if note.violations:
        missing = [m for m in MANDATORY.get(str(body.get("Type")), ()) if m not in body]
        verdict.add(
            "CPO-NOTIFY-02",
            f"the {body.get('Type', kind)} notification is not schema-valid"
            + (f" (without {', '.join(missing)})" if missing else ""),
            "\n".join(str(v) for v in note.violations[:10]),
            reproduce,
        )
    elif body.get("SessionID") == session_id:  # a refusal of another SessionID is CPO-NOTIFY-01's finding
        verdict.check(
            note.accepted, "CPO-NOTIFY-02", f"the hub refused the {kind} notification", note.summary(), reproduce
        )
    verdict.check(
        body.get("EvseID") == evse,
        "CPO-NOTIFY-03",
        f"the {body.get('Type', kind)} notification names EVSE {body.get('EvseID')}, the session runs at {evse}",
        note.summary(),
        reproduce,
    )
    problems = figure_problems(body)
    verdict.check(
        not problems,
        "CPO-NOTIFY-03",
        f"the {body.get('Type', kind)} notification's times or figures disagree",
        "\n".join(problems),
        reproduce,
    )
    if body.get("Type") == "Progress":
        verdict.check(
            "ChargingDuration" in body or "ConsumedEnergyProgress" in body,
            "CPO-NOTIFY-04",
            "a Progress notification carries neither ChargingDuration nor ConsumedEnergyProgress",
            note.summary(),
            reproduce,
        )


@pytest.mark.operation(NOTE, service="notificationmgmt")
@requirement("CPO-NOTIFY-01", "CPO-NOTIFY-02", "CPO-NOTIFY-03", "CPO-NOTIFY-04")
def test_every_notification_type_of_one_session(
    sut: Sut, hub: FakeHub, seed: int, ids: IdSource, undo: Undo, verdict: Verdict
) -> None:
    """Start, Progress, Error and End notifications of one session reach the hub as asked and as the session stands.

    Each type is a MAY of the CPO chapters: a type whose trigger the CPO refuses without calling the hub is left
    not judged with its answer, never failed."""
    if not sut.has("charging_notifications"):
        raise NotJudged("the optional feature 'charging_notifications' is not declared", declare="features")
    require_trigger(sut, "send_notification")
    reproduce = rerun(sut, seed, "test_every_notification_type_of_one_session")
    flow = _remote_session(sut, hub, ids, undo)
    windows = _windows(sut, hub, verdict, seed, flow)
    for kind, (notes, fired) in windows.items():
        if not notes:
            if not fired.ok:  # the CPO declined the type and called nobody: it may not send this type
                reason = f"the {kind} trigger answered {fired.describe()[:200]} and no notification reached the hub"
                verdict.not_judged("CPO-NOTIFY-02", reason, "[triggers.send_notification]")
                continue
            verdict.add(
                "CPO-NOTIFY-02",
                f"no notification reached the hub after the {kind} trigger",
                journal_text(hub.calls()),
                reproduce,
            )
            continue
        verdict.check(
            any((n.body or {}).get("Type") == kind for n in notes if isinstance(n.body, dict)),
            "CPO-NOTIFY-02",
            f"asked for a {kind} notification, the hub received "
            + ", ".join(str((n.body or {}).get("Type") if isinstance(n.body, dict) else "no JSON") for n in notes),
            journal_text(notes),
            reproduce,
        )
        for note in notes:
            _judge_one(note, kind, flow, verdict, reproduce)
    received = [n for notes, _ in windows.values() for n in notes]
    if not received:
        for rid in ("CPO-NOTIFY-01", "CPO-NOTIFY-03"):
            verdict.not_judged(rid, "no notification reached the hub (see CPO-NOTIFY-02)")
    if not any(isinstance(n.body, dict) and n.body.get("Type") == "Progress" for n in received):
        verdict.not_judged("CPO-NOTIFY-04", "no Progress notification reached the hub (see CPO-NOTIFY-02)")
    verdict.conclude()
