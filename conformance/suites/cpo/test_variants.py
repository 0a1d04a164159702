"""Maximal and minimal messages, besides the random ones: every inbound operation and every `{message}` trigger.

Serialisation bugs live in optional members: a CPO that crashes on a member it never saw, or that expects one the
schema leaves out. Each inbound operation (RemoteStart/Stop, reservation start/stop) is sent once with every
optional member present and once with the required members only (plus the SessionID Hubject always fills), each
carrying the flow's state; the CPO must accept both as it accepts a random one, with a valid acknowledgement.

A forwarding CPO (triggers whose body is `{message}`) gets both variants of each message too. When it sends one
and not the other (the trigger answers non-2xx, nothing reaches the hub, or what reaches it is invalid), its
declaration evidently works: the failure names the members in which the two variants differ. When neither goes
out, the trigger may be mis-declared: not judged here. The variants are built and validated by
conformance/strategies/variants.py; an invalid one is the suite's bug and breaks the test, never blames the SUT.
Each finding is judged under the requirement of the operation's message (as the hub journal judges every call).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from conformance.hub import Call, FakeHub
from conformance.oicp.limits import REMOTE_START_SECONDS
from conformance.strategies import Case, Pins, draw_many
from conformance.strategies.variants import (
    MAXIMAL,
    MINIMAL,
    differing_members,
    ensure_valid,
    optional_present,
    variant_cases,
)
from conformance.suites.cases import IdSource, as_hub_sends
from conformance.suites.cpo.helpers import (
    CDR,
    RES_START,
    RES_STOP,
    RFID,
    START,
    STOP,
    Undo,
    ack_problems,
    available_evses,
    call_inbound,
    case,
    journal_text,
    of,
    rerun,
    trigger,
    undo,
    wait_for,
)
from conformance.suites.plugin import requirement
from conformance.suites.verdicts import NotJudged, Verdict
from conformance.sut import Sut
from conformance.sut.client import Answer, curl_tls
from conformance.sut.messages import FLOW, message_for, wants_message
from conformance.sut.triggers import Fired, fill, values_for
from conformance.wire import CURL_BODY_LIMIT, curl

__all__ = ["undo"]  # the fixture, imported for pytest

KINDS = (MAXIMAL, MINIMAL)
WHAT = {MAXIMAL: "maximal (every optional member present)", MINIMAL: "minimal (required members only)"}
CDR_WAIT = 3.0  # seconds to let the CDR of a session the test ended arrive, so it never lands in the next test
SHOWN = 40  # differing members listed in a failure
BODY_SHOWN = 60_000  # characters of a failing message kept in the failure

# Trigger -> the hub operation it makes the CPO call, the requirement judging that operation's message (the same
# as the hub journal's, conformance/checks/journal.py) and the optional feature it needs.
PUSHES = {
    "push_evse_data": ("PushEvseData.hub", "CPO-EVSE-DATA-01", None),
    "push_evse_status": ("PushEvseStatus.hub", "CPO-EVSE-STATUS-01", None),
    "push_pricing": ("PushPricingProductData.hub", "CPO-PRICING-01", "dynamic_pricing"),
    "push_evse_pricing": ("PushEVSEPricing.hub", "CPO-PRICING-02", "dynamic_pricing"),
}
AUTH_START, AUTH_STOP, NOTE = "AuthorizeStart.hub", "AuthorizeStop.hub", "ChargingNotification.hub"
SESSION_RIDS = {
    "authorize_start": "CPO-AUTH-01",
    "authorize_stop": "CPO-AUTH-STOP-01",
    "send_notification": "CPO-NOTIFY-02",
    "end_session": "CPO-CDR-01",
}


@dataclass
class Sent:
    """One variant of a message given to a trigger: what the trigger answered and the calls it caused."""

    kind: str
    message: dict[str, Any]
    values: dict[str, Any]
    fired: Fired
    calls: list[Call] = field(default_factory=list)

    @property
    def problem(self) -> str:
        """Why this variant did not go out ("" when a valid call reached the hub: what the hub then answered, which a
        relaying trigger may pass on as its own non-2xx, is judged with the journal like any call)."""
        invalid = [c for c in self.calls if c.violations]
        if invalid:
            return "the hub received an invalid message: " + "; ".join(str(v) for v in invalid[0].violations[:3])
        if self.calls:
            return ""
        if not self.fired.ok:
            return f"{self.fired.describe()[:300]}, and nothing reached the hub"
        return f"the trigger answered ({self.fired.describe()[:100]}) but nothing reached the hub"


def _fire(
    sut: Sut,
    hub: FakeHub,
    verdict: Verdict,
    name: str,
    kind: str,
    seed: int,
    op: str,
    values: dict[str, Any],
    mine: Callable[[dict[str, Any]], bool] = lambda body: True,
) -> Sent:
    """Fire trigger `name` with the `kind` variant of its message; the calls of `op` it caused (`mine` picks them
    by body). A trigger that answered non-2xx is not waited for: the CPO said it would not send (a call it made
    before answering is in the journal already)."""
    try:
        message = message_for(sut, name, dict(values), seed, variant=kind)  # VariantError: the suite's bug, loudly
    except LookupError as exc:  # the declaration lacks what the message needs
        raise NotJudged(f"trigger {name!r} wants a message the suite cannot build: {exc}") from exc
    before = len(hub.calls())
    fired = trigger(sut, hub, verdict, name, seed, message=message, **values)

    def caused(calls: list[Call]) -> list[Call]:
        return [c for c in of(calls[before:], op) if mine(c.body if isinstance(c.body, dict) else {})]

    calls = wait_for(hub, lambda cs: bool(caused(cs)), sut.retry_window) if fired.ok else hub.calls()
    return Sent(kind, message, {**values, "message": message}, fired, caused(calls))


def _by_hand(sut: Sut, name: str, values: dict[str, Any]) -> str:
    """The trigger as a copy-paste command, filled with the failing message."""
    spec = sut.triggers[name]
    placeholders = values_for(sut, {k: v for k, v in values.items() if k not in FLOW})
    if spec.command:
        return " ".join(shlex.quote(fill(part, placeholders)) for part in shlex.split(spec.command))
    headers = {k: fill(v, placeholders) for k, v in {**sut.headers, **spec.headers}.items()}
    payload = fill(spec.body, placeholders).encode()
    url = fill(spec.url, placeholders)
    return curl(url, payload, "application/json", headers, sut.redacted, tls=curl_tls(sut, url))


def _listed(pointers: list[str]) -> str:
    shown = ", ".join(pointers[:SHOWN]) or "(none)"
    return shown + (f" and {len(pointers) - SHOWN} more" if len(pointers) > SHOWN else "")


def _judge_pair(sut: Sut, verdict: Verdict, rid: str, what: str, name: str, pair: dict[str, Sent]) -> None:
    """Both variants went out: pass. One did: a failure naming the members they differ in. None: not judged."""
    problems = {kind: pair[kind].problem for kind in KINDS}
    if problems[MAXIMAL] and problems[MINIMAL]:
        verdict.not_judged(
            rid,
            f"{what}: neither the maximal nor the minimal message went out (maximal: {problems[MAXIMAL][:150]}; "
            f"minimal: {problems[MINIMAL][:150]}); the trigger may be mis-declared",
            f"[triggers.{name}]",
        )
        return
    if not problems[MAXIMAL] and not problems[MINIMAL]:
        verdict.check(True, rid, "")
        return
    failed, good = (pair[MAXIMAL], pair[MINIMAL]) if problems[MAXIMAL] else (pair[MINIMAL], pair[MAXIMAL])
    only_failed, only_good = differing_members(failed.message, good.message)
    body = "\n".join(
        [
            f"the {good.kind} message went out; the {WHAT[failed.kind]} one did not: {failed.problem}",
            f"members only the {failed.kind} message carries: {_listed(only_failed)}",
            f"members only the {good.kind} message carries: {_listed(only_good)}",
            f"hub calls after the {failed.kind} message: {journal_text(failed.calls)}",
        ]
    )
    text = json.dumps(failed.message, ensure_ascii=False)
    if len(text) > CURL_BODY_LIMIT:  # the command below reads it from body.json
        body += f"\nthe {failed.kind} message (save as body.json): {text[:BODY_SHOWN]}"
    reproduce = f"{rerun(sut, verdict.seed, verdict.node.name)}\n# or fire the trigger by hand:\n"
    verdict.add(
        rid,
        f"{what}: the CPO sends a valid {good.kind} message but not the valid {failed.kind} one",
        body,
        reproduce + _by_hand(sut, name, failed.values),
    )


def _not_forwarding(sut: Sut, verdict: Verdict, name: str, rid: str, feature: str | None) -> bool:
    """Marks `rid` not judged (or n/a) and returns True when trigger `name` takes no generated message."""
    if feature is not None and not sut.has(feature):
        verdict.not_judged(rid, f"the optional feature {feature!r} is not declared", "features")
    elif name not in sut.triggers:
        verdict.not_judged(rid, f"trigger {name!r} is not declared", f"[triggers.{name}]")
    elif not wants_message(sut, name):
        verdict.not_judged(
            rid, f"trigger {name!r} takes no {{message}}: the CPO builds its own messages", applies=False
        )
    else:
        return False
    return True


# --- pushes -----------------------------------------------------------------------------------------------------


@pytest.mark.operation("PushEvseData.hub", service="evsepush")
@requirement("CPO-EVSE-DATA-01", "CPO-EVSE-STATUS-01", "CPO-PRICING-01", "CPO-PRICING-02")
def test_push_messages_maximal_and_minimal(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    """A forwarding CPO pushes EVSE data, status and pricing whichever optional members the message carries.

    Each push is a fullLoad of every declared EVSE, once with every optional member and once with none."""
    evses = json.dumps(list(sut.evse_ids))
    for index, (name, (op, rid, feature)) in enumerate(PUSHES.items()):
        if _not_forwarding(sut, verdict, name, rid, feature):
            continue
        values = {"action": "fullLoad", "evse_ids": evses}
        pair = {kind: _fire(sut, hub, verdict, name, kind, seed + index, op, values) for kind in KINDS}
        if pair[MAXIMAL].message == pair[MINIMAL].message:
            verdict.not_judged(rid, f"{name}: the message has no optional member to vary", applies=False)
            continue
        _judge_pair(sut, verdict, rid, f"{name} ({op.split('.')[0]})", name, pair)
    verdict.conclude()


# --- a session's messages -----------------------------------------------------------------------------------------


def _session(
    sut: Sut, hub: FakeHub, verdict: Verdict, ids: IdSource, kind: str, evse: str, steps: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    """Start a session through `authorize_start` (its `kind` variant where it takes a message); the flow's state,
    or None when no AuthorizeStart was accepted."""
    started_at = datetime.now(UTC).replace(microsecond=0)
    values: dict[str, Any] = {"identification": RFID, "evse_id": evse, "started_at": started_at}
    if wants_message(sut, "authorize_start"):
        values["cpo_partner_session_id"] = ids.partner_session_id("cpo")
        sent = _fire(sut, hub, verdict, "authorize_start", kind, ids.seed(), AUTH_START, values)
        steps.setdefault("authorize_start", {})[kind] = sent
        accepted = [c for c in sent.calls if c.accepted and isinstance(c.response, dict)]
    else:
        before = len(hub.calls())
        trigger(sut, hub, verdict, "authorize_start", ids.seed(), **values)
        calls = wait_for(hub, lambda cs: any(c.accepted for c in of(cs[before:], AUTH_START)), sut.retry_window)
        accepted = [c for c in of(calls[before:], AUTH_START) if c.accepted and isinstance(c.response, dict)]
    if not accepted or not accepted[-1].response.get("SessionID"):
        return None
    start = accepted[-1]
    body = start.body if isinstance(start.body, dict) else {}
    return {
        "session_id": start.response["SessionID"],
        "evse_id": body.get("EvseID") or evse,
        "identification": body.get("Identification", RFID),
        "cpo_partner_session_id": body.get("CPOPartnerSessionID"),
        "emp_partner_session_id": start.response.get("EMPPartnerSessionID"),
        "started_at": started_at,
    }


def _session_chain(
    sut: Sut, hub: FakeHub, verdict: Verdict, ids: IdSource, kind: str, evse: str, steps: dict[str, dict[str, Any]]
) -> None:
    """One session whose every message is the `kind` variant: start, notifications, stop, CDR. A step whose
    session never started records why instead of a `Sent`."""
    flow = _session(sut, hub, verdict, ids, kind, evse, steps)
    notify = sut.has("charging_notifications") and wants_message(sut, "send_notification")
    stop = sut.has("authorize_stop") and wants_message(sut, "authorize_stop")
    later = [*(f"notification {t}" for t in ("Start", "Progress", "Error", "End") if notify)]
    later += ["authorize_stop"] * stop + ["end_session"] * wants_message(sut, "end_session")
    if flow is None:
        for step in later:
            steps.setdefault(step, {})[kind] = f"the {kind} chain's session never started (no accepted AuthorizeStart)"
        return
    sid = flow["session_id"]

    def of_session(body: dict[str, Any]) -> bool:
        return body.get("SessionID") == sid

    def note(kind_of_note: str) -> None:
        steps.setdefault(f"notification {kind_of_note}", {})[kind] = _fire(
            sut, hub, verdict, "send_notification", kind, ids.seed(), NOTE, {**flow, "type": kind_of_note},
            lambda body: of_session(body) and body.get("Type") == kind_of_note,
        )  # fmt: skip

    if notify:
        for kind_of_note in ("Start", "Progress", "Error"):
            note(kind_of_note)
    if stop:
        steps.setdefault("authorize_stop", {})[kind] = _fire(
            sut, hub, verdict, "authorize_stop", kind, ids.seed(), AUTH_STOP, flow, of_session
        )
    if notify:
        note("End")
    if wants_message(sut, "end_session"):
        steps.setdefault("end_session", {})[kind] = _fire(
            sut, hub, verdict, "end_session", kind, ids.seed(), CDR, flow, of_session
        )
    elif "end_session" in sut.triggers:
        trigger(sut, hub, verdict, "end_session", ids.seed(), **flow)
    if not any(of_session(c.body) for c in of(hub.calls(), CDR) if isinstance(c.body, dict)):
        # The session is still open at the CPO: end it as Hubject would, so the EVSE is free for the next test.
        call_inbound(sut, STOP, case(sut, ids, STOP, flow["evse_id"], session_id=sid))
        wait_for(hub, lambda cs: any(of_session(c.body) for c in of(cs, CDR) if isinstance(c.body, dict)), CDR_WAIT)


@pytest.mark.operation(AUTH_START, service="charging")
@requirement(*SESSION_RIDS.values())
def test_session_messages_maximal_and_minimal(
    sut: Sut, hub: FakeHub, seed: int, ids: IdSource, verdict: Verdict
) -> None:
    """A forwarding CPO sends a session's AuthorizeStart, notifications, AuthorizeStop and CDR whichever optional
    members they carry.

    Two sessions, one whose every message is maximal and one whose every message is minimal, each carrying its
    own flow's state (the hub's SessionID, the start's identification, EVSE and partner session IDs)."""
    features = {"authorize_stop": "authorize_stop", "send_notification": "charging_notifications"}
    if "authorize_start" not in sut.triggers or not any(wants_message(sut, name) for name in SESSION_RIDS):
        for name, rid in SESSION_RIDS.items():  # no session to run, or no message of it to vary
            _not_forwarding(sut, verdict, name, rid, features.get(name))
            if "authorize_start" not in sut.triggers:
                verdict.not_judged(
                    rid, "trigger 'authorize_start' is not declared: no session", "[triggers.authorize_start]"
                )
        verdict.conclude()
        return
    for name, rid in SESSION_RIDS.items():
        _not_forwarding(sut, verdict, name, rid, features.get(name))
    steps: dict[str, dict[str, Any]] = {}
    evse = available_evses(sut)[0]
    for kind in KINDS:
        _session_chain(sut, hub, verdict, ids, kind, evse, steps)
    for step, pair in steps.items():
        name = "send_notification" if step.startswith("notification") else step
        rid = SESSION_RIDS[name]
        reasons = [v for v in pair.values() if isinstance(v, str)]
        if reasons or len(pair) < len(KINDS):
            verdict.not_judged(rid, f"{step}: {reasons[0] if reasons else 'one variant never ran'}")
            continue
        _judge_pair(sut, verdict, rid, step, name, pair)
    verdict.conclude()


