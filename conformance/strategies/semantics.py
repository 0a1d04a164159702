"""OICP-aware generators for members whose schema says too little: IDs, clocks, places, money.

Each entry is keyed by member name and returns a `Gen` (or None to fall back to the schema).
They read the message's `Context`, so an EvseID belongs to the message's operator, an EvcoID names
its provider, and every SessionID of a message is the same one.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from conformance.oicp.time import render
from conformance.strategies.compiler import OMIT, Compiler, Gen
from conformance.strategies.context import COUNTRIES_3, CURRENCIES, OFFSETS, Context, _code, operator_ids

LANGS = ("en", "de", "fr", "nl", "it", "es", "pl", "da", "en-GB", "de-DE", "de-AT", "fr-BE")
IDENTIFICATIONS = (
    "RFIDMifareFamilyIdentification",
    "RFIDIdentification",
    "QRCodeIdentification",
    "PlugAndChargeIdentification",
    "RemoteIdentification",
)
# Which identification a message may carry (spec 2.3, IdentificationType notes): remote flows only
# RemoteIdentification; authorisation never RFIDIdentification; authentication data has no remote.
ALLOWED_IDENTIFICATIONS = {
    "eRoamingAuthorizeRemoteStart": ("RemoteIdentification",),
    "eRoamingAuthorizeRemoteReservationStart": ("RemoteIdentification",),
    "eRoamingAuthorizeStart": ("RFIDMifareFamilyIdentification", "QRCodeIdentification", "PlugAndChargeIdentification"),
    "eRoamingAuthorizeStop": ("RFIDMifareFamilyIdentification", "QRCodeIdentification", "PlugAndChargeIdentification"),
    "eRoamingPushAuthenticationData": (
        "RFIDMifareFamilyIdentification",
        "RFIDIdentification",
        "QRCodeIdentification",
        "PlugAndChargeIdentification",
    ),
}
# A QR code identification carries the PIN in clear text in authorisations, only hashed in uploads.
QR_SECRET = {
    "eRoamingAuthorizeStart": "PIN",
    "eRoamingAuthorizeStop": "PIN",
    "eRoamingPushAuthenticationData": "HashedPIN",
}
REFERENCE_UNITS = ("HOUR", "KILOWATT_HOUR", "MINUTE")
NUMBER_RANGES = {
    "Power": (1, 350),
    "Voltage": (100, 1000),
    "Amperage": (6, 500),
    "Radius": (0.1, 100),
    "Percentage": (0, 100),
    "Duration": (1, 120),
    "MaxCapacity": (1, 100),
    "PricePerReferenceUnit": (0, 2),
    "PricingDefaultPrice": (0, 2),
    "PricePerAdditionalReferenceUnit": (0, 2),
    "MaximumProductChargingPower": (1, 350),
}


def _string(node: dict[str, Any]) -> bool:
    return node.get("type") == "string" and "enum" not in node


def _station(ctx: Context, letter: str, number: int) -> str | object:
    op = ctx.operator_id
    if op.startswith("+"):
        return OMIT if letter == "P" else f"{op}*{number}"
    return f"{op}*{letter}{number}" if "*" in op else f"{op}{letter}{number}"


def _timestamp(draw: st.DrawFn, ctx: Context) -> str:
    """A moment around the context's clock, in the message's one UTC offset (or any, when mixing is asked)."""
    minutes = draw(st.integers(-600, 600))
    offset = draw(st.sampled_from(OFFSETS)) if ctx.mixed_offsets else ctx.offset
    return render(ctx.now + timedelta(minutes=minutes), offset)


def _geo(draw: st.DrawFn, ctx: Context) -> dict[str, Any]:
    """Exactly one coordinate format, with a latitude and longitude in range."""
    lat = draw(st.integers(-90_000_000, 90_000_000)) / 1e6
    lon = draw(st.integers(-180_000_000, 180_000_000)) / 1e6
    style = draw(st.sampled_from(["DecimalDegree", "Google", "DegreeMinuteSeconds"]))
    if style == "DecimalDegree":
        digits = draw(st.integers(1, 6))
        return {"DecimalDegree": {"Latitude": f"{lat:.{digits}f}", "Longitude": f"{lon:.{digits}f}"}}
    if style == "Google":
        return {"Google": {"Coordinates": f"{lat:.6f} {lon:.6f}"}}

    def dms(value: float) -> str:
        sign, value = ("-" if value < 0 else ""), abs(value)
        degrees, rest = int(value), (abs(value) - int(value)) * 60
        minutes = int(rest)
        return f"{sign}{degrees}°{minutes}'{(rest - minutes) * 60:.2f}''"

    return {"DegreeMinuteSeconds": {"Latitude": dms(lat), "Longitude": dms(lon)}}


def _identification(compiler: Compiler, node: dict[str, Any]) -> Gen:
    """Exactly one identification, of a kind the message allows, coherent with its kind."""
    options = {key: compiler.node(sub, key, False) for key, sub in node.get("properties", {}).items()}
    hashed_pin = None
    if "QRCodeIdentification" in options:
        qr = compiler.resolve(node["properties"]["QRCodeIdentification"])
        if "HashedPIN" in qr.get("properties", {}):
            hashed_pin = compiler.node(qr["properties"]["HashedPIN"], "HashedPIN", False)

    def gen(draw: st.DrawFn, ctx: Context) -> dict[str, Any]:
        if ctx.identification is not None:
            return ctx.identification
        allowed = [k for k in ALLOWED_IDENTIFICATIONS.get(ctx.message, IDENTIFICATIONS) if k in options]
        kind = draw(st.sampled_from(allowed))
        value = options[kind](draw, ctx)
        if kind == "QRCodeIdentification":  # a PIN or its hash, never both (spec: "only one of the two")
            value.pop("PIN", None)
            value.pop("HashedPIN", None)
            either = ["PIN", "HashedPIN"] if ctx.fullness == "all" else ["PIN", "HashedPIN", "none"]
            keep = QR_SECRET.get(ctx.message) or draw(st.sampled_from(either))
            if keep == "PIN":
                value["PIN"] = draw(st.text("0123456789", min_size=4, max_size=8))
            elif keep == "HashedPIN" and hashed_pin is not None:
                value["HashedPIN"] = hashed_pin(draw, ctx)
        return {kind: value}

    return gen


def oicp(compiler: Compiler, name: str, node: dict[str, Any], in_array: bool) -> Gen | None:
    """The semantic generator for member `name`, or None to generate it from the schema alone."""
    if name in ("Identification", "AuthorizationStopIdentifications") and "properties" in node:
        return _identification(compiler, node)
    if name in ("GeoCoordinates", "GeoChargingPointEntrance") and "properties" in node:
        return _geo
    kind = node.get("type")
    if kind in ("number", "integer") and name in NUMBER_RANGES:
        low, high = NUMBER_RANGES[name]
        low, high = max(low, node.get("minimum", low)), min(high, node.get("maximum", high))
        if kind == "integer":
            ints = st.integers(math.ceil(low), math.floor(high))
            return lambda draw, ctx: draw(ints)
        floats = st.integers(int(low * 100), int(high * 100)).map(lambda n: n / 100)
        return lambda draw, ctx: draw(floats)
    if not _string(node):
        return None
    if node.get("format") == "date-time":
        return _timestamp
    simple = {
        "EvcoID": lambda draw, ctx: ctx.evco_id,
        "EvseID": lambda draw, ctx: draw(st.sampled_from(ctx.evse_ids)),
        "CPOPartnerSessionID": lambda draw, ctx: ctx.cpo_partner_session_id,
        "EMPPartnerSessionID": lambda draw, ctx: ctx.emp_partner_session_id,
        "ChargingStationID": lambda draw, ctx: _station(ctx, "S", draw(st.integers(1, 99))),
        "ChargingPoolID": lambda draw, ctx: _station(ctx, "P", draw(st.integers(1, 99))),
        "UID": lambda draw, ctx: draw(st.sampled_from([8, 14, 20]).flatmap(lambda n: _code(n, "0123456789ABCDEF"))),
        "Country": lambda draw, ctx: draw(st.sampled_from(COUNTRIES_3)),
        "CountryCodes": lambda draw, ctx: draw(st.sampled_from(COUNTRIES_3)),
        "PricingDefaultPriceCurrency": lambda draw, ctx: draw(st.sampled_from(CURRENCIES)),
        "ProductPriceCurrency": lambda draw, ctx: draw(st.sampled_from(CURRENCIES)),
        "TimeZone": lambda draw, ctx: draw(st.sampled_from(OFFSETS).map(_utc_offset)),
        # ReferenceUnitType's options (CPO 3); the OpenAPI types the unit as a bare string
        "ReferenceUnit": lambda draw, ctx: draw(st.sampled_from(REFERENCE_UNITS)),
        "PricingDefaultReferenceUnit": lambda draw, ctx: draw(st.sampled_from(REFERENCE_UNITS)),
        "AdditionalReferenceUnit": lambda draw, ctx: draw(st.sampled_from(REFERENCE_UNITS)),
        "lang": lambda draw, ctx: draw(st.sampled_from(LANGS)),
    }
    if in_array and name in ("SessionID",):
        return lambda draw, ctx: str(draw(st.uuids(version=4)))
    if in_array and name in ("OperatorID", "OperatorIDs", "OperatorIds"):
        return lambda draw, ctx: draw(st.one_of(st.just(ctx.operator_id), operator_ids()))
    if name in ("OperatorID", "HubOperatorID"):
        return lambda draw, ctx: ctx.operator_id
    if name in ("ProviderID", "HubProviderID"):
        return lambda draw, ctx: ctx.provider_id
    if name == "SessionID":
        return lambda draw, ctx: ctx.session_id
    if name in ("EMPPartnerSessionId", "ChargingStationId"):
        name = {"EMPPartnerSessionId": "EMPPartnerSessionID", "ChargingStationId": "ChargingStationID"}[name]
    return simple.get(name)


def _utc_offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
