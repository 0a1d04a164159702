"""What the reference CPO sends to Hubject: EVSE data and status, authorisations, CDRs, notifications."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from conformance.reference.cpo.hubclient import HubClient, Outcome
from conformance.reference.cpo.model import BERLIN, Config, Session, World


class CpoService:
    def __init__(self, config: Config, world: World):
        self.config = config
        self.world = world
        self.hub = HubClient(config)

    def _has(self, defect: str) -> bool:
        return defect in self.config.defects

    def _operator_path(self) -> str:
        return "DE*XXX" if self._has("wrong-operator-in-path") else self.config.operator_id

    # --- EVSE data and status -----------------------------------------------------------------------

    def push_evse_data(self, action: str, evse_ids: list[str] | None = None) -> Outcome:
        with self.world.lock:
            evses = [self.world.evses[e] for e in (evse_ids or list(self.world.evses)) if e in self.world.evses]
            records = [self.world.evse_record(e) for e in evses]
        if self._has("foreign-evse-id") and records:
            records[0] = {**records[0], "EvseID": "FR*XYZ*E9999*1"}
        if self._has("delta-as-full-load") and action == "update":
            action = "fullLoad"
        version = "v22" if self._has("old-evse-data-version") else "v23"
        body = {
            "ActionType": action,
            "OperatorEvseData": {
                "OperatorID": self.config.operator_id,
                "OperatorName": self.config.operator_name,
                "EvseDataRecord": records,
            },
        }
        return self.hub.post(f"/evsepush/{version}/operators/{self._operator_path()}/data-records", body, push=True)

    def push_evse_status(self, action: str, evse_ids: list[str] | None = None) -> Outcome:
        with self.world.lock:
            evses = [self.world.evses[e] for e in (evse_ids or list(self.world.evses)) if e in self.world.evses]
            records = [{"EvseID": e.evse_id, "EvseStatus": e.status} for e in evses]
        body = {
            "ActionType": action,
            "OperatorEvseStatus": {
                "OperatorID": self.config.operator_id,
                "OperatorName": self.config.operator_name,
                "EvseStatusRecord": records,
            },
        }
        return self.hub.post(f"/evsepush/v21/operators/{self._operator_path()}/status-records", body, push=True)

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
        partner_id = f"ref-{uuid.uuid4().hex[:12]}"
        body = {
            "OperatorID": self.config.operator_id,
            "EvseID": evse_id,
            "Identification": identification,
            "CPOPartnerSessionID": partner_id,
        }
        outcome = self.hub.post(f"/charging/v21/operators/{self._operator_path()}/authorize/start", body)
        if not outcome.accepted or not outcome.body.get("SessionID"):
            return outcome, None
        session = Session(
            outcome.body["SessionID"],
            evse_id,
            identification,
            outcome.body.get("ProviderID"),
            cpo_partner_session_id=partner_id,
        )
        with self.world.lock:
            self.world.sessions[session.session_id] = session
            if evse_id in self.world.evses:
                self.world.evses[evse_id].status = "Occupied"
        return outcome, session

    def authorize_stop(self, session_id: str) -> Outcome:
        session = self.world.sessions[session_id]
        identification = session.identification
        if self._has("stop-with-other-identification"):
            identification = {"RFIDMifareFamilyIdentification": {"UID": "0000FFFF"}}
        body = {
            "SessionID": session_id,
            "OperatorID": self.config.operator_id,
            "EvseID": session.evse_id,
            "Identification": identification,
            "CPOPartnerSessionID": session.cpo_partner_session_id,
        }
        return self.hub.post(f"/charging/v21/operators/{self._operator_path()}/authorize/stop", body)

    def end_session(self, session_id: str) -> Outcome:
        """Stop charging and send the CDR (once; the same CDR on every retry)."""
        with self.world.lock:
            session = self.world.sessions[session_id]
            session.ended = session.ended or datetime.now(UTC)
            if session.cdr is None:
                session.cdr = self.world.cdr(session)
                self.world.cdr_log.append(session.cdr)
            if session.evse_id in self.world.evses:
                self.world.evses[session.evse_id].status = "Available"
        path = f"/cdrmgmt/v22/operators/{self._operator_path()}/charge-detail-record"
        if self._has("new-cdr-after-lost-ack"):
            return self._resend_changed(path, session)
        outcome = self.hub.post(path, session.cdr)
        if self._has("duplicate-cdr"):
            self.hub.post(path, session.cdr)
        return outcome

    def _resend_changed(self, path: str, session: Session) -> Outcome:
        outcome = self.hub.post(path, session.cdr or {}, budget=1)
        if outcome.status == 0:  # no answer: "re-create" the CDR, changing it (the defect)
            session.ended = datetime.now(UTC)
            session.cdr = self.world.cdr(session)
            session.cdr["ConsumedEnergy"] = round(session.cdr["ConsumedEnergy"] + 0.5, 3)
            session.cdr["MeterValueEnd"] = round(session.cdr["MeterValueStart"] + session.cdr["ConsumedEnergy"], 3)
            self.world.cdr_log.append(session.cdr)
            outcome = self.hub.post(path, session.cdr)
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
        return self.hub.post("/notificationmgmt/v11/charging-notifications", body)
