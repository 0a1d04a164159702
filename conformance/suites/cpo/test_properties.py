"""Suite -> CPO as Hypothesis properties: N generated requests per inbound operation, a failure shrunk to the
smallest request that still shows it.

Every case is a valid request that carries the flow's state: one of the SUT's available EVSEs (handed out in
turn), a fresh SessionID as Hubject issues them, and for a stop the session or reservation a start opened just
before. Which optional members a case carries, and their values, are Hypothesis' to choose and to shrink; the
flow's IDs are not, so a shrunk request still reaches the SUT as Hubject would send it. What the SUT accepted is
stopped or cancelled before its EVSE is used again; that happens in the background while the other EVSEs serve
cases (each case costs a second request, the stop or the start around it, and waiting for it would halve the
rate). Each optional member of the request is carried by at least one case (a short focused search adds what
the random cases missed), so a SUT that fails only on one member is caught in a default run too. Failing
requests are kept in the example database (`--oicp-examples-db`, under the reports folder for
`oicp-conformance run`) and replayed first by the next run.

The checks are the suite's own: a schema-valid acknowledgement (never a 5xx, never silence) and, for an
accepted RemoteStart, the request's SessionID. A refusal with an acknowledgement is no failure here: whether a
plain RemoteStart is served is judged by `test_remote_start_is_accepted`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase, InMemoryExampleDatabase
from hypothesis.errors import FlakyFailure, Unsatisfiable

from conformance.catalog import load_release
from conformance.hub import FakeHub
from conformance.oicp.limits import REMOTE_START_SECONDS
from conformance.strategies import Case, Pins, contexts
from conformance.strategies.messages import generator, path_params
from conformance.strategies.shaping import shape
from conformance.suites.cases import HUB_FILLS, IdSource, as_hub_sends
from conformance.suites.cpo.helpers import (
    CDR,
    RES_START,
    RES_STOP,
    START,
    STOP,
    Undo,
    ack_problems,
    available_evses,
    call_inbound,
    case,
    of,
    operation,
    rerun,
)
from conformance.suites.plugin import DEFAULT_EXAMPLES, requirement
from conformance.suites.verdicts import NotJudged, Verdict
from conformance.sut import Sut
from conformance.sut.client import Answer
from conformance.validation import load_schema, resolve

# Per operation, past this no new case is sent (a slow SUT must not make the run endless): a minute, or a second
# per example asked for when that is more.
GENERATE_SECONDS, SECONDS_PER_EXAMPLE = 60.0, 1.0
SHRINK_SECONDS = 30.0  # after the first failure: how long shrinking may keep calling the SUT
CDR_SECONDS = 3.0  # how long a stopped session's EVSE waits for its CDR before it is used again (as Undo waits)
FOCUSED_EXAMPLES = 2  # cases of a focused search for an optional member the random cases never carried
# Values the strategy is pinned to; each case gets the flow's own instead (see `Property.with_flow`).
PLACEHOLDER_SESSION = "00000000-0000-4000-8000-000000000000"
PINNED_NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink)  # no `explain`: it would call the SUT more


@dataclass(frozen=True)
class Flow:
    """One inbound operation as a property: the requirement it judges, and what a case needs opened first."""

    op_id: str
    requirement: str
    feature: str | None = None
    opened_by: str | None = None  # a stop needs the session (or reservation) a start opened


FLOWS = {
    START: Flow(START, "CPO-REMOTE-START-01"),
    STOP: Flow(STOP, "CPO-REMOTE-STOP-01", opened_by=START),
    RES_START: Flow(RES_START, "CPO-RESERVATION-01", feature="reservation"),
    RES_STOP: Flow(RES_STOP, "CPO-RESERVATION-01", feature="reservation", opened_by=RES_START),
}
CLOSED_BY = {START: STOP, RES_START: RES_STOP}


@dataclass
class Problem:
    """What one case showed: the failure as the verdict records it, and the request that showed it."""

    requirement: str
    title: str
    body: str
    reproduce: str
    message: Any


class Falsified(Exception):
    """Raised inside the property for a failing case, so Hypothesis shrinks it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.title)
        self.problem = problem


