"""OICP messages for `{message}` in triggers: for a SUT that forwards to the hub what it is given.

A message for a step of a flow carries the flow's state: the session's SessionID, Identification,
EvseID and partner session IDs, and timestamps no earlier than the session's start. A SUT that
forwards it must never be blamed for an inconsistency the suite generated."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from conformance.strategies import Pins, draw_many, valid
from conformance.strategies.context import OFFSETS
from conformance.sut.declaration import Sut

MESSAGES = {
    "push_evse_data": "eRoamingPushEvseData",
    "push_evse_status": "eRoamingPushEvseStatus",
    "authorize_start": "eRoamingAuthorizeStart",
    "authorize_stop": "eRoamingAuthorizeStop",
    "end_session": "eRoamingChargeDetailRecord",
    "push_pricing": "eRoamingPushPricingProductData",
    "push_evse_pricing": "eRoamingPushEVSEPricing",
}
# Messages that belong to no session: no partner session IDs, no EvseID of a flow.
_NOT_SESSIONS = (
    "eRoamingPushEvseData",
    "eRoamingPushEvseStatus",
    "eRoamingPushPricingProductData",
    "eRoamingPushEVSEPricing",
)
# Flow state the suite passes along with the placeholders (not placeholders themselves).
FLOW = ("cpo_partner_session_id", "emp_partner_session_id", "started_at", "session_evse_id")


def wants_message(sut: Sut, trigger: str) -> bool:
    t = sut.triggers.get(trigger)
    return t is not None and any("{message}" in part for part in (t.url, t.body, t.command, *t.headers.values()))


# The EMP's requests: built from the flow's state alone. A drawn optional member would change what the request
# asks (a search filter narrows a pull, a SessionID takes the hub's choice away), and the suite would then judge
# the EMP on the suite's own choice.
EMP_MESSAGES = {
    "pull_evse_data": "eRoamingPullEVSEData",
    "pull_evse_data_search": "eRoamingPullEVSEData",
    "pull_evse_status": "eRoamingPullEVSEStatus",
    "pull_evse_status_by_id": "eRoamingPullEVSEStatusByID",
    "pull_evse_status_by_operator_id": "eRoamingPullEVSEStatusByOperatorID",
    "remote_start": "eRoamingAuthorizeRemoteStart",
    "remote_stop": "eRoamingAuthorizeRemoteStop",
    "reservation_start": "eRoamingAuthorizeRemoteReservationStart",
    "reservation_stop": "eRoamingAuthorizeRemoteReservationStop",
    "get_cdrs": "eRoamingGetChargeDetailRecords",
    "get_new_cdrs": "eRoamingGetChargeDetailRecords",
    "push_auth_data": "eRoamingPushAuthenticationData",
}
MAX_STATUS_IDS = 100  # eRoamingPullEVSEStatusByID carries at most 100 EvseIDs


def emp_message(sut: Sut, trigger: str, values: dict[str, Any]) -> dict[str, Any]:
    """The OICP request an EMP sends for `trigger`, from the suite's values: its own ProviderID and customers,
    the hub's SessionID, the EvseIDs, LastCall and date range the flow has reached."""
    from conformance.validation import validate

    name = EMP_MESSAGES[trigger]
    provider = sut.provider_id
    evse_ids = values.get("evse_ids")
    evse_ids = json.loads(evse_ids) if isinstance(evse_ids, str) else list(evse_ids or sut.evse_ids)
    evse = values.get("evse_id") or sut.evse_ids[0]
    message: dict[str, Any] = {"ProviderID": provider}
    if trigger in ("pull_evse_data", "pull_evse_data_search"):
        message["GeoCoordinatesResponseFormat"] = "DecimalDegree"
        if trigger == "pull_evse_data_search":
            message["OperatorIds"] = [sut.operator_id]
        elif values.get("last_call"):
            message["LastCall"] = values["last_call"]
    elif trigger == "pull_evse_status_by_id":
        message["EvseID"] = evse_ids[:MAX_STATUS_IDS]
    elif trigger == "pull_evse_status_by_operator_id":
        message["OperatorID"] = [sut.operator_id]
    elif trigger in ("remote_start", "reservation_start"):
        message |= {"EvseID": evse, "Identification": {"RemoteIdentification": {"EvcoID": _own_evco(sut)}}}
    elif trigger in ("remote_stop", "reservation_stop"):
        message |= {"SessionID": values["session_id"], "EvseID": evse}
    elif trigger in ("get_cdrs", "get_new_cdrs"):
        message |= {"From": values["from"], "To": values["to"]}
    elif trigger == "push_auth_data":
        from conformance.suites.emp.helpers import known_identifications

        message = {
            "ActionType": values.get("action", "fullLoad"),
            "ProviderAuthenticationData": {
                "ProviderID": provider,
                "AuthenticationDataRecord": [{"Identification": i} for _, i in known_identifications(sut)],
            },
        }
    if problems := validate(message, name, sut.release):
        raise ValueError(f"the suite built an invalid {name} for trigger {trigger}: {problems[0]}")
    return message


