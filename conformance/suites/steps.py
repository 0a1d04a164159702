"""Steps both roles' suites share: cases sent as Hubject sends them, triggers, probes, the hub's journal.

A role's suite adds only what is its own (a CPO's EVSEs and sessions to undo, an EMP's identifications)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from conformance.catalog import load_release
from conformance.hub import Call, FakeHub
from conformance.strategies import Case, Pins
from conformance.suites.cases import IdSource, hub_request
from conformance.suites.verdicts import ConfigurationProblem, NotJudged, Verdict
from conformance.sut import Sut
from conformance.sut.client import Answer, send
from conformance.sut.messages import FLOW, message_for, wants_message
from conformance.sut.triggers import Fired, TriggerError, fire
from conformance.validation import validate
from conformance.validation.detect import detect


def operation(sut: Sut, op_id: str) -> Any:
    return load_release(sut.release).operation(op_id)


def pins(sut: Sut, evse: str) -> Pins:
    return Pins(operator_id=sut.operator_id, provider_id=sut.provider_id, evse_ids=(evse,))


def case(sut: Sut, ids: IdSource, op_id: str, evse: str, session_id: str | None = None) -> Case:
    """A valid request as Hubject sends it: a fresh SessionID unless the flow names one."""
    return hub_request(ids, op_id, sut.release, pins(sut, evse), session_id)


def call_inbound(sut: Sut, op_id: str, drawn: Case, timeout: float | None = None) -> Answer:
    return send(sut, operation(sut, op_id), drawn, timeout)


def ack_problems(answer: Answer, release: str, message: str = "eRoamingAcknowledgment") -> list[str]:
    """Why an answer is not a schema-valid `message` (an acknowledgement unless said otherwise; empty: it is)."""
    if answer.status is None:
        return [answer.describe()]
    if answer.status >= 500:
        return [f"HTTP {answer.status} (a server error, not an answer): {answer.text[:300]}"]
    if not isinstance(answer.body, dict):
        noun = "acknowledgement" if message == "eRoamingAcknowledgment" else message
        return [f"HTTP {answer.status} without a JSON {noun}: {answer.text[:300] or '(an empty body)'}"]
    problems = [str(v) for v in validate(answer.body, message, release)]
    if problems and (other := [m for m in detect(answer.body, release) if m != message]):
        problems.insert(0, f"the answer is an {other[0]}, not an {message}")  # a mixed-up handler
    return problems


def expect_ack(verdict: Verdict, sut: Sut, answer: Answer, result: bool, requirement: str, title: str) -> bool:
    """Whether the answer is a schema-valid acknowledgement with this Result; records the failure if not."""
    problems = ack_problems(answer, sut.release)
    return verdict.about(
        answer, not problems and answer.result is result, requirement, title, "\n".join(problems) or None
    )


def require_trigger(sut: Sut, name: str) -> None:
    """Stop the test as not judged (with what to declare) when a trigger it needs is not declared."""
    if name not in sut.triggers:
        raise NotJudged(f"trigger {name!r} is not declared in {sut.source}", declare=f"[triggers.{name}]")


def trigger(sut: Sut, hub: FakeHub, verdict: Verdict, name: str, seed: int, **values: Any) -> Fired:
    """Fire a trigger; not judged when it is not declared; a configuration problem only when it never reached
    the SUT's logic. Whatever else it answers is the SUT's behaviour: kept as context for the checks.

    A trigger whose template says `{message}` gets a generated OICP message carrying the flow's state."""
    require_trigger(sut, name)
    if wants_message(sut, name) and "message" not in values:  # a caller may bring its own (a variant)
        try:
            values["message"] = message_for(sut, name, values, seed)
        except LookupError as exc:  # the declaration lacks what the message needs (e.g. an EvcoID of the EMP's)
            raise NotJudged(f"trigger {name!r} wants a message the suite cannot build: {exc}") from exc
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


def wait_for(
    hub: FakeHub, condition: Callable[[list[Call]], bool], seconds: float, idle: float | None = None
) -> list[Call]:
    """The journal once `condition` holds on it, or when `seconds` have passed.

    With `idle`, also once the SUT called and then fell silent for `idle` seconds: a SUT that stopped paging
    has stopped, and waiting out the whole window would only make the run slow."""
    started = time.monotonic()
    deadline, count, grew = started + seconds, len(hub.calls()), None
    while True:
        calls = hub.calls()
        now = time.monotonic()
        if len(calls) != count:
            count, grew = len(calls), now
        if condition(calls) or now > deadline or (idle is not None and grew is not None and now - grew > idle):
            return calls
        time.sleep(0.05)


def paging_idle(sut: Sut) -> float:
    """How long a paging SUT may fall silent between two pages before the suite takes it as done."""
    return max(5.0, 2 * sut.outbound_timeout)


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


def evse_ids_in(body: Any) -> list[str]:
    found: list[str] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "EvseID" and isinstance(value, str):
                found.append(value)
            else:
                found += evse_ids_in(value)
    elif isinstance(body, list):
        for item in body:
            found += evse_ids_in(item)
    return found


def journal_text(calls: list[Call]) -> str:
    return "\n".join(c.summary() for c in calls) or "(the hub received no call)"


def rerun(sut: Sut, seed: int, test: str) -> str:
    """The command that repeats this test: same SUT, seed, shape and defects."""
    return f"{sut.rerun or f'oicp-conformance run --role {sut.role}'} --seed {seed} -k {test}"


