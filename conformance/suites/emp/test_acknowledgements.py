"""How the EMP handles Hubject's answers to its calls: refusals, hub errors, throttling, odd but valid answers.

Judged on PullEvseStatus, the one call every EMP makes (online and offline) that changes nothing at the hub."""

from __future__ import annotations

import json

import pytest

from conformance.hub import FakeHub, Fault
from conformance.suites.emp.helpers import seed_evse_data
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

STATUS = "PullEvseStatus.hub"


def _pull(sut: Sut, hub: FakeHub, verdict: Verdict, seed: int) -> None:
    seed_evse_data(hub, sut, 5, seed)
    trigger(sut, hub, verdict, "pull_evse_status", seed)


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


@pytest.mark.operation(STATUS, service="evsepull")
@requirement("EMP-ACK-06")
def test_odd_but_valid_answers_are_handled(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    """A minimal answer, then the default acknowledgement in place of the pull's answer: the EMP keeps calling."""
    hub.script(STATUS, [Fault.minimal(), Fault.result_false("000")])
    for index in range(3):
        _pull(sut, hub, verdict, seed + index)
        _calls(hub, sut, index + 1)
    calls = of(hub.calls(), STATUS)
    verdict.check(
        len(calls) >= 3,
        "EMP-ACK-06",
        "after a minimal answer and a default acknowledgement the EMP stopped pulling",
        journal_text(calls),
        rerun(sut, seed, "test_odd_but_valid_answers_are_handled"),
    )
    verdict.conclude()