# --- inbound: what Hubject sends ------------------------------------------------------------------------------------


def _request(
    sut: Sut,
    ids: IdSource,
    op_id: str,
    kind: str,
    evse: str,
    session_id: str | None = None,
    partners: dict[str, Any] | None = None,
) -> Case:
    """The `kind` variant of an inbound request as Hubject sends it: a fresh SessionID unless the flow names one,
    and for a stop the partner session IDs its start carried (none the flow lacks)."""
    sid = session_id or ids.session_id()
    pins = Pins(
        operator_id=sut.operator_id,
        provider_id=sut.provider_id,
        evse_ids=(evse,),
        session_id=sid,
        emp_partner_session_id=ids.partner_session_id(),
    )
    [drawn] = draw_many(variant_cases(op_id, kind, sut.release, pins), 1, ids.seed())
    sent = as_hub_sends(drawn, sid, sut.provider_id)
    if partners is not None and isinstance(sent.body, dict):
        body = dict(sent.body)
        for member in ("CPOPartnerSessionID", "EMPPartnerSessionID"):
            body.pop(member, None)
            if kind == MAXIMAL and isinstance(partners.get(member), str) and partners[member]:
                body[member] = partners[member]
        sent = Case(**{**sent.__dict__, "body": body})
    ensure_valid(sent.body, sent.message, kind, sut.release, sut.sub_operators)
    return sent


