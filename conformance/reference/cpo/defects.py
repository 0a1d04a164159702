"""The reference CPO's planted defects: one switch each, and the requirement whose check must catch it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Defect:
    name: str
    area: str
    description: str
    caught_by: str  # requirement ID of the check that must fail (or warn) on it


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
        ),
        Defect(
            "drop-partner-session-id",
            "session semantics",
            "leaves CPOPartnerSessionID out of the CDR",
            "CPO-SESSION-04",
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
        Defect("parallel-pushes", "push discipline", "pushes EVSE data and status at the same time", "CPO-OUT-04"),
        Defect("delta-as-full-load", "push discipline", "sends a one-EVSE change as fullLoad", "CPO-EVSE-DATA-02"),
        Defect(
            "store-refused-sessions",
            "session semantics",
            "records a session for a RemoteStart it refused",
            "CPO-STATE-01",
        ),
    )
}
