"""End-to-end mode: where the fake hub forwards what it receives, as Hubject forwards between CPO and EMP.

An EMP's remote starts, stops and reservations go to the CPO that owns the EVSE; a CPO's AuthorizeStart
goes to the online EMP that owns the identification (by EvcoID, or the default EMP when there is none,
Hubject's RFID broadcast with one EMP), and its AuthorizeStop, CDRs and charging notifications to the EMP
of the session. Anything else is answered by the hub itself, as without forwarding.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from conformance.hub.journal import Journal
from conformance.hub.partners import DEFAULT_TIMEOUT, PartnerClient, RouteLike
from conformance.hub.state import Partners
from conformance.oicp.ids import provider_key


@dataclass
class Endpoint:
    """How the hub reaches one partner system: base URL, per-operation URLs, headers, timeout, TLS."""

    url: str
    routes: dict[str, str | RouteLike] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    redacted: dict[str, str] = field(default_factory=dict)  # secret header value -> how the curl shows it
    timeout: float = DEFAULT_TIMEOUT
    verify: Any = True


@dataclass
class Forwarding:
    """The partners the hub forwards to: one CPO and one online EMP (a URL or an `Endpoint` each).

    `cpo_operator`: the CPO's OperatorID; remote calls for its EVSEs (sub-operators included) go to it.
    None: every EVSE is the CPO's. `emp_provider`: the EMP's ProviderID; identifications with an EvcoID
    of this provider, and identifications without EvcoID (RFID), are authorised by it.
    """

    cpo: Endpoint | str | None = None
    emp: Endpoint | str | None = None
    cpo_operator: str | None = None
    emp_provider: str = "DE-DCB"

    def __post_init__(self) -> None:
        if isinstance(self.cpo, str):
            self.cpo = Endpoint(self.cpo)
        if isinstance(self.emp, str):
            self.emp = Endpoint(self.emp)

    def register(self, partners: Partners | None) -> Partners:
        """A copy of the hub's partner registry with these partners in it; without a registry, the forwarded
        EMP replaces the hub's simulated DE-DCB (an RFID must reach the EMP under test, not a stand-in)."""
        if partners is None:
            partners = Partners(providers=set()) if self.emp is not None else Partners()
        else:
            partners = copy.deepcopy(partners)
        if self.emp is not None:
            partners.providers.add(self.emp_provider)
        if self.cpo_operator:
            partners.operators.add(self.cpo_operator)
        return partners


def _client(endpoint: Endpoint | str | None, release: str, journal: Journal) -> PartnerClient | None:
    if endpoint is None:
        return None
    if isinstance(endpoint, str):
        endpoint = Endpoint(endpoint)
    return PartnerClient(
        endpoint.url,
        routes=endpoint.routes,
        headers=endpoint.headers,
        timeout=endpoint.timeout,
        verify=endpoint.verify,
        release=release,
        redacted=endpoint.redacted,
        journal=journal,
    )


class Forwarder:
    """Decides, per request, which partner (if any) the hub forwards it to."""

    def __init__(self, config: Forwarding, release: str, journal: Journal):
        self.config = config
        self.cpo = _client(config.cpo, release, journal)
        self.emp = _client(config.emp, release, journal)

    def cpo_for(self, partners: Partners, evse_id: str | None) -> PartnerClient | None:
        """The CPO that owns this EVSE, when it is the forwarded one."""
        if self.cpo is None:
            return None
        if self.config.cpo_operator is None:
            return self.cpo
        return self.cpo if evse_id and partners.owns(self.config.cpo_operator, evse_id) else None

    def emp_for_identification(self, evco_provider: str | None) -> PartnerClient | None:
        """The EMP that authorises an identification: by its EvcoID's provider, else (RFID) the default EMP."""
        if self.emp is None:
            return None
        if evco_provider is None or self.owns_provider(evco_provider):
            return self.emp
        return None

    def emp_of(self, provider_id: str | None) -> PartnerClient | None:
        """The EMP of a session (its provider), when it is the forwarded one."""
        return self.emp if self.emp is not None and provider_id and self.owns_provider(provider_id) else None

    def owns_provider(self, provider_id: str) -> bool:
        wanted = provider_key(provider_id) or provider_id.upper()
        return wanted == (provider_key(self.config.emp_provider) or self.config.emp_provider.upper())
