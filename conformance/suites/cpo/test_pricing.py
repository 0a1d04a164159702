"""Dynamic pricing (feature `dynamic_pricing`): PushPricingProductData and PushEVSEPricing, judged on the fake hub.

The suite makes the CPO push its pricing products (trigger `push_pricing`) and which of them apply at its EVSEs
(trigger `push_evse_pricing`, all declared EVSEs), both as fullLoad, and judges what reached the hub: the path,
version and operator of every call (CPO-OUT-01/02/03), the structures the text demands, accepted and stored by
the hub (CPO-PRICING-01/02), unique ProductIDs (-03), units and currencies the text defines (-04).

Which EVSEs a CPO prices is its own business (an EVSE without a product is priced with the default price), and
the text gives the ActionTypes of these pushes no meaning beyond their names: neither is judged."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pycountry
import pytest

from conformance.hub import Call, FakeHub
from conformance.oicp import codes
from conformance.oicp.ids import operator_key
from conformance.suites.cpo.helpers import journal_text, of, outbound_problems, rerun, settle, trigger, wait_for
from conformance.suites.plugin import requirement
from conformance.suites.verdicts import NotJudged, Verdict
from conformance.sut import Sut

PRODUCTS, EVSE_PRICING = "PushPricingProductData.hub", "PushEVSEPricing.hub"
ROUTING = ("CPO-OUT-01", "CPO-OUT-02", "CPO-OUT-03")
REFERENCE_UNITS = frozenset({"HOUR", "KILOWATT_HOUR", "MINUTE"})  # CPO 3 ReferenceUnitType
CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)  # ISO 4217
# A refusal another requirement explains: 017 a foreign operator (CPO-OUT-02), 018 a foreign EVSE (CPO-OUT-03).
EXPLAINED = {codes.UNAUTHORIZED: "CPO-OUT-02", codes.INCONSISTENT_EVSE_ID: "CPO-OUT-03"}


def _declared(sut: Sut, verdict: Verdict, name: str, routing: tuple[str, ...]) -> None:
    """Not judged without the feature or the trigger; the routing checks then simply have nothing to see here."""
    if not sut.has("dynamic_pricing"):
        reason, declare = "the optional feature 'dynamic_pricing' is not declared", "features"
    elif name not in sut.triggers:
        reason, declare = f"trigger {name!r} is not declared in {sut.source}", f"[triggers.{name}]"
    else:
        return
    for rid in routing:
        verdict.not_judged(rid, reason, applies=False)
    raise NotJudged(reason, declare=declare)


def _push(sut: Sut, hub: FakeHub, verdict: Verdict, name: str, op: str, seed: int, **values: Any) -> list[Call]:
    trigger(sut, hub, verdict, name, seed, action="fullLoad", **values)
    wait_for(hub, lambda cs: bool(of(cs, op)), sut.retry_window)
    return settle(hub)


def _judge_routing(sut: Sut, calls: list[Call], verdict: Verdict, routing: tuple[str, ...], reproduce: str) -> dict:
    found = outbound_problems(sut, calls)
    for rid in routing:
        if not calls:
            verdict.not_judged(rid, "no call reached the hub")
            continue
        problems = found[rid]
        verdict.check(not problems, rid, problems[0] if problems else "", "\n".join(problems[1:5]), reproduce)
    return found


def _judge_pushes(rid: str, what: str, pushes: list[Call], found: dict, verdict: Verdict, reproduce: str) -> None:
    """Each push schema-valid and accepted, unless its refusal is another requirement's finding."""
    for call in pushes:
        if call.violations:
            verdict.add(rid, f"{what} is not schema-valid", "\n".join(str(v) for v in call.violations[:10]), reproduce)
            continue
        code = call.response.get("StatusCode", {}).get("Code") if isinstance(call.response, dict) else None
        if not call.accepted and found.get(EXPLAINED.get(str(code), ""), []):
            continue
        verdict.check(call.accepted, rid, f"the hub refused {what}", call.summary(), reproduce)


def unit_problems(data: dict[str, Any]) -> list[str]:
    """Reference units outside ReferenceUnitType and currencies outside ISO 4217 in a PricingProductData."""
    records = [r for r in data.get("PricingProductDataRecords") or [] if isinstance(r, dict)]
    units = [("PricingDefaultReferenceUnit", data.get("PricingDefaultReferenceUnit"))]
    units += [(f"{r.get('ProductID')}: ReferenceUnit", r.get("ReferenceUnit")) for r in records]
    units += [
        (f"{r.get('ProductID')}: AdditionalReferenceUnit", a.get("AdditionalReferenceUnit"))
        for r in records
        for a in r.get("AdditionalReferences") or []
        if isinstance(a, dict)
    ]
    money = [("PricingDefaultPriceCurrency", data.get("PricingDefaultPriceCurrency"))]
    money += [(f"{r.get('ProductID')}: ProductPriceCurrency", r.get("ProductPriceCurrency")) for r in records]
    problems = [
        f"{where} {unit!r} is not one of {sorted(REFERENCE_UNITS)}"
        for where, unit in units
        if not _in(unit, REFERENCE_UNITS)
    ]
    problems += [f"{where} {code!r} is no ISO 4217 currency code" for where, code in money if not _in(code, CURRENCIES)]
    return problems