def _accepted(verdict: Verdict, sut: Sut, rid: str, what: str, drawn: Case, answer: Answer) -> bool:
    """The answer is a valid acknowledgement with Result true (a RemoteStart's with StatusCode 000 too, as
    test_inbound judges a random one); records the failure if not."""
    problems = ack_problems(answer, sut.release)
    ok = not problems and answer.result is True and (drawn.operation != START or answer.code == "000")
    body = "\n".join(
        [
            *problems,
            f"answer: {answer.describe()[:600]}",
            f"optional members it carries: {_listed(optional_present(drawn.body, drawn.message, sut.release))}",
        ]
    )
    return verdict.check(ok, rid, f"{what} was not accepted with a valid acknowledgement", body, answer.curl)


def _partners(drawn: Case, answer: Answer) -> dict[str, Any]:
    """The partner session IDs of a started session: the CPO's from its answer, the EMP's from the request."""
    said = answer.body if isinstance(answer.body, dict) else {}
    return {
        "CPOPartnerSessionID": said.get("CPOPartnerSessionID"),
        "EMPPartnerSessionID": drawn.body.get("EMPPartnerSessionID") if isinstance(drawn.body, dict) else None,
    }


def _cdr_of(hub: FakeHub, session_id: str) -> None:
    """Let the CDR of a session the test ended arrive now (bounded), not in the next test's journal."""
    wait_for(hub, lambda cs: session_id in {(c.body or {}).get("SessionID") for c in of(cs, CDR)}, CDR_WAIT)


