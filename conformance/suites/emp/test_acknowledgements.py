"""How the EMP handles Hubject's answers to its calls: refusals, hub errors, throttling, odd but valid answers.

Judged on PullEvseStatus, the one call every EMP makes (online and offline) that changes nothing at the hub;
odd but valid answers also on every other pull, the remote start and the push the EMP has a trigger for."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from conformance.hub import Call, FakeHub, Fault
from conformance.suites.emp.helpers import change_evse_data, seed_cdrs, seed_evse_data
from conformance.suites.plugin import requirement
from conformance.suites.steps import (
    journal_text,
    judge_bounded,
    judge_not_resent,
    judge_retry_after,
    of,
    probed,
    rerun,
    settle,
    trigger,
    wait_for,
)
from conformance.suites.verdicts import NotJudged, Verdict
from conformance.sut import Sut
from conformance.sut.triggers import Fired

STATUS = "PullEvseStatus.hub"


def _pull(sut: Sut, hub: FakeHub, verdict: Verdict, seed: int) -> Fired:
    seed_evse_data(hub, sut, 5, seed)
    return trigger(sut, hub, verdict, "pull_evse_status", seed)


def _calls(hub: FakeHub, sut: Sut, enough: int) -> list:
    wait_for(hub, lambda cs: len(of(cs, STATUS)) >= enough, sut.retry_window)
    calls = of(settle(hub, quiet=1.5, seconds=sut.retry_window), STATUS)
    if not calls:
        raise NotJudged("no PullEvseStatus reached the hub after the trigger (see the trigger's answer)")
    return calls


@pytest.mark.operation(STATUS, service="evsepull")
@requirement("EMP-ACK-01", "EMP-ACK-02")
def test_definitive_refusal_is_not_resent_unchanged(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    hub.script(STATUS, always=Fault.result_false("300"))  # partner not found: nothing a retry changes
    _pull(sut, hub, verdict, seed)
    calls = _calls(hub, sut, 1)
    judge_not_resent(
        verdict,
        calls,
        "EMP-ACK-02",
        "a pull refused with StatusCode 300 (partner not found)",
        rerun(sut, seed, "test_definitive_refusal_is_not_resent_unchanged"),
    )
    shown = probed(sut, verdict, "outcomes", "EMP-ACK-01", raw=True)
    if shown is not None:
        verdict.check(
            '"300"' in json.dumps(shown),
            "EMP-ACK-01",
            "the EMP's outcomes probe does not show the hub's refusal (StatusCode 300)",
            f"probe {sut.probes['outcomes']}: {json.dumps(shown)[:400]}",
            rerun(sut, seed, "test_definitive_refusal_is_not_resent_unchanged"),
        )
    verdict.conclude()


@pytest.mark.operation(STATUS, service="evsepull")
@requirement("EMP-ACK-03")
def test_server_errors_and_drops_are_retried(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    hub.script(STATUS, [Fault.http(503), Fault.drop(process=False), Fault.result_false("009")])
    _pull(sut, hub, verdict, seed)
    wait_for(hub, lambda cs: any(c.accepted for c in of(cs, STATUS)), sut.retry_window)
    calls = _calls(hub, sut, 1)
    verdict.check(
        any(c.accepted for c in calls),
        "EMP-ACK-03",
        "after HTTP 503, a dropped connection and StatusCode 009 the pull was never answered",
        journal_text(calls),
        rerun(sut, seed, "test_server_errors_and_drops_are_retried"),
    )
    verdict.conclude()


@pytest.mark.operation(STATUS, service="evsepull")
@requirement("EMP-ACK-04")
def test_retries_are_bounded(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    hub.script(STATUS, always=Fault.http(503))
    _pull(sut, hub, verdict, seed)
    calls = of(settle(hub, quiet=3.0, seconds=sut.retry_window + 5), STATUS)
    if not calls:
        raise NotJudged("no PullEvseStatus reached the hub after the trigger (see the trigger's answer)")
    judge_bounded(verdict, sut, calls, "EMP-ACK-04", rerun(sut, seed, "test_retries_are_bounded"))
    verdict.conclude()


@pytest.mark.operation(STATUS, service="evsepull")
@requirement("EMP-ACK-05")
def test_retry_after_is_honoured(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    wait = 1.0
    hub.script(STATUS, [Fault.too_many_requests(wait)])
    _pull(sut, hub, verdict, seed)
    calls = _calls(hub, sut, 2)
    reproduce = rerun(sut, seed, "test_retry_after_is_honoured")
    judge_retry_after(verdict, calls, wait, "EMP-ACK-05", "the pull", reproduce)
    verdict.conclude()


# The EMP's calls whose answers EMP-ACK-06 varies: trigger, hub operation, and whether the answer holds records.
ANSWERED = (
    ("pull_evse_data", "PullEvseData.hub", True),
    ("pull_evse_status", STATUS, True),
    ("pull_evse_status_by_id", "PullEvseStatusByID.hub", True),
    ("pull_evse_status_by_operator_id", "PullEvseStatusByOperatorID.hub", True),
    ("remote_start", "AuthorizeRemoteStart.hub", False),
    ("get_cdrs", "GetChargeDetailRecords.hub", True),
    ("push_auth_data", "PushAuthenticationData.hub", False),
)
SHAPES: tuple[tuple[str, Fault | None], ...] = (
    ("minimal", Fault.minimal()),
    ("maximal", Fault.maximal()),
    ("no-records", Fault.no_records()),
    ("normal", None),  # last: the EMP must still call, and take a normal answer, after the odd ones
)
QUIET = 0.4  # seconds without a call after which one firing's calls are all in (pages, retries)
CDR_WINDOW = timedelta(minutes=10)  # each get_cdrs firing reads its own window, with CDRs of its own


def _shaped(calls: list[Call]) -> str:
    """The journal with the answer shape each call got."""
    return "\n".join(f"{c.summary()} [answered {c.fault or 'normally'}]" for c in calls) or "(no call)"


def _values(sut: Sut, hub: FakeHub, name: str, seed: int, firing: int) -> dict[str, Any]:
    """Fresh hub data and trigger values for one firing: EVSEs to pull (changed now, so a delta pull gets
    them too), a few EvseIDs, an EVSE of its own to start, a CDR window of its own."""
    evses = seed_evse_data(hub, sut, 5, seed)
    if name == "pull_evse_data":
        change_evse_data(hub, sut, evses)
    if name == "pull_evse_status_by_id":
        return {"evse_ids": evses[:3]}
    if name == "remote_start":  # another EVSE per firing: a running session on one never stands in the way
        return {"evse_id": evses[firing % len(evses)]}
    if name == "get_cdrs":
        now = datetime.now().astimezone().replace(microsecond=0)
        start = now - CDR_WINDOW * (len(SHAPES) - firing)
        end = start + CDR_WINDOW
        seed_cdrs(hub, sut, 3, seed, start, end - timedelta(minutes=1))
        return {"from": start.isoformat(), "to": end.isoformat()}
    if name == "push_auth_data":
        return {"action": "fullLoad"}
    return {}


def _judge_answer(
    verdict: Verdict, fired: Fired, calls: list[Call], what: str, shape: str, shown: str, reproduce: str
) -> None:
    """The trigger's own answer after a valid hub answer: HTTP 5xx is the EMP failing on it. A relayed 5xx of
    the hub's own, a 202 (queued) or a command's exit status say nothing about that and are not judged here."""
    if fired.status is None or any(c.status >= 500 for c in calls):
        return
    verdict.check(
        fired.status < 500,
        "EMP-ACK-06",
        f"{what}: the EMP failed on a {shape} answer (its trigger answered HTTP {fired.status})",
        f"{fired.describe()}\n{shown}",
        reproduce,
    )


def _exercise(
    sut: Sut, hub: FakeHub, verdict: Verdict, name: str, op: str, pull: bool, seed: int, reproduce: str
) -> str | None:
    """Fire `name` once per answer shape of `op` (no-records only where the answer holds records), then once
    answered normally, judging each firing. Returns why the operation could not be judged (None: judged)."""
    what = op.removesuffix(".hub")
    previous: str | None = None
    for firing, (shape, fault) in enumerate(s for s in SHAPES if pull or s[0] != "no-records"):
        hub.scripts.clear()  # this operation's shape only: nothing scripted earlier answers this call
        if fault is not None:
            hub.script(op, always=fault)
        before = len(of(hub.calls(), op))
        fired = trigger(sut, hub, verdict, name, seed + firing, **_values(sut, hub, name, seed + firing, firing))
        waiting = sut.retry_window if fired.ok or fired.status in (None, 202) else 1.0
        wait_for(hub, lambda cs, known=before: len(of(cs, op)) > known, waiting)
        every = of(settle(hub, quiet=QUIET, seconds=sut.retry_window), op)
        calls = every[before:]
        if previous is None and not calls:
            return f"trigger {name}: no {what} reached the hub ({fired.describe()})"
        shown = _shaped(every)
        if previous is not None and not calls:
            if fired.status is not None and 400 <= fired.status < 500:  # the EMP declined the trigger itself
                verdict.not_judged(
                    "EMP-ACK-06",
                    f"after a {previous} answer to {what} the trigger {name} was "
                    f"refused ({fired.describe()}) and no {what} reached the hub",
                )
            else:
                verdict.check(
                    False,
                    "EMP-ACK-06",
                    f"{what}: after a {previous} answer the EMP made no further {what} call "
                    f"(trigger {name}: {fired.describe()})",
                    shown,
                    reproduce,
                )
        _judge_answer(verdict, fired, calls, what, shape, shown, reproduce)
        previous = shape
    hub.scripts.clear()
    return None


@pytest.mark.operation(STATUS, service="evsepull")
@requirement("EMP-ACK-06")
def test_odd_but_valid_answers_are_handled(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    """Every valid answer shape, on every call the EMP has a trigger for: the EMP neither fails (its trigger
    answers no 5xx) nor stops calling. First a minimal answer, then the default acknowledgement in place of
    PullEvseStatus' answer; then, per operation, a minimal, a maximal (every optional member) and, for pulls,
    an empty answer, and a normal one after them.

    The answers are in the shapes of the SUT's declared release: the OICP 2.2 shapes (unpaged pulls,
    eroamingChargeDetailRecords) are covered where the release is 2.2, and never sent to a 2.3 EMP, to which
    they are not valid."""
    declared = [(name, op, pull) for name, op, pull in ANSWERED if name in sut.triggers]
    if not declared:
        raise NotJudged(
            f"none of the triggers {', '.join(name for name, _, _ in ANSWERED)} is declared in {sut.source}",
            declare="[triggers.pull_evse_status]",
        )
    reproduce = rerun(sut, seed, "test_odd_but_valid_answers_are_handled")
    skipped: list[str] = []
    if "pull_evse_status" in sut.triggers:
        hub.script(STATUS, [Fault.minimal(), Fault.result_false("000")])
        for index, shape in enumerate(("minimal", "default acknowledgement", "normal")):
            before = len(of(hub.calls(), STATUS))
            fired = _pull(sut, hub, verdict, seed + index)
            calls = _calls(hub, sut, index + 1)
            _judge_answer(verdict, fired, calls[before:], "PullEvseStatus", shape, _shaped(calls), reproduce)
        calls = of(hub.calls(), STATUS)
        verdict.check(
            len(calls) >= 3,
            "EMP-ACK-06",
            "after a minimal answer and a default acknowledgement the EMP stopped pulling",
            _shaped(calls),
            reproduce,
        )
    for number, (name, op, pull) in enumerate(declared):
        why = _exercise(sut, hub, verdict, name, op, pull, seed + 10 * (number + 1), reproduce)
        if why is not None:  # shown with every later failure: which operations the verdict does not cover
            skipped.append(why)
            verdict.note(f"not exercised: {why}")
    if len(skipped) == len(declared) and "pull_evse_status" not in sut.triggers:
        raise NotJudged("; ".join(skipped))
    verdict.conclude()
