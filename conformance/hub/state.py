"""What a hub remembers: partners, sessions, CDRs, EVSE data and status, authentication data, prices."""

from __future__ import annotations

import copy
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from conformance.oicp.ids import belongs_to, operator_key, provider_key


@dataclass
class Session:
    """A charging process the hub issued (AuthorizeStart) or brokered (RemoteStart)."""

    session_id: str
    operator_id: str | None
    provider_id: str | None
    evse_id: str | None
    identification: dict[str, Any] | None
    origin: str  # "authorize" | "remote" | "reservation"
    stopped: bool = False
    cdr: dict[str, Any] | None = None
    offline: bool = False  # authorised by the hub from pushed authentication data: stop only with the same medium
    cdr_forwarded: bool = False  # the EMP acknowledged the forwarded CDR (GetChargeDetailRecords' CDRForwarded)


@dataclass
class Partners:
    """The partners the hub knows. Empty `operators`: every CPO that calls is registered on first call."""

    operators: set[str] = field(default_factory=set)
    providers: set[str] = field(default_factory=lambda: {"DE-DCB"})
    offline_providers: set[str] = field(default_factory=set)
    # Hub operator -> the sub-operators whose EVSEs it may push (CPO chapter 1: sub partner IDs are
    # "only provided implicitly through EVCO- or EVSEIDs").
    sub_operators: dict[str, set[str]] = field(default_factory=dict)

    def owns(self, operator_id: str, evse_id: str) -> bool:
        """Whether the EVSE is the operator's or one of its declared sub-operators'."""
        subs = self.sub_operators.get(operator_key(operator_id) or "", set())
        return belongs_to(evse_id, operator_id) or any(belongs_to(evse_id, sub) for sub in subs)

    def knows_operator(self, operator_id: str) -> bool:
        return operator_key(operator_id) in {operator_key(o) for o in self.operators}

    def knows_provider(self, provider_id: str) -> bool:
        return provider_key(provider_id) in {provider_key(p) for p in self.providers | self.offline_providers}


class HubState:
    """All mutable hub state behind one lock (the server may be threaded)."""

    def __init__(self, partners: Partners | None = None) -> None:
        self.lock = threading.RLock()
        self.partners = partners or Partners()
        self._declared = copy.deepcopy(self.partners)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.partners = copy.deepcopy(self._declared)
            self.sessions: dict[str, Session] = {}
            self.evse_data: dict[str, dict[str, dict[str, Any]]] = {}  # operator key -> EvseID -> record
            self.evse_changed: dict[str, float] = {}  # EvseID -> when its data last changed (epoch seconds)
            self.operator_names: dict[str, tuple[str, str]] = {}  # operator key -> (OperatorID, OperatorName)
            self.evse_status: dict[str, dict[str, str]] = {}  # operator key -> EvseID -> status
            self.auth_data: dict[str, list[dict[str, Any]]] = {}  # ProviderID -> identifications
            self.pricing_products: dict[str, dict[str, Any]] = {}  # operator key -> PricingProductData
            self.evse_pricing: dict[str, list[dict[str, Any]]] = {}  # operator key -> EVSEPricing list
            self.cdrs: list[tuple[str, dict[str, Any]]] = []  # (ProviderID, CDR) for GetChargeDetailRecords
            self.denied: set[str] = set()  # identification fingerprints the hub refuses
            self.in_flight: dict[str, int] = {}  # operator key -> pushes being processed

    def new_session(self, **kwargs: Any) -> Session:
        with self.lock:
            session = Session(session_id=kwargs.pop("session_id", None) or str(uuid.uuid4()), **kwargs)
            self.sessions[session.session_id] = session
            return session

    def offline_provider_for(self, identification: dict[str, Any]) -> str | None:
        """The provider whose pushed authentication data contains this identification."""
        with self.lock:
            for provider, records in self.auth_data.items():
                if any(fingerprint(r) == fingerprint(identification) for r in records):
                    return provider
        return None


def fingerprint(identification: dict[str, Any] | None) -> str:
    """What identifies a customer, ignoring PIN/hash and extras: the kind and its UID or EvcoID.

    An RFID card is one card whichever option carries its UID: an EMP pushes it as RFIDIdentification (with
    its RFIDType), a CPO reads it as RFIDMifareFamilyIdentification (AuthorizeStart allows no other)."""
    if not identification:
        return ""
    kind, value = next(iter(identification.items()))
    if not isinstance(value, dict):
        return kind
    if kind in ("RFIDMifareFamilyIdentification", "RFIDIdentification"):
        kind = "RFID"
    return f"{kind}:{value.get('UID') or value.get('EvcoID') or ''}".upper()
