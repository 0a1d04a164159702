"""CPO -> hub, through triggers: EVSE data and status pushes, judged on the fake hub."""

from __future__ import annotations

import json
import threading

import pytest

from conformance.hub import FakeHub, Fault
from conformance.oicp.ids import operator_key
from conformance.suites.cpo.helpers import (
    available_evses,
    journal_text,
    of,
    outbound_problems,
    rerun,
    settle,
    trigger,
    wait_for,
)
from conformance.suites.plugin import Verdict, requirement
from conformance.sut import Sut

DATA, STATUS = "PushEvseData.hub", "PushEvseStatus.hub"


def _judge_routing(sut: Sut, calls: list, verdict: Verdict, reproduce: str) -> None:
    for rid, problems in outbound_problems(sut, calls).items():
        verdict.check(not problems, rid, problems[0] if problems else "", "\n".join(problems[1:5]), reproduce)


def _push(sut: Sut, name: str, action: str, evses: list[str]) -> None:
    trigger(sut, name, action=action, evse_ids=json.dumps(evses))


@pytest.mark.operation(DATA, service="evsepush")
@requirement("CPO-EVSE-DATA-01", "CPO-OUT-01", "CPO-OUT-02", "CPO-OUT-03")
def test_full_load_push(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    _push(sut, "push_evse_data", "fullLoad", list(sut.evse_ids))
    calls = settle(hub)
    reproduce = rerun(sut, seed, "test_full_load_push")
    _judge_routing(sut, calls, verdict, reproduce)
    pushes = of(calls, DATA)
    verdict.check(bool(pushes), "CPO-EVSE-DATA-01", "no PushEvseData reached the hub", journal_text(calls), reproduce)
    for call in pushes:
        verdict.check(
            not call.violations,
            "CPO-EVSE-DATA-01",
            "PushEvseData is not schema-valid",
            "\n".join(str(v) for v in call.violations[:10]),
            reproduce,
        )
        verdict.check(
            call.accepted or bool(call.violations),
            "CPO-EVSE-DATA-01",
            "the hub refused the push",
            call.summary(),
            reproduce,
        )
    verdict.conclude()


@pytest.mark.operation(DATA, service="evsepush")
@requirement("CPO-EVSE-DATA-02")
def test_delta_push_keeps_the_store_coherent(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    _push(sut, "push_evse_data", "fullLoad", list(sut.evse_ids))
    changed = available_evses(sut)[:1]
    _push(sut, "push_evse_data", "update", changed)
    calls = of(settle(hub), DATA)
    reproduce = rerun(sut, seed, "test_delta_push_keeps_the_store_coherent")
    if not calls:
        pytest.skip("no PushEvseData reached the hub (see CPO-EVSE-DATA-01)")
    delta = calls[-1].body or {}
    verdict.check(
        delta.get("ActionType") in ("update", "insert"),
        "CPO-EVSE-DATA-02",
        f"a change of {changed} was pushed with ActionType {delta.get('ActionType')!r}",
        journal_text(calls),
        reproduce,
    )
    stored = set(hub.state.evse_data.get(operator_key(sut.operator_id) or "", {}))
    verdict.check(
        stored == set(sut.evse_ids),
        "CPO-EVSE-DATA-02",
        "after the full load and the delta the hub's EVSE store differs from the declared EVSEs",
        f"hub has {sorted(stored)}, declared {sorted(sut.evse_ids)}",
        reproduce,
    )
    verdict.conclude()


@pytest.mark.operation(STATUS, service="evsepush")
@requirement("CPO-EVSE-STATUS-01", "CPO-OUT-01", "CPO-OUT-02", "CPO-OUT-03")
def test_status_push(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    _push(sut, "push_evse_status", "fullLoad", list(sut.evse_ids))
    calls = settle(hub)
    reproduce = rerun(sut, seed, "test_status_push")
    _judge_routing(sut, calls, verdict, reproduce)
    pushes = of(calls, STATUS)
    verdict.check(
        bool(pushes) and all(c.accepted for c in pushes),
        "CPO-EVSE-STATUS-01",
        "PushEvseStatus missing or refused",
        journal_text(calls),
        reproduce,
    )
    sent = {r["EvseID"] for c in pushes if c.body for r in c.body["OperatorEvseStatus"]["EvseStatusRecord"]}
    verdict.check(
        set(sut.evse_ids) <= sent,
        "CPO-EVSE-STATUS-01",
        "the status push misses declared EVSEs",
        f"missing: {sorted(set(sut.evse_ids) - sent)}",
        reproduce,
    )
    verdict.conclude()


@pytest.mark.operation(DATA, service="evsepush")
@requirement("CPO-OUT-04")
def test_no_parallel_pushes(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    hub.script(DATA, always=Fault.delay(0.5))  # long enough for a second push to overlap, if the SUT lets it
    hub.script(STATUS, always=Fault.delay(0.5))
    threads = [
        threading.Thread(target=_push, args=(sut, name, "fullLoad", list(sut.evse_ids)))
        for name in ("push_evse_data", "push_evse_status")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    calls = wait_for(hub, lambda cs: len(of(cs, DATA)) and len(of(cs, STATUS)), sut.retry_window)
    parallel = [c for c in calls if c.concurrent]
    verdict.check(
        not parallel,
        "CPO-OUT-04",
        "pushes of one operator overlapped",
        journal_text(parallel),
        rerun(sut, seed, "test_no_parallel_pushes"),
    )
    verdict.conclude()
