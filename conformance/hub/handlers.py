"""What the hub does per operation: the business rules of a real Hubject, on the fake hub's state.

Each handler gets a `Context` and returns the answer body, or raises `Refused` with a StatusCode;
the hub turns a refusal into the operation's own negative answer. In end-to-end mode (`Context.forward`)
the handlers of forwarded operations ask the partner and pass its answer on, as Hubject does.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.catalog import Operation
from conformance.hub import answers
from conformance.hub.state import HubState, Session, fingerprint
from conformance.oicp import codes
from conformance.oicp.ids import operator_key, operator_of, provider_key, provider_of_evco
from conformance.oicp.time import parse
from conformance.validation import validate

if TYPE_CHECKING:
    from conformance.hub.forwarding import Forwarder
    from conformance.hub.journal import Call
    from conformance.hub.partners import Exchange, PartnerClient


class Refused(Exception):
    """The hub declines the request with this StatusCode (HTTP 200, negative answer)."""

    def __init__(self, code: str, info: str):
        super().__init__(info)
        self.code, self.info = code, info


@dataclass
class Context:
    op: Operation
    release: str
    body: dict[str, Any]
    params: dict[str, str]
    query: dict[str, str]
    state: HubState
    call: Call
    forward: Forwarder | None = None  # end-to-end mode: the partners the hub forwards to
    record: Callable[[Call], None] | None = None  # journals a call the hub made while handling this one


Handler = Callable[[Context], Any]
HANDLERS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = fn
        return fn

    return register


def _ident(body: dict[str, Any]) -> dict[str, Any] | None:
    ident = body.get("Identification")
    return ident if isinstance(ident, dict) and ident else None


def _evco(ident: dict[str, Any] | None) -> str | None:
    if not ident:
        return None
    value = next(iter(ident.values()))
    return value.get("EvcoID") if isinstance(value, dict) else None


def _session(x: Context) -> Any:
    sid = x.body.get("SessionID")
    session = x.state.sessions.get(sid) if isinstance(sid, str) else None
    if session is None:
        raise Refused(codes.SESSION_INVALID, f"no session {sid!r} is known to the hub")
    # how the session began, for the checks of the messages that follow it (a remote session's identification)
    x.call.session_origin, x.call.session_identification = session.origin, session.identification
    return session


def _ack(x: Context, session_id: str | None = None) -> dict[str, Any]:
    return answers.acknowledgement(True, codes.SUCCESS, session_id=session_id, body=x.body)


# --- CPO -> hub ---------------------------------------------------------------------------------


@handles("AuthorizeStart")
def authorize_start(x: Context) -> Any:
    ident = _ident(x.body)
    if fingerprint(ident) in x.state.denied:
        raise Refused(
            codes.RFID_INVALID_UID if "RFID" in fingerprint(ident) else codes.NO_POSITIVE_AUTHENTICATION,
            "identification refused by the hub's authorisation policy",
        )
    provider = x.state.offline_provider_for(ident or {})
    offline = provider is not None
    if provider is None and x.forward is not None:
        evco = _evco(ident)
        if (emp := x.forward.emp_for_identification(provider_of_evco(evco) if evco else None)) is not None:
            return _forward_authorize_start(x, emp)
    if provider is None and (evco := _evco(ident)):
        wanted = provider_of_evco(evco)
        provider = next((p for p in sorted(x.state.partners.providers) if provider_key(p) == wanted), None)
        if provider is None:
            raise Refused(codes.PARTNER_NOT_FOUND, f"no EMP known for EvcoID {evco}")
    if provider is None:  # RFID: broadcast to the online EMPs under contract
        provider = next(iter(sorted(x.state.partners.providers)), None)
        if provider is None:
            raise Refused(codes.NO_POSITIVE_AUTHENTICATION, "no EMP authorised this identification")
    session = x.state.new_session(
        operator_id=x.body.get("OperatorID"),
        provider_id=provider,
        evse_id=x.body.get("EvseID"),
        identification=ident,
        origin="authorize",
        offline=offline,
    )
    return answers.authorization(
        True,
        codes.SUCCESS,
        session_id=session.session_id,
        provider_id=provider,
        body=x.body,
        stop_identifications=[ident] if ident else None,
    )


@handles("AuthorizeStop")
def authorize_stop(x: Context) -> Any:
    session = _session(x)
    if (emp := _session_emp(x, session)) is not None:  # the EMP decides, not the medium
        if session.stopped:
            raise Refused(codes.SESSION_INVALID, f"session {session.session_id} was already stopped")
        return _forward_authorize_stop(x, emp, session)
    if fingerprint(_ident(x.body)) != fingerprint(session.identification):
        raise Refused(codes.SESSION_INVALID, "the stop's identification differs from the one that started the session")
    if session.stopped:
        raise Refused(codes.SESSION_INVALID, f"session {session.session_id} was already stopped")
    session.stopped = True
    return answers.authorization(
        True, codes.SUCCESS, session_id=session.session_id, provider_id=session.provider_id, body=x.body
    )


@handles("ChargeDetailRecord")
def charge_detail_record(x: Context) -> Any:
    session = _session(x)
    if session.cdr is not None:
        raise Refused(codes.DATA_ERROR, f"a CDR for session {session.session_id} was already received")
    if session.evse_id and x.body.get("EvseID") != session.evse_id:
        raise Refused(
            codes.INCONSISTENT_EVSE_ID, f"CDR EvseID {x.body.get('EvseID')} but the session ran at {session.evse_id}"
        )
    session.cdr = x.body
    x.state.cdrs.append((session.provider_id or "", x.body))
    if (emp := _session_emp(x, session)) is not None:
        return _forward_cdr(x, emp, session)
    return _ack(x, session.session_id)


@handles("ChargingNotification")
def charging_notification(x: Context) -> Any:
    session = _session(x)
    if (emp := _session_emp(x, session)) is not None:
        # "Hubject will forward Start, Progress, End and Error notification requests to the EMP. The EMP
        # responds with an eRoamingAcknowledgement. This acknowledgement is then being forwarded to the CPO."
        sent = _send(x, emp, "ChargingNotification.emp", x.body, {})
        return _relay_ack(x, sent, "EMP", session.session_id)
    return _ack(x, session.session_id)


def _apply(store: dict[str, Any], action: str, items: dict[str, Any], noun: str = "EVSEs") -> None:
    """fullLoad replaces, update upserts, insert refuses existing keys, delete refuses unknown ones."""
    if action == "insert" and (dup := sorted(map(str, set(items) & set(store)))):
        raise Refused(codes.DATA_ERROR, f"insert of {noun} that already exist: {', '.join(dup[:20])}")
    if action == "delete" and (unknown := sorted(map(str, set(items) - set(store)))):
        raise Refused(codes.DATA_ERROR, f"delete of unknown {noun}: {', '.join(unknown[:20])}")
    if action == "fullLoad":
        store.clear()
    if action == "delete":
        for key in items:
            store.pop(key, None)
    else:
        store.update(items)


def _owned(x: Context, operator_id: str, evse_ids: list[str]) -> None:
    foreign = [e for e in evse_ids if not x.state.partners.owns(operator_id, e)]
    if foreign:
        raise Refused(codes.INCONSISTENT_EVSE_ID, f"EVSEs not of operator {operator_id}: {', '.join(foreign[:20])}")


@handles("PushEvseData")
def push_evse_data(x: Context) -> Any:
    data = x.body["OperatorEvseData"]
    records = {r["EvseID"]: r for r in data.get("EvseDataRecord", [])}
    _owned(x, data["OperatorID"], list(records))
    key = operator_key(data["OperatorID"]) or data["OperatorID"]
    with x.state.lock:
        _apply(x.state.evse_data.setdefault(key, {}), x.body["ActionType"], records)
        x.state.evse_changed.update(dict.fromkeys(records, time.time()))
        x.state.operator_names[key] = (data["OperatorID"], data.get("OperatorName", ""))
    return _ack(x)


@handles("PushEvseStatus")
def push_evse_status(x: Context) -> Any:
    data = x.body["OperatorEvseStatus"]
    records = {r["EvseID"]: r["EvseStatus"] for r in data.get("EvseStatusRecord", [])}
    _owned(x, data["OperatorID"], list(records))
    key = operator_key(data["OperatorID"]) or data["OperatorID"]
    with x.state.lock:
        _apply(x.state.evse_status.setdefault(key, {}), x.body["ActionType"], records)
        x.state.operator_names.setdefault(key, (data["OperatorID"], data.get("OperatorName", "")))
    return _ack(x)


@handles("PushPricingProductData")
def push_pricing_products(x: Context) -> Any:
    data = x.body["PricingProductData"]
    key = operator_key(data["OperatorID"]) or data["OperatorID"]
    with x.state.lock:
        if x.body["ActionType"] == "delete":
            x.state.pricing_products.pop(key, None)
        else:
            x.state.pricing_products[key] = data
    return _ack(x)


@handles("PushEVSEPricing")
def push_evse_pricing(x: Context) -> Any:
    key = operator_key(x.params.get("operatorID", "")) or x.params.get("operatorID", "")
    _owned(x, x.params.get("operatorID", ""), [r["EvseID"] for r in x.body["EVSEPricing"]])
    with x.state.lock:
        current = {(r["EvseID"], r["ProviderID"]): r for r in x.state.evse_pricing.get(key, [])}
        items = {(r["EvseID"], r["ProviderID"]): r for r in x.body["EVSEPricing"]}
        _apply(current, x.body["ActionType"], items, "EVSE prices")
        x.state.evse_pricing[key] = list(current.values())
    return _ack(x)


@handles("PullAuthenticationData")
def pull_authentication_data(x: Context) -> Any:
    groups = [
        {"ProviderID": p, "AuthenticationDataRecord": [{"Identification": i} for i in ids]}
        for p, ids in sorted(x.state.auth_data.items())
    ]
    return {"AuthenticationData": {"ProviderAuthenticationData": groups}, "StatusCode": answers.status_code("000")}


# --- EMP -> hub ---------------------------------------------------------------------------------


def _known_operator(x: Context, evse_id: str) -> None:
    owner = operator_of(evse_id)
    known = {operator_key(o) for o in x.state.partners.operators} | set(x.state.evse_data)
    if owner not in known:
        raise Refused(codes.PARTNER_NOT_FOUND, f"no CPO known for EVSE {evse_id}")


@handles("AuthorizeRemoteStart", "AuthorizeRemoteReservationStart")
def remote_start(x: Context) -> Any:
    if x.forward is not None and (cpo := x.forward.cpo_for(x.state.partners, x.body["EvseID"])) is not None:
        return _forward_remote_start(x, cpo)
    _known_operator(x, x.body["EvseID"])
    origin = "reservation" if "Reservation" in x.op.name else "remote"
    session = x.state.new_session(
        session_id=x.body.get("SessionID"),
        operator_id=None,
        provider_id=x.body["ProviderID"],
        evse_id=x.body["EvseID"],
        identification=_ident(x.body),
        origin=origin,
    )
    return _ack(x, session.session_id)


@handles("AuthorizeRemoteStop", "AuthorizeRemoteReservationStop")
def remote_stop(x: Context) -> Any:
    session = _session(x)
    if provider_key(session.provider_id or "") != provider_key(x.body["ProviderID"]):
        raise Refused(codes.SESSION_INVALID, f"session {session.session_id} belongs to another provider")
    cpo = x.forward.cpo_for(x.state.partners, session.evse_id or x.body["EvseID"]) if x.forward else None
    if cpo is not None:
        sent = _send(x, cpo, f"{x.op.name}.cpo", x.body, {"providerID": x.body["ProviderID"]})
        answer = _relay_ack(x, sent, "CPO", session.session_id)
        session.stopped = session.stopped or answer["Result"] is True
        return answer
    session.stopped = True
    return _ack(x, session.session_id)


def _records(x: Context, operators: list[str] | None) -> list[tuple[str, str, dict[str, Any]]]:
    wanted = {operator_key(o) for o in operators} if operators else None
    with x.state.lock:
        return [
            (*x.state.operator_names.get(key, (key, "")), record)
            for key, store in sorted(x.state.evse_data.items())
            if wanted is None or key in wanted
            for record in store.values()
        ]


def _paging(x: Context, total: int) -> tuple[int, int]:
    try:
        size = max(1, min(int(x.query.get("size", 2000)), 10_000))
        number = max(0, int(x.query.get("page", 0)))
    except ValueError as exc:
        raise Refused(codes.DATA_ERROR, "page and size must be integers") from exc
    return number, size


@handles("PullEvseData")
def pull_evse_data(x: Context) -> Any:
    rows = _records(x, x.body.get("OperatorIds"))
    if isinstance(x.body.get("LastCall"), str):  # a delta pull: only what changed since the EMP's last pull
        since = parse(x.body["LastCall"]).timestamp()
        with x.state.lock:
            changed = {e for e, at in x.state.evse_changed.items() if at > since}
        rows = [row for row in rows if row[2].get("EvseID") in changed]
    if x.release == "2.2":
        grouped: dict[str, Any] = {}
        for operator_id, name, record in rows:
            grouped.setdefault(operator_id, {"OperatorID": operator_id, "OperatorName": name, "EvseDataRecord": []})
            grouped[operator_id]["EvseDataRecord"].append(record)
        return {"EvseData": {"OperatorEvseData": list(grouped.values())}, "StatusCode": answers.status_code("000")}
    content = [{**record, "OperatorID": operator_id, "OperatorName": name} for operator_id, name, record in rows]
    number, size = _paging(x, len(content))
    return answers.page(content[number * size : (number + 1) * size], number=number, size=size, total=len(content))


def _statuses(x: Context, operators: list[str] | None, wanted_status: str | None) -> dict[str, Any]:
    keys = {operator_key(o) for o in operators} if operators else None
    groups = []
    with x.state.lock:
        for key, store in sorted(x.state.evse_status.items()):
            if keys is not None and key not in keys:
                continue
            records = [
                {"EvseID": e, "EvseStatus": s} for e, s in store.items() if not wanted_status or s == wanted_status
            ]
            operator_id, name = x.state.operator_names.get(key, (key, ""))
            group = {"OperatorID": operator_id, "EvseStatusRecord": records}
            if name:
                group["OperatorName"] = name
            groups.append(group)
    return {"EvseStatuses": {"OperatorEvseStatus": groups}, "StatusCode": answers.status_code("000")}


@handles("PullEvseStatus")
def pull_evse_status(x: Context) -> Any:
    return _statuses(x, None, x.body.get("EVSEStatus") or x.body.get("EvseStatus"))


@handles("PullEvseStatusByOperatorID")
def pull_evse_status_by_operator(x: Context) -> Any:
    return _statuses(x, x.body["OperatorID"], None)


@handles("PullEvseStatusByID")
def pull_evse_status_by_id(x: Context) -> Any:
    with x.state.lock:
        known = {e: s for store in x.state.evse_status.values() for e, s in store.items()}
    records = [{"EvseID": e, "EvseStatus": known.get(e, "Unknown")} for e in x.body["EvseID"]]
    return {"EVSEStatusRecords": {"EvseStatusRecord": records}, "StatusCode": answers.status_code("000")}


@handles("GetChargeDetailRecords")
def get_charge_detail_records(x: Context) -> Any:
    start, end = parse(x.body["From"]), parse(x.body["To"])
    sessions = set(x.body.get("SessionID") or [])
    forwarded = x.body.get("CDRForwarded")
    with x.state.lock:
        found = [
            cdr
            for provider, cdr in x.state.cdrs
            if provider_key(provider) == provider_key(x.body["ProviderID"])
            and start <= parse(cdr["SessionEnd"]) <= end
            and (not sessions or cdr["SessionID"] in sessions)
            and (not isinstance(forwarded, bool) or _cdr_forwarded(x, cdr) == forwarded)
        ]
    if x.release == "2.2":
        return {"eroamingChargeDetailRecords": found}
    number, size = _paging(x, len(found))
    return answers.page(found[number * size : (number + 1) * size], number=number, size=size, total=len(found))


@handles("PushAuthenticationData")
def push_authentication_data(x: Context) -> Any:
    data = x.body["ProviderAuthenticationData"]
    provider = data["ProviderID"]
    items = {fingerprint(r["Identification"]): r["Identification"] for r in data.get("AuthenticationDataRecord", [])}
    with x.state.lock:
        current = {fingerprint(i): i for i in x.state.auth_data.get(provider, [])}
        _apply(current, x.body["ActionType"], items, "identifications")
        x.state.auth_data[provider] = list(current.values())
        x.state.partners.offline_providers.add(provider)
    return _ack(x)


@handles("PullPricingProductData")
def pull_pricing_products(x: Context) -> Any:
    keys = {operator_key(o) for o in x.body.get("OperatorIDs", [])}
    with x.state.lock:
        data = [d for k, d in sorted(x.state.pricing_products.items()) if not keys or k in keys]
    return {"PricingProductData": data, "StatusCode": answers.status_code("000")}


@handles("PullEVSEPricing")
def pull_evse_pricing(x: Context) -> Any:
    keys = {operator_key(o) for o in x.body.get("OperatorIDs", [])}
    with x.state.lock:
        groups = [
            {"OperatorID": x.state.operator_names.get(k, (k, ""))[0], "EVSEPricing": records}
            for k, records in sorted(x.state.evse_pricing.items())
            if not keys or k in keys
        ]
    return {"EVSEPricing": groups, "StatusCode": answers.status_code("000")}


def _cdr_forwarded(x: Context, cdr: dict[str, Any]) -> bool:
    session = x.state.sessions.get(cdr.get("SessionID", ""))
    return session is not None and session.cdr_forwarded


# --- end-to-end mode: forwarding to the partner and passing its answer on ---------------------------------
#
# OICP 2.3 (CPO and EMP chapter 2) on a partner that "cannot be addressed (e.g. due to technical problems)":
# - AuthorizeStart: "the corresponding provider will be dealt with as if responding NotAuthorized";
# - remote start, reservation start: "Hubject will return to the requestor a false result and a message
#   indicating the connection error" (stops: "basically works in the same way");
# - CDR: "Hubject will nevertheless return to the requestor a positive result provided that storing the CDR
#   was successful".
# The hub treats an answer it cannot pass on (no answer, not HTTP 200, not JSON, not the response message)
# the same way, with StatusCode 310 "Partner did not respond." and what happened in AdditionalInfo.


def _session_emp(x: Context, session: Session) -> PartnerClient | None:
    """The forwarded EMP when this session is its (and was not authorised offline from pushed data)."""
    if x.forward is None or session.offline:
        return None
    return x.forward.emp_of(session.provider_id)


def _send(x: Context, client: PartnerClient, operation: str, body: Any, params: dict[str, str]) -> Exchange:
    sent = client.call(operation, body, params, record=False, caused_by=x.call.seq)
    if x.record is not None and sent.call is not None:
        x.record(sent.call)
    return sent


def _partner_status(answer: dict[str, Any]) -> Any:
    """The partner's StatusCode as it gave it: members the schema does not know are not passed on."""
    status = answer.get("StatusCode")
    if not isinstance(status, dict):
        return status
    return {k: status[k] for k in ("Code", "Description", "AdditionalInfo") if k in status}


