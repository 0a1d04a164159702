"""The fake Hubject: serves every hub-side OICP operation, judges and journals the SUT's calls, and calls
partners as Hubject does (`FakeHub.client`, and forwarding between a CPO and an EMP with `forward_to`)."""

from conformance.hub.faults import Fault
from conformance.hub.forwarding import Endpoint, Forwarding
from conformance.hub.hub import DEFAULT_PREFIX, FakeHub
from conformance.hub.journal import Call, Journal
from conformance.hub.partners import Exchange, PartnerClient
from conformance.hub.state import Partners

__all__ = [
    "DEFAULT_PREFIX",
    "Call",
    "Endpoint",
    "Exchange",
    "FakeHub",
    "Fault",
    "Forwarding",
    "Journal",
    "PartnerClient",
    "Partners",
]
