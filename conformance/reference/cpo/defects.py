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
        Defect(
            "double-booked-cdr",
            "session semantics",
            "books a CDR a second time when its acknowledgement is lost (its records show two)",
            "CPO-STATE-02",
        ),
    )
}