def requests(op_id: str, release: str, pins: Pins, optional: tuple[str, ...]) -> st.SearchStrategy[Case]:
    """Valid requests of the operation: every member drawn, then each optional one kept or left out by a choice of
    its own, so that Hypothesis shrinks a failing request member by member down to what the failure needs."""
    op = load_release(release).operation(op_id)
    names = [resolve(name, release) for name in op.request]
    generators = {name: generator(name, release) for name in names}  # compiled once, drawn from many times
    which = st.sampled_from(names)
    context = contexts(pins)

    @st.composite
    def request(draw: st.DrawFn) -> Case:
        name = draw(which) if len(names) > 1 else names[0]
        ctx = replace(draw(context), fullness="all", message=name)
        body = shape(name, generators[name](draw, ctx), ctx, draw)
        for member in optional:
            if member in body and not draw(st.booleans()):
                del body[member]
        return Case(message=name, release=release, body=body, path_params=path_params(op, ctx), operation=op_id)

    return request()


def _short(op_id: str) -> str:
    return op_id.split(".")[0]


def judge(flow: Flow, sut: Sut, sent: Case, answer: Answer) -> Problem | None:
    """The suite's checks on one answer to a valid request; None when they hold."""
    if problems := ack_problems(answer, sut.release):
        title = f"the answer to a valid {_short(flow.op_id)} is no acknowledgement"
        return Problem(flow.requirement, title, "\n".join(problems), answer.curl, sent.body)
    said = answer.body.get("SessionID")
    if flow.op_id == START and answer.result is True and said not in (None, sent.body.get("SessionID")):
        title = "the acknowledgement of a RemoteStart names another SessionID than the request"
        return Problem(flow.requirement, title, answer.describe(), answer.curl, sent.body)
    return None


class Plain:
    """The requests around a case (the start a stop needs, the stop that frees an EVSE), with the required members
    and the hub's SessionID only: a setup should not fail on an optional member, which is the property's to find.
    One request per operation is drawn, and each use gets the flow's EVSE and IDs (drawing anew would cost more
    than the call). A start carries an EMPPartnerSessionID, which a stop drawn with one names again."""

    def __init__(self, sut: Sut, ids: IdSource) -> None:
        self.sut, self.ids = sut, ids
        self.drawn: dict[str, Case] = {}

    def __call__(self, op_id: str, evse: str, session_id: str | None = None) -> Case:
        if op_id not in self.drawn:
            full = case(self.sut, self.ids, op_id, evse)
            schema = load_schema(full.message, full.release)
            keep = set(schema.get("required", [])) | set(HUB_FILLS)
            self.drawn[op_id] = replace(full, body={k: v for k, v in full.body.items() if k in keep})
        body = {**self.drawn[op_id].body, "EvseID": evse}
        if op_id in CLOSED_BY:
            body["EMPPartnerSessionID"] = self.ids.partner_session_id()
        fresh = replace(self.drawn[op_id], body=body)
        return as_hub_sends(fresh, session_id or self.ids.session_id(), self.sut.provider_id)


class Handover(ExampleDatabase):
    """The example database as the searches see it. Hypothesis takes a failure it finds among a key's primary
    examples as shrunk already; one handed over (a focused search's) it offers as a secondary example, which it
    replays and shrinks again."""

    def __init__(self, kept: ExampleDatabase) -> None:
        super().__init__()
        self.kept = kept
        self.saved: dict[bytes, list[bytes]] = {}  # what the current search saved, by key
        self.handed: list[bytes] = []

    def last_saved(self) -> bytes | None:
        """The last failing example the current search saved under its own key (its shortest: the others are
        that key's sub-keys), i.e. the one it shrank to."""
        primary = min(self.saved, key=len, default=None)
        return self.saved[primary][-1] if primary is not None else None

    def save(self, key: bytes, value: bytes) -> None:
        self.saved.setdefault(key, []).append(value)
        self.kept.save(key, value)

    def fetch(self, key: bytes) -> Iterable[bytes]:
        yield from self.kept.fetch(key)
        if key.endswith(b".secondary"):
            yield from self.handed

    def delete(self, key: bytes, value: bytes) -> None:
        self.kept.delete(key, value)


@dataclass
class Opened:
    """A session (or reservation) a start opened on an EVSE, for the stop a case sends."""

    request: Case
    answer: Answer


@dataclass
class Ended:
    """What readying an EVSE for a start left to wait for: the session whose CDR comes (None: nothing)."""

    session_id: str | None


