"""Maximal and minimal variants: schema-valid for every CPO inbound operation and every trigger message; the maximal
one carries every optional member the schema defines (one option of each OICP choice), the minimal one the
required members only (and what an OICP rule asks for although the schema calls it optional)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.catalog import load_release
from conformance.strategies import Pins, draw_many
from conformance.strategies.coverage import reachable, reached
from conformance.strategies.variants import (
    MAXIMAL,
    MINIMAL,
    VARIANTS,
    VariantError,
    build,
    differing_members,
    ensure_valid,
    missing_optional,
    optional_present,
    variant_cases,
)
from conformance.sut import parse
from conformance.sut.messages import MESSAGES, message_for
from conformance.validation import load_schema, validate

INBOUND = (
    "AuthorizeRemoteStart.cpo",
    "AuthorizeRemoteStop.cpo",
    "AuthorizeRemoteReservationStart.cpo",
    "AuthorizeRemoteReservationStop.cpo",
)
TRIGGER_MESSAGES = sorted(
    {*MESSAGES.values(), *(f"eRoamingChargingNotification{t}" for t in ("Start", "Progress", "End", "Error"))}
)
CPO_MESSAGES = sorted({m for op in INBOUND for m in load_release("2.3").operation(op).request} | set(TRIGGER_MESSAGES))
PINS = Pins(operator_id="DE*ABC", provider_id="DE-XYZ", evse_ids=("DE*ABC*E1*1", "DE*ABC*E1*2"))
SEEDS = (1, 2)
# Definitions that are options of an OICP choice (one identification, one coordinate format): a maximal message
# carries one of them, so the others' members are never reached.
OPTIONS = {
    "RFIDMifareFamilyIdentification",
    "RFIDIdentification",
    "QRCodeIdentification",
    "PlugAndChargeIdentification",
    "RemoteIdentification",
}
CHOICE_MEMBERS = (".Identification.", ".GeoCoordinates.", ".GeoChargingPointEntrance.")


def _unexplained(name: str, message: dict[str, Any]) -> list[str]:
    """Members the schema defines that the message lacks, other than the options an OICP choice left out
    (named as conformance.strategies.coverage names them: owner and path)."""
    schema = load_schema(name, "2.3")
    have = reached(schema, message)
    owners = {m.split(":")[0] for m in have}
    qr_secret = next((s for s in ("PIN", "HashedPIN") if f"QRCodeIdentification:.{s}" in have), None)
    out = []
    for member in sorted(reachable(schema) - have):
        owner, path = member.split(":", 1)
        if owner in OPTIONS and owner not in owners:
            continue  # an identification option not chosen
        if owner in ("Identification", "AuthorizationStopIdentifications") and path.count(".") == 1:
            continue  # the option itself, not chosen
        if owner in ("GeoCoordinates", "GeoChargingPointEntrance") or any(c in path + "." for c in CHOICE_MEMBERS):
            continue  # a coordinate format not chosen
        if (
            owner == "QRCodeIdentification"
            and qr_secret
            and path.startswith(".HashedPIN" if qr_secret == "PIN" else ".PIN")
        ):
            continue  # "only one of the two options must be provided"
        out.append(member)
    return out


def _rule_demanded(name: str, pointer: str, message: dict[str, Any]) -> bool:
    """An optional member an OICP rule asks for: a Progress notification's ChargingDuration ("Either
    ChargingDuration or ConsumedEnergyProgress should be provided"), OpeningTimes of a station not open 24 hours."""
    if name == "eRoamingChargingNotificationProgress" and pointer == "/ChargingDuration":
        return True
    if pointer.endswith("/OpeningTimes"):
        node: Any = message
        for part in pointer.split("/")[1:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node.get("IsOpen24Hours") is False
    return False


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


@pytest.mark.parametrize("name", CPO_MESSAGES)
def test_variants_are_valid_and_as_full_or_as_empty_as_the_schema_allows(name: str) -> None:
    for seed in SEEDS:
        full = build(name, MAXIMAL, pins=PINS, seed=seed)
        bare = build(name, MINIMAL, pins=PINS, seed=seed)
        assert validate(full, name) == [] and validate(bare, name) == []
        assert _unexplained(name, full) == [], "the maximal variant misses optional members"
        assert missing_optional(full, name) == []
        extra = [p for p in optional_present(bare, name) if not _rule_demanded(name, p, bare)]
        assert extra == [], "the minimal variant carries optional members"
        assert "" not in _strings(full), "an empty string: present on the wire, absent to many receivers"


@pytest.mark.parametrize("operation", INBOUND)
@pytest.mark.parametrize("kind", VARIANTS)
def test_inbound_variant_cases_keep_the_pinned_ids(operation: str, kind: str) -> None:
    [case] = draw_many(variant_cases(operation, kind, "2.3", PINS), 1, 7)
    assert validate(case.body, case.message) == []
    assert case.body["EvseID"] in PINS.evse_ids and case.body["ProviderID"] == "DE-XYZ"
    assert case.path_params == {"providerID": "DE-XYZ"}
    required = set(load_schema(case.message, "2.3")["required"])
    assert set(case.body) == required if kind == MINIMAL else set(case.body) > required


def test_messages_for_triggers_carry_the_flow_state_in_both_variants() -> None:
    sut = parse(
        {
            "role": "cpo",
            "base_url": "http://127.0.0.1:9",
            "operator_id": "DE*ABC",
            "evse_ids": ["DE*ABC*E1*1", "DE*ABC*E1*2"],
        },
        "sut.toml",
    )
    rfid = {"RFIDMifareFamilyIdentification": {"UID": "04A2B3C4"}}
    flow = {
        "session_id": "7b0c6d4e-2a51-4f0e-9d3c-1f2e3a4b5c6d",
        "evse_id": "DE*ABC*E1*2",
        "identification": rfid,
        "cpo_partner_session_id": "cpo-1",
        "emp_partner_session_id": None,
    }
    full = message_for(sut, "authorize_stop", dict(flow), 3, variant=MAXIMAL)
    bare = message_for(sut, "authorize_stop", dict(flow), 3, variant=MINIMAL)
    assert full["SessionID"] == bare["SessionID"] == flow["session_id"]
    assert full["Identification"] == bare["Identification"] == rfid
    assert full["CPOPartnerSessionID"] == "cpo-1" and full["EvseID"] == "DE*ABC*E1*2"
    assert "EMPPartnerSessionID" not in full  # the session has none: a forwarded message must not invent one
    assert set(bare) == {"SessionID", "OperatorID", "Identification"}
    first = message_for(sut, "authorize_start", {"identification": rfid, "evse_id": "DE*ABC*E1*1"}, 3, variant=MAXIMAL)
    assert "SessionID" not in first and first["EvseID"] == "DE*ABC*E1*1"  # Hubject has issued no SessionID yet
    pushed = message_for(
        sut, "push_evse_data", {"action": "fullLoad", "evse_ids": '["DE*ABC*E1*1"]'}, 3, variant=MAXIMAL
    )
    assert [r["EvseID"] for r in pushed["OperatorEvseData"]["EvseDataRecord"]] == ["DE*ABC*E1*1"]


def test_an_invalid_variant_is_the_suites_error() -> None:
    with pytest.raises(VariantError, match="a bug of the suite"):
        ensure_valid({"OperatorID": "DE*ABC"}, "eRoamingAuthorizeStart", MINIMAL)


def test_differing_members_name_the_outermost_member_once_per_list() -> None:
    full = {"A": 1, "B": {"C": 2, "D": [{"E": 1}, {"E": 2, "F": 3}]}, "G": {"H": 1}}
    bare = {"A": 1, "B": {"D": [{"E": 1}]}}
    assert differing_members(full, bare) == (["/B/C", "/B/D/*/F", "/G"], [])
    assert differing_members(bare, full) == ([], ["/B/C", "/B/D/*/F", "/G"])
