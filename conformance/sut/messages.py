"""OICP messages for `{message}` in triggers: for a SUT that forwards to the hub what it is given."""

from __future__ import annotations

import json
from typing import Any

from conformance.strategies import Pins, draw_many, valid
from conformance.sut.declaration import Sut

MESSAGES = {
    "push_evse_data": "eRoamingPushEvseData",
    "push_evse_status": "eRoamingPushEvseStatus",
    "authorize_start": "eRoamingAuthorizeStart",
    "authorize_stop": "eRoamingAuthorizeStop",
    "end_session": "eRoamingChargeDetailRecord",
    "push_pricing": "eRoamingPushPricingProductData",
}


def wants_message(sut: Sut, trigger: str) -> bool:
    t = sut.triggers.get(trigger)
    return t is not None and any("{message}" in part for part in (t.url, t.body, t.command))


def message_for(sut: Sut, trigger: str, values: dict[str, Any], seed: int) -> dict[str, Any]:
    """A valid message for the trigger's action, built around the values the suite chose."""
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
    pins = Pins(
        operator_id=sut.operator_id,
        provider_id=sut.provider_id,
        evse_ids=evse_ids,
        session_id=values.get("session_id"),
        identification=json.loads(identification) if isinstance(identification, str) else identification,
    )
    size = len(evse_ids) if name in ("eRoamingPushEvseData", "eRoamingPushEvseStatus") else None
    [message] = draw_many(valid(name, sut.release, pins, size), 1, seed)
    if "action" in values and "ActionType" in message:
        message["ActionType"] = values["action"]
    if size:
        key = "OperatorEvseData" if name == "eRoamingPushEvseData" else "OperatorEvseStatus"
        records = message[key]["EvseDataRecord" if key == "OperatorEvseData" else "EvseStatusRecord"]
        for record, evse in zip(records, evse_ids, strict=False):
            record["EvseID"] = evse
    return message