def _passed_on(x: Context, answer: dict[str, Any], partner_answer: dict[str, Any]) -> dict[str, Any] | None:
    """The answer with both sides' partner session IDs, or None when it would not conform."""
    answer.update({**answers.partner_ids(partner_answer), **answers.partner_ids(x.body)})
    return None if validate(answer, x.op.response[0], x.release) else answer


def _check_session(sent: Exchange, session_id: str | None) -> None:
    """A partner that answers for another session than the hub asked about: noted on the "out" call."""
    given = sent.body.get("SessionID") if isinstance(sent.body, dict) else None
    if session_id and isinstance(given, str) and given != session_id:
        sent.problems.append(f"answered SessionID {given}, but the hub asked about {session_id}")


def _unreachable(partner: str, sent: Exchange) -> str:
    if sent.answered:
        return f"the {partner}'s answer could not be passed on: {sent.describe()}"
    return f"the {partner} could not be addressed: {sent.describe()}"


def _relay_ack(
    x: Context, sent: Exchange, partner: str, session_id: str | None, fallback: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The partner's acknowledgement, passed on to the requester with the hub's SessionID; `fallback` (else
    Result false with the connection error) when it cannot be."""
    _check_session(sent, session_id)
    if sent.answered and isinstance(sent.body.get("Result"), bool):
        answer = {"Result": sent.body["Result"], "StatusCode": _partner_status(sent.body)}
        if session_id:
            answer["SessionID"] = session_id
        if (passed := _passed_on(x, answer, sent.body)) is not None:
            return passed
    if fallback is not None:
        return fallback
    return answers.acknowledgement(
        False, answers.PARTNER_DID_NOT_RESPOND, _unreachable(partner, sent), session_id=session_id, body=x.body
    )


def _relay_authorization(x: Context, sent: Exchange, session_id: str, provider: str) -> dict[str, Any]:
    """The EMP's authorisation passed on; anything else is "dealt with as if responding NotAuthorized"."""
    _check_session(sent, session_id)
    body = sent.body if sent.answered else {}
    status = body.get("AuthorizationStatus")
    if status in ("Authorized", "NotAuthorized"):
        authorized = status == "Authorized"
        named = body.get("ProviderID")
        if authorized and not isinstance(named, str):
            sent.problems.append("Authorized without ProviderID: 'The response MUST contain the ProviderID'")
        elif isinstance(named, str) and provider_key(named) != provider_key(provider):
            sent.problems.append(f"ProviderID {named}, but the hub asked {provider}")
        stop_ids = body.get("AuthorizationStopIdentifications")
        answer = answers.authorization(
            authorized,
            codes.SUCCESS,
            session_id=session_id if authorized else None,
            provider_id=(named if isinstance(named, str) else provider) if authorized else None,
            stop_identifications=stop_ids if authorized and isinstance(stop_ids, list) else None,
        )
        answer["StatusCode"] = _partner_status(body)
        if (passed := _passed_on(x, answer, body)) is not None:
            return passed
    info = _unreachable("EMP", sent) + " (dealt with as if responding NotAuthorized)"
    return answers.authorization(False, answers.PARTNER_DID_NOT_RESPOND, info, body=x.body)


def _forward_authorize_start(x: Context, emp: PartnerClient) -> Any:
    """Hubject issues the SessionID, forwards the request with it to the EMP and keeps it only if authorised."""
    assert x.forward is not None
    provider = x.forward.config.emp_provider
    session_id = str(uuid.uuid4())
    body = {**x.body, "SessionID": session_id}
    sent = _send(x, emp, "AuthorizeStart.emp", body, {"operatorID": x.params["operatorID"]})
    answer = _relay_authorization(x, sent, session_id, provider)
    if answer["AuthorizationStatus"] == "Authorized":
        x.state.new_session(
            session_id=session_id,
            operator_id=x.body.get("OperatorID"),
            provider_id=provider,
            evse_id=x.body.get("EvseID"),
            identification=_ident(x.body),
            origin="authorize",
        )
    return answer


def _forward_authorize_stop(x: Context, emp: PartnerClient, session: Session) -> Any:
    sent = _send(x, emp, "AuthorizeStop.emp", x.body, {"operatorID": x.params["operatorID"]})
    answer = _relay_authorization(x, sent, session.session_id, session.provider_id or "")
    if answer["AuthorizationStatus"] == "Authorized":
        session.stopped = True
    return answer


def _forward_cdr(x: Context, emp: PartnerClient, session: Session) -> Any:
    """Forwarded unchanged ("will not be changed by Hubject"); stored whatever the EMP does."""
    sent = _send(x, emp, "ChargeDetailRecord.emp", x.body, {"operatorID": x.params["operatorID"]})
    session.cdr_forwarded = sent.ok and sent.result is True
    return _relay_ack(x, sent, "EMP", session.session_id, fallback=_ack(x, session.session_id))


def _forward_remote_start(x: Context, cpo: PartnerClient) -> Any:
    """Hubject "generates a SessionID ... and forwards the request (including the SessionID) to the CPO"."""
    session_id = str(uuid.uuid4())
    body = {**x.body, "SessionID": session_id}
    sent = _send(x, cpo, f"{x.op.name}.cpo", body, {"providerID": x.body["ProviderID"]})
    answer = _relay_ack(x, sent, "CPO", session_id)
    if answer["Result"] is True:
        x.state.new_session(
            session_id=session_id,
            operator_id=None,
            provider_id=x.body["ProviderID"],
            evse_id=x.body["EvseID"],
            identification=_ident(x.body),
            origin="reservation" if "Reservation" in x.op.name else "remote",
        )
    return answer


def negative(response: str, release: str, code: str, info: str, body: Any) -> Any:
    """The refusal in the shape of the operation's answer."""
    status = answers.status_code(code, info)
    if response.startswith("eRoamingAcknowledg"):
        return answers.acknowledgement(False, code, info, body=body)
    if response in ("eRoamingAuthorizationStart", "eRoamingAuthorizationStop"):
        return answers.authorization(False, code, info, body=body)
    if response == "eRoamingChargeDetailRecords" and release == "2.2":
        return {"eroamingChargeDetailRecords": [], "StatusCode": status}
    if response in ("eRoamingEVSEData", "eRoamingChargeDetailRecords"):
        return answers.page([], code, info)
    empty = {
        "eRoamingEvseData": {"EvseData": {"OperatorEvseData": []}},
        "eRoamingEVSEStatus": {"EvseStatuses": {"OperatorEvseStatus": []}},
        "eRoamingEvseStatus": {"EvseStatuses": {"OperatorEvseStatus": []}},
        "eRoamingEVSEStatusByID": {"EVSEStatusRecords": {"EvseStatusRecord": []}},
        "eRoamingEvseStatusByID": {"EVSEStatusRecords": {"EvseStatusRecord": []}},
        "eRoamingPricingProductData": {"PricingProductData": []},
        "eRoamingEVSEPricing": {"EVSEPricing": []},
        "eRoamingAuthenticationData": {"AuthenticationData": {"ProviderAuthenticationData": []}},
    }
    return {**empty.get(response, {}), "StatusCode": status}
