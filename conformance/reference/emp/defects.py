"""The reference EMP's planted defects: one switch each, and (filled in by the suite's lead) the requirement whose
check must catch it.

A defect applies to every shape (see shapes.py) unless it names the modes or trigger modes it is limited to:
the inbound ones need `online` (an offline EMP serves nothing), the ones about the windows, filters and status
request sizes the EMP chooses itself do not exist in `forward` (the trigger's message chooses). Message defects
are planted on the EMP's own messages and on forwarded ones alike."""

from __future__ import annotations

from dataclasses import dataclass, replace

from conformance.reference.emp.model import Config

ONLINE = frozenset({"online"})
OWN_MESSAGES = frozenset({"sync", "relay", "queue"})


@dataclass(frozen=True)
class Defect:
    name: str
    area: str
    description: str
    caught_by: str = ""  # requirement ID of the check that must fail (or warn) on it: assigned by the lead
    modes: frozenset[str] | None = None  # None: online and offline
    trigger_modes: frozenset[str] | None = None  # None: every trigger mode

    def why_not(self, where: str | Config) -> str | None:
        """Why the defect cannot show in this shape (a name from SHAPES) or Config; None when it applies."""
        if isinstance(where, str):
            from conformance.reference.emp.shapes import SHAPES

            config = SHAPES[where].build()
        else:
            config = where
        if self.modes is not None and config.mode not in self.modes:
            return f"it needs mode {' or '.join(sorted(self.modes))}, not {config.mode}"
        if self.trigger_modes is not None and config.trigger_mode not in self.trigger_modes:
            return f"it needs trigger mode {' or '.join(sorted(self.trigger_modes))}, not {config.trigger_mode}"
        return None

    def applies(self, where: str | Config) -> bool:
        return self.why_not(where) is None


DEFECTS = {
    d.name: d
    for d in (
        # --- message shape
        Defect(
            "pull-without-provider-id",
            "message shape",
            "leaves ProviderID out of its pulls (EVSE data, status, EVSE pricing, CDRs)",
        ),
        Defect("wrong-service-version", "message shape", "pulls EVSE data from evsepull/v22 instead of v23"),
        Defect(
            "timestamp-without-offset",
            "message shape",
            "sends LastCall, From and To as local times without a time zone offset",
        ),
        Defect(
            "lastcall-with-search",
            "message shape",
            "sends LastCall together with SearchCenter/CountryCodes/OperatorIds in PullEvseData",
            trigger_modes=OWN_MESSAGES,
        ),
        # --- identity
        Defect("wrong-provider-in-path", "identity", "calls the hub with another ProviderID in the path"),
        Defect("wrong-provider-in-body", "identity", "calls the hub with another ProviderID in the body"),
        Defect(
            "foreign-remote-identification",
            "identity",
            "remote-starts and reserves with the RemoteIdentification of another provider's EvcoID",
        ),
        # --- authorisation decisions
        Defect("authorize-unknown-uid", "authorisation", "answers Authorized to an unknown RFID UID", modes=ONLINE),
        Defect(
            "refuse-known-evco-pin",
            "authorisation",
            "answers NotAuthorized to a known EvcoID with its right PIN",
            modes=ONLINE,
        ),
        Defect(
            "authorized-without-session-id",
            "authorisation",
            "answers Authorized without echoing the hub's SessionID",
            modes=ONLINE,
        ),
        Defect(
            "refusal-with-code-000",
            "authorisation",
            "answers NotAuthorized with StatusCode 000 (success)",
            modes=ONLINE,
        ),
        Defect(
            "stop-unknown-session-authorized",
            "authorisation",
            "answers Authorized to an AuthorizeStop for a session it never authorised",
            modes=ONLINE,
        ),
        # --- CDR idempotency
        Defect(
            "cdr-booked-twice",
            "CDR idempotency",
            "books a resent identical CDR a second time (its ledger shows two)",
        ),
        Defect(
            "cdr-duplicate-5xx",
            "CDR idempotency",
            "answers HTTP 500 to a resent identical CDR instead of acknowledging it again",
            modes=ONLINE,
        ),
        Defect(
            "accept-impossible-cdr",
            "CDR idempotency",
            "accepts and books a CDR that ends before it starts or has negative or inconsistent energy",
        ),
        # --- paging
        Defect("evse-data-first-page-only", "paging", "reads only the first page of PullEvseData"),
        Defect("cdrs-first-page-only", "paging", "reads only the first page of GetChargeDetailRecords"),
        Defect(
            "cdr-window-gap",
            "paging",
            "starts each GetChargeDetailRecords time window a second after the previous one ended (To taken as "
            "inclusive), so CDRs ending in between are never downloaded",
            trigger_modes=OWN_MESSAGES,
        ),
        # --- delta pulls
        Defect("always-full-evse-pull", "delta pulls", "never sends LastCall: every EVSE data pull is a full load"),
        Defect(
            "delta-as-full-load",
            "delta pulls",
            "takes a LastCall (delta) answer for the complete set: drops unchanged EVSEs, keeps deleted ones",
        ),
        # --- the 100-EvseID limit
        Defect(
            "status-by-id-unchunked",
            "request limits",
            "asks PullEvseStatusByID for every EvseID in one request (more than 100)",
            trigger_modes=OWN_MESSAGES,  # a forwarded message is valid OICP: it names at most 100
        ),
        # --- remote start
        Defect(
            "remote-start-own-session-id",
            "remote start",
            "sends a SessionID of its own in AuthorizeRemoteStart instead of leaving it to the hub",
        ),
        Defect(
            "remote-stop-without-hub-session-id",
            "remote start",
            "stops (remote stop, reservation stop) with a SessionID of its own instead of the hub's",
        ),
        # --- acknowledgement handling
        Defect("retry-refusals", "acknowledgement handling", "retries a definitive refusal (Result false) unchanged"),
        Defect("no-retry-on-5xx", "acknowledgement handling", "gives up after one HTTP 5xx or lost answer"),
        Defect("ignore-retry-after", "acknowledgement handling", "retries a 429 before Retry-After has passed"),
        Defect(
            "endless-retries",
            "acknowledgement handling",
            "retries a failing hub three times as often as its 4 retries allow, without backoff",
        ),
        Defect(
            "parallel-pushes",
            "acknowledgement handling",
            "lets two PushAuthenticationData requests overlap (no per-operation lock; a queue worker does not wait)",
        ),
        Defect(
            "answer-needs-optional-members",
            "acknowledgement handling",
            "reads the optional StatusCode Description of every successful hub answer as if it were mandatory: "
            "a minimal answer makes its trigger fail with HTTP 500",
            # queued, the failure stays in the worker behind the trigger's 202: nothing the hub or a trigger sees
            trigger_modes=frozenset({"sync", "relay", "forward"}),
        ),
        # --- offline authentication data
        Defect(
            "full-load-missing-identification",
            "authentication data",
            "a fullLoad of authentication data leaves out one identification",
        ),
    )
}


