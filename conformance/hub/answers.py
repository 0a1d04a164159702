"""The hub's answers in OICP's shapes: acknowledgements, authorisations, pages, and Hubject fault bodies."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from conformance.oicp import codes

VALIDATION_MESSAGE = "Error parsing/validating JSON."
PARTNER_DID_NOT_RESPOND = "310"  # OICP 2.3 code list, "Session codes"
_DESCRIPTIONS = {**codes.DESCRIPTIONS, PARTNER_DID_NOT_RESPOND: "Partner did not respond."}


def status_code(code: str, info: str | None = None) -> dict[str, Any]:
    out = {"Code": code, "Description": _DESCRIPTIONS.get(code, "")}
    if info:
        out["AdditionalInfo"] = info[:1000]
    return out


def partner_ids(body: Any) -> dict[str, Any]:
    """The partner session IDs of a request, echoed in its answer as the hub does."""
    if not isinstance(body, dict):
        return {}
    return {k: body[k] for k in ("CPOPartnerSessionID", "EMPPartnerSessionID") if isinstance(body.get(k), str)}


def acknowledgement(
    result: bool, code: str, info: str | None = None, session_id: str | None = None, body: Any = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"Result": result, "StatusCode": status_code(code, info)}
    if session_id:
        out["SessionID"] = session_id
    out.update(partner_ids(body))
    return out


def authorization(
    authorized: bool,
    code: str,
    info: str | None = None,
    session_id: str | None = None,
    provider_id: str | None = None,
    body: Any = None,
    stop_identifications: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AuthorizationStatus": "Authorized" if authorized else "NotAuthorized",
        "StatusCode": status_code(code, info),
    }
    if session_id:
        out["SessionID"] = session_id
    if provider_id:
        out["ProviderID"] = provider_id
    if stop_identifications:
        out["AuthorizationStopIdentifications"] = stop_identifications
    out.update(partner_ids(body))
    return out


def page(
    content: list[Any],
    code: str = codes.SUCCESS,
    info: str | None = None,
    number: int = 0,
    size: int = 2000,
    total: int | None = None,
) -> dict[str, Any]:
    """A Spring-style page as OICP 2.3's pull answers use."""
    total = len(content) if total is None else total
    pages = max(1, -(-total // size)) if size else 1
    return {
        "content": content,
        "StatusCode": status_code(code, info),
        "number": number,
        "size": size,
        "totalElements": total,
        "totalPages": pages,
        "numberOfElements": len(content),
        "first": number == 0,
        "last": number >= pages - 1,
    }


def fault_body(message: str, errors: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """Hubject's error body: `{"message", "validationErrors": [{"fieldReference", "errorMessage"}]}`."""
    return {
        "message": message,
        "validationErrors": [{"fieldReference": ref, "errorMessage": text} for ref, text in errors or []],
    }


def field_reference(pointer: str) -> str:
    """`/OperatorEvseData/EvseDataRecord/0/EvseID` -> `OperatorEvseData.EvseDataRecord[0].EvseID`."""
    out = ""
    for part in pointer.strip("/").split("/") if pointer.strip("/") else []:
        part = part.replace("~1", "/").replace("~0", "~")
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def strip_optional(answer: Any) -> Any:
    """An answer without optional members (for the `minimal` fault)."""
    if not isinstance(answer, dict):
        return answer
    keep = (
        "Result",
        "StatusCode",
        "AuthorizationStatus",
        "content",
        "number",
        "size",
        "totalElements",
        "totalPages",
        "numberOfElements",
        "first",
        "last",
        "EvseStatuses",
        "EVSEStatusRecords",
        "EvseData",
        "PricingProductData",
        "EVSEPricing",
        "eroamingChargeDetailRecords",
        "AuthenticationData",
    )
    out = {k: v for k, v in answer.items() if k in keep}
    if isinstance(out.get("StatusCode"), dict):
        out["StatusCode"] = {"Code": out["StatusCode"]["Code"]}
    return out


MAXIMAL_INFO = "Every optional member filled in by the OICP conformance suite's hub."
MAXIMAL_PARTNER_SESSION = "oicp-conformance-partner-session"


def fill_optional(answer: Any, message: str, release: str, request: Any = None) -> Any:
    """The answer with every optional member its schema defines filled with valid values (for the `maximal`
    fault): what an EMP sees when Hubject sends everything it may, which a backend must handle as well."""
    from conformance.validation import load_schema, resolve

    if not isinstance(answer, dict):
        return answer
    defined = load_schema(resolve(message, release), release).get("properties", {})
    asked = request if isinstance(request, dict) else {}
    out = copy.deepcopy(answer)
    given_sid = asked.get("SessionID")
    fillers: dict[str, Any] = {
        "SessionID": given_sid if isinstance(given_sid, str) else str(uuid.uuid4()),
        "CPOPartnerSessionID": asked.get("CPOPartnerSessionID") or MAXIMAL_PARTNER_SESSION,
        "EMPPartnerSessionID": asked.get("EMPPartnerSessionID") or MAXIMAL_PARTNER_SESSION,
        "StatusCode": {"Code": codes.SUCCESS},
    }
    if isinstance(out.get("content"), list):  # a Spring page (2.3 pulls): the members Spring adds besides
        number, size = out.get("number", 0), out.get("size", len(out["content"]))
        fillers["empty"] = not out["content"]
        fillers["pageable"] = {
            "offset": number * size,
            "pageNumber": number,
            "pageSize": size,
            "paged": True,
            "unpaged": False,
            "sort": {"empty": True, "sorted": False, "unsorted": True},
        }
    for member, value in fillers.items():
        if member in defined and member not in out:
            out[member] = value
    status = out.get("StatusCode")
    if isinstance(status, dict) and isinstance(status.get("Code"), str):
        status["Description"] = status.get("Description") or _DESCRIPTIONS.get(status["Code"]) or "Status."
        status.setdefault("AdditionalInfo", MAXIMAL_INFO)
    for groups in (_at(out, "EvseStatuses", "OperatorEvseStatus"), _at(out, "EvseData", "OperatorEvseData")):
        for group in groups:
            if isinstance(group, dict) and isinstance(group.get("OperatorID"), str) and not group.get("OperatorName"):
                group["OperatorName"] = group["OperatorID"]
    return out


def no_records(answer: Any) -> Any:
    """The answer with no records (for the `no-records` fault): every record list empty, a page the empty
    last one, the StatusCode kept. An acknowledgement holds no records and stays as it is."""
    if not isinstance(answer, dict):
        return answer
    out = copy.deepcopy(answer)
    if isinstance(out.get("content"), list):
        number = out.get("number", 0)
        out.update(content=[], numberOfElements=0, totalElements=0, totalPages=0, first=number == 0, last=True)
        if "empty" in out:
            out["empty"] = True
        return out
    for member, value in out.items():
        if member == "StatusCode":
            continue
        if isinstance(value, list):
            out[member] = []
        elif isinstance(value, dict):  # one wrapper down: EvseStatuses.OperatorEvseStatus, EvseData.OperatorEvseData
            for inner, listed in value.items():
                if isinstance(listed, list):
                    value[inner] = []
    return out


def _at(answer: dict[str, Any], wrapper: str, member: str) -> list[Any]:
    inner = answer.get(wrapper)
    found = inner.get(member) if isinstance(inner, dict) else None
    return found if isinstance(found, list) else []
