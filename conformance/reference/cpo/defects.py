"""The reference CPO's planted defects: one switch each, and the requirement whose check must catch it.

A defect applies to every shape (see shapes.py) unless it needs an optional feature the shape switches off,
or names the trigger modes it is limited to. Message defects are planted on the CPO's own messages and on
forwarded ones alike, so they apply in `forward` mode too."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.reference.cpo.model import Config


@dataclass(frozen=True)
class Defect:
    name: str
    area: str
    description: str
    caught_by: str  # requirement ID of the check that must fail (or warn) on it
    features: frozenset[str] = frozenset()  # optional OICP features the defect lives in
    trigger_modes: frozenset[str] | None = None  # None: every trigger mode

    def why_not(self, where: str | Config) -> str | None:
        """Why the defect cannot show in this shape (a name from SHAPES) or Config; None when it applies."""
        if isinstance(where, str):
            from conformance.reference.cpo.shapes import SHAPES

            config = SHAPES[where].build()
        else:
            config = where
        if missing := sorted(self.features - config.features):
            return f"it needs the optional feature {', '.join(missing)}, which this shape switches off"
        if self.trigger_modes is not None and config.trigger_mode not in self.trigger_modes:
            return f"it needs trigger mode {' or '.join(sorted(self.trigger_modes))}, not {config.trigger_mode}"
        return None

    def applies(self, where: str | Config) -> bool:
        return self.why_not(where) is None


DEFECTS = {
    d.name: d
    for d in (
        Defect(
            "cdr-timestamp-without-offset",
            "message shape",
            "CDR timestamps are local times without offset",
            "CPO-CDR-01",
        ),
        Defect(
            "evse-data-missing-required", "message shape", "PushEvseData records lack Accessibility", "CPO-EVSE-DATA-01"
        ),
        Defect("wrong-operator-in-path", "identity", "calls the hub with another OperatorID in the path", "CPO-OUT-02"),
        Defect("foreign-evse-id", "identity", "pushes an EVSE whose ID belongs to another operator", "CPO-OUT-03"),
        Defect(
            "old-evse-data-version", "service version", "pushes EVSE data to evsepush/v22 instead of v23", "CPO-OUT-01"
        ),
        Defect(
            "remote-start-crash-unknown-evse",
            "inbound handling",
            "answers HTTP 500 to a RemoteStart for an unknown EVSE",
            "CPO-REMOTE-START-02",
        ),
        Defect(
            "accept-invalid-requests",
            "inbound handling",
            "accepts schema-invalid RemoteStart/Stop requests",
            "CPO-IN-INVALID-01",
        ),
        Defect(
            "remote-start-slow",
            "inbound handling",
            "answers RemoteStart after more than 10 seconds",
            "CPO-REMOTE-START-03",
        ),
        Defect(
            "success-code-on-refusal",
            "inbound handling",
            "refuses an unknown EVSE with Result false but StatusCode 000",
            "CPO-REMOTE-START-04",
        ),
        Defect(
            "ignore-path-provider",
            "inbound handling",
            "serves RemoteStart/Stop whose path ProviderID differs from the body's",
            "CPO-IN-PATH-01",
        ),
        Defect(
            "own-session-id-in-cdr",
            "session semantics",
            "sends the CDR with its own SessionID instead of the hub's",
            "CPO-SESSION-01",
        ),
        Defect("duplicate-cdr", "session semantics", "sends every CDR twice", "CPO-SESSION-02"),
        Defect(
            "stop-with-other-identification",
            "session semantics",
            "stops a session with another identification than the start's",
            "CPO-SESSION-03",
            features=frozenset({"authorize_stop"}),
        ),
        Defect(
            "drop-partner-session-id",
            "session semantics",
            "leaves CPOPartnerSessionID out of the CDR",
            "CPO-SESSION-04",  # planted on forwarded CDRs too
        ),
        Defect(
            "retry-refusals",
            "acknowledgement handling",
            "retries a push the hub refused with Result false",
            "CPO-ACK-01",
        ),
        Defect("no-retry-on-5xx", "acknowledgement handling", "gives up after one HTTP 5xx", "CPO-ACK-02"),
        Defect(
            "ignore-retry-after",
            "acknowledgement handling",
            "retries a 429 before Retry-After has passed",
            "CPO-ACK-03",
        ),
        Defect(
            "new-cdr-after-lost-ack",
            "acknowledgement handling",
            "after a lost CDR acknowledgement sends a changed CDR",
            "CPO-ACK-04",
        ),
        Defect(
            "parallel-pushes",
            "push discipline",
            "lets two pushes of the same operation overlap (no per-operation lock; a queue worker does not wait)",
            "CPO-OUT-04",
        ),
        Defect("delta-as-full-load", "push discipline", "sends a one-EVSE change as fullLoad", "CPO-EVSE-DATA-02"),
        Defect(
            "store-refused-sessions",
            "session semantics",
            "records a session for a RemoteStart it refused",
            "CPO-STATE-01",
        ),
        Defect(
            "endless-retries",
            "acknowledgement handling",
            "retries a failing hub three times as often as its declared max_retries allows",
            "CPO-ACK-05",
        ),
        Defect(
            "drop-after-hub-error",
            "acknowledgement handling",
            "treats a refusal with a Hubject-side code (001, 002, 009, 021) as final and drops the data",
            "CPO-ACK-06",
        ),
        Defect(
            "authorize-start-without-identification",
            "message shape",
            "sends AuthorizeStart without the Identification (the hub refuses it)",
            "CPO-AUTH-01",
        ),
        Defect(
            "status-push-misses-evses",
            "message shape",
            "a fullLoad status push carries only the first EVSE",
            "CPO-EVSE-STATUS-01",
        ),
        Defect(
            "accept-oversized-requests",
            "inbound handling",
            "serves requests of any size (no limit against a hostile or broken sender)",
            "CPO-IN-INVALID-02",
        ),
        Defect(
            "notification-other-session-id",
            "session semantics",
            "sends charging notifications with a SessionID of its own",
            "CPO-NOTIFY-01",
            features=frozenset({"charging_notifications"}),
        ),
        Defect(
            "remote-start-other-session-id",
            "inbound handling",
            "accepts a RemoteStart but answers with another SessionID than the request's",
            "CPO-REMOTE-START-01",
        ),
        Defect(
            "busy-evse-wrong-code",
            "inbound handling",
            "refuses a RemoteStart on a busy EVSE with 603 (unknown EVSE) instead of 602",
            "CPO-REMOTE-START-05",
        ),
        Defect(
            "stop-unknown-session-accepted",
            "inbound handling",
            "accepts a RemoteStop for a session that never existed",
            "CPO-REMOTE-STOP-01",
        ),
        Defect(
            "reservation-stop-refused",
            "inbound handling",
            "refuses every reservation stop",
            "CPO-RESERVATION-01",
            features=frozenset({"reservation"}),
        ),
        # What an acknowledgement carries back (issue 12 point 3).
        Defect(
            "ack-drops-partner-session-id",
            "acknowledgements",
            "leaves the request's EMPPartnerSessionID out of its acknowledgements",
            "CPO-ACK-IN-02",
        ),
        Defect(
            "ack-own-session-id",
            "acknowledgements",
            "answers a RemoteStart with a SessionID of its own instead of Hubject's",
            "CPO-ACK-IN-01",
        ),
        # Reservation refusal cases (issue 12 point 2).
        Defect(
            "reservation-ignores-evse-state",
            "inbound handling",
            "accepts a reservation of an unknown or out-of-service EVSE (Result true)",
            "CPO-RESERVATION-02",
            features=frozenset({"reservation"}),
        ),
        Defect(
            "reservation-stop-always-accepted",
            "inbound handling",
            "answers Result true to a reservation stop for a reservation it never made",
            "CPO-RESERVATION-03",
            features=frozenset({"reservation"}),
        ),
        # Misbehaves only for some inputs: the property tests find it and shrink it (issue 12 point 6).
        Defect(
            "remote-start-crash-on-partner-product",
            "inbound handling",
            "answers HTTP 500 to a RemoteStart it would accept when it carries the optional PartnerProductID",
            "CPO-REMOTE-START-01",
        ),
        # Every message the CPO sends, judged on every hub journal (issue 12 point 1): each is caught only by
        # reading the journal (a hub refusal, a path with no operation, a schema violation).
        Defect(
            "cdr-evse-not-the-sessions",
            "session semantics",
            "sends the CDR with the neighbouring EVSE's ID instead of the session's (the hub refuses it with 018)",
            "CPO-CDR-02",
        ),
        Defect(
            "old-authorize-stop-version",
            "service version",
            "sends AuthorizeStop to charging/v20 instead of v21",
            "CPO-AUTH-STOP-01",
            features=frozenset({"authorize_stop"}),
        ),
        Defect(
            "authorize-stop-without-operator-id",
            "message shape",
            "leaves the mandatory OperatorID out of AuthorizeStop (the hub refuses it as invalid)",
            "CPO-AUTH-STOP-01",
            features=frozenset({"authorize_stop"}),
        ),
        Defect(
            "double-booked-cdr",
            "session semantics",
            "books a CDR a second time when its acknowledgement is lost (its records show two)",
            "CPO-STATE-02",
        ),
        # Every notification type and the dynamic-pricing pushes (issue 12 point 1): planted on forwarded
        # messages too (CpoService._plant_notification, _send_pricing_products, _send_evse_pricing).
        Defect(
            "progress-notification-incomplete",
            "message shape",
            "sends Progress notifications without EventOccurred (the hub refuses them)",
            "CPO-NOTIFY-02",
            features=frozenset({"charging_notifications"}),
        ),
        Defect(
            "notification-other-evse",
            "session semantics",
            "names another of its EVSEs than the session's in Progress and End notifications",
            "CPO-NOTIFY-03",
            features=frozenset({"charging_notifications"}),
        ),
        Defect(
            "progress-without-measurement",
            "message shape",
            "sends Progress notifications with neither ChargingDuration nor ConsumedEnergyProgress",
            "CPO-NOTIFY-04",
            features=frozenset({"charging_notifications"}),
        ),
        Defect(
            "product-without-availability",
            "message shape",
            "pushes pricing products without ProductAvailabilityTimes (the hub refuses them)",
            "CPO-PRICING-01",
            features=frozenset({"dynamic_pricing"}),
        ),
        Defect(
            "evse-pricing-product-list-as-text",
            "message shape",
            "pushes each EVSE's EvseIDProductList as one comma-separated string (the hub refuses it)",
            "CPO-PRICING-02",
            features=frozenset({"dynamic_pricing"}),
        ),
        Defect(
            "duplicate-pricing-product",
            "message shape",
            "pushes a second pricing product under the ProductID of the first",
            "CPO-PRICING-03",
            features=frozenset({"dynamic_pricing"}),
        ),
        Defect(
            "pricing-unit-abbreviated",
            "message shape",
            "writes reference units as kWh, h and min instead of KILOWATT_HOUR, HOUR and MINUTE",
            "CPO-PRICING-04",
            features=frozenset({"dynamic_pricing"}),
        ),
        Defect(
            "evse-pricing-foreign-evse",
            "identity",
            "pushes the price of an EVSE whose ID belongs to another operator",
            "CPO-OUT-03",
            features=frozenset({"dynamic_pricing"}),
        ),
        # OICP rules beyond the schema (issue 12 point 4): judged by conformance/checks/rules.py and
        # suites/cpo/test_rules.py. A CDR dropped after a hub error (001/009) is `drop-after-hub-error` above.
        Defect(
            "qr-hashed-pin",
            "message shape",
            "sends a QR code's PIN in AuthorizeStart as a HashedPIN instead of in clear text",
            "CPO-RULE-01",
        ),
        Defect(
            "geo-two-formats",
            "message shape",
            "pushes EVSE GeoCoordinates in two formats at once (DecimalDegree and Google)",
            "CPO-RULE-02",
        ),
        Defect(
            "metering-signature-in-cdr",
            "message shape",
            "sends CDRs with the OICP 2.2 member MeteringSignature, deleted in 2.3",
            "CPO-RULE-03",
        ),
        Defect(
            "cdr-utc-timestamps",
            "message shape",
            "sends CDR times in UTC (+00:00) although its charge points are in Europe/Berlin",
            "CPO-RULE-04",
        ),
        Defect(
            "charge-after-not-authorized",
            "session semantics",
            "charges after the hub answered NotAuthorized: records a session of its own and sends its CDR",
            "CPO-RULE-05",
        ),
        Defect(
            "no-cdr-after-reservation-stop",
            "session semantics",
            "sends no CDR after a reservation stop",
            "CPO-RULE-06",
            features=frozenset({"reservation"}),
        ),
        # Maximal and minimal messages (issue 12 point 5; conformance/suites/cpo/test_variants.py): each fails only
        # on a valid message with (or without) one optional member, as serialisation bugs do.
        Defect(
            "variant-remote-start-cpo-partner-session",
            "inbound handling",
            "answers HTTP 500 to a RemoteStart that carries the optional CPOPartnerSessionID",
            "CPO-REMOTE-START-01",
        ),
        Defect(
            "variant-forward-location-reference",
            "message shape",
            "fails (HTTP 500, nothing sent) on a forwarded PushEvseData whose records carry the optional "
            "ChargingStationLocationReference",
            "CPO-EVSE-DATA-01",
            trigger_modes=frozenset({"forward"}),
        ),
        Defect(
            "variant-forward-cdr-needs-meter-values",
            "message shape",
            "fails (HTTP 500, nothing sent) on a forwarded CDR without the optional MeterValueStart",
            "CPO-CDR-01",
            trigger_modes=frozenset({"forward"}),
        ),
        # The MUST statements of the coverage list no check judged before (issue 12 point 7 follow-up): planted on
        # forwarded messages too (CpoService._send_evse_data, _plant_cdr; HubClient.post for the pricing lock).
        Defect(
            "evse-data-utf-16",
            "message shape",
            "writes its EVSE data pushes in UTF-16 (the platform's 'Unicode') under a plain application/json",
            "CPO-OUT-05",
        ),
        Defect(
            "ack-utf-16",
            "inbound handling",
            "answers Hubject's requests with acknowledgements in UTF-16 (charset=utf-16)",
            "CPO-OUT-05",
        ),
        Defect(
            "country-ioc-code",
            "message shape",
            "pushes every EVSE address with Country 'GER' (the IOC code its exporter is set to) instead of ISO 'DEU'",
            "CPO-RULE-07",
        ),
        Defect(
            "remote-cdr-rfid",
            "session semantics",
            "identifies the customer of a remotely started session in its CDR by an RFID card "
            "(RFIDMifareFamilyIdentification) instead of the RemoteIdentification",
            "CPO-RULE-08",
        ),
        Defect(
            "parallel-pricing-pushes",
            "push discipline",
            "lets two pricing pushes of the same operation overlap (the pricing client takes no per-operation lock; "
            "its queue worker does not wait)",
            "CPO-OUT-04",
            features=frozenset({"dynamic_pricing"}),
        ),
    )
}
