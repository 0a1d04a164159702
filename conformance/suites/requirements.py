"""Numbered requirements of the CPO suite: the OICP 2.3 sentence each rests on, and how strong it is.

Strength follows the spec's words, so that a verdict never claims more than the text demands:

- MUST: the quoted sentence says must / mandatory / required / has to; a failure fails the run.
- SHOULD: the quoted sentence says should / please / recommend or is a Best Practice; a warning.
- PRACTICE: no sentence demands it; the project adds it from the real hub's operation or from general
  HTTP practice, and `basis` says where it comes from. A warning. Where a descriptive sentence of the
  text (one with no MUST or SHOULD word) is what the practice builds on, it is kept as the quote.

`--strict` makes SHOULD and PRACTICE failures fail the run too (see `Requirement.blocks`).

Quotes are copied verbatim from the spec's CPO chapters (whitespace normalised, asciidoc markup such as
backticks and cross-reference brackets dropped) so the tool needs no spec checkout at run time;
`tests/test_requirements.py` checks them against the chapters where a checkout exists.
"""

from __future__ import annotations

from dataclasses import dataclass

STRENGTHS = ("MUST", "SHOULD", "PRACTICE")
RELEASE = "OICP 2.3"


@dataclass(frozen=True)
class Requirement:
    """One numbered requirement; the quote and its place in the spec are what justify its strength."""

    id: str
    title: str
    strength: str  # MUST | SHOULD | PRACTICE
    quote: str  # the verbatim sentence it rests on ("" for a PRACTICE with no sentence at all)
    chapter: str  # e.g. "CPO 1" (chapter 1 of the CPO document); "" without a quote
    section: str  # the heading the quote sits under, e.g. "Session handling"
    feature: str | None = None  # the optional feature it needs (None: a mandatory operation)
    basis: str = ""  # PRACTICE: where the rule comes from instead of a demanding sentence

    def __post_init__(self) -> None:
        # Caught at import: a requirement that claims a strength its text cannot carry never reaches a verdict.
        if self.strength not in STRENGTHS:
            raise ValueError(f"{self.id}: strength {self.strength!r} is not one of {STRENGTHS}")
        if self.strength in ("MUST", "SHOULD") and not (self.quote and self.chapter and self.section):
            raise ValueError(f"{self.id}: a {self.strength} needs the quoted sentence with its chapter and section")
        if self.strength == "PRACTICE" and not self.basis:
            raise ValueError(f"{self.id}: a PRACTICE needs a basis saying where it comes from")
        if self.quote and not (self.chapter and self.section):
            raise ValueError(f"{self.id}: a quote needs its chapter and section")

    @property
    def place(self) -> str:
        """Where the quote sits, readable: "OICP 2.3 CPO chapter 1, Session handling" ("" without a quote)."""
        if not self.quote:
            return ""
        role, number = self.chapter.split()
        return f"{RELEASE} {role} chapter {number}, {self.section}"

    @property
    def source(self) -> str:
        """One line for reports: the quote's place, or for a PRACTICE its basis."""
        return f"practice: {self.basis}" if self.strength == "PRACTICE" else self.place

    @property
    def fails_verdict(self) -> bool:
        """Whether a failure fails the run by default (only a MUST does)."""
        return self.strength == "MUST"

    def blocks(self, strict: bool) -> bool:
        """Whether a failure fails the run: a MUST always; SHOULD and PRACTICE only under --strict."""
        return self.strength == "MUST" or strict


# Sentences that several requirements rest on.
_REMOTE_START_ACK = (
    "The CPO MUST return an eRoamingAcknowledgement message that MUST contain the result indicating whether the "
    "charging process will be started and that MAY contain a status code for further information."
)
_ERROR_CODE_PLEASE = (
    "If an authorization process could not successfully be executed, please set an error code by refering to the "
    "error code list mentioned in the OICP document."
)
_SESSION_ID = (
    "The SessionID is part of the operation response and MUST be provided with each subsequent request that belongs "
    "to the session."
)
_COPE = (
    "Each system must be able to cope with possible connection error scenarios as well as with different strategies "
    "to solve inconsistencies."
)
_ONE_CDR = "Hubject will accept only one CDR per SessionID."

