"""Shared steps of the CPO suite: pick EVSEs, send inbound cases as Hubject, fire triggers, undo what was accepted."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conformance.catalog import load_release
from conformance.hub import Call, FakeHub
from conformance.oicp.ids import belongs_to, operator_key
from conformance.strategies import Case, Pins
from conformance.suites.cases import IdSource, hub_request
from conformance.suites.verdicts import ConfigurationProblem, NotJudged, Verdict
from conformance.sut import Sut
from conformance.sut.client import Answer, send
from conformance.sut.messages import FLOW, message_for, wants_message
from conformance.sut.triggers import Fired, TriggerError, fire
from conformance.validation import validate

RFID = {"RFIDMifareFamilyIdentification": {"UID": "04A2B3C4"}}
START, STOP = "AuthorizeRemoteStart.cpo", "AuthorizeRemoteStop.cpo"
RES_START, RES_STOP = "AuthorizeRemoteReservationStart.cpo", "AuthorizeRemoteReservationStop.cpo"
CDR = "ChargeDetailRecord.hub"


def available_evses(sut: Sut) -> list[str]:
    return [e for e in sut.evse_ids if e != sut.out_of_service_evse]


def unknown_evse(sut: Sut) -> str:
    op = sut.operator_id
    return f"{op}*9999*9" if op.startswith("+") else (f"{op}*E9999*9" if "*" in op else f"{op}E99999")


def operation(sut: Sut, op_id: str) -> Any:
    return load_release(sut.release).operation(op_id)


def pins(sut: Sut, evse: str) -> Pins:
    return Pins(operator_id=sut.operator_id, provider_id=sut.provider_id, evse_ids=(evse,))


def case(sut: Sut, ids: IdSource, op_id: str, evse: str, session_id: str | None = None) -> Case:
    """A valid request as Hubject sends it: a fresh SessionID unless the flow names one."""
    return hub_request(ids, op_id, sut.release, pins(sut, evse), session_id)


def call_inbound(sut: Sut, op_id: str, drawn: Case, timeout: float | None = None) -> Answer:
    return send(sut, operation(sut, op_id), drawn, timeout)


def ack_problems(answer: Answer, release: str) -> list[str]:
    """Why an answer is not a schema-valid acknowledgement (empty: it is)."""
    if answer.status is None:
        return [answer.describe()]
    if answer.status >= 500:
        return [f"HTTP {answer.status} (a server error, not an acknowledgement): {answer.text[:300]}"]
    if not isinstance(answer.body, dict):
        return [f"HTTP {answer.status} without a JSON acknowledgement: {answer.text[:300]}"]
    return [str(v) for v in validate(answer.body, "eRoamingAcknowledgment", release)]


def expect_ack(verdict: Verdict, sut: Sut, answer: Answer, result: bool, requirement: str, title: str) -> bool:
    """Whether the answer is a schema-valid acknowledgement with this Result; records the failure if not."""
    problems = ack_problems(answer, sut.release)
    return verdict.about(
        answer, not problems and answer.result is result, requirement, title, "\n".join(problems) or None
    )


class Undo:
    """What the SUT accepted during a test (sessions, reservations), undone before the next test starts.

    A case that leaves an EVSE occupied or reserved would make the next case fail for the suite's reason."""

    def __init__(self, sut: Sut, hub: FakeHub, ids: IdSource) -> None:
        self.sut, self.hub, self.ids = sut, hub, ids
        self.sessions: list[tuple[str, str]] = []
        self.reservations: list[tuple[str, str]] = []

    @staticmethod
    def _taken(drawn: Case, answer: Answer) -> list[tuple[str, str]]:
        """(SessionID, EvseID) of what an accepting answer took: the SUT's SessionID and the request's."""
        if answer.result is not True:
            return []
        sent = drawn.body if isinstance(drawn.body, dict) else _parsed(drawn.payload())
        said = answer.body.get("SessionID") if isinstance(answer.body, dict) else None
        evse = sent.get("EvseID") if isinstance(sent.get("EvseID"), str) else ""
        return [(sid, evse) for sid in dict.fromkeys([said, sent.get("SessionID")]) if isinstance(sid, str) and sid]

    def started(self, drawn: Case, answer: Answer) -> None:
        self.sessions += self._taken(drawn, answer)

    def reserved(self, drawn: Case, answer: Answer) -> None:
        self.reservations += self._taken(drawn, answer)

    def accepted(self, op_id: str, drawn: Case, answer: Answer) -> None:
        if op_id == START:
            self.started(drawn, answer)
        elif op_id == RES_START:
            self.reserved(drawn, answer)

    def forget(self, session_id: str) -> None:
        self.sessions = [s for s in self.sessions if s[0] != session_id]
        self.reservations = [s for s in self.reservations if s[0] != session_id]

    def run(self) -> None:
        for session_id, evse in self.sessions:
            if evse and belongs_to_sut(self.sut, evse):
                call_inbound(self.sut, STOP, case(self.sut, self.ids, STOP, evse, session_id))
        for session_id, evse in self.reservations:
            if evse and belongs_to_sut(self.sut, evse):
                call_inbound(self.sut, RES_STOP, case(self.sut, self.ids, RES_STOP, evse, session_id))
        if self.sessions:  # the CDRs of the stopped sessions belong to this test, not the next one
            wanted = {s for s, _ in self.sessions}
            wait_for(self.hub, lambda cs: wanted <= {(c.body or {}).get("SessionID") for c in of(cs, CDR)}, 3)
        self.sessions, self.reservations = [], []