def _own_evco(sut: Sut) -> str:
    """An EvcoID of the EMP's own customers, as a RemoteStart from its app names one."""
    declared = sut.identifications
    for evco in declared.get("evco_ids", []):
        return str(evco)
    for pair in declared.get("evco_pins", []):
        if isinstance(pair, dict) and pair.get("evco_id"):
            return str(pair["evco_id"])
    raise LookupError(f"{sut.source} declares no EvcoID of the EMP's (identifications.evco_ids) to remote-start with")


def message_for(
    sut: Sut, trigger: str, values: dict[str, Any], seed: int, variant: str | None = None
) -> dict[str, Any]:
    """A valid message for the trigger's action, built around the values and flow state the suite chose.

    `variant` ("maximal" or "minimal", see conformance/strategies/variants.py) asks for every optional member
    or the required ones only, instead of a random mix; the flow's state still wins (a session without a
    CPOPartnerSessionID gets none), and the variant is validated: an invalid one raises `VariantError`."""
    if sut.role == "emp" and trigger in EMP_MESSAGES:
        return emp_message(sut, trigger, values)
    name = MESSAGES.get(trigger)
    if trigger == "send_notification":
        name = f"eRoamingChargingNotification{values.get('type', 'Start')}"
    if name is None:
        raise LookupError(f"trigger {trigger} has no OICP message to offer as {{message}}")
    evses = values.get("evse_ids")
    evse_ids = tuple(json.loads(evses) if isinstance(evses, str) else evses or ()) or (
        (values["evse_id"],) if "evse_id" in values else sut.evse_ids
    )
    identification = values.get("identification")
    started: datetime | None = values.get("started_at")
    pins = Pins(
        operator_id=sut.operator_id,
        provider_id=sut.provider_id,
        evse_ids=evse_ids,
        session_id=values.get("session_id"),
        identification=json.loads(identification) if isinstance(identification, str) else identification,
        cpo_partner_session_id=values.get("cpo_partner_session_id"),
        emp_partner_session_id=values.get("emp_partner_session_id"),
        now=started,
        offset=_offset(values.get("session_id")),
    )
    size = len(evse_ids) if name in ("eRoamingPushEvseData", "eRoamingPushEvseStatus") else None
    if variant is None:
        [message] = draw_many(valid(name, sut.release, pins, size), 1, seed)
    else:
        from conformance.strategies.variants import variant as variant_of

        [message] = draw_many(variant_of(name, variant, sut.release, pins, size), 1, seed)
    drawn = set(message)
    if "action" in values and "ActionType" in message:
        message["ActionType"] = values["action"]
    if size:
        key = "OperatorEvseData" if name == "eRoamingPushEvseData" else "OperatorEvseStatus"
        records = message[key]["EvseDataRecord" if key == "OperatorEvseData" else "EvseStatusRecord"]
        for record, evse in zip(records, evse_ids, strict=False):
            record["EvseID"] = evse
    if name == "eRoamingPushEVSEPricing":  # one price record per EVSE asked for, each the operator's
        template = message["EVSEPricing"][0]
        message["EVSEPricing"] = [{**copy.deepcopy(template), "EvseID": evse} for evse in evse_ids]
    if name not in _NOT_SESSIONS:
        for member, flow_key in (
            ("CPOPartnerSessionID", "cpo_partner_session_id"),
            ("EMPPartnerSessionID", "emp_partner_session_id"),
        ):
            if values.get(flow_key) is None:
                message.pop(member, None)  # the session has none: a forwarded message must not invent one
            else:
                message[member] = values[flow_key]
        if values.get("evse_id"):
            message["EvseID"] = values["evse_id"]
    if name == "eRoamingAuthorizeStart" and not values.get("session_id"):
        message.pop("SessionID", None)  # a session's first message: Hubject has issued no SessionID to carry yet
    if started is not None:
        _not_before(message, started)
    if variant is not None:
        _variant_state(message, name, variant, drawn, sut.release)
    _keep_rules(sut, name, message, variant)
    if variant is not None:
        from conformance.strategies.variants import ensure_valid

        ensure_valid(message, name, variant, sut.release, sut.sub_operators)
    return message


