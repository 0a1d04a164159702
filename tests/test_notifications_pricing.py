"""The notification and pricing checks never blame a forwarding CPO for the suite's own message: every message
the suite hands a `{message}` trigger of send_notification, push_pricing or push_evse_pricing already keeps the
rules those checks judge. (The checks against the reference in every shape, and each planted defect caught, are
tests/test_shapes.py.)"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from conformance.suites.cpo.test_notifications import MANDATORY, TYPES, figure_problems
from conformance.suites.cpo.test_pricing import unit_problems
from conformance.sut import Sut
from conformance.sut.default import reference_sut
from conformance.sut.messages import message_for
from conformance.validation import validate

SEEDS = range(8)
SESSION = "6f1c3b2a-9d4e-4c1b-8a7f-2e5d0c9b1a34"


@pytest.fixture(scope="module")
def sut() -> Sut:
    """The declaration of the reference in its forwarding shape: every trigger body is `{message}`."""
    return reference_sut("http://127.0.0.1:1", 2, shape="forward")


@pytest.mark.parametrize("kind", TYPES)
def test_generated_notifications_keep_the_checked_rules(sut: Sut, kind: str) -> None:
    evse = sut.evse_ids[0]
    for seed in SEEDS:
        values = {"type": kind, "session_id": SESSION, "evse_id": evse, "cpo_partner_session_id": "p-1"}
        message = message_for(sut, "send_notification", values, seed)
        assert not validate(message, f"eRoamingChargingNotification{kind}", sut.release), message
        assert message["Type"] == kind and message["SessionID"] == SESSION and message["EvseID"] == evse
        assert all(member in message for member in MANDATORY[kind])
        assert not figure_problems(message), (seed, message)
        if kind == "Progress":
            assert "ChargingDuration" in message or "ConsumedEnergyProgress" in message, message


def test_generated_pricing_pushes_keep_the_checked_rules(sut: Sut) -> None:
    evses = list(sut.evse_ids)
    for seed in SEEDS:
        products = message_for(sut, "push_pricing", {"action": "fullLoad"}, seed)
        assert not validate(products, "eRoamingPushPricingProductData", sut.release), products
        data = products["PricingProductData"]
        assert data["OperatorID"] == sut.operator_id and products["ActionType"] == "fullLoad"
        ids = Counter(r["ProductID"] for r in data["PricingProductDataRecords"])
        assert ids and max(ids.values()) == 1, ids
        assert not unit_problems(data), unit_problems(data)
        prices = message_for(sut, "push_evse_pricing", {"action": "fullLoad", "evse_ids": json.dumps(evses)}, seed)
        assert not validate(prices, "eRoamingPushEVSEPricing", sut.release), prices
        assert [r["EvseID"] for r in prices["EVSEPricing"]] == evses and "EvseID" not in prices


def test_figures_that_disagree_are_named() -> None:
    progress = {
        "Type": "Progress",
        "ChargingStart": "2025-03-01T10:00:00+01:00",
        "EventOccurred": "2025-03-01T09:59:00+01:00",
        "ChargingDuration": 60_000,
    }
    problems = figure_problems(progress)
    assert any("ChargingStart" in p and "after" in p for p in problems)
    assert any("ChargingDuration 60000" in p for p in problems)
    end = {"Type": "End", "ChargingEnd": "2025-03-01T11:00:00Z", "ConsumedEnergy": 5.0}
    assert not figure_problems({**end, "MeterValueStart": 100.0, "MeterValueEnd": 105.0})
    assert figure_problems({**end, "MeterValueStart": 100.0, "MeterValueEnd": 104.0})
    assert not figure_problems({**progress, "EventOccurred": "no offset"})  # left to the schema
    assert unit_problems({"PricingDefaultReferenceUnit": "kWh", "PricingDefaultPriceCurrency": "EURO"}) == [
        "PricingDefaultReferenceUnit 'kWh' is not one of ['HOUR', 'KILOWATT_HOUR', 'MINUTE']",
        "PricingDefaultPriceCurrency 'EURO' is no ISO 4217 currency code",
    ]
