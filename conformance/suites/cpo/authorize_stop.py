"""AuthorizeStop in a session's flow: sent for the session Hubject created, with the start's identification, on
charging v21. Its message and the hub's answer (schema, refusals) are judged with every other hub call by the
journal-wide judgement (conformance/checks/journal.py, under CPO-AUTH-STOP-01 and CPO-SESSION-03)."""

from __future__ import annotations

from typing import Any

from conformance.hub import Call, FakeHub
from conformance.hub.state import fingerprint
from conformance.suites.steps import journal_text, of, trigger, wait_for
from conformance.suites.verdicts import Verdict
from conformance.sut import Sut

AUTH_STOP = "AuthorizeStop.hub"
STOP_RID = "CPO-AUTH-STOP-01"


def astray(calls: list[Call]) -> list[Call]:
    """Calls meant as AuthorizeStop that reached no operation: another service version or path prefix."""
    return [
        c
        for c in calls
        if c.direction == "in" and c.operation is None and c.path.rstrip("/").endswith("/authorize/stop")
    ]


def stop_and_judge(
    sut: Sut, hub: FakeHub, verdict: Verdict, flow: dict[str, Any], start: Call, seed: int, reproduce: str
) -> None:
    """Fire `authorize_stop` for the flow's session and judge what reaches the hub (the caller checked that the
    feature and the trigger are declared)."""
    trigger(sut, hub, verdict, "authorize_stop", seed, **flow)
    calls = wait_for(hub, lambda cs: bool(of(cs, AUTH_STOP) or astray(cs)), sut.retry_window)
    stops, lost = of(calls, AUTH_STOP), astray(calls)
    session_id, started_with = flow["session_id"], (start.body or {}).get("Identification")
    for call in lost:
        verdict.add(
            STOP_RID,
            f"AuthorizeStop was sent to {call.path}, where OICP {sut.release} serves no operation "
            f"(eRoamingAuthorizeStop_V2.1 is served on charging/v21)",
            call.summary(),
            reproduce,
        )
    if not stops:
        if not lost:
            verdict.add(STOP_RID, "no AuthorizeStop reached the hub", journal_text(calls), reproduce)
        verdict.not_judged("CPO-SESSION-03", f"no AuthorizeStop reached the hub (see {STOP_RID})")
    for stop in stops:
        sent = stop.body if isinstance(stop.body, dict) else {}
        for rid in ("CPO-SESSION-01", STOP_RID):
            verdict.check(
                sent.get("SessionID") == session_id,
                rid,
                f"AuthorizeStop carries SessionID {sent.get('SessionID')}, but Hubject created {session_id} at the "
                "session's AuthorizeStart",
                stop.summary(),
                reproduce,
            )
        verdict.check(
            fingerprint(sent.get("Identification")) == fingerprint(started_with),
            "CPO-SESSION-03",
            "the session was stopped with another identification than its start",
            f"start: {started_with}\nstop:  {sent.get('Identification')}",
            reproduce,
        )