@pytest.mark.operation(START)
@requirement("CPO-REMOTE-START-01", "CPO-REMOTE-STOP-01")
def test_remote_start_and_stop_maximal_and_minimal(
    sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict
) -> None:
    """The CPO accepts a RemoteStart and its RemoteStop with every optional member present, and with the required
    members only, as it accepts a random one: a valid acknowledgement with Result true."""
    evse = available_evses(sut)[0]
    timeout = max(sut.timeout, REMOTE_START_SECONDS + 2)
    for kind in KINDS:
        start = _request(sut, ids, START, kind, evse)
        hub.open_session(start.body["SessionID"], evse, sut.provider_id, start.body["Identification"])
        answer = call_inbound(sut, START, start, timeout)
        undo.started(start, answer)
        what = f"the {WHAT[kind]} RemoteStart for available EVSE {evse}"
        if not _accepted(verdict, sut, "CPO-REMOTE-START-01", what, start, answer):
            start = case(sut, ids, START, evse)  # a random start, so the stop variant still has a session to stop
            hub.open_session(start.body["SessionID"], evse, sut.provider_id, start.body["Identification"])
            answer = call_inbound(sut, START, start, timeout)
            undo.started(start, answer)
            if answer.result is not True:
                verdict.not_judged("CPO-REMOTE-STOP-01", f"no running session to stop with the {kind} RemoteStop")
                continue
        sid = start.body["SessionID"]
        stop = _request(sut, ids, STOP, kind, evse, session_id=sid, partners=_partners(start, answer))
        stopped = call_inbound(sut, STOP, stop)
        if stopped.result is True:
            undo.forget(sid)
            _cdr_of(hub, sid)
        _accepted(
            verdict, sut, "CPO-REMOTE-STOP-01", f"the {WHAT[kind]} RemoteStop of a running session", stop, stopped
        )
    verdict.conclude()