def _in(value: Any, allowed: frozenset[str]) -> bool:
    return isinstance(value, str) and value in allowed


@pytest.mark.operation(PRODUCTS, service="dynamicpricing")
@requirement("CPO-PRICING-01", "CPO-PRICING-03", "CPO-PRICING-04", "CPO-OUT-01", "CPO-OUT-02")
def test_push_pricing_products(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    """The CPO's pricing products reach the hub as PricingProductDataRecords, each ProductID once, in defined units."""
    routing = ("CPO-OUT-01", "CPO-OUT-02")
    _declared(sut, verdict, "push_pricing", routing)
    calls = _push(sut, hub, verdict, "push_pricing", PRODUCTS, seed)
    reproduce = rerun(sut, seed, "test_push_pricing_products")
    found = _judge_routing(sut, calls, verdict, routing, reproduce)
    pushes = of(calls, PRODUCTS)
    if not verdict.check(
        bool(pushes), "CPO-PRICING-01", "no PushPricingProductData reached the hub", journal_text(calls), reproduce
    ):
        for rid in ("CPO-PRICING-03", "CPO-PRICING-04"):
            verdict.not_judged(rid, "no PushPricingProductData reached the hub (see CPO-PRICING-01)")
        verdict.conclude()
        return
    _judge_pushes("CPO-PRICING-01", "PushPricingProductData", pushes, found, verdict, reproduce)
    last = next((c for c in reversed(pushes) if c.accepted), None)  # what the hub's store holds now
    for call in pushes:
        data = (call.body or {}).get("PricingProductData") if isinstance(call.body, dict) else None
        if not isinstance(data, dict):
            continue
        records = [r for r in data.get("PricingProductDataRecords") or [] if isinstance(r, dict)]
        twice = sorted(str(p) for p, n in Counter(r.get("ProductID") for r in records).items() if n > 1)
        verdict.check(
            not twice,
            "CPO-PRICING-03",
            f"one push carries ProductID {', '.join(twice)} more than once",
            call.summary(),
            reproduce,
        )
        problems = unit_problems(data)
        verdict.check(
            not problems, "CPO-PRICING-04", "undefined reference units or currencies", "\n".join(problems), reproduce
        )
        if call is last and call.body.get("ActionType") != "delete":
            key = operator_key(str(data.get("OperatorID"))) or str(data.get("OperatorID"))
            verdict.check(
                hub.state.pricing_products.get(key) == data,
                "CPO-PRICING-01",
                "the hub accepted the pricing products but its store does not hold them",
                f"stored for {key}: {json.dumps(hub.state.pricing_products.get(key))[:500]}",
                reproduce,
            )
    verdict.conclude()


@pytest.mark.operation(EVSE_PRICING, service="dynamicpricing")
@requirement("CPO-PRICING-02", *ROUTING)
def test_push_evse_pricing(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    """Which products apply at which EVSE reaches the hub as EVSEPricing of the operator's own EVSEs, and is stored."""
    _declared(sut, verdict, "push_evse_pricing", ROUTING)
    evses = json.dumps(list(sut.evse_ids))
    calls = _push(sut, hub, verdict, "push_evse_pricing", EVSE_PRICING, seed, evse_ids=evses)
    reproduce = rerun(sut, seed, "test_push_evse_pricing")
    found = _judge_routing(sut, calls, verdict, ROUTING, reproduce)
    pushes = of(calls, EVSE_PRICING)
    if not verdict.check(
        bool(pushes), "CPO-PRICING-02", "no PushEVSEPricing reached the hub", journal_text(calls), reproduce
    ):
        verdict.conclude()
        return
    _judge_pushes("CPO-PRICING-02", "PushEVSEPricing", pushes, found, verdict, reproduce)
    last = next((c for c in reversed(pushes) if c.accepted), None)  # what the hub's store holds now
    if last is not None and isinstance(last.body, dict) and last.body.get("ActionType") != "delete":
        operator = last.params.get("operatorID", "")
        stored = {
            (r["EvseID"], r["ProviderID"]) for r in hub.state.evse_pricing.get(operator_key(operator) or operator, [])
        }
        pushed = {(r["EvseID"], r["ProviderID"]) for r in last.body["EVSEPricing"]}
        verdict.check(
            pushed <= stored,
            "CPO-PRICING-02",
            "the hub accepted the EVSE prices but its store does not hold them",
            f"missing: {sorted(pushed - stored)[:10]}",
            reproduce,
        )
    verdict.conclude()
