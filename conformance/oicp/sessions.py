"""Session-level rules a charge record must keep beyond its schema: time order and energy."""

from __future__ import annotations

from typing import Any

from conformance.oicp.time import in_order

ENERGY_TOLERANCE_KWH = 0.001
CDR_TIME_ORDER = ("SessionStart", "ChargingStart", "ChargingEnd", "SessionEnd")


def cdr_problems(cdr: dict[str, Any]) -> list[str]:
    """What is semantically wrong with a CDR (empty when nothing is)."""
    problems = []
    times = [cdr[k] for k in CDR_TIME_ORDER if k in cdr]
    try:
        if not in_order(*times):
            problems.append("timestamps out of order: SessionStart <= ChargingStart <= ChargingEnd <= SessionEnd")
    except ValueError as exc:
        problems.append(f"timestamp without offset: {exc}")
    start, end = cdr.get("MeterValueStart"), cdr.get("MeterValueEnd")
    if start is not None and end is not None:
        if start > end:
            problems.append(f"MeterValueStart {start} > MeterValueEnd {end}")
        energy = cdr.get("ConsumedEnergy")
        if energy is not None and abs((end - start) - energy) > ENERGY_TOLERANCE_KWH:
            problems.append(f"ConsumedEnergy {energy} differs from MeterValueEnd - MeterValueStart = {end - start}")
        between = (cdr.get("MeterValueInBetween") or {}).get("meterValues") or []
        if any(not start <= value <= end for value in between) or between != sorted(between):
            problems.append("MeterValueInBetween not ascending between MeterValueStart and MeterValueEnd")
    if cdr.get("ConsumedEnergy", 0) < 0:
        problems.append("ConsumedEnergy is negative")
    return problems