# Which requirement's check must catch each defect (assigned by the suite's authors, kept apart from the
# list above, which the reference's authors wrote without the checks). A defect missing here has no check
# yet: `defects --role emp` lists it as such.
CAUGHT_BY = {
    "pull-without-provider-id": "EMP-OUT-06",
    "wrong-service-version": "EMP-OUT-01",
    "wrong-provider-in-path": "EMP-OUT-02",
    "wrong-provider-in-body": "EMP-OUT-02",
    "authorize-unknown-uid": "EMP-IN-AUTH-START-05",
    "refuse-known-evco-pin": "EMP-IN-AUTH-START-04",
    "authorized-without-session-id": "EMP-IN-AUTH-START-06",
    "refusal-with-code-000": "EMP-IN-AUTH-START-07",
    "stop-unknown-session-authorized": "EMP-IN-AUTH-STOP-02",
    "cdr-booked-twice": "EMP-IN-CDR-05",
    "cdr-duplicate-5xx": "EMP-IN-CDR-05",
    "accept-impossible-cdr": "EMP-IN-CDR-04",
    "evse-data-first-page-only": "EMP-EVSE-DATA-02",
    "always-full-evse-pull": "EMP-EVSE-DATA-03",
    "status-by-id-unchunked": "EMP-EVSE-STATUS-01",
    "cdrs-first-page-only": "EMP-GET-CDR-03",
    "parallel-pushes": "EMP-PUSH-AUTH-05",
    "full-load-missing-identification": "EMP-PUSH-AUTH-04",
    "retry-refusals": "EMP-ACK-02",
    "no-retry-on-5xx": "EMP-ACK-03",
    "ignore-retry-after": "EMP-ACK-05",
    "endless-retries": "EMP-ACK-04",
    "timestamp-without-offset": "EMP-OUT-05",
    "remote-start-own-session-id": "EMP-REMOTE-START-02",
    "remote-stop-without-hub-session-id": "EMP-REMOTE-STOP-01",
    "foreign-remote-identification": "EMP-OUT-07",
    "delta-as-full-load": "EMP-EVSE-DATA-02",
    "lastcall-with-search": "EMP-EVSE-DATA-04",
    "cdr-window-gap": "EMP-GET-CDR-04",
    "answer-needs-optional-members": "EMP-ACK-06",
}
# Behaviour the first list had as defects, taken out because the spec permits it (no check may fail it):
# CDR windows that overlap the previous one (Hubject "does not check whether a requested CDR has already
# been provided"; booking once is EMP-GET-CDR-05's, and the `cautious` shape overlaps on purpose), and a
# delete of authentication data naming an identification never uploaded (the spec sets no rule for delete).
DEFECTS = {name: replace(d, caught_by=CAUGHT_BY.get(name, "")) for name, d in DEFECTS.items()}


def mode_for(defect: Defect, mandatory_in: frozenset[str]) -> str:
    """The reference EMP mode to plant `defect` in: one it applies to where its check's operation is mandatory."""
    fits = [m for m in ("online", "offline") if defect.modes is None or m in defect.modes]
    return next((m for m in fits if m in mandatory_in), fits[0])
