"""What the reference CPO sends to Hubject: EVSE data and status, authorisations, CDRs, notifications.

Each action builds its OICP message from the CPO's own world, then hands it to one `_send_*` step, which plants
the message defects, picks the operation path and records what the hub's answer means for the CPO's books.
In forward mode the message comes from the trigger instead and goes through the same step (`forward`), so a
forwarding backend mangles, routes, retries and books exactly like one that builds its own messages."""

from __future__ import annotations

import copy
import hashlib
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from conformance.reference.cpo.hubclient import HubClient, Outcome
from conformance.reference.cpo.model import BERLIN, Config, Session, World
from conformance.reference.cpo.pricing import evse_pricing, pricing_product_data

# Every trigger that makes the CPO call the hub, and the OICP message a `forward` trigger's body must be.
FORWARDED = {
    "push-evse-data": "eRoamingPushEvseData",
    "push-evse-status": "eRoamingPushEvseStatus",
    "authorize-start": "eRoamingAuthorizeStart",
    "authorize-stop": "eRoamingAuthorizeStop",
    "end-session": "eRoamingChargeDetailRecord",
    "notify": "eRoamingChargingNotification",
    "push-pricing": "eRoamingPushPricingProductData",
    "push-evse-pricing": "eRoamingPushEVSEPricing",
}
_ABBREVIATED = {"KILOWATT_HOUR": "kWh", "HOUR": "h", "MINUTE": "min"}  # what the pricing-unit defect sends
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_CDR_TIMES = ("SessionStart", "SessionEnd", "ChargingStart", "ChargingEnd")


class BadMessage(ValueError):
    """A forwarded message the CPO cannot route (not an object, or without the IDs it needs)."""


class ForwardFailed(RuntimeError):
    """The CPO broke on a forwarded message before sending it (planted `variant-forward-*` defects): HTTP 500."""