def probed(sut: Sut, verdict: Verdict, name: str, requirement: str, raw: bool = False) -> Any:
    """What a state probe shows (its SessionIDs, or its JSON with `raw`), or None with `requirement` marked
    not judged (no such probe declared, or it failed)."""
    from conformance.sut.client import ProbeError, probe, probe_json

    if name not in sut.probes:
        verdict.not_judged(requirement, f"no {name} probe is declared", declare=f"[probes] {name}")
        return None
    try:
        return probe_json(sut, name) if raw else probe(sut, name)
    except ProbeError as exc:
        verdict.not_judged(requirement, str(exc), declare=f"[probes] {name}")
        return None


def concurrently(*actions: Callable[[], Any]) -> None:
    """Run the actions at once (e.g. two pushes, to see whether the SUT lets them overlap); the first skip or
    failure raised in one of them is raised here, where pytest sees it, instead of vanishing with its thread."""
    errors: list[BaseException] = []

    def run(action: Callable[[], Any]) -> None:
        try:
            action()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def judge_recorded_once(
    sut: Sut, verdict: Verdict, rid: str, session_id: str, reproduce: str, evidence: str | None = None
) -> None:
    """The SUT's cdrs probe shows exactly one CDR of the session (not judged without the probe)."""
    records = probed(sut, verdict, "cdrs", rid)
    if records is not None:
        count = records.count(session_id)
        verdict.check(
            count == 1,
            rid,
            f"the {sut.role.upper()}'s records show {count} CDR(s) for session {session_id}, not one",
            evidence or f"probe {sut.probes['cdrs']}",
            reproduce,
        )


# --- how a SUT handles the hub's answers: the same judgement for a CPO's pushes and an EMP's pulls -------


def judge_not_resent(verdict: Verdict, calls: list[Call], rid: str, what: str, reproduce: str) -> None:
    """A definitive refusal is not sent again unchanged (a changed request may follow)."""
    again = [c for c in calls[1:] if c.body == calls[0].body]
    verdict.check(
        not again, rid, f"{what} was sent again unchanged {len(again)} time(s)", journal_text(calls), reproduce
    )


def judge_sent_again(verdict: Verdict, calls: list[Call], rid: str, what: str, reproduce: str) -> None:
    """A message the hub answered with a hub-side error (009 and the like) is sent again and accepted later."""
    verdict.check(
        any(c.accepted for c in calls[1:]),
        rid,
        f"{what} answered with StatusCode 009 (a Hubject-side data transaction error) was never sent again",
        journal_text(calls),
        reproduce,
    )


def judge_retry_after(verdict: Verdict, calls: list[Call], wait: float, rid: str, what: str, reproduce: str) -> None:
    """After HTTP 429 with Retry-After: `wait` the call is tried again, and not before `wait` has passed."""
    if verdict.check(
        len(calls) >= 2, rid, f"after HTTP 429 {what} was not tried again", journal_text(calls), reproduce
    ):
        gap = calls[1].at - calls[0].at
        verdict.check(
            gap >= wait - 0.05,
            rid,
            f"retried {gap:.2f} s after a 429 with Retry-After: {wait:g}",
            journal_text(calls),
            reproduce,
        )


def judge_bounded(verdict: Verdict, sut: Sut, calls: list[Call], rid: str, reproduce: str) -> None:
    """Against a hub that always fails, no more attempts than the declared retries allow."""
    verdict.check(
        len(calls) <= sut.max_retries + 1,
        rid,
        f"{len(calls)} attempts against a failing hub; the declaration allows {sut.max_retries} retries",
        journal_text(calls),
        reproduce,
    )


def judge_broken_request(verdict: Verdict, rid: str, op_id: str, drawn: Case, answer: Answer, served: bool) -> None:
    """A broken request is refused: no 5xx, an answer, and not served (`served`: the role's way of saying yes)."""
    if answer.status is not None and answer.status >= 500:
        problem = f"answered HTTP {answer.status} (a server error, not a refusal)"
    elif answer.status is None:
        problem = f"gave no answer ({answer.error})"
    elif served:
        problem = "was accepted"
    else:
        problem = ""
    verdict.check(
        not problem,
        rid,
        f"{op_id}: request with {drawn.describe()} {problem}",
        f"expected: {drawn.expected}\ngot: {answer.describe()[:300]}",
        answer.curl,
    )


# Mutations of one member: they break a MUST only where the member is mandatory (else IN-INVALID-02).
MEMBER_MUTATIONS = ("wrong-type", "explicit-null", "pattern-violation")


def invalid_requirement(drawn: Case, role: str) -> str:
    """The role's IN-INVALID requirement a broken request is judged under: -01 where a MUST sentence makes it
    invalid, -02 where only the OpenAPI or HTTP practice does (see requirements.MUTATION_REQUIREMENT)."""
    from conformance.suites.cases import breaks_mandatory
    from conformance.suites.requirements import MUTATION_REQUIREMENT

    rid = MUTATION_REQUIREMENT[drawn.mutation or ""]
    if drawn.mutation in MEMBER_MUTATIONS and not breaks_mandatory(drawn):
        rid = "CPO-IN-INVALID-02"  # an optional member: no MUST sentence demands the refusal
    return rid.replace("CPO-", f"{role.upper()}-")