class Evses:
    """The SUT's available EVSEs in turn, each readied for its next case in the background while the others serve
    cases: what a case left open is stopped or cancelled, a stopped session's CDR awaited (bounded, as `Undo` waits
    for it), and for a stop the start it needs sent ahead. A case waits only for its own EVSE to be ready.

    One worker does all of it in the order the cases ended, so a seed repeats the same requests."""

    def __init__(self, sut: Sut, hub: FakeHub, ids: IdSource, opened_by: str | None) -> None:
        self.sut, self.hub, self.opened_by = sut, hub, opened_by
        self.free = available_evses(sut)
        self.turn = 0
        self.plain = Plain(sut, ids)
        self.left = Undo(sut, hub, ids)  # what could not be closed: tried again at the end
        self.ready: dict[str, Future[Opened | Ended]] = {}
        self.worker = ThreadPoolExecutor(1, thread_name_prefix="oicp-evses")
        self.cdrs_come = True
        self.bound = 2 * sut.timeout + CDR_SECONDS + 5  # one EVSE's readying: a stop, the CDR, a start

    def take(self) -> tuple[str, Opened | None]:
        """The next EVSE, once ready, with the session opened on it for a stop (None for a start)."""
        evse = self.free[self.turn % len(self.free)]
        self.turn += 1
        future = self.ready.pop(evse, None)
        if future is None:
            future = self.worker.submit(self._ready, evse, None)
        try:
            ready = future.result(timeout=self.bound)
        except TimeoutError:
            return evse, None
        if isinstance(ready, Ended):
            if ready.session_id is not None:
                self._settle({ready.session_id})
            return evse, None
        return evse, ready

    def done(self, evse: str, open_session: tuple[str, str] | None, ended: str | None) -> None:
        """After a case on `evse`: `open_session` (opening operation, SessionID) is what is still open there,
        `ended` a session the case stopped (its CDR comes)."""
        self.ready[evse] = self.worker.submit(self._ready, evse, open_session, ended)

    def _ready(
        self, evse: str, open_session: tuple[str, str] | None, ended: str | None = None, reopen: bool = True
    ) -> Opened | Ended:
        if open_session is not None:
            ended = self._close(*open_session, evse) or ended
        if self.opened_by is None or not reopen:
            return Ended(ended)  # its CDR is awaited when the EVSE is taken again, while other EVSEs serve cases
        if ended is not None:
            self._settle({ended})
        return self._open(evse)

    def _open(self, evse: str) -> Opened:
        assert self.opened_by is not None
        request = self.plain(self.opened_by, evse)
        session_id = request.body["SessionID"]
        self.hub.open_session(
            session_id, evse, self.sut.provider_id, request.body.get("Identification"), **_origin(request)
        )
        return Opened(request, call_inbound(self.sut, self.opened_by, request, _timeout(self.sut, self.opened_by)))

    def _close(self, opened_by: str, session_id: str, evse: str) -> str | None:
        """Stop the session (cancel the reservation) a request opened; the SessionID whose CDR comes, if any."""
        closing = CLOSED_BY[opened_by]
        answer = call_inbound(self.sut, closing, self.plain(closing, evse, session_id))
        if answer.result is True:
            return session_id if opened_by == START else None  # a cancelled reservation ends with nothing
        (self.left.sessions if opened_by == START else self.left.reservations).append((session_id, evse))
        return None

    def _settle(self, wanted: set[str]) -> None:
        if not self.cdrs_come:
            return
        deadline = time.monotonic() + CDR_SECONDS
        while time.monotonic() < deadline:
            if wanted <= {(c.body or {}).get("SessionID") for c in of(self.hub.calls(), CDR)}:
                return
            time.sleep(0.005)
        self.cdrs_come = False  # this SUT sends its CDRs later: no more waiting for them in this test

    def finish(self) -> None:
        """Wait for the worker; close the sessions opened ahead for cases that never came, then what is left."""
        for evse, future in list(self.ready.items()):
            try:
                opened = future.result(timeout=self.bound)
            except TimeoutError:
                continue
            if not isinstance(opened, Ended) and opened.answer.result is True and self.opened_by is not None:
                still_open = (self.opened_by, opened.request.body["SessionID"])
                opened = self.worker.submit(self._ready, evse, still_open, None, False).result(timeout=self.bound)
            if isinstance(opened, Ended) and opened.session_id is not None:
                self._settle({opened.session_id})
        self.worker.shutdown(wait=True)
        self.left.run()