@pytest.mark.operation(RES_START)
@requirement("CPO-RESERVATION-01")
def test_reservation_maximal_and_minimal(sut: Sut, hub: FakeHub, ids: IdSource, undo: Undo, verdict: Verdict) -> None:
    """The CPO accepts a reservation start and stop with every optional member present, and with the required
    members only, as it accepts a random one: a valid acknowledgement with Result true."""
    if not sut.has("reservation"):
        verdict.not_judged("CPO-RESERVATION-01", "the optional feature 'reservation' is not declared", "features")
        verdict.conclude()
        return
    evse = available_evses(sut)[0]
    for kind in KINDS:
        start = _request(sut, ids, RES_START, kind, evse)
        sid = start.body["SessionID"]
        hub.open_session(sid, evse, sut.provider_id, start.body.get("Identification"), origin="reservation")
        answer = call_inbound(sut, RES_START, start)
        undo.reserved(start, answer)
        if not _accepted(verdict, sut, "CPO-RESERVATION-01", f"the {WHAT[kind]} reservation of {evse}", start, answer):
            start = case(sut, ids, RES_START, evse)  # a random reservation, for the stop variant to cancel
            sid = start.body["SessionID"]
            hub.open_session(sid, evse, sut.provider_id, start.body.get("Identification"), origin="reservation")
            answer = call_inbound(sut, RES_START, start)
            undo.reserved(start, answer)
            if answer.result is not True:
                verdict.not_judged("CPO-RESERVATION-01", f"no reservation to cancel with the {kind} stop")
                continue
        stop = _request(sut, ids, RES_STOP, kind, evse, session_id=sid, partners=_partners(start, answer))
        stopped = call_inbound(sut, RES_STOP, stop)
        if stopped.result is True:
            undo.forget(sid)
            _cdr_of(hub, sid)  # "After the eRoamingAuthorizeRemoteReservationStop the CPO MUST provide a CDR."
        what = f"the {WHAT[kind]} stop of a reservation"
        _accepted(verdict, sut, "CPO-RESERVATION-01", what, stop, stopped)
    verdict.conclude()
