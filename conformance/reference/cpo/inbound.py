"""What the reference CPO answers when Hubject calls it: remote start/stop and reservations."""

from __future__ import annotations

import json
import threading
import time
import uuid
from functools import cache
from typing import Any

import jsonschema

from conformance.paths import schemas_dir
from conformance.reference.cpo.model import Reservation, Session, World
from conformance.reference.cpo.service import CpoService

MAX_REQUEST_BYTES = 1024 * 1024  # remote start/stop and reservations are a few hundred bytes

MESSAGES = {
    "remote-start": ("charging/v21", "eRoamingAuthorizeRemoteStart"),
    "remote-stop": ("charging/v21", "eRoamingAuthorizeRemoteStop"),
    "reservation-start": ("reservation/v11", "eRoamingAuthorizeRemoteReservationStart"),
    "reservation-stop": ("reservation/v11", "eRoamingAuthorizeRemoteReservationStop"),
}


@cache
def _validator(release: str, home: str, name: str) -> jsonschema.Draft7Validator:
    schema = json.loads((schemas_dir() / f"oicp-{release}" / home / f"{name}.json").read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def ack(
    result: bool,
    code: str,
    info: str = "",
    session_id: str | None = None,
    body: Any = None,
    cpo_partner_session_id: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"Result": result, "StatusCode": {"Code": code}}
    if info:
        out["StatusCode"]["AdditionalInfo"] = info[:1000]
    if session_id:
        out["SessionID"] = session_id
    if cpo_partner_session_id:
        out["CPOPartnerSessionID"] = cpo_partner_session_id
    if isinstance(body, dict) and isinstance(body.get("EMPPartnerSessionID"), str):
        out["EMPPartnerSessionID"] = body["EMPPartnerSessionID"]
    return out


class Inbound:
    def __init__(self, world: World, service: CpoService):
        self.world = world
        self.service = service
        self.config = world.config

    def _has(self, defect: str) -> bool:
        return defect in self.config.defects

    @staticmethod
    def _echo(body: dict[str, Any]) -> dict[str, Any]:
        """The request's session identifiers, which every answer about it carries back."""
        keys = ("SessionID", "CPOPartnerSessionID", "EMPPartnerSessionID")
        return {k: body[k] for k in keys if isinstance(body.get(k), str) and body[k]}

    def handle(self, kind: str, provider_id: str, raw: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
        """HTTP status and acknowledgement for one inbound call."""
        if kind == "remote-start" and self._has("remote-start-slow"):
            time.sleep(10.5)
        unlimited = self._has("accept-invalid-requests") or self._has("accept-oversized-requests")
        if len(raw) > MAX_REQUEST_BYTES and not unlimited:
            return 413, ack(False, "022", f"request larger than {MAX_REQUEST_BYTES} bytes")
        lenient = self.config.lenient_content_type or self._has("accept-invalid-requests")
        if not content_type.lower().startswith("application/json") and not lenient:
            return 415, ack(False, "022", "content type must be application/json")
        try:
            body = json.loads(raw)
        except ValueError:
            if self._has("accept-invalid-requests"):
                return 200, ack(True, "000")
            return 400, ack(False, "022", "body is not JSON")
        home, name = MESSAGES[kind]
        if not self._has("accept-invalid-requests"):
            errors = sorted(_validator(self.config.release, home, name).iter_errors(body), key=str)
            if errors:
                where = "/".join(str(p) for p in errors[0].absolute_path)
                return 400, ack(False, "022", f"invalid {name} at /{where}: {errors[0].message[:200]}")
        if not isinstance(body, dict):
            return 200, ack(True, "000")  # only reachable with accept-invalid-requests
        if body.get("ProviderID") != provider_id and not self._has("ignore-path-provider"):
            return 200, ack(False, "017", "ProviderID in the path differs from the body", body=body)
        crash = self._has("variant-remote-start-cpo-partner-session")
        if crash and kind == "remote-start" and "CPOPartnerSessionID" in body:
            return 500, {"error": "CPOPartnerSessionID: no session of ours to link"}  # the defect: a crash
        answer = getattr(self, kind.replace("-", "_"))(body)
        if self._has("ack-drops-partner-session-id"):
            answer.pop("EMPPartnerSessionID", None)
        if self._has("ack-own-session-id") and kind == "remote-start" and "SessionID" in answer:
            answer["SessionID"] = str(uuid.uuid4())  # its own process ID where Hubject's belongs
        return 200, answer

    def _evse_problem(self, evse_id: str, provider_id: str) -> dict[str, Any] | None:
        evse = self.world.evses.get(evse_id)
        if evse is None:
            if self._has("remote-start-crash-unknown-evse"):
                raise KeyError(evse_id)
            return ack(False, "000" if self._has("success-code-on-refusal") else "603", f"unknown EVSE {evse_id}")
        if evse.status == "OutOfService":
            return ack(False, "700", f"EVSE {evse_id} is out of service")
        if evse.status == "Occupied":
            return ack(False, "603" if self._has("busy-evse-wrong-code") else "602", f"EVSE {evse_id} is in use")
        if evse.status == "Reserved" and evse.reserved_for != provider_id:
            return ack(False, "601", f"EVSE {evse_id} is reserved")
        return None

    def _reused(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """With strict SessionID bookkeeping: the refusal of a SessionID this CPO has seen before.

        OICP 2.3 has no code for a reused SessionID; 400 "Session is invalid" is the closest."""
        session_id = body.get("SessionID")
        if self.config.strict_sessions and isinstance(session_id, str) and self.world.seen(session_id):
            return ack(False, "400", f"SessionID {session_id} was used before", session_id, body)
        return None

    def remote_start(self, body: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(body.get("SessionID"), str):  # optional for the EMP (erratum E-R01); Hubject fills it
            return ack(False, "022", "a RemoteStart from Hubject carries the SessionID Hubject issued", body=body)
        if "RemoteIdentification" not in body.get("Identification", {}):
            return ack(False, "022", "remote start needs RemoteIdentification", body=body)
        with self.world.lock:
            if refusal := self._reused(body):
                return refusal
            if problem := self._evse_problem(body["EvseID"], body["ProviderID"]):
                if self._has("store-refused-sessions"):
                    self.world.sessions[body["SessionID"]] = Session(
                        body["SessionID"], body["EvseID"], body["Identification"], body["ProviderID"]
                    )
                return {**problem, **self._echo(body)}
            if "PartnerProductID" in body and self._has("remote-start-crash-on-partner-product"):
                raise KeyError(body["PartnerProductID"])  # the tariff is looked up in a table nobody filled
            session = Session(
                body["SessionID"],
                body["EvseID"],
                body["Identification"],
                body["ProviderID"],
                emp_partner_session_id=body.get("EMPPartnerSessionID"),
            )
            self.world.add_session(session)
            self.world.evses[body["EvseID"]].status = "Occupied"
            self.world.evses[body["EvseID"]].reserved_for = None
            for reservation in self.world.reservations.values():  # a reservation ends when its holder charges
                if reservation.evse_id == body["EvseID"]:
                    reservation.ended = True
        said = str(uuid.uuid4()) if self._has("remote-start-other-session-id") else session.session_id
        return ack(True, "000", session_id=said, body=body, cpo_partner_session_id=session.cpo_partner_session_id)

    def remote_stop(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.world.lock:
            session = self.world.sessions.get(body["SessionID"])
            if session is None and self._has("stop-unknown-session-accepted"):
                return ack(True, "000", session_id=body["SessionID"], body=body)
            if session is None or session.ended is not None:
                return ack(False, "400", "no running session with this SessionID", body["SessionID"], body)
            if session.evse_id != body["EvseID"]:
                return ack(False, "018", "the session runs at another EVSE", body["SessionID"], body)
        threading.Thread(target=self.service.end_session, args=(session.session_id,), daemon=True).start()
        return ack(
            True, "000", session_id=session.session_id, body=body, cpo_partner_session_id=session.cpo_partner_session_id
        )

    def reservation_start(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.world.lock:
            if refusal := self._reused(body):
                return refusal
            problem = self._evse_problem(body["EvseID"], body["ProviderID"])
            if problem and not self._has("reservation-ignores-evse-state"):
                return {**problem, **self._echo(body)}
            evse = self.world.evses.get(body["EvseID"])
            if evse is not None:
                evse.status, evse.reserved_for = "Reserved", body["ProviderID"]
            if isinstance(body.get("SessionID"), str):
                self.world.reservations[body["SessionID"]] = Reservation(
                    body["SessionID"], body["EvseID"], body["ProviderID"], identification=body["Identification"]
                )
        return ack(True, "000", session_id=body.get("SessionID"), body=body)

    def reservation_stop(self, body: dict[str, Any]) -> dict[str, Any]:
        if self._has("reservation-stop-refused"):
            return ack(False, "022", "reservations cannot be cancelled", body["SessionID"], body)
        with self.world.lock:
            reservation = self.world.reservations.get(body["SessionID"])
            if reservation is None and self._has("reservation-stop-always-accepted"):
                return ack(True, "000", session_id=body["SessionID"], body=body)
            if self.config.strict_sessions and reservation is None:
                return ack(False, "400", "no reservation with this SessionID", body["SessionID"], body)
            evse = self.world.evses.get(body["EvseID"])
            if evse is None:
                return ack(False, "603", f"unknown EVSE {body['EvseID']}", body["SessionID"], body)
            if evse.status != "Reserved" or evse.reserved_for != body["ProviderID"]:
                return ack(False, "400", "no reservation of this provider at this EVSE", body["SessionID"], body)
            evse.status, evse.reserved_for = "Available", None
            if reservation is not None:
                reservation.ended = True
        if reservation is not None and not self._has("no-cdr-after-reservation-stop"):
            # "After the eRoamingAuthorizeRemoteReservationStop the CPO MUST provide a CDR." (CPO 2)
            threading.Thread(target=self.service.end_reservation, args=(reservation.session_id,), daemon=True).start()
        return ack(True, "000", session_id=body["SessionID"], body=body)