def _variant_state(message: dict[str, Any], name: str, variant: str, drawn: set[str], release: str) -> None:
    """A minimal variant keeps no optional member the flow's state added (partner session IDs, an optional EvseID)."""
    if variant != "minimal":
        return
    from conformance.validation import load_schema

    required = set(load_schema(name, release).get("required", []))
    for key in [k for k in message if k not in drawn and k not in required]:
        del message[key]


def _keep_rules(sut: Sut, name: str, message: dict[str, Any], variant: str | None = None) -> None:
    """What a forwarding SUT sends must keep the OICP rules the suite judges on it (conformance/checks/rules.py),
    also beside messages the SUT builds itself: timestamps in the declared zone's offset at their instant; EVSE
    data that promise no external calibration law data (a CDR the SUT or the suite builds need not carry
    SignedMeteringValues for them) and, when no zone is declared, no Address.TimeZone the suite made up (CDRs
    carry offsets of their own, which would contradict it). A variant keeps its members: only values change."""
    zone = _zone(sut.time_zone)
    if zone is not None:
        _localize(message, zone)
    if name == "eRoamingPushEvseData":
        for record in message.get("OperatorEvseData", {}).get("EvseDataRecord", []):
            if record.get("CalibrationLawDataAvailability") == "External":
                record["CalibrationLawDataAvailability"] = "Local"
            if zone is None and variant is None and isinstance(record.get("Address"), dict):
                record["Address"].pop("TimeZone", None)


def _zone(name: str | None) -> Any:
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _localize(node: Any, zone: Any) -> Any:
    """Every date-time inside `node` rewritten to the zone's local offset at its instant (numeric, never Z)."""
    if isinstance(node, dict):
        for key, value in node.items():
            node[key] = _localize(value, zone)
    elif isinstance(node, list):
        node[:] = [_localize(item, zone) for item in node]
    elif isinstance(node, str) and (moment := _instant(node)) is not None:
        return moment.astimezone(zone).isoformat(timespec="milliseconds" if "." in node else "seconds")
    return node


def _offset(session_id: str | None) -> int | None:
    """One UTC offset for every message of a session (a charge point has one local time), chosen by its ID."""
    if not session_id:
        return None
    return OFFSETS[int(hashlib.sha256(session_id.encode()).hexdigest(), 16) % len(OFFSETS)]


def _not_before(message: dict[str, Any], started: datetime) -> None:
    """Shift every top-level timestamp by one amount so the earliest is not before the session's start."""
    stamps = {k: v for k, v in message.items() if isinstance(v, str) and _instant(v) is not None}
    if not stamps:
        return
    earliest = min(_instant(v) for v in stamps.values())  # type: ignore[type-var]
    if earliest is None or earliest >= started:
        return
    delta = started - earliest + timedelta(seconds=1)
    for key, value in stamps.items():
        moment = _instant(value)
        assert moment is not None
        message[key] = (moment + delta).isoformat(timespec="seconds" if "." not in value else "milliseconds")


def _instant(text: str) -> datetime | None:
    if len(text) < 19 or text[4] != "-" or "T" not in text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
