"""OICP identifiers: who owns an EvseID, how an EvcoID names its provider.

ISO form: country (2 letters) + operator (3 alphanumerics), `*` separators optional:
`DE*ABC`, `DEABC`; EVSE `DE*ABC*E123*1`. DIN form: `+49*536`, EVSE `+49*536*123*1`
(separators mandatory). Providers: `DE-DCB`, `DE*DCB`, `DEDCB`; EvcoID `DE-DCB-C12345678-X`.
"""

from __future__ import annotations

import re

_ISO_OPERATOR = re.compile(r"^([A-Za-z]{2})\*?([A-Za-z0-9]{3})$")
_DIN_OPERATOR = re.compile(r"^(\+?[0-9]{1,3})\*([0-9]{3})$")
_ISO_EVSE = re.compile(r"^([A-Za-z]{2})\*?([A-Za-z0-9]{3})\*?E[A-Za-z0-9*]{1,30}$")
_DIN_EVSE = re.compile(r"^(\+?[0-9]{1,3})\*([0-9]{3})\*[0-9*]{1,32}$")
_ISO_STATION = re.compile(r"^([A-Za-z]{2})\*?([A-Za-z0-9]{3})\*?[SP][A-Za-z0-9*]{1,30}$")
_PROVIDER = re.compile(r"^([A-Za-z]{2})[*-]?([A-Za-z0-9]{3})$")
_EVCO = re.compile(r"^([A-Za-z]{2})[*-]?([A-Za-z0-9]{3})[*-]?")


def operator_key(operator_id: str) -> str | None:
    """A spelling-independent key: `DE*ABC` and `deabc` are both `DEABC`; DIN keeps its digits."""
    if m := _ISO_OPERATOR.match(operator_id):
        return (m.group(1) + m.group(2)).upper()
    if m := _DIN_OPERATOR.match(operator_id):
        return "+" + m.group(1).lstrip("+") + "*" + m.group(2)
    return None


def operator_of(evse_id: str) -> str | None:
    """The operator key an EvseID (or ISO pool/station ID) belongs to, None if it is no such ID."""
    for pattern in (_ISO_EVSE, _ISO_STATION):
        if m := pattern.match(evse_id):
            return (m.group(1) + m.group(2)).upper()
    if m := _DIN_EVSE.match(evse_id):
        return "+" + m.group(1).lstrip("+") + "*" + m.group(2)
    return None


def belongs_to(evse_id: str, operator_id: str) -> bool:
    """Whether an EvseID (or ChargingPoolID/ChargingStationID) is one of the operator's."""
    owner = operator_of(evse_id)
    return owner is not None and owner == operator_key(operator_id)


def provider_key(provider_id: str) -> str | None:
    if m := _PROVIDER.match(provider_id):
        return (m.group(1) + m.group(2)).upper()
    return None


def provider_of_evco(evco_id: str) -> str | None:
    """The provider key an EvcoID starts with (Hubject routes authorisations by it)."""
    m = _EVCO.match(evco_id)
    return (m.group(1) + m.group(2)).upper() if m else None


def is_din(operator_id: str) -> bool:
    return bool(_DIN_OPERATOR.match(operator_id))
