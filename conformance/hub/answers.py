"""The hub's answers in OICP's shapes: acknowledgements, authorisations, pages, and Hubject fault bodies."""

from __future__ import annotations

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
