"""How the CPO handles Hubject's answers when they are refusals, hub errors, throttling or lost."""

from __future__ import annotations

import json

import pytest

from conformance.hub import FakeHub, Fault
from conformance.suites.cases import IdSource
from conformance.suites.cpo.helpers import (
    CDR,
    available_evses,
    journal_text,
    of,
    rerun,
    settle,
    trigger,
    wait_for,
)
from conformance.suites.cpo.test_sessions import authorize
from conformance.suites.plugin import requirement
from conformance.suites.steps import (
    judge_bounded,
    judge_not_resent,
    judge_recorded_once,
    judge_retry_after,
    judge_sent_again,
)
from conformance.suites.verdicts import NotJudged, Verdict
from conformance.sut import Sut

STATUS = "PushEvseStatus.hub"


def _push_status(sut: Sut, hub: FakeHub, verdict: Verdict, seed: int) -> None:
    trigger(sut, hub, verdict, "push_evse_status", seed, action="fullLoad", evse_ids=json.dumps(list(sut.evse_ids)))


@pytest.mark.operation(STATUS, service="evsepush")
@requirement("CPO-ACK-01")
def test_definitive_refusal_is_not_resent_unchanged(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    hub.script(
        STATUS, always=Fault.result_false("018")
    )  # CPO 2: "Hubject refuses the data upload and responds with the status code 018"
    _push_status(sut, hub, verdict, seed)
    calls = of(settle(hub, quiet=1.5, seconds=sut.retry_window), STATUS)
    if not calls:
        raise NotJudged("no PushEvseStatus reached the hub (see CPO-EVSE-STATUS-01)")
    judge_not_resent(
        verdict,
        calls,
        "CPO-ACK-01",
        "a push refused with StatusCode 018 (inconsistent EvseID)",
        rerun(sut, seed, "test_definitive_refusal_is_not_resent_unchanged"),
    )
    verdict.conclude()


@pytest.mark.operation(STATUS, service="evsepush")
@requirement("CPO-ACK-02")
def test_server_errors_and_drops_are_retried(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    hub.script(STATUS, [Fault.http(503), Fault.drop(process=False), Fault.http(502)])
    _push_status(sut, hub, verdict, seed)
    calls = of(wait_for(hub, lambda cs: any(c.accepted for c in of(cs, STATUS)), sut.retry_window), STATUS)
    if not calls:
        raise NotJudged("no PushEvseStatus reached the hub (see CPO-EVSE-STATUS-01)")
    verdict.check(
        any(c.accepted for c in calls),
        "CPO-ACK-02",
        "after HTTP 503, a dropped connection and HTTP 502 the push was never delivered",
        journal_text(calls),
        rerun(sut, seed, "test_server_errors_and_drops_are_retried"),
    )
    verdict.conclude()


@pytest.mark.operation(STATUS, service="evsepush")
@requirement("CPO-ACK-06")
def test_hub_error_is_sent_again(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    hub.script(STATUS, [Fault.result_false("009")])
    _push_status(sut, hub, verdict, seed)
    calls = of(wait_for(hub, lambda cs: any(c.accepted for c in of(cs, STATUS)), sut.retry_window), STATUS)
    if not calls:
        raise NotJudged("no PushEvseStatus reached the hub (see CPO-EVSE-STATUS-01)")
    judge_sent_again(verdict, calls, "CPO-ACK-06", "a push", rerun(sut, seed, "test_hub_error_is_sent_again"))
    verdict.conclude()


@pytest.mark.operation(STATUS, service="evsepush")
@requirement("CPO-ACK-03")
def test_retry_after_is_honoured(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    wait = 1.0
    hub.script(STATUS, [Fault.too_many_requests(wait)])
    _push_status(sut, hub, verdict, seed)
    calls = of(wait_for(hub, lambda cs: len(of(cs, STATUS)) >= 2, sut.retry_window), STATUS)
    reproduce = rerun(sut, seed, "test_retry_after_is_honoured")
    if not calls:
        raise NotJudged("no PushEvseStatus reached the hub (see CPO-EVSE-STATUS-01)")
    judge_retry_after(verdict, calls, wait, "CPO-ACK-03", "the push", reproduce)
    verdict.conclude()


@pytest.mark.operation(STATUS, service="evsepush")
@requirement("CPO-ACK-05")
def test_retries_are_bounded(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    hub.script(STATUS, always=Fault.http(503))
    _push_status(sut, hub, verdict, seed)
    calls = of(settle(hub, quiet=3.0, seconds=sut.retry_window + 5), STATUS)
    if not calls:
        raise NotJudged("no PushEvseStatus reached the hub (see CPO-EVSE-STATUS-01)")
    judge_bounded(verdict, sut, calls, "CPO-ACK-05", rerun(sut, seed, "test_retries_are_bounded"))
    verdict.conclude()


@pytest.mark.operation(CDR, service="cdrmgmt")
@requirement("CPO-ACK-04", "CPO-STATE-02")
def test_lost_cdr_acknowledgement_resends_the_same_cdr(
    sut: Sut, hub: FakeHub, seed: int, ids: IdSource, verdict: Verdict
) -> None:
    start, flow = authorize(sut, hub, verdict, ids, available_evses(sut)[0])
    if start is None:
        raise NotJudged("setup failed: no accepted AuthorizeStart (see CPO-AUTH-01)")
    session_id = flow["session_id"]
    hub.script(CDR, [Fault.delay(sut.outbound_timeout + 1.5)])  # stored, but the answer comes too late
    trigger(sut, hub, verdict, "end_session", seed + 1, **flow)
    calls = of(wait_for(hub, lambda cs: len(of(cs, CDR)) >= 2, sut.retry_window), CDR)
    reproduce = rerun(sut, seed, "test_lost_cdr_acknowledgement_resends_the_same_cdr")
    if not calls:
        raise NotJudged("no CDR reached the hub (see CPO-SESSION-01)")
    if verdict.check(
        len(calls) >= 2,
        "CPO-ACK-04",
        "the CDR whose acknowledgement was lost was not sent again",
        journal_text(calls),
        reproduce,
    ):
        verdict.check(
            calls[1].body == calls[0].body,
            "CPO-ACK-04",
            "the CDR sent again differs from the first",
            f"first:  {json.dumps(calls[0].body)[:600]}\nsecond: {json.dumps(calls[1].body)[:600]}",
            reproduce,
        )
    settle(hub)
    judge_recorded_once(sut, verdict, "CPO-STATE-02", session_id, reproduce)
    verdict.conclude()