@dataclass
class Property:
    """One inbound operation's property: Hypothesis draws the requests, the flow fills in its state."""

    flow: Flow
    sut: Sut
    hub: FakeHub
    ids: IdSource
    examples: int
    database: Handover
    hypothesis_seed: int
    evses: Evses
    cases: int = 0  # requests of the operation sent and judged
    unserved: int = 0  # cases not sent: the start a stop needs was refused
    skipped: int = 0  # cases not sent: the time budget was spent
    failed_at: int | None = None  # the case that failed first (counted from 1)
    shrink_cases: int = 0
    flaky: bool = False
    carried: set[str] = field(default_factory=set)  # optional members some judged case carried
    seen: dict[str, Problem | None] = field(default_factory=dict)
    generate_until: float = 0.0
    shrink_until: float = 0.0

    def strategy(self) -> st.SearchStrategy[Case]:
        pins = Pins(
            operator_id=self.sut.operator_id,
            provider_id=self.sut.provider_id,
            evse_ids=(self.evses.free[0],),
            session_id=PLACEHOLDER_SESSION,
            cpo_partner_session_id="cpo-placeholder",
            emp_partner_session_id="emp-placeholder",
            now=PINNED_NOW,
            offset=0,
        )
        return requests(self.flow.op_id, self.sut.release, pins, tuple(self.optional_members))

    @cached_property
    def optional_members(self) -> list[str]:
        """The request's optional top-level members (the ones the hub always fills aside)."""
        members: list[str] = []
        for message in operation(self.sut, self.flow.op_id).request:
            schema = load_schema(message, self.sut.release)
            required = set(schema.get("required", [])) | set(HUB_FILLS)
            members += [m for m in schema.get("properties", {}) if m not in required and m not in members]
        return members

    def run(self) -> Problem | None:
        """Search with N random cases, then one focused search per optional member no judged case carried.

        A focused search shrinks with its member forced in. Its failure is handed to one more search over the
        unforced requests, which replays it and shrinks it again (so the report names the member only where the
        failure needs it) and keeps the result under the operation's key, which the next run replays first."""
        self.generate_until = time.monotonic() + max(GENERATE_SECONDS, SECONDS_PER_EXAMPLE * self.examples)
        strategy = self.strategy()
        try:
            found = self.search(strategy, self.examples)
            for member in self.optional_members:
                if found is not None or member in self.carried:
                    continue
                focused = strategy.filter(lambda drawn, m=member: m in drawn.body)
                found = self.search(focused, FOCUSED_EXAMPLES, key=f"{self.flow.op_id}/{member}")
                if found is not None and (handed := self.database.last_saved()):
                    self.database.handed = [handed]
                    found = self.search(strategy, 1, phases=(Phase.reuse, Phase.shrink)) or found
                    self.database.handed = []
        finally:
            self.evses.finish()
        return found

    def search(
        self, strategy: st.SearchStrategy[Case], examples: int, phases: tuple[Phase, ...] = PHASES, key: str = ""
    ) -> Problem | None:
        """One Hypothesis run: the shrunk failing case's problem, or None when every case held."""

        def holds(drawn: Case) -> None:
            if (problem := self.evaluate(drawn)) is not None:
                raise Falsified(problem)

        # The database key: one per operation (the function's source is the same for all), one per focused search.
        holds._hypothesis_internal_add_digest = (key or self.flow.op_id).encode()  # type: ignore[attr-defined]
        self.database.saved.clear()
        # The seed repeats a run; `seed` alone would switch the example database off, so the settings come last.
        test = fixed_seed(self.hypothesis_seed)(given(strategy)(holds))
        test = settings(
            max_examples=examples,
            database=self.database,
            deadline=None,
            derandomize=False,
            phases=phases,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            verbosity=Verbosity.quiet,
            print_blob=False,
        )(test)
        try:
            test()
        except Falsified as exc:
            return exc.problem
        except FlakyFailure as exc:  # it failed once and not when replayed: report the failure it showed
            self.flaky = True
            return next(e.problem for e in _leaves(exc) if isinstance(e, Falsified))
        except Unsatisfiable:  # a focused search found no request with its member: nothing to judge there
            return None
        return None

    def evaluate(self, drawn: Case) -> Problem | None:
        """Send one drawn request with the flow's state and judge the answer. While shrinking, a request tried
        before is not sent again (its outcome stands: the final replay reports the answer that failed); past the
        time budget no new request is sent."""
        key = json.dumps(drawn.body, sort_keys=True)
        if self.failed_at is not None and key in self.seen:
            return self.seen[key]
        now = time.monotonic()
        if self.failed_at is None and now > self.generate_until:
            self.skipped += 1
            return None
        if self.failed_at is not None and now > self.shrink_until:
            return None
        problem = self.send(drawn)
        if self.failed_at is not None:
            self.shrink_cases += 1
        elif problem is not None:
            self.failed_at = self.cases
            self.shrink_until = time.monotonic() + SHRINK_SECONDS
        self.seen[key] = problem
        return problem

    def send(self, drawn: Case) -> Problem | None:
        flow, sut = self.flow, self.sut
        evse, opened = self.evses.take()
        opening = flow.opened_by or flow.op_id
        cpo_partner = emp_partner = None
        if flow.opened_by is not None:
            if opened is None or opened.answer.result is not True:
                self.unserved += 1
                self.evses.done(evse, None, None)
                return None
            session_id = opened.request.body["SessionID"]
            cpo_partner = opened.answer.body.get("CPOPartnerSessionID")
            emp_partner = opened.request.body.get("EMPPartnerSessionID")
        else:
            session_id = self.ids.session_id()
        sent = self.with_flow(drawn, evse, session_id, cpo_partner, emp_partner)
        if flow.opened_by is None:
            self.hub.open_session(session_id, evse, sut.provider_id, sent.body.get("Identification"), **_origin(sent))
        answer = call_inbound(sut, flow.op_id, sent, _timeout(sut, flow.op_id))
        self.cases += 1
        self.carried |= set(drawn.body) & set(self.optional_members)
        accepted = answer.result is True
        still_open = accepted if flow.opened_by is None else not accepted
        ended = session_id if flow.op_id == STOP and accepted else None
        self.evses.done(evse, (opening, session_id) if still_open else None, ended)
        return judge(flow, sut, sent, answer)

    def with_flow(self, drawn: Case, evse: str, session_id: str, cpo: str | None, emp: str | None) -> Case:
        """The drawn request with the flow's state: its EVSE, the hub's SessionID, the partners' session IDs."""
        body = dict(drawn.body)
        body["EvseID"] = evse
        if "EMPPartnerSessionID" in body:
            body["EMPPartnerSessionID"] = emp or self.ids.partner_session_id()
        if "CPOPartnerSessionID" in body:
            body["CPOPartnerSessionID"] = cpo or self.ids.partner_session_id("cpo")
        return as_hub_sends(replace(drawn, body=body), session_id, self.sut.provider_id)

    def record(self, seconds: float) -> dict[str, Any]:
        return {
            "operation": self.flow.op_id,
            "examples": self.examples,
            "cases": self.cases,
            "seconds": round(seconds, 3),
            "cases_per_second": round(self.cases / seconds, 1) if seconds > 0 else None,
            "failed_at_case": self.failed_at,
            "shrink_cases": self.shrink_cases,
            "unserved": self.unserved,
            "skipped": self.skipped,
        }


