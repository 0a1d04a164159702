"""Shared steps of the CPO suite: pick EVSEs, send inbound cases, fire triggers, wait for the journal."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from conformance.catalog import load_release
from conformance.hub import Call, FakeHub
from conformance.oicp.ids import belongs_to, operator_key
from conformance.strategies import Case, Pins, draw_many, valid_cases
from conformance.sut import Sut
from conformance.sut.client import Answer, send
from conformance.sut.messages import message_for, wants_message
from conformance.sut.triggers import TriggerError, fire
from conformance.validation import validate

RFID = {"RFIDMifareFamilyIdentification": {"UID": "04A2B3C4"}}


def available_evses(sut: Sut) -> list[str]:
    return [e for e in sut.evse_ids if e != sut.out_of_service_evse]


def unknown_evse(sut: Sut) -> str:
    op = sut.operator_id
    return f"{op}*9999*9" if op.startswith("+") else (f"{op}*E9999*9" if "*" in op else f"{op}E99999")


def operation(sut: Sut, op_id: str) -> Any:
    return load_release(sut.release).operation(op_id)


def case(sut: Sut, op_id: str, seed: int, evse: str, session_id: str | None = None) -> Case:
    pins = Pins(operator_id=sut.operator_id, provider_id=sut.provider_id, evse_ids=(evse,), session_id=session_id)
    [drawn] = draw_many(valid_cases(op_id, sut.release, pins), 1, seed)
    return drawn


def call_inbound(sut: Sut, op_id: str, drawn: Case, timeout: float | None = None) -> Answer:
    return send(sut, operation(sut, op_id), drawn, timeout)


def ack_problems(answer: Answer, release: str) -> list[str]:
    """Why an answer is not a schema-valid acknowledgement (empty: it is)."""
    if answer.status is None:
        return [answer.describe()]
    if answer.status >= 500:
        return [f"HTTP {answer.status}: {answer.text[:300]}"]
    if not isinstance(answer.body, dict):
        return [f"HTTP {answer.status} without a JSON acknowledgement: {answer.text[:300]}"]
    return [str(v) for v in validate(answer.body, "eRoamingAcknowledgment", release)]


def expect_ack(verdict: Any, sut: Sut, answer: Answer, result: bool, requirement: str, title: str) -> bool:
    """Whether the answer is a schema-valid acknowledgement with this Result; records the failure if not."""
    problems = ack_problems(answer, sut.release)
    return verdict.about(
        answer, not problems and answer.result is result, requirement, title, "\n".join(problems) or None
    )


def trigger(sut: Sut, name: str, seed: int = 0, **values: Any) -> Any:
    """Fire a trigger; skip (with the reason) when it is not declared; a broken trigger is an error.

    A trigger whose template says `{message}` gets a generated OICP message for its action."""
    if name not in sut.triggers:
        pytest.skip(f"trigger {name!r} is not declared in {sut.source}: its checks cannot run")
    if wants_message(sut, name):
        values["message"] = message_for(sut, name, values, seed)
    try:
        return fire(sut, name, **values).output
    except TriggerError as exc:
        pytest.fail(f"configuration problem, not a protocol failure: {exc}", pytrace=False)


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
    for c in calls:
        if c.operation is None:
            out["CPO-OUT-01"].append(f"{c.method} {c.path}: no OICP {sut.release} operation at this path/version")
            continue
        path_op = c.params.get("operatorID")
        if path_op is not None and operator_key(path_op) != operator_key(sut.operator_id):
            out["CPO-OUT-02"].append(f"{c.path}: operatorID {path_op}, declared {sut.operator_id}")
        for evse in _evse_ids(c.body):
            if not belongs_to(evse, sut.operator_id):
                out["CPO-OUT-03"].append(f"{c.operation}: EvseID {evse} is not one of {sut.operator_id}'s")
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
    target = "" if sut.source.startswith("(") else f" --sut {sut.source}"
    return f"oicp-conformance run --role cpo{target} --seed {seed} -k {test}"