def _parsed(payload: bytes) -> dict[str, Any]:
    """The JSON object a raw case carries (an oversized body is still a message), or {}."""
    try:
        value = json.loads(payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@pytest.fixture
def undo(sut: Sut, hub: FakeHub, ids: IdSource) -> Iterator[Undo]:
    """Stops the sessions and cancels the reservations a test's cases started."""
    found = Undo(sut, hub, ids)
    yield found
    found.run()


def belongs_to_sut(sut: Sut, evse: str) -> bool:
    return any(belongs_to(evse, owner) for owner in (sut.operator_id, *sut.sub_operators))


def require_trigger(sut: Sut, name: str) -> None:
    """Stop the test as not judged (with what to declare) when a trigger it needs is not declared."""
    if name not in sut.triggers:
        raise NotJudged(f"trigger {name!r} is not declared in {sut.source}", declare=f"[triggers.{name}]")


def trigger(sut: Sut, hub: FakeHub, verdict: Verdict, name: str, seed: int, **values: Any) -> Fired:
    """Fire a trigger; not judged when it is not declared; a configuration problem only when it never reached
    the SUT's logic. Whatever else it answers is the SUT's behaviour: kept as context for the checks.

    A trigger whose template says `{message}` gets a generated OICP message carrying the flow's state."""
    require_trigger(sut, name)
    if wants_message(sut, name):
        values["message"] = message_for(sut, name, values, seed)
    placeholders = {k: v for k, v in values.items() if k not in FLOW}
    before = len(hub.calls())
    try:
        fired = fire(sut, name, **placeholders)
    except TriggerError as exc:
        if len(hub.calls()) > before:  # it did reach the SUT, which called the hub: judge that
            verdict.note(f"the trigger failed after the SUT called the hub: {exc}")
            return Fired(None, None, False, str(exc))
        raise ConfigurationProblem(f"configuration problem: {exc}", declare=f"[triggers.{name}]") from exc
    if not fired.ok:
        verdict.note(f"context: {fired.describe()}")
    return fired


def wait_for(hub: FakeHub, condition: Callable[[list[Call]], bool], seconds: float) -> list[Call]:
    """The journal once `condition` holds on it, or when `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        calls = hub.calls()
        if condition(calls) or time.monotonic() > deadline:
            return calls
        time.sleep(0.05)


def settle(hub: FakeHub, quiet: float = 0.8, seconds: float = 20) -> list[Call]:
    """The journal once no call has arrived for `quiet` seconds (the SUT has finished its retries)."""
    deadline = time.monotonic() + seconds
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(hub.calls())
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
        time.sleep(0.05)
    return hub.calls()


def of(calls: list[Call], op_id: str) -> list[Call]:
    return [c for c in calls if c.operation == op_id]


def outbound_problems(sut: Sut, calls: list[Call]) -> dict[str, list[str]]:
    """Requirement -> problems of the SUT's calls: routing/version, identity, EVSE ownership."""
    out: dict[str, list[str]] = {"CPO-OUT-01": [], "CPO-OUT-02": [], "CPO-OUT-03": []}
    owners = " or ".join((sut.operator_id, *sut.sub_operators))
    for c in calls:
        if c.operation is None:
            out["CPO-OUT-01"].append(f"{c.method} {c.path}: no OICP {sut.release} operation at this path/version")
            continue
        path_op = c.params.get("operatorID")
        if path_op is not None and operator_key(path_op) != operator_key(sut.operator_id):
            out["CPO-OUT-02"].append(f"{c.path}: operatorID {path_op}, declared {sut.operator_id}")
        for evse in _evse_ids(c.body):
            if not belongs_to_sut(sut, evse):
                out["CPO-OUT-03"].append(f"{c.operation}: EvseID {evse} is not one of {owners}'s")
    return out


def _evse_ids(body: Any) -> list[str]:
    found: list[str] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "EvseID" and isinstance(value, str):
                found.append(value)
            else:
                found += _evse_ids(value)
    elif isinstance(body, list):
        for item in body:
            found += _evse_ids(item)
    return found


def journal_text(calls: list[Call]) -> str:
    return "\n".join(c.summary() for c in calls) or "(the hub received no call)"


def rerun(sut: Sut, seed: int, test: str) -> str:
    """The command that repeats this test: same SUT, seed, shape and defects."""
    return f"{sut.rerun or 'oicp-conformance run --role cpo'} --seed {seed} -k {test}"


def probed(sut: Sut, verdict: Verdict, name: str, requirement: str) -> list[str] | None:
    """What a state probe shows, or None with `requirement` marked not judged (no probe, or it failed)."""
    from conformance.sut.client import ProbeError, probe

    if name not in sut.probes:
        verdict.not_judged(requirement, f"no {name} probe is declared", declare=f"[probes] {name}")
        return None
    try:
        return probe(sut, name)
    except ProbeError as exc:
        verdict.not_judged(requirement, str(exc), declare=f"[probes] {name}")
        return None
