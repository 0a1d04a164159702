"""What the reference EMP answers when Hubject calls it (online mode): AuthorizeStart, AuthorizeStop,
ChargeDetailRecord and the four charging notifications."""

from __future__ import annotations

import json
import uuid
from functools import cache
from typing import Any

import jsonschema

from conformance.paths import schemas_dir
from conformance.reference.emp.model import (
    IDENTIFICATION_OPTIONS,
    Session,
    World,
    identification_key,
    norm_evco,
    norm_operator,
    norm_uid,
    now,
    stamp,
)
from conformance.reference.emp.service import cdr_problem

MAX_REQUEST_BYTES = 1024 * 1024  # an authorisation or a CDR is a few kilobytes
MESSAGES = {
    "authorize-start": ("charging/v21", "eRoamingAuthorizeStart"),
    "authorize-stop": ("charging/v21", "eRoamingAuthorizeStop"),
    "cdr": ("cdrmgmt/v22", "eRoamingChargeDetailRecord"),
    "notification": ("notificationmgmt/v11", ""),  # the schema follows the notification's Type
}
NOTIFICATION_TYPES = ("Start", "Progress", "End", "Error")
AUTHORIZATIONS = ("authorize-start", "authorize-stop")


@cache
def _validator(release: str, home: str, name: str) -> jsonschema.Draft7Validator:
    schema = json.loads((schemas_dir() / f"oicp-{release}" / home / f"{name}.json").read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def _status(code: str, info: str = "") -> dict[str, Any]:
    status: dict[str, Any] = {"Code": code}
    if info:
        status["AdditionalInfo"] = info[:1000]
    return status


def _partner_ids(body: Any, emp_partner_session_id: str | None = None) -> dict[str, Any]:
    """The partner session IDs of the request, echoed; the EMP's own EMPPartnerSessionID where it has one."""
    out: dict[str, Any] = {}
    if isinstance(body, dict) and isinstance(body.get("CPOPartnerSessionID"), str):
        out["CPOPartnerSessionID"] = body["CPOPartnerSessionID"]
    if emp_partner_session_id:
        out["EMPPartnerSessionID"] = emp_partner_session_id
    elif isinstance(body, dict) and isinstance(body.get("EMPPartnerSessionID"), str):
        out["EMPPartnerSessionID"] = body["EMPPartnerSessionID"]
    return out


def ack(result: bool, code: str, info: str = "", session_id: Any = None, **partner: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"Result": result, "StatusCode": _status(code, info)}
    if isinstance(session_id, str) and session_id:
        out["SessionID"] = session_id
    return {**out, **partner}


class Inbound:
    def __init__(self, world: World):
        self.world = world
        self.config = world.config

    def _has(self, defect: str) -> bool:
        return defect in self.config.defects

    def authorization(
        self, authorized: bool, code: str, info: str = "", session_id: Any = None, **partner: Any
    ) -> dict[str, Any]:
        """eRoamingAuthorizationStart/Stop. It always names the EMP: "The response MUST contain the ProviderID
        and the AuthorizationStatus" (EMP chapter 2, eRoamingAuthorizeStart)."""
        out: dict[str, Any] = {
            "AuthorizationStatus": "Authorized" if authorized else "NotAuthorized",
            "StatusCode": _status(code, info),
            "ProviderID": self.config.provider_id,
        }
        if isinstance(session_id, str) and session_id:
            out["SessionID"] = session_id
        return {**out, **partner}

    def _refuse(self, kind: str, code: str, info: str, body: Any = None) -> dict[str, Any]:
        session_id = body.get("SessionID") if isinstance(body, dict) else None
        if kind in AUTHORIZATIONS:
            return self.authorization(False, code, info, session_id, **_partner_ids(body))
        return ack(False, code, info, session_id, **_partner_ids(body))

    def handle(self, kind: str, operator_id: str, raw: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
        """HTTP status and answer for one inbound call: never a 5xx for anything a client sends."""
        if len(raw) > MAX_REQUEST_BYTES:
            return 413, self._refuse(kind, "022", f"request larger than {MAX_REQUEST_BYTES} bytes")
        if not content_type.lower().startswith("application/json") and not self.config.lenient_content_type:
            return 415, self._refuse(kind, "022", "content type must be application/json")
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, self._refuse(kind, "022", "body is not JSON")
        if not isinstance(body, dict):
            return 400, self._refuse(kind, "022", "body is not a JSON object")
        home, name = MESSAGES[kind]
        if kind == "notification":
            if body.get("Type") not in NOTIFICATION_TYPES:
                return 400, self._refuse(kind, "022", f"Type must be one of {', '.join(NOTIFICATION_TYPES)}", body)
            name = f"eRoamingChargingNotification{body['Type']}"
        errors = sorted(_validator(self.config.release, home, name).iter_errors(body), key=str)
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path)
            return 400, self._refuse(kind, "022", f"invalid {name} at /{where}: {errors[0].message[:200]}", body)
        try:
            return getattr(self, kind.replace("-", "_"))(body, operator_id)
        except Exception as exc:  # a bug here must not become a 5xx for the hub; the answer says what went wrong
            return 400, self._refuse(kind, "022", f"could not process the request: {type(exc).__name__}", body)

    # --- authorisation ------------------------------------------------------------------------------

    def decide(self, identification: dict[str, Any]) -> tuple[bool, str, str]:
        """Whether the EMP's own customer data authorise this identification: (authorized, code, reason)."""
        options = [o for o in IDENTIFICATION_OPTIONS if isinstance(identification.get(o), dict)]
        if len(options) != 1:
            return False, "022", "Identification must carry exactly one option (EMP chapter 3, IdentificationType)"
        option, data = options[0], identification[options[0]]
        with self.world.lock:
            if option.startswith("RFID"):  # RFIDIdentification is not meant for authorisation; its UID still is
                if norm_uid(data["UID"]) in self.world.cards or self._has("authorize-unknown-uid"):
                    return True, "000", ""
                return False, "102", "unknown RFID UID"
            contract = self.world.contracts.get(norm_evco(data["EvcoID"]))
            failed = {"QRCodeIdentification": "101", "PlugAndChargeIdentification": "105"}.get(option, "106")
            if contract is None:
                return False, failed, "unknown EvcoID"
            if contract.locked:
                return False, "200", "contract locked"
            if option == "QRCodeIdentification":
                if contract.pin is None or data.get("PIN") != contract.pin:
                    return False, "101", "wrong or missing PIN"
                if self._has("refuse-known-evco-pin"):
                    return False, "101", "wrong or missing PIN"
            if option == "PlugAndChargeIdentification" and not contract.pnc:
                return False, "105", "this contract has no Plug&Charge"
            return True, "000", ""

    def _other_operator(self, body: dict[str, Any], operator_id: str) -> bool:
        return norm_operator(str(body.get("OperatorID", ""))) != norm_operator(operator_id)

    def authorize_start(self, body: dict[str, Any], operator_id: str) -> tuple[int, dict[str, Any]]:
        session_id = body.get("SessionID")
        if self._other_operator(body, operator_id):
            info = "OperatorID in the path differs from the body"
            return 200, self.authorization(False, "017", info, session_id, **_partner_ids(body))
        authorized, code, info = self.decide(body["Identification"])
        if not authorized:
            with self.world.lock:
                self.world.refusals.append(
                    {"SessionID": session_id, "Identification": body["Identification"], "StatusCode": code}
                )
            code = "000" if self._has("refusal-with-code-000") else code
            return 200, self.authorization(False, code, info, session_id, **_partner_ids(body))
        partner = body.get("EMPPartnerSessionID")
        if isinstance(session_id, str):
            session = self.world.add_session(
                Session(
                    session_id,
                    "authorize-start",
                    body["Identification"],
                    evse_id=body.get("EvseID"),
                    operator_id=body.get("OperatorID"),
                    cpo_partner_session_id=body.get("CPOPartnerSessionID"),
                    **({"emp_partner_session_id": partner} if isinstance(partner, str) else {}),
                )
            )
            partner = session.emp_partner_session_id
        elif not isinstance(partner, str):
            partner = f"emp-{uuid.uuid4().hex[:12]}"
        said = None if self._has("authorized-without-session-id") else session_id
        return 200, self.authorization(True, "000", "", said, **_partner_ids(body, partner))

    def authorize_stop(self, body: dict[str, Any], operator_id: str) -> tuple[int, dict[str, Any]]:
        """Authorized for a session it authorised or started, with the same card or contract; "the session MUST
        only be stopped with the same medium, which was used for starting the session" (EMP chapter 2)."""
        session_id = body["SessionID"]
        if self._other_operator(body, operator_id):
            info = "OperatorID in the path differs from the body"
            return 200, self.authorization(False, "017", info, session_id, **_partner_ids(body))
        with self.world.lock:
            session = self.world.sessions.get(session_id)
            if session is None or session.origin == "cdr":
                if self._has("stop-unknown-session-authorized"):
                    return 200, self.authorization(True, "000", "", session_id, **_partner_ids(body))
                return 200, self.authorization(
                    False, "400", "no session with this SessionID was authorised here", session_id, **_partner_ids(body)
                )
            partner = _partner_ids(body, session.emp_partner_session_id)
            if identification_key(body["Identification"]) != identification_key(session.identification):
                info = "another card or contract than the one that started the session"
                return 200, self.authorization(False, "106", info, session_id, **partner)
            evse_id = body.get("EvseID")
            if isinstance(evse_id, str) and session.evse_id and evse_id != session.evse_id:
                return 200, self.authorization(False, "018", "the session runs at another EVSE", session_id, **partner)
            session.stopped = True
        return 200, self.authorization(True, "000", "", session_id, **partner)

    # --- charge detail records and notifications ----------------------------------------------------------

    def _customer(self, identification: Any) -> bool:
        key = identification_key(identification)
        if key is None:
            return False
        return key[1] in (self.world.cards if key[0] == "rfid" else self.world.contracts)

    def cdr(self, body: dict[str, Any], operator_id: str) -> tuple[int, dict[str, Any]]:
        """Checked, then booked once per SessionID; the same CDR again (a lost acknowledgement) is acknowledged
        again without a second booking."""
        session_id = body["SessionID"]
        problem = None if self._has("accept-impossible-cdr") else cdr_problem(body)
        if problem:
            self._cdr_refused(body, operator_id, problem)
            return 200, ack(False, "022", problem, session_id, **_partner_ids(body))
        with self.world.lock:
            session = self.world.sessions.get(session_id)
            if session is None and session_id not in self.world.cdrs:
                if not self._customer(body["Identification"]):
                    info = "no session with this SessionID was authorised here, and the identification is no customer"
                    self._cdr_refused(body, operator_id, info)
                    return 200, ack(False, "210", info, session_id, **_partner_ids(body))
                # authorised by Hubject from the EMP's uploaded data: the EMP learns of the session here
                session = self.world.add_session(
                    Session(
                        session_id,
                        "cdr",
                        body["Identification"],
                        evse_id=body.get("EvseID"),
                        operator_id=operator_id or None,
                        cpo_partner_session_id=body.get("CPOPartnerSessionID"),
                    )
                )
            booked = self.world.book_cdr(body, self._has("cdr-booked-twice"))
        partner = _partner_ids(body, session.emp_partner_session_id if session else None)
        if booked == "duplicate" and self._has("cdr-duplicate-5xx"):
            return 500, {"error": "duplicate key value violates unique constraint"}
        if booked == "conflict":
            info = "another CDR was booked for this SessionID (one CDR per SessionID)"
            self._cdr_refused(body, operator_id, info)
            return 200, ack(False, "022", info, session_id, **partner)
        return 200, ack(True, "000", "", session_id, **partner)

    def _cdr_refused(self, cdr: dict[str, Any], operator_id: str, reason: str) -> None:
        with self.world.lock:
            self.world.cdr_refusals.append({"source": "hub", "OperatorID": operator_id, "reason": reason, "cdr": cdr})

    def notification(self, body: dict[str, Any], operator_id: str) -> tuple[int, dict[str, Any]]:
        """Recorded, whatever session it names: notifications inform, they decide nothing."""
        with self.world.lock:
            self.world.notifications.append({"received": stamp(now()), **body})
            session = self.world.sessions.get(body["SessionID"])
            partner = _partner_ids(body, session.emp_partner_session_id if session else None)
        return 200, ack(True, "000", "", body["SessionID"], **partner)
