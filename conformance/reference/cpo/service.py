"""What the reference CPO sends to Hubject: EVSE data and status, authorisations, CDRs, notifications.

Each action builds its OICP message from the CPO's own world, then hands it to one `_send_*` step, which plants
the message defects, picks the operation path and records what the hub's answer means for the CPO's books.
In forward mode the message comes from the trigger instead and goes through the same step (`forward`), so a
forwarding backend mangles, routes, retries and books exactly like one that builds its own messages."""

from __future__ import annotations

import copy
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from conformance.reference.cpo.hubclient import HubClient, Outcome
from conformance.reference.cpo.model import BERLIN, Config, Session, World

# Every trigger that makes the CPO call the hub, and the OICP message a `forward` trigger's body must be.
FORWARDED = {
    "push-evse-data": "eRoamingPushEvseData",
    "push-evse-status": "eRoamingPushEvseStatus",
    "authorize-start": "eRoamingAuthorizeStart",
    "authorize-stop": "eRoamingAuthorizeStop",
    "end-session": "eRoamingChargeDetailRecord",
    "notify": "eRoamingChargingNotification",
}
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_CDR_TIMES = ("SessionStart", "SessionEnd", "ChargingStart", "ChargingEnd")


class BadMessage(ValueError):
    """A forwarded message the CPO cannot route (not an object, or without the IDs it needs)."""


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
        if self._has("delta-as-full-load") and body.get("ActionType") == "update":
            body["ActionType"] = "fullLoad"
        version = "v22" if self._has("old-evse-data-version") else "v23"
        operator = self._operator_path(_required(data, "OperatorID", "OperatorEvseData"))
        return self.hub.post(f"/evsepush/{version}/operators/{operator}/data-records", body, push="evse-data")

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
        operator = self._operator_path(_required(body, "OperatorID", "eRoamingAuthorizeStart"))
        evse_id = body.get("EvseID") if isinstance(body.get("EvseID"), str) else ""  # optional in OICP 2.3
        outcome = self.hub.post(f"/charging/v21/operators/{operator}/authorize/start", body)
        if not outcome.accepted or not outcome.body.get("SessionID"):
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
        return self.hub.post(f"/charging/v21/operators/{operator}/authorize/stop", body)

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
        session = self.world.sessions[session_id]
        now = datetime.now(BERLIN).isoformat(timespec="seconds")
        body: dict[str, Any] = {
            "Type": kind,
            "SessionID": session_id,
            "EvseID": session.evse_id,
            "OperatorID": self.config.operator_id,
            "CPOPartnerSessionID": session.cpo_partner_session_id,
        }
        start = session.started.astimezone(BERLIN).isoformat(timespec="seconds")
        if kind == "Start":
            body["ChargingStart"] = start
        elif kind == "Progress":
            body.update(ChargingStart=start, EventOccurred=now)
        elif kind == "End":
            body["ChargingEnd"] = now
        else:
            body["ErrorType"] = "ConnectorError"
        return self._send_notification(body)

    def _send_notification(self, body: dict[str, Any]) -> Outcome:
        if self._has("notification-other-session-id"):
            body = {**body, "SessionID": str(uuid.uuid4())}
        return self.hub.post("/notificationmgmt/v11/charging-notifications", body)

    # --- forward mode ---------------------------------------------------------------------------------

    def forward(self, action: str, message: Any) -> tuple[Outcome, Session | None]:
        """Send a message made elsewhere on the operation path of `action`; OperatorID comes from the message."""
        if not isinstance(message, dict):
            raise BadMessage(f"the {action} trigger's body must be a {FORWARDED[action]} message (a JSON object)")
        if action == "authorize-start":
            return self._send_authorize_start(message)
        send = {
            "push-evse-data": self._send_evse_data,
            "push-evse-status": self._send_evse_status,
            "authorize-stop": self._send_authorize_stop,
            "end-session": self._forward_cdr,
            "notify": self._send_notification,
        }[action]
        return send(message), None


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
