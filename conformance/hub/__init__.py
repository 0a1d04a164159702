"""The fake Hubject: serves every hub-side OICP operation, judges and journals the SUT's calls."""

from conformance.hub.faults import Fault
from conformance.hub.hub import DEFAULT_PREFIX, FakeHub
from conformance.hub.journal import Call, Journal
from conformance.hub.state import Partners

__all__ = ["DEFAULT_PREFIX", "Call", "FakeHub", "Fault", "Journal", "Partners"]