CPO: dict[str, Requirement] = {
    r.id: r
    for r in (
        Requirement(
            "CPO-REMOTE-START-01",
            "a valid RemoteStart is answered with an eRoamingAcknowledgement carrying the Result (whether the "
            "charging process will be started)",
            "MUST",
            _REMOTE_START_ACK,
            "CPO 2",
            "eRoamingAuthorizeRemoteStart_V2.1",
        ),
        Requirement(
            "CPO-REMOTE-START-02",
            "a RemoteStart the CPO will not carry out is answered with an eRoamingAcknowledgement with Result "
            "false, never an HTTP 5xx",
            "MUST",
            _REMOTE_START_ACK,
            "CPO 2",
            "eRoamingAuthorizeRemoteStart_V2.1",
        ),
        Requirement(
            "CPO-REMOTE-START-03",
            "RemoteStart is answered in under 10 seconds (a Best Practice)",
            "SHOULD",
            "Please ensure a request run time of under 10 seconds including network roundtrip.",
            "CPO 2",
            "eRoamingAuthorizeRemoteStart Message",
        ),
        Requirement(
            "CPO-REMOTE-START-04",
            "a refused RemoteStart carries an error code of the code list, never the success code 000",
            "SHOULD",
            _ERROR_CODE_PLEASE,
            "CPO 2",
            "eRoamingAuthorizeStart Message",
        ),
        Requirement(
            "CPO-REMOTE-START-05",
            "the refusal's error code fits the case (603/604 unknown EVSE, 602 in use, 700/501 out of service)",
            "SHOULD",
            _ERROR_CODE_PLEASE,
            "CPO 2",
            "eRoamingAuthorizeStart Message",
        ),
        Requirement(
            "CPO-REMOTE-STOP-01",
            "a RemoteStop is answered with an eRoamingAcknowledgement; one whose SessionID no RemoteStart created "
            "is refused (Result false)",
            "MUST",
            "The request MUST contain the SessionID that was created by Hubject after the initial "
            "eRoamingAuthorizeRemoteStart request.",
            "CPO 2",
            "eRoamingAuthorizeRemoteStop_V2.1",
        ),
        Requirement(
            "CPO-IN-INVALID-01",
            "a request that breaks a MUST of the text (a mandatory field missing, an ID off its mandated pattern, "
            "a timestamp without offset, no parseable message) is refused: never served (Result true), never a 5xx",
            "MUST",
            "The request MUST contain the ProviderID and the EvseID.",
            "CPO 2",
            "eRoamingAuthorizeRemoteStart_V2.1",
        ),
        Requirement(
            "CPO-IN-INVALID-02",
            "a request that breaks no MUST of the text but the OpenAPI definitions or HTTP practice (a valid body "
            "labelled text/plain, an oversized body, a field over its Field Length or out of range, an unknown "
            "enumeration value) is refused: never served (Result true), never a 5xx",
            "PRACTICE",
            "",
            "",
            "",
            basis="Hubject's OICP 2.3 OpenAPI definitions (JSON request bodies, field lengths, enumerations, numeric "
            "bounds) and HTTP practice (RFC 9110 415 Unsupported Media Type, 413 Content Too Large); chapters 1-3 "
            "say nothing about content types or body sizes, and the Field Length column carries no MUST sentence. "
            "A receiver that serves such a request accepts what the hub itself would never send.",
        ),
        Requirement(
            "CPO-IN-PATH-01",
            "a request whose path ProviderID differs from the body's is not served (one of them is not the partner "
            "talking to Hubject)",
            "MUST",
            "The web service fields ProviderID and OperatorID MUST always provide the ID of the partner "
            "communicating directly with Hubject.",
            "CPO 1",
            "Hub Provider and Hub Operator",
        ),
        Requirement(
            "CPO-RESERVATION-01",
            "reservation start and stop are answered with an eRoamingAcknowledgement carrying the Result (whether "
            "the reservation was successful)",
            "MUST",
            "The CPO MUST return an eRoamingAcknowledgement message that MUST contain the result indicating whether "
            "the reservation was successful and that MAY contain a status code for further information.",
            "CPO 2",
            "eRoamingAuthorizeRemoteReservationStart_V1.1",
            "reservation",
        ),
        # What the CPO's acknowledgements carry back (issue 12 point 3). The table describes, it does not demand.
        Requirement(
            "CPO-ACK-IN-01",
            "an acknowledgement of a request from Hubject returns no SessionID but the request's",
            "PRACTICE",
            "Represents the service process. In some cases the current SessionID is returned to the service "
            "requestor in this field",
            "CPO 2",
            "eRoamingAcknowledgment",
            basis="The SessionID is Hubject's key of the process; an acknowledgement that names another one relates "
            "the answer to a process that does not exist. No sentence demands the SessionID in the answer, so an "
            "acknowledgement without one passes.",
        ),
        Requirement(
            "CPO-ACK-IN-02",
            "partner session IDs a request from Hubject carried come back unchanged in its acknowledgement",
            "PRACTICE",
            "Hubject will assign the CPOPartnerSessionID to the Hubject SessionID and will add the "
            "CPOPartnerSessionID to every operation response so that the CPO partner systems can relate the "
            "operations to their own session handling.",
            "CPO 1",
            "Session handling",
            basis="The sentence is what Hubject does with partner session IDs; a CPO's acknowledgement that drops "
            "the EMPPartnerSessionID of the request leaves the EMP unable to relate the answer to its session.",
        ),
        # Refusal cases of reservations, each judged on its own (issue 12 point 2).
        Requirement(
            "CPO-RESERVATION-02",
            "a reservation the CPO cannot carry out (an unknown EVSE, an EVSE out of service) is answered with an "
            "eRoamingAcknowledgement with Result false: never Result true, never an HTTP 5xx",
            "MUST",
            "The CPO MUST return an eRoamingAcknowledgement message that MUST contain the result indicating whether "
            "the reservation was successful and that MAY contain a status code for further information.",
            "CPO 2",
            "eRoamingAuthorizeRemoteReservationStart_V1.1",
            "reservation",
        ),
        Requirement(
            "CPO-RESERVATION-03",
            "a reservation stop whose SessionID no reservation start created is refused (Result false), never a 5xx",
            "MUST",
            "The request MUST contain the SessionID that was created by Hubject after the initial "
            "eRoamingAuthorizeRemoteReservationStart request.",
            "CPO 2",
            "eRoamingAuthorizeRemoteReservationStop_V1.1",
            "reservation",
        ),
        # Every message the CPO sends, judged on every hub journal of every test (issue 12 point 1): see
        # conformance/checks/journal.py for which call and which hub refusal each of these judges.
        Requirement(
            "CPO-AUTH-STOP-01",
            "AuthorizeStop goes to charging v21 with the SessionID Hubject created at the session's AuthorizeStart, "
            "schema-valid, and the hub takes it (no refusal as an unknown or already stopped session)",
            "MUST",
            "The request MUST contain the SessionID that was created by Hubject after the initial "
            "eRoamingAuthorizeStart request.",
            "CPO 2",
            "eRoamingAuthorizeStop_V2.1",
            "authorize_stop",
        ),
        Requirement(
            "CPO-CDR-02",
            "the hub takes the CDR as the record of the charging process its SessionID names: no refusal as an "
            "unknown session (400) or for an EvseID other than the session's (018 Inconsistent EvseID)",
            "MUST",
            "The CPO MUST provide the same SessionID that was assigned to the corresponding charging process.",
            "CPO 2",
            "eRoamingChargeDetailRecord_V2.2",
        ),
        Requirement(
            "CPO-OUT-01",
            "every call goes to an OICP 2.3 operation's path with that operation's service version",
            "PRACTICE",
            "The names of all following services contain a version and are based on the pattern "
            "“<service>_V<version>”, e.g. “eRoamingAuthorization_V2.1”.",
            "CPO 2",
            "Services and Operations",
            basis="The REST paths and their version segments (e.g. /api/oicp/evsepush/v23/...) come from Hubject's "
            "OICP 2.3 OpenAPI definitions, not from a sentence of chapters 1-3, which only name each operation with "
            "its version (eRoamingPushEvseData_V2.3) and say Hubject may offer several versions at once. A call to "
            "another path or version reaches no 2.3 operation (and then fails the operation's own MUST checks).",
        ),
        Requirement(
            "CPO-OUT-02",
            "the OperatorID of every call (path and body) is the declared operator's: the partner talking to "
            "Hubject directly, a hub operator's own ID, never a sub-operator's",
            "MUST",
            "The web service fields ProviderID and OperatorID MUST always provide the ID of the partner "
            "communicating directly with Hubject.",
            "CPO 1",
            "Hub Provider and Hub Operator",
        ),
        Requirement(
            "CPO-OUT-03",
            "every EvseID sent carries the declared operator's OperatorID or one of its sub-operators'",
            "MUST",
            "In case you are operating charging stations in different countries, please make sure each EVSE is "
            "equipped with the correct country code and the corresponding Operator ID. This Operator ID has to be "
            "either a sub-operator ID or your main ID.",
            "CPO 1",
            "Hub Provider and Hub Operator",
        ),
        Requirement(
            "CPO-OUT-04",
            "pushes of the same operation are sequential: the next one waits for the previous one's response "
            "(pushes of different operations may overlap)",
            "MUST",
            "In order to guarantee data consistency, data push requests that address the same operation MUST "
            "always be processed sequentially.",
            "CPO 1",
            "Data push operations",
        ),
        Requirement(
            "CPO-EVSE-DATA-01",
            "PushEvseData provides its EVSEs as EvseDataRecord structures in OperatorEvseData (schema-valid)",
            "MUST",
            "The EvseData that will be inserted or updated MUST be provided in the OperatorEvseData field, which "
            "consists of EvseDataRecord structures.",
            "CPO 2",
            "eRoamingPushEvseData_V2.3",
        ),
        Requirement(
            "CPO-EVSE-DATA-02",
            "a change of some EVSEs is pushed as a delta (update/insert), leaving the hub's store equal to the "
            "CPO's EVSEs",
            "PRACTICE",
            "",
            "",
            "",
            basis="CPO 2 eRoamingPushEvseData only demands that the ActionType (fullLoad, update, insert, delete) "
            "defines how Hubject handles the pushed data; no sentence says which action a change takes or that "
            "the hub's store must equal the CPO's EVSEs. A fullLoad of a subset silently drops the other EVSEs "
            "from the hub, which is why the project expects changes as deltas.",
        ),
        Requirement(
            "CPO-EVSE-STATUS-01",
            "PushEvseStatus provides its statuses as EvseStatusRecord structures in OperatorEvseStatus (schema-valid)",
            "MUST",
            "The EVSE status data that will be inserted or updated MUST be provided with the field "
            "“OperatorEvseStatus”, which consists of “EvseStatusRecord” structures.",
            "CPO 2",
            "eRoamingPushEvseStatus_V2.1",
        ),
        Requirement(
            "CPO-AUTH-01",
            "AuthorizeStart contains the OperatorID and the identification data (schema-valid); its EvseID, where "
            "given, is the operator's own",
            "MUST",
            "The request MUST contain the OperatorID and the identification data (e.g. UID or EvcoID) and MAY "
            "contain the EvseID.",
            "CPO 2",
            "eRoamingAuthorizeStart_V2.1",
        ),
        Requirement(
            "CPO-CDR-01",
            "the CDR is schema-valid and its date/time values carry a time zone offset",
            "MUST",
            "It is mandatory for CPO’s to provide date/time values including a time zone offset which refers to "
            "the charge point location due to the need for time based charging fees.",
            "CPO 1",
            "Time zones",
        ),
        Requirement(
            "CPO-SESSION-01",
            "every later request of a session (AuthorizeStop, charging notifications, the CDR) carries the "
            "SessionID Hubject assigned",
            "MUST",
            _SESSION_ID,
            "CPO 1",
            "Session handling",
        ),
        Requirement(
            "CPO-SESSION-02",
            "no second CDR for a session whose CDR was acknowledged",
            "PRACTICE",
            _ONE_CDR,
            "CPO 2",
            "eRoamingChargeDetailRecord_V2.2",
            basis="No sentence forbids sending a second CDR; the text only says the hub keeps one per SessionID, so "
            "a second CDR after an acknowledged one is a duplicate, or a correction the EMP never receives.",
        ),
        Requirement(
            "CPO-SESSION-03",
            "a session the HBS authorized offline is stopped with the same medium (identification) that started it",
            "MUST",
            "In case the charging session was originally authorized offline by the HBS, the session MUST only be "
            "stopped with the same medium, which was used for starting the session",
            "CPO 2",
            "eRoamingAuthorizeStop_V2.1",
            "authorize_stop",
        ),
        Requirement(
            "CPO-SESSION-04",
            "a CPOPartnerSessionID used in a session is kept in the session's later messages",
            "PRACTICE",
            "Hubject will assign the CPOPartnerSessionID to the Hubject SessionID and will add the "
            "CPOPartnerSessionID to every operation response so that the CPO partner systems can relate the "
            "operations to their own session handling.",
            "CPO 1",
            "Session handling",
            basis="The CPOPartnerSessionID is optional (CPO systems 'can use' it) and no sentence says a CPO keeps "
            "it; the project expects a CPO that starts a session with one to keep it in the session's later "
            "messages (e.g. the CDR), so the EMP can relate them as the CPO does.",
        ),
        Requirement(
            "CPO-NOTIFY-01",
            "a charging notification carries the SessionID Hubject assigned to its session",
            "MUST",
            _SESSION_ID,
            "CPO 1",
            "Session handling",
            "charging_notifications",
        ),
        Requirement(
            "CPO-ACK-01",
            "a definitive refusal (017 Unauthorized Access, 018 Inconsistent EvseID, 019 Inconsistent EvcoID, "
            "022 Data error, an invalid SessionID) is not sent again unchanged at once",
            "PRACTICE",
            "EvseIDs contain the ID of the corresponding CPO (With every data upload operation Hubject checks "
            "whether the given CPO’s OperatorID or Sub-OperatorIDs if necessary) matches every given EvseID. If "
            "not, Hubject refuses the data upload and responds with the status code 018.",
            "CPO 2",
            "eRoamingPushEvseData_V2.3",
            basis="No sentence forbids sending again after Result false. The text names refusals caused by the "
            "request itself: 018 here, 017 when the OperatorID does not match the certificate (CPO 1 Security: "
            "Hubject will not perform the operation), a negative response to an invalid SessionID (CPO 1 Session "
            "handling); the code list adds 019 Inconsistent EvcoID and 022 Data error. The same request sent again "
            "at once can only be refused again; hub-side errors are different (see CPO-ACK-06).",
        ),
        Requirement(
            "CPO-ACK-02",
            "after a connection error or a server error (a dropped connection, a timeout, HTTP 5xx) the call is "
            "sent again until delivered",
            "MUST",
            _COPE,
            "CPO 1",
            "Error handling",
        ),
        Requirement(
            "CPO-ACK-03",
            "after HTTP 429 the next try waits for Retry-After",
            "PRACTICE",
            "",
            "",
            "",
            basis="HTTP practice (RFC 6585 429 Too Many Requests, RFC 9110 Retry-After) and Hubject's rate limits "
            "on the real hub; the OICP 2.3 text never mentions 429 or Retry-After.",
        ),
        Requirement(
            "CPO-ACK-04",
            "after a lost CDR acknowledgement the same CDR is sent again, not a changed one",
            "PRACTICE",
            _ONE_CDR,
            "CPO 2",
            "eRoamingChargeDetailRecord_V2.2",
            basis="Sending again after a lost answer is CPO-ACK-02; that the CDR sent again is the same one is the "
            "project's: the hub may have stored the first (it keeps one per SessionID), so a changed second CDR "
            "leaves the EMP billing from data the CPO no longer holds.",
        ),
        Requirement(
            "CPO-STATE-01",
            "a refused RemoteStart leaves no session in the CPO's records (where a sessions probe is declared)",
            "PRACTICE",
            "If result is false, the message was received and the respective operation was not performed successfully.",
            "CPO 2",
            "eRoamingAcknowledgment",
            basis="The text defines Result false as 'not performed' but says nothing about a CPO's records; the "
            "project reads the declared sessions probe and expects no session for a start it refused, since such "
            "phantom sessions later produce stops or CDRs for charging that never happened.",
        ),
        Requirement(
            "CPO-STATE-02",
            "the CPO records one CDR per session, a lost acknowledgement included (where a cdrs probe is declared)",
            "PRACTICE",
            _ONE_CDR,
            "CPO 2",
            "eRoamingChargeDetailRecord_V2.2",
            basis="The hub keeps one CDR per SessionID; no sentence speaks of the CPO's own records. The project "
            "reads the declared cdrs probe and expects the CPO to hold one CDR per session too, so what it bills "
            "matches what the EMP received.",
        ),
        Requirement(
            "CPO-ACK-05",
            "immediate retries are bounded by the declared max_retries (no endless retrying of a failing hub)",
            "PRACTICE",
            "",
            "",
            "",
            basis="Project practice: retries against a hub that keeps failing only add load; the SUT declares its "
            "bound (max_retries in oicp-sut.toml). No sentence limits retries.",
        ),
        Requirement(
            "CPO-ACK-06",
            "a call answered with a hub-side error (HTTP 5xx, or the default acknowledgement with StatusCode 001, "
            "002, 009 or 021) is sent again later, not dropped",
            "MUST",
            _COPE,
            "CPO 1",
            "Error handling",
        ),
        # Every notification type and the dynamic-pricing pushes (issue 12 point 1; test_notifications.py and
        # test_pricing.py). CPO-NOTIFY-01 above judges the SessionID of every notification type.
        Requirement(
            "CPO-NOTIFY-02",
            "each charging notification type (Start, Progress, End, Error) is the type asked for, schema-valid with "
            "the members its message table marks M (ChargingStart; ChargingStart and EventOccurred; ChargingEnd; "
            "ErrorType), and accepted by the hub",
            "PRACTICE",
            "Hubject will forward Start, Progress, End and Error notification requests to the EMP.",
            "CPO 2",
            "eRoamingChargingNotifications",
            "charging_notifications",
            basis="The four message tables of CPO 2 (eRoamingChargingNotifications Start/Progress/End/Error "
            "Message) mark Type, SessionID, EvseID, OperatorID and, per type, ChargingStart (Start, Progress), "
            "EventOccurred (Progress), ChargingEnd (End) and ErrorType (Error) with M in their M/O column, but no "
            "sentence of the chapter says must; Hubject's OpenAPI lists them as required, and the hub refuses a "
            "notification without them (HTTP 400), so the EMP never hears of it.",
        ),
        Requirement(
            "CPO-NOTIFY-03",
            "a charging notification names its session's EvseID, and its own times and figures agree (SessionStart "
            "<= ChargingStart <= EventOccurred or ChargingEnd <= SessionEnd; ChargingDuration = EventOccurred - "
            "ChargingStart; ConsumedEnergy = MeterValueEnd - MeterValueStart)",
            "PRACTICE",
            "Hubject generates a SessionID for the charging process and persists important session data (SessionID, "
            "EvseID, identification data).",
            "CPO 2",
            "eRoamingAuthorizeStart_V2.1",
            "charging_notifications",
            basis="The hub keeps each session's EvseID (and refuses a CDR naming another with 018); no sentence says "
            "a notification must name the same EVSE, but one naming another tells the EMP's customer about the "
            "wrong charge point. The figures are the text's own definitions in the message tables (ChargingDuration "
            "= EventOccurred - ChargingStart, in milliseconds; ConsumedEnergy: the difference between MeterValueEnd "
            "and MeterValueStart), and the order of the times follows from what each one names.",
        ),
        Requirement(
            "CPO-NOTIFY-04",
            "a Progress notification carries ChargingDuration or ConsumedEnergyProgress (or both)",
            "SHOULD",
            "Either ChargingDuration or ConsumedEnergyProgress should be provided.",
            "CPO 2",
            "eRoamingChargingNotifications Progress Message",
            "charging_notifications",
        ),
        Requirement(
            "CPO-PRICING-01",
            "PushPricingProductData provides its products as PricingProductDataRecord structures in "
            "PricingProductData (schema-valid), and the hub accepts and stores them",
            "MUST",
            "The pricing product data to be processed MUST be provided in the “PricingProductData” field, which "
            "consists of “PricingProductDataRecord” structures.",
            "CPO 2",
            "eRoamingPushPricingProductData_V1.0",
            "dynamic_pricing",
        ),
        Requirement(
            "CPO-PRICING-02",
            "PushEVSEPricing provides its EVSE prices as EVSEPricing records with an EvseIDProductList each "
            "(schema-valid), and the hub accepts and stores them",
            "MUST",
            "The EVSE pricing data to be processed MUST be provided in the “EVSEPricing” field, which consists of "
            "“EvseIDProductList” structures.",
            "CPO 2",
            "eRoamingPushEVSEPricing_V1.0",
            "dynamic_pricing",
        ),
        Requirement(
            "CPO-PRICING-03",
            "no two pricing products of one PushPricingProductData share a ProductID",
            "MUST",
            "A pricing product name (for identifying a tariff) that MUST be unique",
            "CPO 3",
            "PricingProductDataRecordType",
            "dynamic_pricing",
        ),
        Requirement(
            "CPO-PRICING-04",
            "reference units are ReferenceUnitType options (HOUR, KILOWATT_HOUR, MINUTE) and currencies active "
            "ISO 4217 codes",
            "PRACTICE",
            "The ProductPriceCurrencyType allows for the list of active codes of the official ISO 4217 currency names.",
            "CPO 3",
            "CurrencyIDType",
            "dynamic_pricing",
            basis="CPO 3 lists HOUR, KILOWATT_HOUR and MINUTE as the options of ReferenceUnitType and points "
            "CurrencyIDType to the active ISO 4217 codes, but Hubject's OpenAPI types both as a bare string, so a "
            "schema validator (and the hub) takes 'kWh' or 'EURO'. No sentence says such a value is refused; an EMP "
            "cannot price a session in a unit or currency the text does not define.",
        ),
        # --- OICP rules beyond the schema, on what the CPO sends (issue 12 point 4): conformance/checks/rules.py
        # judges CPO-RULE-01..04 on every journal; suites/cpo/test_rules.py drives the flows and CPO-RULE-05/06.
        Requirement(
            "CPO-RULE-01",
            "every Identification the CPO sends carries exactly one of the five options; AuthorizeStart/Stop never "
            "use RFIDIdentification; a QR code in AuthorizeStart carries its PIN in clear text (at most 20 "
            "characters), never a HashedPIN",
            "MUST",
            "In order to prevent hashed PIN values that may have been picked illegally from being used to request "
            "the authorization for charging processes, the PIN value MUST always be provided in clear text within "
            "the eRoamingAuthorizeStart request.",
            "CPO 2",
            "eRoamingAuthorizeStart_V2.1",
        ),
        Requirement(
            "CPO-RULE-02",
            "EVSE data keep the MUST rules of their data types: GeoCoordinates (and GeoChargingPointEntrance) in "
            "exactly one format; RenewableEnergy true only when no grey EnergySource is listed; a CDR of an EVSE "
            "whose data say CalibrationLawDataAvailability External carries SignedMeteringValues",
            "MUST",
            "One of the following three options MUST be provided",
            "CPO 3",
            "GeoCoordinatesType",
        ),
        Requirement(
            "CPO-RULE-03",
            "EVSE data and CDRs as the 2.3 data types describe them: OpeningTimes given when IsOpen24Hours is "
            "false, 'No Payment' never combined with another payment option, no 2.2 MeteringSignature in a 2.3 CDR",
            "PRACTICE",
            "No Payment can not be combined with other payment option",
            "CPO 3",
            "PaymentOptionType",
            basis="CPO 3 states these without a MUST word: 'No Payment' can not be combined (a note of "
            "PaymentOptionType); OpeningTimes are the opening times 'in case that the charging station cannot be "
            "accessed around the clock' and marked M/O (EvseDataRecordType); the OICP 2.3 release notes list "
            "MeteringSignature as a deleted field of eRoamingChargeDetailRecord (CPO 1 Calibration Law: with older "
            "revisions CPOs provided this data 'as Metering Signature field'). The schema lets all three pass; a "
            "station both free and paid, 'not open around the clock' without hours, or calibration data in a member "
            "2.3 EMPs no longer read tell the EMP's customers nothing usable.",
        ),
        Requirement(
            "CPO-RULE-04",
            "every date-time the CPO sends carries the UTC offset of the charge point's local time at that instant "
            "(DST-aware; from the declared time_zone, else from the EVSE's pushed Address.TimeZone and Country)",
            "MUST",
            "It is mandatory for CPO’s to provide date/time values including a time zone offset which refers to "
            "the charge point location due to the need for time based charging fees.",
            "CPO 1",
            "Time zones",
        ),
        Requirement(
            "CPO-RULE-05",
            "after the hub answered AuthorizeStart with NotAuthorized nothing is charged: no session in the CPO's "
            "records (where a sessions probe is declared), no charging notification and no CDR",
            "PRACTICE",
            "In case that the request for authorization was not successful, Hubject deletes the corresponding "
            "SessionID for the charging process.",
            "CPO 2",
            "eRoamingAuthorizeStart_V2.1",
            basis="No sentence says what a CPO does after NotAuthorized. The hub deletes the session, so a "
            "notification or CDR for it can only be refused, and charging nobody authorised is billed to nobody; "
            "the project expects the CPO not to charge at all.",
        ),
        Requirement(
            "CPO-RULE-06",
            "after a reservation stop the CPO sends a CDR for the reservation's SessionID",
            "MUST",
            "After the eRoamingAuthorizeRemoteReservationStop the CPO MUST provide a CDR.",
            "CPO 2",
            "eRoamingAuthorizeRemoteReservationStop_V1.1",
            "reservation",
        ),
        # --- The MUST statements of the coverage list no check judged before (issue 12 point 7 follow-up): the
        # encoding of every request (journal-wide, conformance/checks/journal.py) and of the RemoteStart answer
        # (suites/cpo/test_inbound.py), the EVSE address's country code
        # and a remote session's identification (conformance/checks/rules.py, judged on every journal too).
        # CPO-OUT-04 covers the pricing pushes where `dynamic_pricing` is declared.
        Requirement(
            "CPO-OUT-05",
            "every body the CPO sends to the hub, its requests (every hub journal) and its acknowledgements (of a "
            "RemoteStart) alike, is UTF-8: the bytes decode as strict UTF-8 (not UTF-16/32, not Latin-1) and a "
            "charset the Content-Type declares is utf-8",
            "MUST",
            "All service messages exchanged between Hubject and partner systems MUST use UTF-8 character encoding.",
            "CPO 1",
            "REST",
        ),
        Requirement(
            "CPO-RULE-07",
            "the Country of every pushed EVSE address is an ISO 3166-1 alpha-3 code (DEU, not GER or DE)",
            "MUST",
            "Alpha 3 ISO (ISO 3166-1) code is required, (e.g. 'DEU', 'FRA', 'USA').",
            "CPO 2",
            "eRoamingEvseData Best Practices",
        ),
        Requirement(
            "CPO-RULE-08",
            "the CDR and charging notifications (and AuthorizeStop) of a session Hubject brokered from a RemoteStart "
            "with RemoteIdentification identify the customer with RemoteIdentification only",
            "MUST",
            "For the Remote Authorization process, only the option RemoteIdentification MUST be used in the "
            "respective messages.",
            "CPO 3",
            "IdentificationType",
        ),
    )
}