class CpoService:
    def __init__(self, config: Config, world: World):
        self.config = config
        self.world = world
        self.hub = HubClient(config)
        self._cdr_logged: set[str] = set()  # SessionIDs whose forwarded CDR is already in the books

    def _has(self, defect: str) -> bool:
        return defect in self.config.defects

    def _operator_path(self, operator_id: str | None = None) -> str:
        return "DE*XXX" if self._has("wrong-operator-in-path") else (operator_id or self.config.operator_id)

    # --- EVSE data and status -----------------------------------------------------------------------

    def _evses(self, evse_ids: list[str] | None) -> list[Any]:
        return [self.world.evses[e] for e in (evse_ids or list(self.world.evses)) if e in self.world.evses]

    def push_evse_data(self, action: str, evse_ids: list[str] | None = None) -> Outcome:
        with self.world.lock:
            records = [self.world.evse_record(e) for e in self._evses(evse_ids)]
        body = {
            "ActionType": action,
            "OperatorEvseData": {
                "OperatorID": self.config.operator_id,  # the hub partner's, also for sub-operator EVSEs
                "OperatorName": self.config.operator_name,
                "EvseDataRecord": records,
            },
        }
        return self._send_evse_data(body)

    def _send_evse_data(self, body: dict[str, Any]) -> Outcome:
        body = copy.deepcopy(body)
        data = _table(body, "OperatorEvseData")
        records = data.get("EvseDataRecord") if isinstance(data.get("EvseDataRecord"), list) else []
        if self._has("evse-data-missing-required"):
            for record in records:
                if isinstance(record, dict):
                    record.pop("Accessibility", None)
        if self._has("foreign-evse-id") and records and isinstance(records[0], dict):
            records[0]["EvseID"] = "FR*XYZ*E9999*1"
        if self._has("geo-two-formats"):  # an exporter that writes every coordinate format it knows
            for record in records:
                geo = record.get("GeoCoordinates") if isinstance(record, dict) else None
                if isinstance(geo, dict):
                    extra = ("Google", {"Coordinates": "52.529 13.401"})
                    if "Google" in geo:
                        extra = ("DecimalDegree", {"Latitude": "52.529", "Longitude": "13.401"})
                    geo.setdefault(*extra)
        if self._has("country-ioc-code"):  # the exporter's configured country, whatever the station's
            for record in records:
                if isinstance(record, dict) and isinstance(record.get("Address"), dict):
                    record["Address"]["Country"] = "GER"
        if self._has("delta-as-full-load") and body.get("ActionType") == "update":
            body["ActionType"] = "fullLoad"
        version = "v22" if self._has("old-evse-data-version") else "v23"
        operator = self._operator_path(_required(data, "OperatorID", "OperatorEvseData"))
        path = f"/evsepush/{version}/operators/{operator}/data-records"
        # the defect: the exporter writes its JSON in the platform's "Unicode" (UTF-16) instead of UTF-8
        encoding = "utf-16-le" if self._has("evse-data-utf-16") else "utf-8"
        return self.hub.post(path, body, push="evse-data", encoding=encoding)

    def push_evse_status(self, action: str, evse_ids: list[str] | None = None) -> Outcome:
        with self.world.lock:
            records = [{"EvseID": e.evse_id, "EvseStatus": e.status} for e in self._evses(evse_ids)]
        body = {
            "ActionType": action,
            "OperatorEvseStatus": {
                "OperatorID": self.config.operator_id,
                "OperatorName": self.config.operator_name,
                "EvseStatusRecord": records,
            },
        }
        return self._send_evse_status(body)

    def _send_evse_status(self, body: dict[str, Any]) -> Outcome:
        status = _table(body, "OperatorEvseStatus")
        if self._has("status-push-misses-evses") and isinstance(status.get("EvseStatusRecord"), list):
            body = copy.deepcopy(body)
            status = _table(body, "OperatorEvseStatus")
            status["EvseStatusRecord"] = status["EvseStatusRecord"][:1]
        operator = self._operator_path(_required(status, "OperatorID", "OperatorEvseStatus"))
        return self.hub.post(f"/evsepush/v21/operators/{operator}/status-records", body, push="evse-status")

    def push_all(self) -> list[Outcome]:
        """A full load of data and status, as after a restart (one after the other, unless defective)."""
        if not self._has("parallel-pushes"):
            return [self.push_evse_data("fullLoad"), self.push_evse_status("fullLoad")]
        results: list[Outcome] = []
        threads = [
            threading.Thread(target=lambda f=f: results.append(f("fullLoad")))
            for f in (self.push_evse_data, self.push_evse_status)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    # --- sessions -----------------------------------------------------------------------------------

    def authorize_start(self, identification: dict[str, Any], evse_id: str) -> tuple[Outcome, Session | None]:
        body = {
            "OperatorID": self.config.operator_id,
            "EvseID": evse_id,
            "Identification": identification,
            "CPOPartnerSessionID": f"ref-{uuid.uuid4().hex[:12]}",
        }
        return self._send_authorize_start(body)

    def _send_authorize_start(self, body: dict[str, Any]) -> tuple[Outcome, Session | None]:
        """Ask the hub; an authorisation with a SessionID becomes a running session of this CPO."""
        if self._has("authorize-start-without-identification"):
            body = {k: v for k, v in body.items() if k != "Identification"}
        if self._has("qr-hashed-pin"):
            body = _hashed_pin(body)
        operator = self._operator_path(_required(body, "OperatorID", "eRoamingAuthorizeStart"))
        evse_id = body.get("EvseID") if isinstance(body.get("EvseID"), str) else ""  # optional in OICP 2.3
        outcome = self.hub.post(f"/charging/v21/operators/{operator}/authorize/start", body)
        if not outcome.accepted or not outcome.body.get("SessionID"):
            refused = isinstance(outcome.body, dict) and outcome.body.get("AuthorizationStatus") == "NotAuthorized"
            if refused and self._has("charge-after-not-authorized"):
                self._charge_anyway(body, evse_id)
            return outcome, None
        partner = body.get("CPOPartnerSessionID")
        session = Session(
            outcome.body["SessionID"],
            evse_id,
            body.get("Identification") or {},
            outcome.body.get("ProviderID"),
            **({"cpo_partner_session_id": partner} if isinstance(partner, str) else {}),
        )
        with self.world.lock:
            self.world.add_session(session)
            if evse_id in self.world.evses:
                self.world.evses[evse_id].status = "Occupied"
        return outcome, session

    def _charge_anyway(self, body: dict[str, Any], evse_id: str) -> None:
        """The defect: a refused customer charges all the same, under a SessionID of the CPO's own, and the
        attempt is billed with a CDR at once."""
        session = Session(str(uuid.uuid4()), evse_id, body.get("Identification") or {}, None)
        with self.world.lock:
            self.world.add_session(session)
            session.ended = datetime.now(UTC)
            session.cdr = self._plant_cdr(self.world.cdr(session))
            self.world.cdr_log.append(session.cdr)
        self._send_cdr(session.cdr, session)

    def end_reservation(self, session_id: str) -> Outcome:
        """A cancelled reservation is billed like a session: its CDR goes to the hub (OICP 2.3 CPO 2: "After the
        eRoamingAuthorizeRemoteReservationStop the CPO MUST provide a CDR.")."""
        with self.world.lock:
            reservation = self.world.reservations[session_id]
            reservation.stopped = reservation.stopped or datetime.now(UTC)
            cdr = self._plant_cdr(self.world.reservation_cdr(reservation))
            self.world.cdr_log.append(cdr)
        return self._send_cdr(cdr, None)

    def authorize_stop(self, session_id: str) -> Outcome:
        session = self.world.sessions[session_id]
        body = {
            "SessionID": session_id,
            "OperatorID": self.config.operator_id,
            "EvseID": session.evse_id,
            "Identification": session.identification,
            "CPOPartnerSessionID": session.cpo_partner_session_id,
        }
        return self._send_authorize_stop(body)

    def _send_authorize_stop(self, body: dict[str, Any]) -> Outcome:
        if self._has("stop-with-other-identification"):
            body = {**body, "Identification": {"RFIDMifareFamilyIdentification": {"UID": "0000FFFF"}}}
        operator = self._operator_path(_required(body, "OperatorID", "eRoamingAuthorizeStop"))
        if self._has("authorize-stop-without-operator-id"):  # routed by it, then left out of the message
            body = {k: v for k, v in body.items() if k != "OperatorID"}
        version = "v20" if self._has("old-authorize-stop-version") else "v21"
        return self.hub.post(f"/charging/{version}/operators/{operator}/authorize/stop", body)

    def end_session(self, session_id: str) -> Outcome:
        """Stop charging and send the CDR (built once; the same CDR on every retry)."""
        with self.world.lock:
            session = self.world.sessions[session_id]
            session.ended = session.ended or datetime.now(UTC)
            if session.cdr is None:
                session.cdr = self._plant_cdr(self.world.cdr(session))
                self.world.cdr_log.append(session.cdr)
            if session.evse_id in self.world.evses:
                self.world.evses[session.evse_id].status = "Available"
        return self._send_cdr(session.cdr, session)

    def _forward_cdr(self, cdr: dict[str, Any]) -> Outcome:
        """A CDR made elsewhere: it ends the session it names, and goes into the books once."""
        session_id = _required(cdr, "SessionID", "eRoamingChargeDetailRecord")
        cdr = self._plant_cdr(copy.deepcopy(cdr))
        with self.world.lock:
            session = self.world.sessions.get(session_id)
            if session is not None:
                session.ended = session.ended or datetime.now(UTC)
                if session.evse_id in self.world.evses:
                    self.world.evses[session.evse_id].status = "Available"
            if session_id not in self._cdr_logged:
                self._cdr_logged.add(session_id)
                self.world.cdr_log.append(cdr)
                if session is not None:
                    session.cdr = cdr
        return self._send_cdr(cdr, session)

    def _plant_cdr(self, cdr: dict[str, Any]) -> dict[str, Any]:
        if self._has("cdr-timestamp-without-offset"):
            for key in _CDR_TIMES:
                if isinstance(cdr.get(key), str):
                    cdr[key] = _OFFSET.sub("", cdr[key])
        if self._has("own-session-id-in-cdr"):
            cdr["SessionID"] = str(uuid.uuid4())
        if self._has("drop-partner-session-id"):
            cdr.pop("CPOPartnerSessionID", None)
        if self._has("cdr-evse-not-the-sessions"):  # a connector mix-up: the neighbouring EVSE of the same CPO
            others = [e for e in self.config.evse_ids if e != cdr.get("EvseID")]
            cdr["EvseID"] = others[0]
        if self._has("cdr-utc-timestamps"):  # the billing database's UTC times, sent as they are stored
            for key in _CDR_TIMES:
                if isinstance(cdr.get(key), str) and _OFFSET.search(cdr[key]):
                    moment = datetime.fromisoformat(cdr[key].replace("Z", "+00:00"))
                    cdr[key] = moment.astimezone(UTC).isoformat(timespec="seconds")
        if self._has("metering-signature-in-cdr"):  # left over from the OICP 2.2 CDR
            cdr["MeteringSignature"] = f"https://meter.example/ref/{cdr.get('SessionID')}.xml"
        ident = cdr.get("Identification")
        if self._has("remote-cdr-rfid") and isinstance(ident, dict) and "RemoteIdentification" in ident:
            # billing identifies every customer by the RFID card it keeps on file for the contract
            cdr["Identification"] = {"RFIDMifareFamilyIdentification": {"UID": "04A1B2C3D4E5F6"}}
        return cdr

    def _send_cdr(self, cdr: dict[str, Any], session: Session | None) -> Outcome:
        operator = cdr.get("HubOperatorID") if isinstance(cdr.get("HubOperatorID"), str) else None
        path = f"/cdrmgmt/v22/operators/{self._operator_path(operator)}/charge-detail-record"
        if self._has("new-cdr-after-lost-ack"):
            outcome = self.hub.post(path, cdr, budget=1)
            if outcome.status == 0:  # no answer: "re-create" the CDR, changing it (the defect)
                changed = _changed(cdr)
                with self.world.lock:
                    self.world.cdr_log.append(changed)
                    if session is not None:
                        session.cdr = changed
                outcome = self.hub.post(path, changed)
            return outcome
        if self._has("double-booked-cdr"):
            outcome = self.hub.post(path, cdr, budget=1)
            if outcome.status == 0:  # no answer: books the same CDR a second time before sending it again (the defect)
                with self.world.lock:
                    self.world.cdr_log.append(cdr)
                outcome = self.hub.post(path, cdr)
            return outcome
        outcome = self.hub.post(path, cdr)
        if self._has("duplicate-cdr"):
            self.hub.post(path, cdr)
        return outcome

    def notify(self, session_id: str, kind: str) -> Outcome:
        """One charging notification of a running session, with the members its type's message table lists."""
        session = self.world.sessions[session_id]
        started = session.started.astimezone(BERLIN).replace(microsecond=0)
        now = max(datetime.now(BERLIN).replace(microsecond=0), started)
        energy = round((now - started).total_seconds() / 3600 * 11, 3)  # an 11 kW charge so far
        body: dict[str, Any] = {
            "Type": kind,
            "SessionID": session_id,
            "EvseID": session.evse_id,
            "OperatorID": self.config.operator_id,
            "CPOPartnerSessionID": session.cpo_partner_session_id,
        }
        start = started.isoformat()
        if kind == "Start":
            body.update(ChargingStart=start, MeterValueStart=session.meter_start)
        elif kind == "Progress":  # "Charging Duration = EventOccurred - ChargingStart. It is a time in millisecond."
            duration = int((now - started).total_seconds() * 1000)
            body.update(ChargingStart=start, EventOccurred=now.isoformat(), ChargingDuration=duration)
            body.update(ConsumedEnergyProgress=energy, MeterValueStart=session.meter_start)
        elif kind == "End":
            body.update(ChargingStart=start, ChargingEnd=now.isoformat(), ConsumedEnergy=energy)
            body.update(MeterValueStart=session.meter_start, MeterValueEnd=round(session.meter_start + energy, 3))
        else:
            body.update(ErrorType="ConnectorError", ErrorAdditionalInfo="plug not locked")
        return self._send_notification(body)

    def _send_notification(self, body: dict[str, Any]) -> Outcome:
        if self._has("notification-other-session-id"):
            body = {**body, "SessionID": str(uuid.uuid4())}
        body = self._plant_notification(body)
        return self.hub.post("/notificationmgmt/v11/charging-notifications", body)

    def _plant_notification(self, body: dict[str, Any]) -> dict[str, Any]:
        """The notification defects (issue 12), on built and forwarded notifications alike."""
        kind = body.get("Type")
        if kind == "Progress" and self._has("progress-notification-incomplete"):
            body = {k: v for k, v in body.items() if k != "EventOccurred"}
        if kind == "Progress" and self._has("progress-without-measurement"):
            body = {k: v for k, v in body.items() if k not in ("ChargingDuration", "ConsumedEnergyProgress")}
        if kind in ("Progress", "End") and self._has("notification-other-evse"):
            others = [e for e in self.config.evse_ids if e != body.get("EvseID")]
            body = {**body, "EvseID": others[0]}
        return body

    # --- dynamic pricing ------------------------------------------------------------------------------

    def push_pricing(self, action: str) -> Outcome:
        """PushPricingProductData: this CPO's tariffs (see pricing.py), for every EMP."""
        data = pricing_product_data(self.config.operator_id, self.config.operator_name)
        return self._send_pricing_products({"ActionType": action, "PricingProductData": data})

    def _send_pricing_products(self, body: dict[str, Any]) -> Outcome:
        body = copy.deepcopy(body)
        data = _table(body, "PricingProductData")
        records = data.get("PricingProductDataRecords")
        records = [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []
        if self._has("product-without-availability"):
            for record in records:
                record.pop("ProductAvailabilityTimes", None)
        if self._has("duplicate-pricing-product") and records:  # a weekend tariff filed under the same name
            data["PricingProductDataRecords"].append({**copy.deepcopy(records[0]), "PricePerReferenceUnit": 0.49})
        if self._has("pricing-unit-abbreviated"):
            for table in (*records, *(a for r in records for a in r.get("AdditionalReferences") or [])):
                for key in ("ReferenceUnit", "AdditionalReferenceUnit"):
                    if isinstance(table, dict) and table.get(key) in _ABBREVIATED:
                        table[key] = _ABBREVIATED[table[key]]
            unit = data.get("PricingDefaultReferenceUnit")
            data["PricingDefaultReferenceUnit"] = _ABBREVIATED.get(unit, "kWh") if isinstance(unit, str) else "kWh"
        operator = self._operator_path(_required(data, "OperatorID", "PricingProductData"))
        path = f"/dynamicpricing/v10/operators/{operator}/pricing-products"
        return self.hub.post(path, body, push="pricing-products")

    def push_evse_pricing(self, action: str, evse_ids: list[str] | None = None) -> Outcome:
        """PushEVSEPricing: which of its products apply at which of its EVSEs (all, or the ones named)."""
        with self.world.lock:
            evses = [e.evse_id for e in self._evses(evse_ids)]
        return self._send_evse_pricing({"ActionType": action, "EVSEPricing": evse_pricing(evses)})

    def _send_evse_pricing(self, body: dict[str, Any]) -> Outcome:
        body = copy.deepcopy(body)
        records = body.get("EVSEPricing")
        if not isinstance(records, list):
            raise BadMessage("the message has no EVSEPricing list")
        records = [r for r in records if isinstance(r, dict)]
        if self._has("evse-pricing-foreign-evse") and records:
            records[0]["EvseID"] = "FR*XYZ*E9999*1"
        if self._has("evse-pricing-product-list-as-text"):
            for record in records:
                if isinstance(record.get("EvseIDProductList"), list):
                    record["EvseIDProductList"] = ",".join(map(str, record["EvseIDProductList"]))
        # The message names no operator: the partner talking to Hubject is this CPO (CPO 1, Hub Operator).
        path = f"/dynamicpricing/v10/operators/{self._operator_path()}/evse-pricing"
        return self.hub.post(path, body, push="evse-pricing")

    # --- forward mode ---------------------------------------------------------------------------------

    def forward(self, action: str, message: Any) -> tuple[Outcome, Session | None]:
        """Send a message made elsewhere on the operation path of `action`; OperatorID comes from the message."""
        if not isinstance(message, dict):
            raise BadMessage(f"the {action} trigger's body must be a {FORWARDED[action]} message (a JSON object)")
        self._forward_defects(action, message)
        if action == "authorize-start":
            return self._send_authorize_start(message)
        send = {
            "push-evse-data": self._send_evse_data,
            "push-evse-status": self._send_evse_status,
            "authorize-stop": self._send_authorize_stop,
            "end-session": self._forward_cdr,
            "notify": self._send_notification,
            "push-pricing": self._send_pricing_products,
            "push-evse-pricing": self._send_evse_pricing,
        }[action]
        return send(message), None

    def _forward_defects(self, action: str, message: dict[str, Any]) -> None:
        """The planted `variant-forward-*` defects: a mapping that breaks on one optional member's presence or
        absence, before anything is sent."""
        if action == "push-evse-data" and self._has("variant-forward-location-reference"):
            records = (message.get("OperatorEvseData") or {}).get("EvseDataRecord") or []
            if any(isinstance(r, dict) and "ChargingStationLocationReference" in r for r in records):
                raise ForwardFailed("ChargingStationLocationReference: no column for it in the station table")
        needs_meter = self._has("variant-forward-cdr-needs-meter-values")
        if needs_meter and action == "end-session" and "MeterValueStart" not in message:
            raise ForwardFailed("MeterValueStart missing: the billing needs the meter reading")


def _hashed_pin(body: dict[str, Any]) -> dict[str, Any]:
    """The defect: a QR code's PIN sent as its hash (as the CPO keeps it) instead of in clear text."""
    ident = body.get("Identification")
    qr = ident.get("QRCodeIdentification") if isinstance(ident, dict) else None
    if not isinstance(qr, dict) or not isinstance(qr.get("PIN"), str):
        return body
    digest = hashlib.sha256(qr["PIN"].encode()).hexdigest()
    hashed = {k: v for k, v in qr.items() if k != "PIN"} | {"HashedPIN": {"Value": digest, "Function": "Bcrypt"}}
    return {**body, "Identification": {**ident, "QRCodeIdentification": hashed}}


def _table(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if not isinstance(value, dict):
        raise BadMessage(f"the message has no {key} object")
    return value


def _required(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise BadMessage(f"{where} has no {key}: the CPO cannot route it")
    return value


def _changed(cdr: dict[str, Any]) -> dict[str, Any]:
    """The CDR as a careless re-creation would make it: half a kWh more."""
    changed = copy.deepcopy(cdr)
    energy = changed.get("ConsumedEnergy")
    changed["ConsumedEnergy"] = round((energy if isinstance(energy, int | float) else 0.0) + 0.5, 3)
    if isinstance(changed.get("MeterValueStart"), int | float):
        changed["MeterValueEnd"] = round(changed["MeterValueStart"] + changed["ConsumedEnergy"], 3)
    return changed