def _shown(folder: str) -> Path:
    """Where the example database is once the run is over: `oicp-conformance run` works in a hidden folder
    (`.<role>-running-<pid>`) that replaces `<role>` at the end."""
    path = Path(folder)
    if match := re.fullmatch(r"\.(\w+)-running-\d+", path.parent.name):
        return path.parent.with_name(match.group(1)) / path.name
    return path


def _leaves(group: BaseException) -> list[BaseException]:
    inner = getattr(group, "exceptions", None)
    return [leaf for e in inner for leaf in _leaves(e)] if inner else [group]


def _origin(drawn: Case) -> dict[str, str]:
    """For the hub a reservation's SessionID is a session too (a CDR may follow its stop)."""
    return {"origin": "reservation"} if drawn.operation == RES_START else {}


def _timeout(sut: Sut, op_id: str) -> float | None:
    return min(sut.timeout, REMOTE_START_SECONDS) + 1 if op_id == START else None


def run_property(
    flow: Flow, sut: Sut, hub: FakeHub, ids: IdSource, verdict: Verdict, config: pytest.Config, seed_value: int
) -> None:
    """Run one operation's property and judge its requirement: the shrunk failure, or a pass over every case."""
    if flow.feature is not None and not sut.has(flow.feature):
        raise NotJudged(f"{sut.source} does not declare the optional feature {flow.feature!r}", declare="features")
    if not available_evses(sut):
        raise NotJudged("no available EVSE is declared", declare="evse_ids")
    examples = config.getoption("oicp_examples", None) or DEFAULT_EXAMPLES
    folder = config.getoption("oicp_examples_db", None)
    name = verdict.node.name
    prop = Property(
        flow=flow,
        sut=sut,
        hub=hub,
        ids=ids,
        examples=examples,
        database=Handover(DirectoryBasedExampleDatabase(folder) if folder else InMemoryExampleDatabase()),
        hypothesis_seed=IdSource(seed_value, f"{name}/hypothesis").seed(),
        evses=Evses(sut, hub, IdSource(seed_value, f"{name}/flow"), flow.opened_by),
    )
    started = time.monotonic()
    found = prop.run()
    runs = config.__dict__.setdefault("_oicp_properties", [])
    runs.append(prop.record(time.monotonic() - started))
    if found is not None:
        where = (
            f"\nKept in Hypothesis' example database {_shown(folder)}: the next run replays it first." if folder else ""
        )
        flaky = "\nIt did not fail again when replayed: the SUT's answer depends on more than the request." * prop.flaky
        body = (
            f"{found.body}\n\nThe smallest request that still fails (case {prop.failed_at} failed first; "
            f"Hypothesis then tried {prop.shrink_cases} smaller ones):\n"
            f"{json.dumps(found.message, indent=2, ensure_ascii=False)}{flaky}{where}"
        )
        again = f"# the whole property again:\n# {rerun(sut, seed_value, name)} --examples {examples}"
        verdict.add(found.requirement, found.title, body, f"{found.reproduce}\n{again}")
    elif prop.cases == 0:
        why = f"the start each {_short(flow.op_id)} needs was refused" if prop.unserved else "no case was sent"
        raise NotJudged(f"the property sent no {_short(flow.op_id)}: {why}")
    else:  # every generated case passed its checks: the property found nothing (found is None on this branch)
        verdict.check(found is None, flow.requirement, "a generated case failed")
    verdict.conclude()


