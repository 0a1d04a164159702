"""The EMP suite's own steps: the customers the EMP declared, and authorisations sent as Hubject forwards them.

The steps both roles share live in `conformance.suites.steps`."""

from __future__ import annotations

import time
from typing import Any

from conformance.strategies import Case, Pins
from conformance.suites.cases import IdSource, hub_request
from conformance.suites.steps import call_inbound
from conformance.suites.verdicts import NotJudged
from conformance.sut import Sut
from conformance.sut.client import Answer

AUTH_START, AUTH_STOP = "AuthorizeStart.emp", "AuthorizeStop.emp"
CDR, NOTE = "ChargeDetailRecord.emp", "ChargingNotification.emp"


def online_only(sut: Sut) -> None:
    """Hubject calls only an online EMP: for an offline one these checks do not apply."""
    if sut.mode != "online":
        raise NotJudged("an offline EMP serves nothing: Hubject calls only online EMPs", applies=False)


def known_identifications(sut: Sut) -> list[tuple[str, dict[str, Any]]]:
    """(what it is, OICP Identification) for every customer the declaration says the EMP knows."""
    declared = sut.identifications
    out: list[tuple[str, dict[str, Any]]] = []
    out += [(f"RFID UID {uid}", {"RFIDMifareFamilyIdentification": {"UID": uid}}) for uid in declared.get("rfid", [])]
    for pair in declared.get("evco_pins", []):
        if isinstance(pair, dict) and {"evco_id", "pin"} <= set(pair):
            ident = {"QRCodeIdentification": {"EvcoID": pair["evco_id"], "PIN": str(pair["pin"])}}
            out.append((f"EvcoID {pair['evco_id']} with PIN", ident))
    out += [
        (f"Plug&Charge EvcoID {evco}", {"PlugAndChargeIdentification": {"EvcoID": evco}})
        for evco in declared.get("evco_ids", [])
    ]
    return out


def unknown_identification(sut: Sut, ids: IdSource) -> dict[str, Any]:
    """An RFID the EMP must not know: the declared one, else a UID no declaration lists."""
    uid = sut.identifications.get("unknown_rfid")
    if not uid:
        known = set(sut.identifications.get("rfid", []))
        uid = next(u for u in (f"{ids.seed():08X}"[:8] for _ in range(20)) if u not in known)
    return {"RFIDMifareFamilyIdentification": {"UID": uid}}


def hub_pins(sut: Sut, identification: dict[str, Any] | None = None) -> Pins:
    """The suite plays the CPO (its operator and EVSEs) and Hubject (SessionIDs) towards the EMP."""
    return Pins(
        operator_id=sut.operator_id,
        provider_id=sut.provider_id,
        evse_ids=(sut.evse_ids[0],),
        identification=identification,
    )


def authorize_start(sut: Sut, ids: IdSource, identification: dict[str, Any]) -> tuple[Case, Answer]:
    """An AuthorizeStart as Hubject forwards it to the EMP: a fresh SessionID, the suite's operator and EVSE."""
    drawn = hub_request(ids, AUTH_START, sut.release, hub_pins(sut, identification))
    # The EvseID is optional, but Hubject forwards the one the CPO names, and the suite's CPO names one.
    drawn = Case(**{**drawn.__dict__, "body": {**drawn.body, "EvseID": sut.evse_ids[0]}})
    return drawn, call_inbound(sut, AUTH_START, drawn)


def authorized(answer: Answer) -> bool:
    return isinstance(answer.body, dict) and answer.body.get("AuthorizationStatus") == "Authorized"


PULL_DATA = "PullEvseData.hub"


def seed_evse_data(hub: Any, sut: Sut, count: int, seed: int) -> list[str]:
    """Put `count` EVSE data records of the suite's operator in the hub's store (the declared EVSEs among them),
    so a pull has several pages to read. Returns their EvseIDs."""
    from conformance.oicp.ids import operator_key
    from conformance.strategies import draw_many, valid

    [message] = draw_many(valid("eRoamingPushEvseData", sut.release, Pins(operator_id=sut.operator_id), count), 1, seed)
    records = message["OperatorEvseData"]["EvseDataRecord"]
    for record, evse in zip(records, sut.evse_ids, strict=False):
        record["EvseID"] = evse
    key = operator_key(sut.operator_id) or sut.operator_id
    with hub.state.lock:
        hub.state.evse_data[key] = {r["EvseID"]: r for r in records}
        hub.state.operator_names[key] = (sut.operator_id, "OICP conformance suite")
        hub.state.evse_status[key] = {r["EvseID"]: "Available" for r in records}
        # New to the hub now: a delta pull from an earlier LastCall (the EMP pulled in an earlier test) returns
        # them all; one from a LastCall after this moment returns only what changes later (change_evse_data).
        hub.state.evse_changed.update(dict.fromkeys(hub.state.evse_data[key], time.time()))
    return [r["EvseID"] for r in records]


def change_evse_data(hub: Any, sut: Sut, evse_ids: list[str]) -> None:
    """Change some EVSEs in the hub's store now, as a CPO's update push would: a delta pull returns them."""
    from conformance.oicp.ids import operator_key

    key = operator_key(sut.operator_id) or sut.operator_id
    with hub.state.lock:
        for evse in evse_ids:
            hub.state.evse_data[key][evse]["HotlinePhoneNumber"] = "+4930999999"
            hub.state.evse_changed[evse] = time.time()


def seed_cdrs(hub: Any, sut: Sut, count: int, seed: int, start: Any, end: Any) -> list[str]:
    """Put `count` CDRs of the EMP's customers, ending between `start` and `end`, where GetChargeDetailRecords
    finds them. Returns their SessionIDs."""
    from datetime import timedelta

    from conformance.strategies import draw_many, valid
    from conformance.suites.cases import IdSource

    ids = IdSource(seed, "seed_cdrs")
    out = []
    step = (end - start) / (count + 1)
    for index in range(count):
        ends = start + step * (index + 1)
        pins = Pins(operator_id=sut.operator_id, provider_id=sut.provider_id, evse_ids=(sut.evse_ids[0],))
        pins = Pins(**{**pins.__dict__, "session_id": ids.session_id()})
        [cdr] = draw_many(valid("eRoamingChargeDetailRecord", sut.release, pins), 1, ids.seed())
        began = ends - timedelta(minutes=30)
        cdr.update(
            SessionStart=began.isoformat(timespec="seconds"),
            ChargingStart=began.isoformat(timespec="seconds"),
            ChargingEnd=ends.isoformat(timespec="seconds"),
            SessionEnd=ends.isoformat(timespec="seconds"),
        )
        with hub.state.lock:
            hub.state.cdrs.append((sut.provider_id, cdr))
        out.append(cdr["SessionID"])
    return out
