"""Message-level OICP rules applied after generation: time order, energy, distinct EVSEs per list."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from conformance.oicp.time import parse, render
from conformance.strategies.context import Context, evse_id_for

Shaper = Callable[[dict[str, Any], Context, st.DrawFn], None]
CDR_ORDER = ("SessionStart", "ChargingStart", "ChargingEnd", "SessionEnd")


def order(obj: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Reassign the present timestamps among `keys` so they are non-decreasing in real time."""
    present = [k for k in keys if k in obj]
    values = sorted((obj[k] for k in present), key=parse)
    obj.update(zip(present, values, strict=True))


def meters(obj: dict[str, Any], energy_key: str = "ConsumedEnergy") -> None:
    """MeterValueStart <= MeterValueInBetween (ascending) <= MeterValueEnd, energy = end - start."""
    start, end = obj.get("MeterValueStart"), obj.get("MeterValueEnd")
    if start is not None and end is not None:
        energy = round(abs(obj.get(energy_key, end - start)), 3)
        obj["MeterValueEnd"] = end = round(start + energy, 3)
        obj[energy_key] = round(end - start, 3)
    between = (obj.get("MeterValueInBetween") or {}).get("meterValues")
    if between:
        low = start if start is not None else min(0.0, end if end is not None else 0.0)
        high = end if end is not None else low + max(abs(v) for v in between)
        obj["MeterValueInBetween"]["meterValues"] = sorted(
            round(low + (high - low) * i / (len(between) + 1), 3) for i in range(1, len(between) + 1)
        )


def cdr(record: dict[str, Any], ctx: Context, draw: st.DrawFn) -> None:
    order(record, CDR_ORDER)
    meters(record)


def distinct_evses(records: list[dict[str, Any]], ctx: Context) -> None:
    """Each record of a list gets its own EvseID of the message's operator."""
    for index, record in enumerate(records):
        if "EvseID" in record:
            record["EvseID"] = (
                ctx.evse_ids[index]
                if index < len(ctx.evse_ids)
                else evse_id_for(ctx.operator_id, "9" + str(index), index + 1)
            )


def distinct_sessions(records: list[dict[str, Any]], ctx: Context, draw: st.DrawFn) -> None:
    for index, record in enumerate(records):
        if index and "SessionID" in record:
            record["SessionID"] = str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4))


def _cdr_page(key: str) -> Shaper:
    def shape(msg: dict[str, Any], ctx: Context, draw: st.DrawFn) -> None:
        records = msg.get(key) or []
        distinct_sessions(records, ctx, draw)
        for record in records:
            cdr(record, ctx, draw)

    return shape


def _progress(msg: dict[str, Any], ctx: Context, draw: st.DrawFn) -> None:
    order(msg, ("SessionStart", "ChargingStart", "EventOccurred"))
    if "ChargingDuration" not in msg and "ConsumedEnergyProgress" not in msg:
        msg["ChargingDuration"] = 0  # "Either ChargingDuration or ConsumedEnergyProgress should be provided."
    if "ChargingDuration" in msg:
        delta = parse(msg["EventOccurred"]) - parse(msg["ChargingStart"])
        msg["ChargingDuration"] = int(delta / timedelta(milliseconds=1))
    meters(msg, "ConsumedEnergyProgress")


def _end(msg: dict[str, Any], ctx: Context, draw: st.DrawFn) -> None:
    order(msg, ("SessionStart", "ChargingStart", "ChargingEnd", "PenaltyTimeStart", "SessionEnd"))
    meters(msg)


def _window(first: str, second: str) -> Shaper:
    def shape(msg: dict[str, Any], ctx: Context, draw: st.DrawFn) -> None:
        if first in msg and second in msg:
            order(msg, (first, second))
        elif second in msg:
            msg[second] = render(parse(msg[second]), ctx.offset)

    return shape


def _records(*path: str) -> Shaper:
    """Distinct EvseIDs in the record list at `path` (lists along the path are walked)."""

    def shape(msg: dict[str, Any], ctx: Context, draw: st.DrawFn) -> None:
        nodes: list[Any] = [msg]
        for key in path:
            nxt: list[Any] = []
            for node in nodes:
                value = node.get(key) if isinstance(node, dict) else None
                nxt.extend(value if isinstance(value, list) and key != path[-1] else [value])
            nodes = [n for n in nxt if n is not None]
        for records in nodes:
            distinct_evses(records, ctx)

    return shape


