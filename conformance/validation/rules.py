"""OICP rules a JSON schema cannot say, as violations with a JSON pointer and the rule's name.

They are the rules of `conformance.oicp` (time order and energy as in `sessions.cdr_problems`, ID
ownership as in `ids`, which the fake hub enforces), checked wherever their members meet in a
message: a CDR, each CDR of a page, a charging notification, each record of a push.
They run on schema-valid messages only (`validate --rules`): on a broken message they would guess.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from conformance.oicp.ids import belongs_to, operator_key, operator_of, provider_key, provider_of_evco
from conformance.oicp.sessions import ENERGY_TOLERANCE_KWH
from conformance.oicp.time import parse
from conformance.validation.engines import pointer
from conformance.validation.violation import Violation, short

RULES = {
    "time-order": "a session's timestamps run forward in real time (offsets taken into account): "
    "SessionStart <= ChargingStart <= ChargingEnd <= PenaltyTimeStart <= SessionEnd, "
    "ChargingStart <= EventOccurred, From <= To",
    "energy": "MeterValueStart <= MeterValueInBetween (ascending) <= MeterValueEnd; "
    f"ConsumedEnergy = MeterValueEnd - MeterValueStart (within {ENERGY_TOLERANCE_KWH} kWh) and not negative",
    "evse-owner": "an EvseID or ChargingPoolID belongs to the OperatorID it is pushed or sent with "
    "(or to a sub-operator named with --sub-operator)",
    "evco-provider": "an EvcoID names the ProviderID of the message it travels in",
}
# Timestamps that must not decrease, in this order, where two or more of them share an object.
TIME_CHAINS = (
    ("SessionStart", "ChargingStart", "ChargingEnd", "PenaltyTimeStart", "SessionEnd"),
    ("ChargingStart", "EventOccurred"),
    ("From", "To"),
)
RECORD_LISTS = ("EvseDataRecord", "EvseStatusRecord")  # records pushed under their object's OperatorID
OWNED_IDS = ("EvseID", "ChargingPoolID")  # ChargingStationID is free text (maxLength 50), not checked

Path = tuple[Any, ...]


def _objects(node: Any, path: Path = ()) -> Iterator[tuple[dict[str, Any], Path]]:
    """Every object of the message with its path, the root first."""
    if isinstance(node, dict):
        yield node, path
        for key, value in node.items():
            yield from _objects(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _objects(value, (*path, index))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _rule(rule: str, path: Path, message: str, expected: Any, actual: Any) -> Violation:
    return Violation(
        pointer=pointer(path),
        keyword="rule",
        expected=expected if isinstance(expected, str) else short(expected),
        actual=short(actual),
        message=message,
        rule=rule,
        expected_value=expected,
        actual_value=actual,
    )


def _time_order(obj: dict[str, Any], path: Path) -> Iterator[Violation]:
    for chain in TIME_CHAINS:
        present = []
        for key in chain:
            try:
                present.append((key, obj[key], parse(obj[key])))
            except (KeyError, TypeError, AttributeError, ValueError):
                continue  # absent, or no timestamp: the schema's business
        for (before, text, moment), (key, value, later) in itertools.pairwise(present):
            if later < moment:
                yield _rule(
                    "time-order",
                    (*path, key),
                    f"is before {before} {text}; OICP needs {' <= '.join(k for k, _, _ in present)}",
                    f"not before {text}",
                    value,
                )


def _energy(obj: dict[str, Any], path: Path) -> Iterator[Violation]:
    """The checks of `oicp.sessions.cdr_problems`, each at the member that breaks it."""
    start, end, energy = obj.get("MeterValueStart"), obj.get("MeterValueEnd"), obj.get("ConsumedEnergy")
    if _number(start) and _number(end):
        if start > end:
            yield _rule("energy", (*path, "MeterValueEnd"), f"is less than MeterValueStart {start}", f">= {start}", end)
        if _number(energy) and abs((end - start) - energy) > ENERGY_TOLERANCE_KWH:
            difference = round(end - start, 6)
            yield _rule(
                "energy",
                (*path, "ConsumedEnergy"),
                f"differs from MeterValueEnd - MeterValueStart = {difference} kWh",
                difference,
                energy,
            )
        between = obj.get("MeterValueInBetween")
        values = between.get("meterValues") if isinstance(between, dict) else None
        for index, value in enumerate(values if isinstance(values, list) else []):
            where = (*path, "MeterValueInBetween", "meterValues", index)
            if not _number(value):
                continue
            if not start <= value <= end:
                yield _rule(
                    "energy", where, f"lies outside MeterValueStart {start} .. MeterValueEnd {end}", [start, end], value
                )
            elif index and _number(values[index - 1]) and value < values[index - 1]:
                before = values[index - 1]
                yield _rule("energy", where, f"is less than the value before it ({before})", "ascending", value)
    if _number(energy) and energy < 0:
        yield _rule("energy", (*path, "ConsumedEnergy"), "is negative", ">= 0", energy)


def _spelled(key: str, separator: str) -> str:
    """An ISO key as people write it (`DEXYZ` -> `DE*XYZ`, `DE-XYZ` for providers); DIN keys already are."""
    return key if key.startswith("+") or len(key) != 5 else f"{key[:2]}{separator}{key[2:]}"


def _owner_problem(value: Any, operator_id: str, sub_operators: tuple[str, ...]) -> str | None:
    if not isinstance(value, str) or operator_key(operator_id) is None:
        return None
    owner = operator_of(value)
    if owner is None or any(belongs_to(value, o) for o in (operator_id, *sub_operators)):
        return None  # an ID the schema lets pass but that names no operator is not this rule's to judge
    owner = _spelled(owner, "*")
    return f"belongs to operator {owner}, not to OperatorID {operator_id} (a sub-operator? pass --sub-operator {owner})"


def _evse_owner(obj: dict[str, Any], path: Path, sub_operators: tuple[str, ...]) -> Iterator[Violation]:
    operator_id = obj.get("OperatorID")
    if not isinstance(operator_id, str):
        return
    owned: list[tuple[Path, Any]] = [((*path, k), obj[k]) for k in OWNED_IDS if k in obj]
    for list_key in RECORD_LISTS:
        records = obj.get(list_key)
        for index, record in enumerate(records if isinstance(records, list) else []):
            if isinstance(record, dict):
                owned += [((*path, list_key, index, k), record[k]) for k in OWNED_IDS if k in record]
    for where, value in owned:
        if problem := _owner_problem(value, operator_id, sub_operators):
            yield _rule("evse-owner", where, problem, f"an ID of operator {operator_id}", value)


def _evco_provider(obj: dict[str, Any], path: Path) -> Iterator[Violation]:
    provider_id = obj.get("ProviderID")
    if not isinstance(provider_id, str) or provider_key(provider_id) is None:
        return
    for inner, where in _objects(obj, path):
        evco = inner.get("EvcoID")
        if (inner is not obj and "ProviderID" in inner) or not isinstance(evco, str):
            continue
        named = provider_of_evco(evco)
        if named is not None and named != provider_key(provider_id):
            yield _rule(
                "evco-provider",
                (*where, "EvcoID"),
                f"names provider {_spelled(named, '-')}, not the message's ProviderID {provider_id}",
                f"an EvcoID of provider {provider_id}",
                evco,
            )


def check_rules(message: Any, sub_operators: tuple[str, ...] = ()) -> list[Violation]:
    """The OICP rule violations of a (schema-valid) message, sorted by pointer; empty when it keeps them all.

    `sub_operators`: operators whose EVSEs the message's OperatorID may push as their hub operator."""
    out: list[Violation] = []
    for obj, path in _objects(message):
        out += _time_order(obj, path)
        out += _energy(obj, path)
        out += _evse_owner(obj, path, sub_operators)
        out += _evco_provider(obj, path)
    unique = {(v.pointer, v.rule, v.message): v for v in out}
    return sorted(unique.values(), key=lambda v: (v.pointer, v.rule))
