"""The project's own table of OICP legs: which party calls and which serves each operation.

The official documents state this only from one side's view and not always consistently
(see errata E-A0x); the catalogue takes these facts from here and paths/messages from the specs.
Requirement values: "mandatory", "optional" or "-" (not this role's business).
"""

from __future__ import annotations

from dataclasses import dataclass

M, OPT, N = "mandatory", "optional", "-"


@dataclass(frozen=True)
class Leg:
    """An operation as seen from the hub: `caller` sends it to the hub, which may forward it."""

    name: str
    tail: str  # the path after /<service>/<version>/, parameter names normalised
    caller: str  # "cpo" or "emp"
    caller_need: tuple[str, str, str]  # cpo, emp_online, emp_offline
    forward_to: str | None = None  # the party the hub forwards the call to ("cpo" / "emp")
    forward_need: tuple[str, str, str] = (N, N, N)


LEGS: tuple[Leg, ...] = (
    Leg("AuthorizeStart", "operators/{operatorID}/authorize/start", "cpo", (M, N, N), "emp", (N, M, N)),
    Leg("AuthorizeStop", "operators/{operatorID}/authorize/stop", "cpo", (OPT, N, N), "emp", (N, OPT, N)),
    Leg("AuthorizeRemoteStart", "providers/{providerID}/authorize-remote/start", "emp", (N, M, M), "cpo", (M, N, N)),
    Leg("AuthorizeRemoteStop", "providers/{providerID}/authorize-remote/stop", "emp", (N, M, M), "cpo", (M, N, N)),
    Leg("ChargeDetailRecord", "operators/{operatorID}/charge-detail-record", "cpo", (M, N, N), "emp", (N, M, N)),
    Leg("GetChargeDetailRecords", "providers/{providerID}/get-charge-detail-records-request", "emp", (N, OPT, M)),
    Leg("PushAuthenticationData", "providers/{providerID}/push-request", "emp", (N, OPT, M)),
    Leg("PullAuthenticationData", "operators/{operatorID}/pull-request", "cpo", (OPT, N, N)),
    Leg(
        "AuthorizeRemoteReservationStart",
        "providers/{providerID}/reservation-start-request",
        "emp",
        (N, OPT, OPT),
        "cpo",
        (OPT, N, N),
    ),
    Leg(
        "AuthorizeRemoteReservationStop",
        "providers/{providerID}/reservation-stop-request",
        "emp",
        (N, OPT, OPT),
        "cpo",
        (OPT, N, N),
    ),
    Leg("PushEvseData", "operators/{operatorID}/data-records", "cpo", (M, N, N)),
    Leg("PushEvseStatus", "operators/{operatorID}/status-records", "cpo", (M, N, N)),
    Leg("PullEvseData", "providers/{providerID}/data-records", "emp", (N, M, M)),
    Leg("PullEvseStatus", "providers/{providerID}/status-records", "emp", (N, M, M)),
    Leg("PullEvseStatusByID", "providers/{providerID}/status-records-by-id", "emp", (N, OPT, OPT)),
    Leg("PullEvseStatusByOperatorID", "providers/{providerID}/status-records-by-operator-id", "emp", (N, OPT, OPT)),
    Leg("PushPricingProductData", "operators/{operatorID}/pricing-products", "cpo", (OPT, N, N)),
    Leg("PushEVSEPricing", "operators/{operatorID}/evse-pricing", "cpo", (OPT, N, N)),
    Leg("PullPricingProductData", "providers/{providerID}/pricing-products", "emp", (N, OPT, OPT)),
    Leg("PullEVSEPricing", "providers/{providerID}/evse-pricing", "emp", (N, OPT, OPT)),
    Leg("ChargingNotification", "charging-notifications", "cpo", (OPT, N, N), "emp", (N, OPT, N)),
)

# Path parameters the official texts spell differently for the same value (errata E-A01).
PARAMETER_ALIASES = {"{externalID}": "{providerID}", "{externalId}": "{providerID}"}

# OICP 2.3's EMP OpenAPI serves the three PullEvseStatus requests on one path; the 2.3 spec chapters
# and OICP 2.2 give each its own path (errata E-A05). Keys are request messages.
STATUS_BY_REQUEST = {
    "eRoamingPullEVSEStatusByID": ("PullEvseStatusByID", "eRoamingEVSEStatusByID"),
    "eRoamingPullEVSEStatusByOperatorID": ("PullEvseStatusByOperatorID", "eRoamingEVSEStatus"),
    "eRoamingPullEVSEStatus": ("PullEvseStatus", "eRoamingEVSEStatus"),
}