def _pricing_products(msg: dict[str, Any], ctx: Context, draw: st.DrawFn) -> None:
    """A ProductID "MUST be unique" (CPO 3 PricingProductDataRecordType): one per record of the push."""
    records = (msg.get("PricingProductData") or {}).get("PricingProductDataRecords") or []
    seen: set[Any] = set()
    for index, record in enumerate(records):
        product, number = record.get("ProductID"), index
        while product in seen:
            number += 1
            product = f"{str(record.get('ProductID'))[:44]}_{number}"
        if product != record.get("ProductID"):
            record["ProductID"] = product
        seen.add(product)


# What EVSE data promise beyond the schema (conformance/checks/rules.py judges a CPO on them): a station not
# open around the clock gives its hours, "No Payment" stands alone, RenewableEnergy only without grey sources.
GREY_ENERGY = frozenset({"Coal", "NuclearEnergy", "Petroleum", "NaturalGas"})
OPEN_HOURS = [{"Period": [{"begin": "08:00", "end": "20:00"}], "on": "Everyday"}]


def evse_record(record: dict[str, Any]) -> None:
    """Make one generated EvseDataRecord keep the data types' rules (see GREY_ENERGY above)."""
    if record.get("IsOpen24Hours") is False and not record.get("OpeningTimes"):
        record["OpeningTimes"] = [dict(o, Period=[dict(p) for p in o["Period"]]) for o in OPEN_HOURS]
    options = record.get("PaymentOptions")
    if isinstance(options, list) and "No Payment" in options and len(set(options)) > 1:
        record["PaymentOptions"] = [o for o in options if o != "No Payment"]
    sources = record.get("EnergySource")
    if record.get("RenewableEnergy") is True and isinstance(sources, list):
        grey = [s for s in sources if isinstance(s, dict) and s.get("Energy") in GREY_ENERGY]
        if any(s.get("Percentage", 1) != 0 for s in grey):
            record["RenewableEnergy"] = False


def _evse_rules(*path: str) -> Shaper:
    """`evse_record` on every record of the list at `path` (lists along the path are walked)."""

    def shape(msg: dict[str, Any], ctx: Context, draw: st.DrawFn) -> None:
        nodes: list[Any] = [msg]
        for key in path:
            nxt: list[Any] = []
            for node in nodes:
                value = node.get(key) if isinstance(node, dict) else None
                nxt.extend(value if isinstance(value, list) else [value])
            nodes = [n for n in nxt if n is not None]
        for record in nodes:
            if isinstance(record, dict):
                evse_record(record)

    return shape


def _notification(kind: str) -> Shaper:
    def shape(msg: dict[str, Any], ctx: Context, draw: st.DrawFn) -> None:
        msg["Type"] = kind  # the Type member names the notification (the hub dispatches on it)

    return shape


SHAPERS: dict[str, tuple[Shaper, ...]] = {
    "eRoamingChargeDetailRecord": (cdr,),
    "eRoamingChargeDetailRecords": (_cdr_page("content"), _cdr_page("eroamingChargeDetailRecords")),
    "eRoamingChargingNotificationStart": (
        _notification("Start"),
        lambda m, c, d: order(m, ("SessionStart", "ChargingStart")),
    ),
    "eRoamingChargingNotificationProgress": (_notification("Progress"), _progress),
    "eRoamingChargingNotificationEnd": (_notification("End"), _end),
    "eRoamingChargingNotificationError": (_notification("Error"),),
    "eRoamingGetChargeDetailRecords": (_window("From", "To"),),
    "eRoamingPushEvseData": (
        _records("OperatorEvseData", "EvseDataRecord"),
        _evse_rules("OperatorEvseData", "EvseDataRecord"),
    ),
    "eRoamingPushEvseStatus": (_records("OperatorEvseStatus", "EvseStatusRecord"),),
    "eRoamingEVSEData": (_records("content"), _evse_rules("content")),
    "eRoamingEvseData": (
        _records("EvseData", "OperatorEvseData", "EvseDataRecord"),
        _evse_rules("EvseData", "OperatorEvseData", "EvseDataRecord"),
    ),
    "eRoamingEVSEStatus": (_records("EvseStatuses", "OperatorEvseStatus", "EvseStatusRecord"),),
    "eRoamingEvseStatus": (_records("EvseStatuses", "OperatorEvseStatus", "EvseStatusRecord"),),
    "eRoamingEVSEStatusByID": (_records("EVSEStatusRecords", "EvseStatusRecord"),),
    "eRoamingEvseStatusByID": (_records("EVSEStatusRecords", "EvseStatusRecord"),),
    "eRoamingPushEVSEPricing": (_records("EVSEPricing"),),
    "eRoamingPushPricingProductData": (_pricing_products,),
}


def shape(name: str, msg: Any, ctx: Context, draw: st.DrawFn) -> Any:
    for shaper in SHAPERS.get(name, ()):
        shaper(msg, ctx, draw)
    return msg
