"""The CPO suite's own steps: its EVSEs, what it accepted (undone before the next test), its outbound identity.

The steps both roles share live in `conformance.suites.steps` and are re-exported here for the CPO tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from conformance.hub import Call, FakeHub
from conformance.oicp.ids import belongs_to, operator_key
from conformance.strategies import Case
from conformance.suites.cases import IdSource
from conformance.suites.steps import (
    ack_problems,
    call_inbound,
    case,
    evse_ids_in,
    expect_ack,
    journal_text,
    of,
    operation,
    pins,
    probed,
    require_trigger,
    rerun,
    settle,
    trigger,
    wait_for,
)
from conformance.sut import Sut
from conformance.sut.client import Answer

__all__ = [
    "ack_problems",
    "call_inbound",
    "case",
    "expect_ack",
    "journal_text",
    "of",
    "operation",
    "pins",
    "probed",
    "require_trigger",
    "rerun",
    "settle",
    "trigger",
    "wait_for",
]

RFID = {"RFIDMifareFamilyIdentification": {"UID": "04A2B3C4"}}
START, STOP = "AuthorizeRemoteStart.cpo", "AuthorizeRemoteStop.cpo"
RES_START, RES_STOP = "AuthorizeRemoteReservationStart.cpo", "AuthorizeRemoteReservationStop.cpo"
CDR = "ChargeDetailRecord.hub"


def available_evses(sut: Sut) -> list[str]:
    return [e for e in sut.evse_ids if e != sut.out_of_service_evse]


def unknown_evse(sut: Sut) -> str:
    op = sut.operator_id
    return f"{op}*9999*9" if op.startswith("+") else (f"{op}*E9999*9" if "*" in op else f"{op}E99999")


class Undo:
    """What the SUT accepted during a test (sessions, reservations), undone before the next test starts.

    A case that leaves an EVSE occupied or reserved would make the next case fail for the suite's reason."""

    def __init__(self, sut: Sut, hub: FakeHub, ids: IdSource) -> None:
        self.sut, self.hub, self.ids = sut, hub, ids
        self.sessions: list[tuple[str, str]] = []
        self.reservations: list[tuple[str, str]] = []
        self.ended: set[str] = set()  # stopped or cancelled by the test itself: their CDRs belong to it too

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
        if any(s[0] == session_id for s in self.sessions + self.reservations):
            self.ended.add(session_id)
        self.sessions = [s for s in self.sessions if s[0] != session_id]
        self.reservations = [s for s in self.reservations if s[0] != session_id]

    def run(self) -> None:
        for session_id, evse in self.sessions:
            if evse and belongs_to_sut(self.sut, evse):
                call_inbound(self.sut, STOP, case(self.sut, self.ids, STOP, evse, session_id))
        cancelled: set[str] = set()  # a cancelled reservation is followed by its CDR too (CPO 2, CPO-RULE-06)
        for session_id, evse in self.reservations:
            if evse and belongs_to_sut(self.sut, evse):
                answer = call_inbound(self.sut, RES_STOP, case(self.sut, self.ids, RES_STOP, evse, session_id))
                if answer.result is True:
                    cancelled.add(session_id)
        wanted = {s for s, _ in self.sessions} | cancelled | self.ended
        if wanted:  # the CDRs of the stopped sessions belong to this test, not the next one
            wait_for(self.hub, lambda cs: wanted <= {(c.body or {}).get("SessionID") for c in of(cs, CDR)}, 6)
        self.sessions, self.reservations, self.ended = [], [], set()


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
        for evse in evse_ids_in(c.body):
            if not belongs_to_sut(sut, evse):
                out["CPO-OUT-03"].append(f"{c.operation}: EvseID {evse} is not one of {owners}'s")
    return out
