"""Every call a CPO made to the fake hub during one test, judged whatever the test was about.

Each call is judged on what is the CPO's own: the path and service version (CPO-OUT-01), the OperatorID it
speaks as (CPO-OUT-02), the EvseIDs it names (CPO-OUT-03), its body's encoding (UTF-8, CPO-OUT-05), whether it
is a valid request of its operation (the operation's message requirement, `MESSAGE_REQUIREMENT`), the OICP rules of
conformance.checks.rules, and the hub's refusals whose reason lies in the request
(017, 018, 400 for an unknown or stopped session, 022 for a second CDR), each under the requirement it breaks.

A refusal the suite caused is never the CPO's: answers the test scripted with `hub.script(...)` and what follows
from them on the same operation, sessions the suite handed the SUT without the fake hub issuing them, sessions
the fake hub forgot when it was reset between tests, and state a push relies on from before the test. Such
calls are listed as notes (not judged, with the reason), never as a pass or a failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from conformance.checks.failure import Failure
from conformance.checks.rules import SESSION_RULES  # judged on session messages of any test
from conformance.oicp.ids import belongs_to, operator_key

if TYPE_CHECKING:
    from conformance.catalog import Operation
    from conformance.hub import Call
    from conformance.sut import Sut

ROUTING, OPERATOR, EVSE_OWNER = "CPO-OUT-01", "CPO-OUT-02", "CPO-OUT-03"
AUTH_STOP, CDR_TAKEN = "CPO-AUTH-STOP-01", "CPO-CDR-02"
SECOND_CDR, STOP_MEDIUM, NOTIFICATION = "CPO-SESSION-02", "CPO-SESSION-03", "CPO-NOTIFY-01"

# The requirement that judges whether a call is a valid request of its operation (method, content type, JSON,
# schema, size), by operation name: every operation a CPO calls has one. A call of another operation (one the EMP
# calls) fails CPO-OUT-01 already, and its message is judged there too.
MESSAGE_REQUIREMENT: dict[str, str] = {
    "PushEvseData": "CPO-EVSE-DATA-01",
    "PushEvseStatus": "CPO-EVSE-STATUS-01",
    "AuthorizeStart": "CPO-AUTH-01",
    "AuthorizeStop": AUTH_STOP,
    "ChargeDetailRecord": "CPO-CDR-01",
    "ChargingNotification": "CPO-NOTIFY-02",
    "PushPricingProductData": "CPO-PRICING-01",
    "PushEVSEPricing": "CPO-PRICING-02",
}
# The requirement a refusal as an unknown or no longer valid session breaks, by operation name.
SESSION_REQUIREMENT: dict[str, str] = {
    "AuthorizeStop": AUTH_STOP,
    "ChargeDetailRecord": CDR_TAKEN,
    "ChargingNotification": NOTIFICATION,
}
PUSHES = ("PushEvseData", "PushEvseStatus", "PushEVSEPricing", "PushPricingProductData")
# Every body the CPO sends is UTF-8 (CPO 1 REST), judged on every call whose body the hub read.
ENCODING = "CPO-OUT-05"
# Every requirement this module may judge (the plugin reports them for a test only where a call was judged).
JOURNAL_REQUIREMENTS = frozenset(
    {ROUTING, OPERATOR, EVSE_OWNER, CDR_TAKEN, SECOND_CDR, STOP_MEDIUM, ENCODING, *MESSAGE_REQUIREMENT.values()}
    | set(SESSION_REQUIREMENT.values())
    | set(SESSION_RULES)
)

# How the fake hub words its refusals (conformance/hub/handlers.py): "refused CODE: reason".
_REFUSED = re.compile(r"^refused (\d{3}): (.*)$", re.S)
_PRE_PARSE = ("content type", "body is not JSON", "method ")


@dataclass
class RunMemory:
    """What the run has seen across tests: the fake hub forgets its sessions whenever it is reset."""

    sessions: set[str] = field(default_factory=set)  # SessionIDs issued by the hub or handed out by the suite
    cdrs: set[str] = field(default_factory=set)  # SessionIDs whose CDR the hub acknowledged

    def learn(self, calls: Iterable[Call], session_ids: Iterable[str] = ()) -> None:
        self.sessions.update(s for s in session_ids if isinstance(s, str))
        for call in calls:
            response = call.response if isinstance(call.response, dict) else {}
            if call.accepted and isinstance(response.get("SessionID"), str):
                self.sessions.add(response["SessionID"])
            if call.accepted and (call.operation or "").startswith("ChargeDetailRecord"):
                sid = _session_of(call)
                if sid:
                    self.cdrs.add(sid)


@dataclass
class JournalJudgement:
    judged: set[str] = field(default_factory=set)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # calls left unjudged, and why


def judge_journal(
    sut: Sut,
    calls: Sequence[Call],
    *,
    reproduce: str,
    memory: RunMemory | None = None,
    handed: Iterable[str] = (),
    after: int = 0,
) -> JournalJudgement:
    """Judge the SUT's calls (direction "in") with `seq > after`; the rest of `calls` is context.

    `handed`: SessionIDs the suite gave the SUT itself (a session the hub never issued is then the suite's doing).
    `memory` is updated with this journal's sessions and acknowledged CDRs."""
    memory = memory if memory is not None else RunMemory()
    inbound = [c for c in calls if c.direction == "in"]
    handed = set(handed)
    known_before = memory.sessions | handed
    cdrs_before = set(memory.cdrs)
    memory.learn(inbound, handed)
    scripted = {c.operation for c in inbound if c.fault}
    out = JournalJudgement()
    for call in (c for c in inbound if c.seq > after):
        found: dict[str, list[str]] = {}
        judged: set[str] = set()
        _routing(sut, call, judged, found)
        _identity(sut, call, judged, found)
        _encoding(call, judged, found)
        _message(sut, call, judged, found, handed, out.notes)
        if call.operation is not None and call.operation not in scripted:
            _refusals(call, judged, found, out.notes, known_before, cdrs_before)
        elif call.fault is None and (
            unauthorized := [m for m in map(_REFUSED.match, call.problems) if m and m[1] == "017"]
        ):
            # the hub's identity decision comes before any scripted answer (CPO 1 Security): the SUT's, scripted or not
            judged.add(OPERATOR)
            name = _name(call.operation)
            _add(found, OPERATOR, f"the hub refused {name} with StatusCode 017 ({unauthorized[0][2]})")
        elif any(_REFUSED.match(p) for p in call.problems):
            out.notes.append(f"{call.summary()}: not judged, the test scripted the hub's answers to this operation")
        out.judged |= judged
        for rid, problems in found.items():
            if problems:
                out.failures.append(_failure(rid, call, problems, reproduce))
    _rules(sut, inbound, out, reproduce)
    return out


# --- the checks per call ------------------------------------------------------------------------------------


def _routing(sut: Sut, call: Call, judged: set[str], found: dict[str, list[str]]) -> None:
    """CPO-OUT-01: a hub operation a CPO calls, on its path with its service version."""
    judged.add(ROUTING)
    if call.operation is None:
        if call.status == 413:
            return  # never routed (too large to read): judged as a message below
        near = _same_path_other_version(sut, call.path)
        hint = f" ({near.name} is served on {near.path})" if near else ""
        found.setdefault(ROUTING, []).append(f"no OICP {sut.release} operation at {call.method} {call.path}{hint}")
        return
    op = _operation(sut.release, call.operation)
    if op is not None and op.called_by != "cpo":
        found.setdefault(ROUTING, []).append(f"{op.name} is an operation the EMP calls, not the CPO")


def _identity(sut: Sut, call: Call, judged: set[str], found: dict[str, list[str]]) -> None:
    """CPO-OUT-02 (the OperatorID in the path and the body) and CPO-OUT-03 (whose EvseIDs)."""
    declared = operator_key(sut.operator_id)
    named = [("path operatorID", call.params.get("operatorID"))]
    if isinstance(call.body, dict):
        named.append(("body OperatorID", _find(call.body, "OperatorID")))
    for where, value in named:
        if isinstance(value, str):
            judged.add(OPERATOR)
            if operator_key(value) != declared:
                found.setdefault(OPERATOR, []).append(
                    f"{where} {value}, but the declared operator is {sut.operator_id}"
                )
    evses = _evse_ids(call.body)
    if evses:
        judged.add(EVSE_OWNER)
        owners = (sut.operator_id, *sut.sub_operators)
        for evse in evses:
            if not any(belongs_to(evse, owner) for owner in owners):
                found.setdefault(EVSE_OWNER, []).append(f"EvseID {evse} is not one of {' or '.join(owners)}'s")


def _encoding(call: Call, judged: set[str], found: dict[str, list[str]]) -> None:
    """CPO-OUT-05: the body is UTF-8, and so is the charset its Content-Type declares (a body the hub read)."""
    if call.encoding is None:
        return  # never read (a scripted answer, too large): nothing to judge
    judged.add(ENCODING)
    if call.encoding:
        found.setdefault(ENCODING, []).append(f"not UTF-8: {call.encoding} (Content-Type: {call.content_type})")


def _message(
    sut: Sut, call: Call, judged: set[str], found: dict[str, list[str]], handed: set[str], notes: list[str]
) -> None:
    """A valid request of its operation: POST, application/json, a JSON body its schema accepts, not too large."""
    op_name = _name(call.operation) or _name(_routed(sut, call.path))
    rid = MESSAGE_REQUIREMENT.get(op_name or "", ROUTING)
    problems = [p for p in call.problems if p.startswith(_PRE_PARSE)]
    if call.status == 413:
        problems.append(f"refused as too large (HTTP 413): {'; '.join(call.problems)}")
    elif call.body is None and not problems:
        return  # the hub never read it (a scripted answer, or no operation at this path): nothing to judge
    violations = list(call.violations)
    if violations and _session_of(call) in handed and all(v.pointer == "/SessionID" for v in violations):
        notes.append(f"{call.summary()}: not judged, the suite handed the SUT this broken SessionID itself")
        return
    judged.add(rid)
    problems += [f"not schema-valid for its operation: {v}" for v in violations[:10]]
    if problems:
        found.setdefault(rid, []).extend(problems)


def _refusals(
    call: Call,
    judged: set[str],
    found: dict[str, list[str]],
    notes: list[str],
    known: set[str],
    acknowledged: set[str],
) -> None:
    """Read the hub's answer to an unscripted call it processed: a refusal for the CPO's reason fails the
    requirement it breaks; a refusal for the suite's reason, or for no one's, is a note."""
    name = _name(call.operation) or ""
    if call.status != 200 or call.violations:
        return  # not processed, or refused as a message (judged above)
    refusals = [m.groups() for p in call.problems if (m := _REFUSED.match(p))]
    sid = _session_of(call)
    session_rid = SESSION_REQUIREMENT.get(name)
    if not refusals:
        if session_rid:  # taken: the session was one the hub knew, and the rest held
            judged.add(session_rid)
            judged |= {SECOND_CDR} if name == "ChargeDetailRecord" else set()
            judged |= {STOP_MEDIUM} if name == "AuthorizeStop" else set()
        return
    for code, reason in refusals:
        where = f"the hub refused {name} with StatusCode {code} ({reason})"
        if code == "017":
            judged.add(OPERATOR)
            _add(found, OPERATOR, where)
        elif code == "018" and name in PUSHES:
            judged.add(EVSE_OWNER)
            _add(found, EVSE_OWNER, where)
        elif code == "018" and name == "ChargeDetailRecord":
            judged.add(CDR_TAKEN)
            _add(found, CDR_TAKEN, where)
        elif code == "400" and session_rid and reason.startswith("no session"):
            if sid in acknowledged:
                judged.add(SECOND_CDR)
                _add(found, SECOND_CDR, f"{where}: a second CDR for session {sid}, acknowledged earlier in this run")
            elif sid in known:
                notes.append(
                    f"{call.summary()}: not judged, session {sid} was handed to the SUT by the suite (or issued by "
                    "the fake hub in an earlier test) without the fake hub knowing it now: the suite's doing"
                )
            else:
                judged.add(session_rid)
                _add(found, session_rid, f"{where}: Hubject never issued SessionID {sid}")
        elif code == "400" and name == "AuthorizeStop" and "identification" in reason:
            judged.add(STOP_MEDIUM)
            _add(found, STOP_MEDIUM, where)
        elif code == "400" and session_rid and "already stopped" in reason:
            judged.add(session_rid)
            _add(found, session_rid, where)
        elif code == "022" and name == "ChargeDetailRecord":
            judged.add(SECOND_CDR)
            _add(found, SECOND_CDR, where)
        elif code == "022" and name in PUSHES:
            notes.append(f"{call.summary()}: not judged, the refusal depends on what the hub held before this test")
        else:
            notes.append(f"{call.summary()}: not judged, StatusCode {code} is an answer about the case, not the CPO")


def _rules(sut: Sut, calls: list[Call], out: JournalJudgement, reproduce: str) -> None:
    """The OICP rules beyond the schema (conformance.checks.rules), one failure per breach."""
    from conformance.checks.rules import RULE_REQUIREMENTS, judge_calls

    for rid, problems in judge_calls(sut, calls).items():
        if rid not in RULE_REQUIREMENTS and rid not in SESSION_RULES:
            continue
        out.judged.add(rid)
        out.failures += [Failure(rid, problem, "", reproduce) for problem in problems]


# --- helpers ------------------------------------------------------------------------------------------------


def _failure(rid: str, call: Call, problems: list[str], reproduce: str) -> Failure:
    what = call.operation or f"{call.method} {call.path}"
    body = "\n".join([*problems[1:], f"hub journal: {call.summary()}"])
    return Failure(rid, f"call #{call.seq} {what}: {problems[0]}", body, reproduce)


def _add(found: dict[str, list[str]], rid: str, problem: str) -> None:
    if problem not in found.setdefault(rid, []):
        found[rid].append(problem)


def _name(operation_id: str | None) -> str | None:
    return operation_id.split(".")[0] if operation_id else None


def _session_of(call: Call) -> str | None:
    sid = call.body.get("SessionID") if isinstance(call.body, dict) else None
    return sid if isinstance(sid, str) else None


def _find(body: dict[str, Any], member: str) -> Any:
    """The member at the top level or one object down (OperatorEvseData.OperatorID), as the hub reads it."""
    if member in body:
        return body[member]
    for value in body.values():
        if isinstance(value, dict) and member in value:
            return value[member]
    return None


def _evse_ids(body: Any) -> list[str]:
    if isinstance(body, dict):
        return [
            found
            for key, value in body.items()
            for found in ([value] if key == "EvseID" and isinstance(value, str) else _evse_ids(value))
        ]
    if isinstance(body, list):
        return [found for item in body for found in _evse_ids(item)]
    return []


@cache
def _hub_operations(release: str) -> tuple[tuple[re.Pattern[str], re.Pattern[str], Operation], ...]:
    """Per hub operation: its path template, and the same template with any service version."""
    from conformance.catalog import load_release

    out = []
    for op in load_release(release).operations:
        if op.served_by != "hub":
            continue
        exact = re.sub(r"\\\{(\w+)\\\}", r"[^/]+", re.escape(op.path))
        loose = exact.replace(re.escape(f"/{op.version}/"), "/v[0-9]+/", 1)
        out.append((re.compile(exact + "$"), re.compile(loose + "$"), op))
    return tuple(out)


def _operation(release: str, operation_id: str) -> Operation | None:
    return next((op for _, _, op in _hub_operations(release) if op.id == operation_id), None)


def _routed(sut: Sut, path: str) -> str | None:
    """The operation at this path (for a call the hub never routed, e.g. one too large to read)."""
    return next((op.id for exact, _, op in _hub_operations(sut.release) if exact.search(path)), None)


def _same_path_other_version(sut: Sut, path: str) -> Operation | None:
    return next((op for _, loose, op in _hub_operations(sut.release) if loose.search(path)), None)
