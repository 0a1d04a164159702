"""CPO -> hub, through triggers: EVSE data and status pushes, judged on the fake hub."""

from __future__ import annotations

import json
from functools import partial

import pytest

from conformance.hub import FakeHub, Fault
from conformance.oicp.ids import operator_key
from conformance.suites.cpo.helpers import (
    available_evses,
    journal_text,
    of,
    require_trigger,
    rerun,
    settle,
    trigger,
    wait_for,
)
from conformance.suites.plugin import requirement
from conformance.suites.steps import concurrently
from conformance.suites.verdicts import NotJudged, Verdict
from conformance.sut import Sut

DATA, STATUS = "PushEvseData.hub", "PushEvseStatus.hub"
PUSHES = {"push_evse_data": DATA, "push_evse_status": STATUS}
# The dynamic-pricing pushes (feature `dynamic_pricing`): "The eRoamingPushEVSEPricing operation MUST always be
# used sequentially." (CPO 2), PushPricingProductData as every data push (CPO 1 Data push operations).
PRICING_PUSHES = {"push_pricing": "PushPricingProductData.hub", "push_evse_pricing": "PushEVSEPricing.hub"}


def _judge_routing(calls: list, verdict: Verdict) -> None:
    """Path, operator and EVSE owner (CPO-OUT-01..03) are judged on every hub call of every test by the journal-wide
    judgement (conformance/checks/journal.py); a push that never reached the hub leaves them unjudged here."""
    if not calls:
        for rid in ("CPO-OUT-01", "CPO-OUT-02", "CPO-OUT-03", "CPO-OUT-05"):
            verdict.not_judged(rid, "no call reached the hub")


def _push(sut: Sut, hub: FakeHub, verdict: Verdict, name: str, action: str, evses: list[str], seed: int) -> None:
    trigger(sut, hub, verdict, name, seed, action=action, evse_ids=json.dumps(evses))


@pytest.mark.operation(DATA, service="evsepush")
@requirement("CPO-EVSE-DATA-01", "CPO-OUT-01", "CPO-OUT-02", "CPO-OUT-03", "CPO-OUT-05")
def test_full_load_push(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    """A full load of the EVSE data reaches the hub. Its encoding (CPO-OUT-05: EVSE data carry names and addresses,
    the text most likely to hold non-ASCII characters) is judged by the journal-wide judgement, as on every call."""
    _push(sut, hub, verdict, "push_evse_data", "fullLoad", list(sut.evse_ids), seed)
    calls = wait_for(hub, lambda cs: bool(of(cs, DATA)), sut.retry_window)
    calls = settle(hub)
    reproduce = rerun(sut, seed, "test_full_load_push")
    _judge_routing(calls, verdict)
    pushes = of(calls, DATA)
    verdict.check(bool(pushes), "CPO-EVSE-DATA-01", "no PushEvseData reached the hub", journal_text(calls), reproduce)
    for call in pushes:  # schema validity: judged on every call by the journal-wide judgement
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
    _push(sut, hub, verdict, "push_evse_data", "fullLoad", list(sut.evse_ids), seed)
    if not wait_for(hub, lambda cs: any(c.accepted for c in of(cs, DATA)), sut.retry_window):
        raise NotJudged("setup failed: the full load never reached the hub (see CPO-EVSE-DATA-01)")
    settle(hub)
    before = len(of(hub.calls(), DATA))
    changed = available_evses(sut)[:1]
    _push(sut, hub, verdict, "push_evse_data", "update", changed, seed + 1)
    wait_for(hub, lambda cs: len(of(cs, DATA)) > before, sut.retry_window)
    calls = of(settle(hub), DATA)
    reproduce = rerun(sut, seed, "test_delta_push_keeps_the_store_coherent")
    if not any(c.accepted for c in calls[:before]):
        raise NotJudged("setup failed: the hub accepted no full load (see CPO-EVSE-DATA-01)")
    if len(calls) <= before:
        verdict.add("CPO-EVSE-DATA-02", f"no PushEvseData reached the hub for a change of {changed}", "", reproduce)
        verdict.conclude()
        return
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
    _push(sut, hub, verdict, "push_evse_status", "fullLoad", list(sut.evse_ids), seed)
    wait_for(hub, lambda cs: bool(of(cs, STATUS)), sut.retry_window)
    calls = settle(hub)
    reproduce = rerun(sut, seed, "test_status_push")
    _judge_routing(calls, verdict)
    pushes = of(calls, STATUS)
    verdict.check(
        bool(pushes) and all(c.accepted for c in pushes),
        "CPO-EVSE-STATUS-01",
        "PushEvseStatus missing or refused",
        journal_text(calls),
        reproduce,
    )
    sent = {
        r.get("EvseID")
        for c in pushes
        if isinstance(c.body, dict)
        for r in (c.body.get("OperatorEvseStatus") or {}).get("EvseStatusRecord", [])
    }
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
def test_no_parallel_pushes_of_one_operation(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    """Two pushes of the same operation at once must reach the hub one after the other (per operation): EVSE data
    and status, and the pricing pushes where the SUT declares `dynamic_pricing` (a SUT without the feature has no
    pricing pushes to judge: the rest is judged as it is)."""
    pushes = {**PUSHES, **(PRICING_PUSHES if sut.has("dynamic_pricing") else {})}
    declared = [name for name in pushes if name in sut.triggers]
    if not declared:
        require_trigger(sut, "push_evse_status")  # not judged, naming what to declare
    for name in set(pushes) - set(declared):
        verdict.not_judged("CPO-OUT-04", f"trigger {name!r} is not declared", f"[triggers.{name}]")
    # Long enough, under load too, for a second push to overlap if the SUT lets it; well inside the SUT's declared
    # outbound timeout, so that a CPO giving up on a slow answer and sending again is not taken for a parallel push.
    hold = min(1.2, sut.outbound_timeout * 0.4)
    for op in pushes.values():
        hub.script(op, always=Fault.delay(hold))
    concurrently(
        *(
            partial(_push, sut, hub, verdict, name, "fullLoad", list(sut.evse_ids), seed + index)
            for name in declared
            for index in range(2)
        )
    )
    wanted = {pushes[name] for name in declared}
    calls = wait_for(hub, lambda cs: all(len(of(cs, op)) >= 2 for op in wanted), sut.retry_window)
    calls = settle(hub)
    reproduce = rerun(sut, seed, "test_no_parallel_pushes_of_one_operation")
    for op in sorted(wanted):
        mine = of(calls, op)
        if len(mine) < 2:
            verdict.not_judged("CPO-OUT-04", f"{op}: {len(mine)} push(es) reached the hub, two are needed to judge")
            continue
        parallel = [c for c in mine if c.concurrent]
        verdict.check(
            not parallel,
            "CPO-OUT-04",
            f"pushes of {op} overlapped (the same operation must be pushed sequentially)",
            journal_text(mine),
            reproduce,
        )
    verdict.conclude()