# Which requirement judges the answer to each named mutation of conformance/strategies/mutations.py:
# CPO-IN-INVALID-01 where a MUST sentence makes the mutated request invalid, CPO-IN-INVALID-02 where none does.
MUTATION_REQUIREMENT: dict[str, str] = {
    # A mandatory (M) member is gone: "The request MUST contain the ProviderID and the EvseID." (CPO 2).
    "missing-required": "CPO-IN-INVALID-01",
    # No longer of its Data Type: an ID type is "A string that MUST be valid with respect to the following regular
    # expression" (CPO 3), and a mandatory member of another type is not provided. On an optional plain String or
    # Integer member no sentence applies: the mutation should pick mandatory or ID-typed members only.
    "wrong-type": "CPO-IN-INVALID-01",
    # null is no ProviderID, EvseID or SessionID, so a mandatory member is not provided. On an optional member the
    # text itself uses null for "absent" ("In Authorization requests this field must be null!", CPO 3): the
    # mutation should pick mandatory members only.
    "explicit-null": "CPO-IN-INVALID-01",
    # IDs: "A string that MUST be valid with respect to the following regular expression: ISO | DIN." (CPO 3
    # EvseIDType, ProviderIDType, OperatorIDType; SessionIDType and EvcoIDType say the same). UIDType has no MUST.
    "pattern-violation": "CPO-IN-INVALID-01",
    # Field Length is a table column (CPOPartnerSessionID 250, ProductID 50); no sentence demands a refusal.
    "too-long": "CPO-IN-INVALID-02",
    # Bounds such as Duration 1-99 come from the Field Length column and OpenAPI formats, not from a sentence.
    "out-of-range": "CPO-IN-INVALID-02",
    # The allowed values are option tables ("One of the following"); no sentence says an unknown one is refused.
    "unknown-enum": "CPO-IN-INVALID-02",
    # "The time needs to be delivered in the format ... with a time zone offset in hours and minutes." and "It is
    # mandatory for CPO’s to provide date/time values including a time zone offset" (CPO 1 Time zones).
    "timestamp-without-offset": "CPO-IN-INVALID-01",
    # Judged on its own: a path ID other than the body's breaks "The web service fields ProviderID and OperatorID
    # MUST always provide the ID of the partner communicating directly with Hubject." (CPO 1).
    "path-id-mismatch": "CPO-IN-PATH-01",
    # A cut-off document contains no message, so not the ProviderID and EvseID the request MUST contain (CPO 2).
    "not-json": "CPO-IN-INVALID-01",
    # An empty body contains no message either: "The request MUST contain the ProviderID and the EvseID."
    "empty-body": "CPO-IN-INVALID-01",
    # The text never names a content type or JSON; the body is a valid message in UTF-8, as CPO 1 REST demands.
    "wrong-content-type": "CPO-IN-INVALID-02",
    # The text sets no size limit (and the extra Padding member breaks no sentence either).
    "oversized-body": "CPO-IN-INVALID-02",
}
