"""Numbered requirements: where they come from, how strong they are, which feature they need.

Strength: MUST (the spec demands it: a failure fails the verdict), SHOULD (best practice or a
recommendation of the spec: reported as a warning), DERIVED (follows from the data definitions;
failing it fails the verdict only where it also breaks a MUST, so it is reported as a warning).
"""

from __future__ import annotations

from dataclasses import dataclass

CPO_CHAPTER = "OICP 2.3 CPO, chapter"


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    source: str
    strength: str  # MUST | SHOULD | DERIVED
    feature: str | None = None  # the optional feature it needs (None: mandatory operation)

    @property
    def fails_verdict(self) -> bool:
        return self.strength == "MUST"


CPO = {
    r.id: r
    for r in (
        Requirement(
            "CPO-REMOTE-START-01",
            "a valid RemoteStart for an available EVSE is accepted with a schema-valid "
            "acknowledgement carrying the SessionID",
            f"{CPO_CHAPTER} 2 eRoamingAuthorizeRemoteStart",
            "MUST",
        ),
        Requirement(
            "CPO-REMOTE-START-02",
            "a RemoteStart the CPO cannot serve is refused with Result false, never a 5xx",
            f"{CPO_CHAPTER} 2 eRoamingAuthorizeRemoteStart",
            "MUST",
        ),
        Requirement(
            "CPO-REMOTE-START-03",
            "RemoteStart is answered within 10 seconds",
            f"{CPO_CHAPTER} 2 eRoamingAuthorizeRemoteStart (request run time under 10 s)",
            "MUST",
        ),
        Requirement(
            "CPO-REMOTE-START-04",
            "a refusal never carries the success StatusCode 000",
            f"{CPO_CHAPTER} 3 StatusCodeType",
            "MUST",
        ),
        Requirement(
            "CPO-REMOTE-START-05",
            "the refusal's StatusCode fits the case (603 unknown EVSE, 602 busy, 700 out of service)",
            f"{CPO_CHAPTER} 3 StatusCodeType",
            "SHOULD",
        ),
        Requirement(
            "CPO-REMOTE-STOP-01",
            "a RemoteStop of a running session is accepted; of an unknown session refused",
            f"{CPO_CHAPTER} 2 eRoamingAuthorizeRemoteStop",
            "MUST",
        ),
        Requirement(
            "CPO-IN-INVALID-01",
            "schema-invalid requests are refused without a 5xx and without Result true",
            f"{CPO_CHAPTER} 3 (message definitions)",
            "MUST",
        ),
        Requirement(
            "CPO-IN-PATH-01",
            "a request whose path ProviderID differs from the body is not served",
            f"{CPO_CHAPTER} 1 (service paths)",
            "MUST",
        ),
        Requirement(
            "CPO-RESERVATION-01",
            "reservation start and stop are served and acknowledged",
            f"{CPO_CHAPTER} 2 eRoamingAuthorizeRemoteReservationStart/Stop",
            "MUST",
            "reservation",
        ),
        Requirement(
            "CPO-OUT-01",
            "every call goes to the operation's path with the release's service version",
            f"{CPO_CHAPTER} 1 (service versions)",
            "MUST",
        ),
        Requirement(
            "CPO-OUT-02",
            "the OperatorID in path and body is the declared operator's",
            f"{CPO_CHAPTER} 1 (authentication by certificate)",
            "MUST",
        ),
        Requirement(
            "CPO-OUT-03", "every EvseID sent belongs to the declared operator", f"{CPO_CHAPTER} 3 EvseIDType", "MUST"
        ),
        Requirement(
            "CPO-OUT-04",
            "no parallel pushes: one push at a time per operator",
            f"{CPO_CHAPTER} 2 eRoamingPushEvseData (sequential upload)",
            "MUST",
        ),
        Requirement(
            "CPO-EVSE-DATA-01",
            "PushEvseData is schema-valid and accepted",
            f"{CPO_CHAPTER} 2 eRoamingPushEvseData",
            "MUST",
        ),
        Requirement(
            "CPO-EVSE-DATA-02",
            "a change of some EVSEs is pushed as a delta (update), leaving the hub's store equal to the CPO's EVSEs",
            f"{CPO_CHAPTER} 2 eRoamingPushEvseData (ActionType)",
            "MUST",
        ),
        Requirement(
            "CPO-EVSE-STATUS-01",
            "PushEvseStatus is schema-valid, accepted and covers the declared EVSEs",
            f"{CPO_CHAPTER} 2 eRoamingPushEvseStatus",
            "MUST",
        ),
        Requirement(
            "CPO-AUTH-01",
            "AuthorizeStart is schema-valid, names the declared operator and an own EVSE",
            f"{CPO_CHAPTER} 2 eRoamingAuthorizeStart",
            "MUST",
        ),
        Requirement(
            "CPO-CDR-01",
            "the CDR is schema-valid with offset timestamps in order and consistent energy",
            f"{CPO_CHAPTER} 2 eRoamingChargeDetailRecord",
            "MUST",
        ),
        Requirement(
            "CPO-SESSION-01",
            "every later message of a session carries the hub's SessionID",
            f"{CPO_CHAPTER} 2 eRoamingChargeDetailRecord",
            "MUST",
        ),
        Requirement(
            "CPO-SESSION-02", "exactly one CDR per session", f"{CPO_CHAPTER} 2 eRoamingChargeDetailRecord", "MUST"
        ),
        Requirement(
            "CPO-SESSION-03",
            "a session is stopped with the identification that started it",
            f"{CPO_CHAPTER} 2 eRoamingAuthorizeStop",
            "MUST",
            "authorize_stop",
        ),
        Requirement(
            "CPO-SESSION-04",
            "partner session IDs of the flow are kept in later messages",
            f"{CPO_CHAPTER} 2 (CPOPartnerSessionID)",
            "SHOULD",
        ),
        Requirement(
            "CPO-NOTIFY-01",
            "charging notifications are schema-valid and carry the session's SessionID",
            f"{CPO_CHAPTER} 2 eRoamingChargingNotifications",
            "MUST",
            "charging_notifications",
        ),
        Requirement(
            "CPO-ACK-01",
            "a definitive refusal (Result false) is not retried",
            "Hubject integration guide (acknowledgement handling)",
            "MUST",
        ),
        Requirement(
            "CPO-ACK-02",
            "after HTTP 5xx or a dropped connection the call is retried until delivered",
            "Hubject integration guide (acknowledgement handling)",
            "MUST",
        ),
        Requirement(
            "CPO-ACK-03",
            "after HTTP 429 the next try waits for Retry-After",
            "RFC 9110 Retry-After; Hubject rate limits",
            "MUST",
        ),
        Requirement(
            "CPO-ACK-04",
            "after a lost CDR acknowledgement the same CDR is sent again, not a new one",
            f"{CPO_CHAPTER} 2 eRoamingChargeDetailRecord (one CDR per session)",
            "MUST",
        ),
        Requirement(
            "CPO-STATE-01",
            "a refused RemoteStart leaves no session in the CPO's records (where a sessions probe is declared)",
            f"{CPO_CHAPTER} 3 eRoamingAcknowledgement (Result false: not performed)",
            "MUST",
        ),
        Requirement(
            "CPO-STATE-02",
            "the CPO records one CDR per session, a lost acknowledgement included (where a cdrs probe is declared)",
            f"{CPO_CHAPTER} 2 eRoamingChargeDetailRecord",
            "MUST",
        ),
        Requirement(
            "CPO-ACK-05",
            "retries are bounded (no endless retrying of a failing hub)",
            "Hubject integration guide (acknowledgement handling)",
            "MUST",
        ),
    )
}