@pytest.mark.operation(START)
@requirement("CPO-REMOTE-START-01")
def test_remote_start_property(
    sut: Sut, hub: FakeHub, ids: IdSource, verdict: Verdict, pytestconfig: pytest.Config, seed: int
) -> None:
    """Generated RemoteStarts for available EVSEs are each answered with a valid acknowledgement."""
    run_property(FLOWS[START], sut, hub, ids, verdict, pytestconfig, seed)


@pytest.mark.operation(STOP)
@requirement("CPO-REMOTE-STOP-01")
def test_remote_stop_property(
    sut: Sut, hub: FakeHub, ids: IdSource, verdict: Verdict, pytestconfig: pytest.Config, seed: int
) -> None:
    """Generated RemoteStops of sessions just started are each answered with a valid acknowledgement."""
    run_property(FLOWS[STOP], sut, hub, ids, verdict, pytestconfig, seed)


@pytest.mark.operation(RES_START)
@requirement("CPO-RESERVATION-01")
def test_reservation_start_property(
    sut: Sut, hub: FakeHub, ids: IdSource, verdict: Verdict, pytestconfig: pytest.Config, seed: int
) -> None:
    """Generated reservation starts for available EVSEs are each answered with a valid acknowledgement."""
    run_property(FLOWS[RES_START], sut, hub, ids, verdict, pytestconfig, seed)


@pytest.mark.operation(RES_STOP)
@requirement("CPO-RESERVATION-01")
def test_reservation_stop_property(
    sut: Sut, hub: FakeHub, ids: IdSource, verdict: Verdict, pytestconfig: pytest.Config, seed: int
) -> None:
    """Generated reservation stops of reservations just made are each answered with a valid acknowledgement."""
    run_property(FLOWS[RES_STOP], sut, hub, ids, verdict, pytestconfig, seed)
