"""Numbered requirements of the EMP suite: the OICP 2.3 sentence each rests on, how strong it is, and for which
kind of EMP it holds.

Strength follows the spec's words exactly as for the CPO suite (see `conformance.suites.requirements`):
MUST where the quoted sentence says must / mandatory / required / has to, SHOULD where it says should / please /
recommend or is a Best Practice, PRACTICE (with a `basis`) where no sentence demands the rule. Two verbs of the
EMP text carry the same demand as the words of that list and are read as MUST words: "requires" (EMP 1 Status
codes: "Each message requires a response message in return") and "needs to" (EMP 1 Time zones: "The time needs
to be delivered ... with a time zone offset").

Quotes are copied verbatim from the spec's EMP chapters (whitespace normalised, asciidoc markup dropped);
`tests/test_emp_requirements.py` checks them against the chapters where a checkout exists.

OICP knows two kinds of EMP, which `EMP_MODES` and `EMP_MANDATORY` tell apart:

- online: serves the operations Hubject forwards (AuthorizeStart, AuthorizeStop, ChargeDetailRecord, charging
  notifications) and calls the hub;
- offline: serves nothing; it pushes its identifications (PushAuthenticationData) so that the hub authorises
  on its behalf, and downloads its CDRs (GetChargeDetailRecords). Requirements on what an EMP serves are
  therefore online-only (`EMP_INBOUND`).
"""

from __future__ import annotations

from conformance.suites.requirements import Requirement

ONLINE = "online"
OFFLINE = "offline"
MODES = frozenset({ONLINE, OFFLINE})
_ON = frozenset({ONLINE})
_OFF = frozenset({OFFLINE})
_BOTH = MODES
_NONE: frozenset[str] = frozenset()

# Optional features an EMP declares (features = [...] in its declaration); the first two are the CPO suite's names
# for the same operations seen from the other side.
FEATURES = (
    "authorize_stop",  # serves AuthorizeStop (EMP 2: To RECEIVE, Implementation: OPTIONAL)
    "charging_notifications",  # serves charging notifications (EMP 2: To RECEIVE, Implementation: OPTIONAL)
    "get_charge_detail_records",  # calls GetChargeDetailRecords though online (EMP 2: EMP Online OPTIONAL)
    "push_authentication_data",  # pushes authentication data though online (catalogue erratum E-A04)
    "pull_evse_status_by_id",  # calls PullEvseStatusByID (EMP 2: "Hubject offers the service ...")
)

# Sentences that several requirements rest on.
_PROVIDER_ID_OWN = (
    "The web service fields ProviderID and OperatorID MUST always provide the ID of the partner communicating "
    "directly with Hubject."
)
_RESPONDS_ACCORDINGLY = (
    "The EMP provider system checks the requested authentication data and responds accordingly, either by "
    "authorizing or not authorizing the request."
)
_ERROR_CODE_PLEASE = (
    "If an authorization process could not successfully be executed, please set an error code by refering to the "
    "error code list mentioned in the OICP document."
)
_CDR_ACK = (
    "The EMP MUST return an eRoamingAcknowledgement message that MUST contain the result indicating whether the "
    "session data was received successfully and that MAY contain a status code for further information."
)
_COPE = (
    "Each system must be able to cope with possible connection error scenarios as well as with different strategies "
    "to solve inconsistencies."
)
_ONE_CDR = "Hubject will accept only one CDR per SessionID."
_AUTH_START = "eRoamingAuthorizeStart_V2.1"
_AUTH_STOP = "eRoamingAuthorizeStop_V2.1"
_CDR = "eRoamingChargeDetailRecord_V2.2"
_GET_CDRS = "eRoamingGetChargeDetailRecords_V2.2"
_PUSH_AUTH = "eRoamingPushAuthenticationData_V2.1"
_PULL_EVSE = "eRoamingPullEvseData_V2.3"
_REMOTE_START = "eRoamingAuthorizeRemoteStart_V2.1"

_REQUIREMENTS: tuple[Requirement, ...] = (
    # ---- Inbound (online EMPs): AuthorizeStart as Hubject forwards it -------------------------------------------
    Requirement(
        "EMP-IN-AUTH-START-01",
        "every AuthorizeStart is answered with an eRoamingAuthorizationStart (schema-valid, with its mandatory "
        "AuthorizationStatus and StatusCode), never an HTTP 5xx or no answer",
        "MUST",
        "This message describes the response which has to be sent in response to the eRoamingAuthorizeStart and is "
        "only mandatory for online EMPs.",
        "EMP 2",
        "eRoamingAuthorizationStart",
    ),
    Requirement(
        "EMP-IN-AUTH-START-02",
        "the AuthorizeStart answer contains the AuthorizationStatus and, when Authorized, the ProviderID (the "
        "sentence names the ProviderID for every answer; the message table fills it on a positive authorization "
        "only, so only an Authorized answer is held to it)",
        "MUST",
        "The response MUST contain the ProviderID and the AuthorizationStatus and MAY contain a list of "
        "identification data that is authorized",
        "EMP 2",
        _AUTH_START,
    ),
    Requirement(
        "EMP-IN-AUTH-START-03",
        "the ProviderID of an authorisation answer is the EMP's own: the partner talking to Hubject directly, a hub "
        "provider's own ID even for a sub-provider's customer, never a sub-provider's",
        "MUST",
        _PROVIDER_ID_OWN,
        "EMP 1",
        "Hub Provider and Hub Operator",
    ),
    Requirement(
        "EMP-IN-AUTH-START-04",
        "an AuthorizeStart for a known, valid identification of every type the EMP issues (RFIDMifareFamily UID, "
        "QRCode EvcoID with its PIN, PlugAndCharge EvcoID, RemoteIdentification EvcoID where applicable) is "
        "answered Authorized",
        "PRACTICE",
        _RESPONDS_ACCORDINGLY,
        "EMP 2",
        _AUTH_START,
        basis="The text only says the EMP 'responds accordingly, either by authorizing or not authorizing'; no "
        "sentence says which identifications it authorises. The project expects an identification the EMP "
        "declares as its customer's to be authorised, for each identification type it declares, since otherwise "
        "its customers cannot charge at any CPO that asks online.",
    ),
    Requirement(
        "EMP-IN-AUTH-START-05",
        "an AuthorizeStart for an unknown identification (an unknown UID or EvcoID, a known EvcoID with a wrong "
        "PIN, another provider's EvcoID) is answered NotAuthorized, never Authorized",
        "PRACTICE",
        _RESPONDS_ACCORDINGLY,
        "EMP 2",
        _AUTH_START,
        basis="As EMP-IN-AUTH-START-04: 'responds accordingly' states no rule. Hubject broadcasts RFID "
        "authorisations to every EMP under contract with the CPO and authorises when one EMP authorises (EMP 2 "
        "eRoamingAuthorizeStart_V2.1, option C), so an EMP authorising what it does not know lets strangers charge "
        "on its account; the code list names the refusals (101 QR invalid credentials, 102 invalid UID, 105 "
        "invalid EvcoID).",
    ),
    Requirement(
        "EMP-IN-AUTH-START-06",
        "an AuthorizeStart answer carries the SessionID Hubject sent in the request where it is Authorized, and never "
        "another (the SessionID is the hub's to assign, and the session's key in every later message)",
        "PRACTICE",
        "Hubject generates a SessionID for the charging process and persists important session data (SessionID, "
        "EvseID, identification data).",
        "EMP 2",
        _AUTH_START,
        basis="The SessionID of eRoamingAuthorizationStart is optional (O) and no sentence says what the EMP puts "
        "there; the text says Hubject generates it and relates later operations by it (EMP 1 Session handling). "
        "An answer naming another SessionID relates the authorisation to a session that does not exist.",
    ),
    Requirement(
        "EMP-IN-AUTH-START-07",
        "a NotAuthorized answer carries an error code of the code list, never the success code 000",
        "SHOULD",
        _ERROR_CODE_PLEASE,
        "EMP 2",
        "eRoamingAuthorizeStart Message",
    ),
    Requirement(
        "EMP-IN-AUTH-START-08",
        "the NotAuthorized error code fits the case (102 unknown UID, 101 QR invalid credentials or wrong PIN, "
        "105/120 unknown EvcoID, 200 EvcoID locked, 210 no valid contract)",
        "SHOULD",
        _ERROR_CODE_PLEASE,
        "EMP 2",
        "eRoamingAuthorizeStart Message",
    ),
    # ---- Inbound (online EMPs): AuthorizeStop -----------------------------------------------------------------------
    Requirement(
        "EMP-IN-AUTH-STOP-01",
        "every AuthorizeStop is answered with an eRoamingAuthorizationStop (schema-valid, with its mandatory "
        "AuthorizationStatus and StatusCode), never an HTTP 5xx or no answer",
        "MUST",
        "This message describes the response which has to be sent in return to the eRoamingAuthorizeStop request "
        "and is only mandatory for online EMPs.",
        "EMP 2",
        "eRoamingAuthorizationStop",
        "authorize_stop",
    ),
    Requirement(
        "EMP-IN-AUTH-STOP-02",
        "an AuthorizeStop whose SessionID belongs to no AuthorizeStart the EMP authorised is not answered Authorized",
        "MUST",
        "The request MUST contain the SessionID that was created by Hubject after the initial eRoamingAuthorizeStart "
        "request.",
        "EMP 2",
        _AUTH_STOP,
        "authorize_stop",
    ),
    Requirement(
        "EMP-IN-AUTH-STOP-03",
        "an AuthorizeStop for a session the EMP authorised, with the identification that started it, is answered "
        "Authorized",
        "PRACTICE",
        "eRoamingAuthorizeStop basically works in a similar way to the operation eRoamingAuthorizeStart.",
        "EMP 2",
        _AUTH_STOP,
        "authorize_stop",
        basis="No sentence says which stops the EMP authorises; the text likens the operation to AuthorizeStart, "
        "where the EMP 'responds accordingly'. A customer who may start a session must be able to end it with "
        "the same medium (for sessions the HBS authorised, EMP 2 even demands that medium), so the project "
        "expects that stop to be authorised.",
    ),
    # ---- Inbound (online EMPs): ChargeDetailRecord ------------------------------------------------------------------
    Requirement(
        "EMP-IN-CDR-01",
        "every CDR is answered with an eRoamingAcknowledgement carrying the Result, never an HTTP 5xx; a valid CDR "
        "of a session the EMP authorised or started was received, so its Result is true",
        "MUST",
        _CDR_ACK,
        "EMP 2",
        _CDR,
    ),
    Requirement(
        "EMP-IN-CDR-02",
        "the CDR answer is consistent with what the EMP did: Result true exactly when it booked the CDR (where a "
        "cdrs probe is declared), never true for a CDR it dropped nor false for one it kept",
        "MUST",
        _CDR_ACK,
        "EMP 2",
        _CDR,
    ),
    Requirement(
        "EMP-IN-CDR-03",
        "a CDR whose SessionID belongs to no session the EMP authorised or started, for an identification that is "
        "no customer of the EMP, is not booked: Result false, never an HTTP 5xx (a CDR of its own customer's "
        "session that Hubject authorised from uploaded data may be booked)",
        "PRACTICE",
        "",
        "",
        "",
        basis="EMP 2 binds the CPO to the SessionID, not what an EMP answers; booking a stranger's charge to no "
        "customer is what no EMP can do, so the suite expects a refusal, as a warning",
    ),
    Requirement(
        "EMP-IN-CDR-04",
        "a semantically impossible CDR (ending before it starts, a session that ends before it starts, negative "
        "energy, a ConsumedEnergy other than MeterValueEnd - MeterValueStart) is not booked as valid: Result false, "
        "never an HTTP 5xx",
        "PRACTICE",
        "The difference between MeterValueEnd and MeterValueStart in kWh.",
        "EMP 2",
        "eRoamingChargeDetailRecord Message",
        basis="The text defines the fields (ConsumedEnergy is the difference of the meter values; the Start/End "
        "pairs are the two ends of one process) but no sentence says what the EMP does with a CDR that contradicts "
        "them. The project expects it refused rather than billed; that the answer never is a 5xx and matches the "
        "booking is EMP-IN-CDR-01/02.",
    ),
    Requirement(
        "EMP-IN-CDR-05",
        "a CDR sent again after its acknowledgement was lost is answered (never an HTTP 5xx) and booked once, not "
        "twice",
        "MUST",
        _COPE,
        "EMP 1",
        "Error handling",
    ),
    Requirement(
        "EMP-IN-CDR-06",
        "the CDR sent again after a lost acknowledgement is answered as the first one was (Result true: the data "
        "was received)",
        "PRACTICE",
        _ONE_CDR,
        "EMP 2",
        _CDR,
        basis="Answering the copy is EMP-IN-CDR-05; which Result it gets no sentence says. The hub keeps one CDR "
        "per SessionID and the EMP already holds the data, so 'received successfully' is true; a Result false "
        "tells the CPO the CDR was lost when it was not.",
    ),
    # ---- Inbound (online EMPs): charging notifications -------------------------------------------------------------
    Requirement(
        "EMP-IN-NOTIFY-01",
        "every charging notification type Hubject forwards (Start, Progress, End, Error) is answered with an "
        "eRoamingAcknowledgement, never an HTTP 5xx or no answer",
        "MUST",
        "Each message requires a response message in return (at least an acknowledgement).",
        "EMP 1",
        "Status codes",
        "charging_notifications",
    ),
    # ---- Inbound (online EMPs): broken requests and answer times --------------------------------------------------
    Requirement(
        "EMP-IN-INVALID-01",
        "a request that breaks a MUST of the text (a mandatory field missing, an ID off its mandated pattern, a "
        "timestamp without offset, no parseable message) is refused: never Authorized or Result true, never a 5xx",
        "MUST",
        "The request MUST contain the OperatorID and the identification data (e.g. UID or EvcoID) and MAY contain "
        "the EvseID.",
        "EMP 2",
        _AUTH_START,
    ),
    Requirement(
        "EMP-IN-INVALID-02",
        "a request that breaks no MUST of the text but the OpenAPI definitions or HTTP practice (a valid body "
        "labelled text/plain, an oversized body, a field over its Field Length, an unknown enumeration value) is "
        "refused: never Authorized or Result true, never a 5xx",
        "PRACTICE",
        "",
        "",
        "",
        basis="Hubject's OICP 2.3 OpenAPI definitions (JSON request bodies, field lengths, enumerations) and HTTP "
        "practice (RFC 9110 415 Unsupported Media Type, 413 Content Too Large); the EMP chapters say nothing about "
        "content types or body sizes, and the Field Length column carries no MUST sentence. An EMP that serves "
        "such a request accepts what the hub itself would never send.",
    ),
    Requirement(
        "EMP-IN-TIME-01",
        "AuthorizeStart, AuthorizeStop, CDRs and notifications are answered within the suite's time limit "
        "(10 seconds by default)",
        "PRACTICE",
        "In case a partner system does not respond to a request by Hubject within the internally defined period, "
        "Hubject will monitor the connection timeout in the service session logging.",
        "EMP 1",
        "Error handling",
        basis="The EMP chapters name no time limit: Hubject's 'internally defined period' is not published. The "
        "only figure in OICP 2.3 is the CPO chapters' Best Practice for RemoteStart ('Please ensure a request run "
        "time of under 10 seconds including network roundtrip.', CPO 2), which addresses CPOs; the project holds "
        "the EMP's answers to the same bound, since a customer waits at the charge point for its authorisation.",
    ),
    # ---- Outbound: every call --------------------------------------------------------------------------------------
    Requirement(
        "EMP-OUT-01",
        "every call goes to an OICP 2.3 operation's path with that operation's service version, as POST with a "
        "JSON body (Content-Type application/json)",
        "PRACTICE",
        "The names of all following services contain a version and are based on the pattern “<service>_V<version>”, "
        "e.g. “eRoamingAuthorization_V2.1”.",
        "EMP 2",
        "Services and Operations",
        basis="The REST paths with their version segments (e.g. /api/oicp/evsepull/v23/providers/{providerID}/"
        "data-records), the POST method and the JSON media type come from Hubject's OICP 2.3 OpenAPI definitions, "
        "not from a sentence of the EMP chapters, which only name each operation with its version. A call to "
        "another path, method or media type reaches no 2.3 operation.",
    ),
    Requirement(
        "EMP-OUT-02",
        "the ProviderID of every call (path and body) is the EMP's own: the partner talking to Hubject directly, a "
        "hub provider's own ID, never a sub-provider's",
        "MUST",
        _PROVIDER_ID_OWN,
        "EMP 1",
        "Hub Provider and Hub Operator",
    ),
    Requirement(
        "EMP-OUT-03",
        "every message the EMP sends (requests and answers) is UTF-8 encoded; a declared charset is UTF-8",
        "MUST",
        "All service messages exchanged between Hubject and partner systems MUST use UTF-8 character encoding.",
        "EMP 1",
        "REST",
    ),
    Requirement(
        "EMP-OUT-04",
        "every ID the EMP sends (ProviderID, EvseID, EvcoID, SessionID, OperatorID) matches its type's regular "
        "expression",
        "MUST",
        "A string that MUST be valid with respect to the following regular expression: ISO | DIN",
        "EMP 3",
        "ProviderIDType",
    ),
    Requirement(
        "EMP-OUT-05",
        "every date/time the EMP sends (LastCall, From, To) is a complete ISO 8601 date and time with a time zone "
        "offset",
        "MUST",
        "The time needs to be delivered in the format “complete date plus hours, minutes and seconds” referring to "
        "ISO 8601:1988 (E), with a time zone offset in hours and minutes.",
        "EMP 1",
        "Time zones",
    ),
    Requirement(
        "EMP-OUT-06",
        "every request body is otherwise schema-valid: the members its message table marks M, within their Field "
        "Lengths and enumerations, no members the message does not define",
        "PRACTICE",
        "",
        "",
        "",
        basis="The M/O and Field Length columns and the option tables of EMP 2/EMP 3 as Hubject's OICP 2.3 OpenAPI "
        "definitions encode them; the columns carry no MUST sentence. The sentences that do demand members are "
        "their own requirements (EMP-REMOTE-START-01, EMP-REMOTE-STOP-01, EMP-GET-CDR-01, EMP-PUSH-AUTH-01/02).",
    ),
    Requirement(
        "EMP-OUT-07",
        "every EvcoID the EMP sends (RemoteStart's RemoteIdentification, pushed authentication data) carries its "
        "own ProviderID or one of its sub-providers'",
        "PRACTICE",
        "EvcoIDs contain the ID of the corresponding EMP.",
        "EMP 2",
        _PUSH_AUTH,
        basis="The text states that an EvcoID contains its EMP's ID and that Hubject refuses uploads whose EvcoIDs "
        "do not match the ProviderID (019 Inconsistent EvcoID); no sentence says the same of RemoteStart. An EMP "
        "starting a charge with another provider's contract bills a customer that is not its own.",
    ),
    # ---- Outbound: PullEvseData / PullEvseStatusByID ---------------------------------------------------------------
    Requirement(
        "EMP-EVSE-DATA-01",
        "PullEvseData uses pagination: each request names its page (page/size query parameters)",
        "MUST",
        "This is an implementation that EMPs MUST use in order to divide the amount of EvseDataRecords contained in "
        "the response of the pull request.",
        "EMP 2",
        _PULL_EVSE,
    ),
    Requirement(
        "EMP-EVSE-DATA-02",
        "a PullEvseData reads page after page until the one marked last, missing and repeating none",
        "PRACTICE",
        "The default number of records provided in the eRoamingEvseData response is 20 elements.",
        "EMP 2",
        _PULL_EVSE,
        basis="The text demands pagination (EMP-EVSE-DATA-01) and defines the page fields (number, last, "
        "totalPages) but no sentence says the EMP reads all pages; one that stops at the first knows 20 EVSEs.",
    ),
    Requirement(
        "EMP-EVSE-DATA-03",
        "a delta pull provides LastCall, set to the time of the EMP's previous EVSE pull (not later: no change missed)",
        "MUST",
        "In order to do so, the EMP MUST provide the optional date/time field “LastCall”, indicating his last EVSE "
        "pull request.",
        "EMP 2",
        _PULL_EVSE,
    ),
    Requirement(
        "EMP-EVSE-DATA-04",
        "after a full pull, later PullEvseData calls ask for the changes only (LastCall), without SearchCenter, "
        "CountryCodes or OperatorIDs",
        "PRACTICE",
        "The delta pull option cannot be combined with radial search, because in some cases this could lead to "
        "data inconsistency on the EMP’s side.",
        "EMP 2",
        _PULL_EVSE,
        basis="The text offers delta pulls and says LastCall cannot be combined with SearchCenter, CountryCodes or "
        "OperatorIDs (message table); no sentence demands deltas. The project expects them, as repeated full "
        "pulls of every EVSE load the hub and the EMP for no change.",
    ),
    Requirement(
        "EMP-EVSE-STATUS-01",
        "a PullEvseStatusByID names at most 100 EvseIDs",
        "MUST",
        "The list MUST not contain more than 100 EvseIDs",
        "EMP 2",
        "eRoamingPullEVSEStatusByID Message",
        "pull_evse_status_by_id",
    ),
    # ---- Outbound: RemoteStart / RemoteStop ------------------------------------------------------------------------
    Requirement(
        "EMP-REMOTE-START-01",
        "a RemoteStart contains the ProviderID, the EvseID and the Identification",
        "MUST",
        "The request MUST contain the ProviderID, EvseID and Identification.",
        "EMP 2",
        _REMOTE_START,
    ),
    Requirement(
        "EMP-REMOTE-START-02",
        "a RemoteStart leaves the SessionID to Hubject (no SessionID in the request; a Best Practice)",
        "SHOULD",
        "Best Practices - The SessionID should not be filled in by the EMP in the initial AuthorizationRemoteStart "
        "request.",
        "EMP 2",
        "eRoamingAuthorizeRemoteStart Message",
    ),
    Requirement(
        "EMP-REMOTE-START-03",
        "a RemoteStart identifies the customer with a RemoteIdentification, no other identification option",
        "MUST",
        "For the Remote Authorization process, only the option RemoteIdentification MUST be used in the respective "
        "messages.",
        "EMP 3",
        "IdentificationType",
    ),
    Requirement(
        "EMP-REMOTE-START-04",
        "a RemoteStart targets an EvseID the hub knows (one of the EMP's EVSE data pull, Hubject compatible)",
        "PRACTICE",
        "In case that the CPO has uploaded at least one charging point data record, Hubject will check whether the "
        "requested EvseID is among the uploaded data.",
        "EMP 2",
        _REMOTE_START,
        basis="The text describes the hub's check and its refusals (603 Unknown EvseID, 604 not Hubject "
        "compatible) but no sentence forbids the EMP to ask; the project expects an EMP to start charges at EVSEs "
        "it learnt from PullEvseData, not at made-up IDs its customers then wait at in vain.",
    ),
    Requirement(
        "EMP-REMOTE-STOP-01",
        "a RemoteStop carries the SessionID Hubject created for the EMP's RemoteStart (from its acknowledgement)",
        "MUST",
        "The request MUST contain the SessionID that was created by Hubject after the initial "
        "eRoamingAuthorizeRemoteStart request.",
        "EMP 2",
        "eRoamingAuthorizeRemoteStop_V2.1",
    ),
    # ---- Outbound: GetChargeDetailRecords ---------------------------------------------------------------------------
    Requirement(
        "EMP-GET-CDR-01",
        "a GetChargeDetailRecords names its date range (From and To)",
        "MUST",
        "The EMP MUST specify a date range in the request.",
        "EMP 2",
        _GET_CDRS,
        "get_charge_detail_records",
    ),
    Requirement(
        "EMP-GET-CDR-02",
        "GetChargeDetailRecords uses pagination: each request names its page (page/size query parameters)",
        "MUST",
        "This is an implementation that EMPs MUST use in order to divide the amount of ChargeDetailRecords "
        "contained in the response of the pull request.",
        "EMP 2",
        _GET_CDRS,
        "get_charge_detail_records",
    ),
    Requirement(
        "EMP-GET-CDR-03",
        "a GetChargeDetailRecords reads page after page (size at most 2000) until the one marked last, missing "
        "and repeating none",
        "PRACTICE",
        "The default number of records provided in the response are 20 elements and the maximum number of records "
        "possible to obtain per page are 2000.",
        "EMP 2",
        _GET_CDRS,
        "get_charge_detail_records",
        basis="The text demands pagination (EMP-GET-CDR-02) and states the page sizes, but no sentence says the EMP "
        "reads every page; CDRs on an unread page are never billed.",
    ),
    Requirement(
        "EMP-GET-CDR-04",
        "successive GetChargeDetailRecords ranges leave no gap: each From is at or before the previous To",
        "PRACTICE",
        "Hubject will return a list of all CDRs received by the HBS within the specified date range for the "
        "requesting EMP",
        "EMP 2",
        _GET_CDRS,
        "get_charge_detail_records",
        basis="The text says what a range returns; no sentence says how an EMP chooses its ranges. A CDR the hub "
        "received between two ranges is never downloaded, which for an offline EMP means never billed.",
    ),
    Requirement(
        "EMP-GET-CDR-05",
        "a CDR returned more than once (overlapping ranges, a page read twice, a CDR also pushed) is booked once",
        "PRACTICE",
        "Hubject does not check whether a requested CDR has already been provided to the requesting EMP in the past.",
        "EMP 2",
        _GET_CDRS,
        "get_charge_detail_records",
        basis="The text warns that the hub returns CDRs again but no sentence says what the EMP does with a copy; "
        "the hub keeps one CDR per SessionID ('Hubject will accept only one CDR per SessionID.'), so a second "
        "booking bills a session twice.",
    ),
    # ---- Outbound: PushAuthenticationData --------------------------------------------------------------------------
    Requirement(
        "EMP-PUSH-AUTH-01",
        "every PushAuthenticationData names its ActionType (fullLoad, update, insert or delete)",
        "MUST",
        "How Hubject handles the transferred data MUST be defined in the request field “ActionType”, which offers "
        "four options (see below).",
        "EMP 2",
        _PUSH_AUTH,
        "push_authentication_data",
    ),
    Requirement(
        "EMP-PUSH-AUTH-02",
        "PushAuthenticationData provides its identifications as AuthenticationDataRecord structures in "
        "ProviderAuthenticationData (schema-valid)",
        "MUST",
        "The authentication data to be inserted or updated MUST be provided with the “ProviderAuthenticationData” "
        "field, which consists of “AuthenticationDataRecord” structures.",
        "EMP 2",
        _PUSH_AUTH,
        "push_authentication_data",
    ),
    Requirement(
        "EMP-PUSH-AUTH-03",
        "a pushed HashedPIN names the hash function (and salt) it was made with",
        "MUST",
        "In case that an EMP provides already hashed PINs, he MUST also specify the corresponding hash generation "
        "algorithm so that Hubject can reproduce the hash generation when processing a request for authorization.",
        "EMP 2",
        _PUSH_AUTH,
        "push_authentication_data",
    ),
    Requirement(
        "EMP-PUSH-AUTH-04",
        "after its pushes the hub's store equals the EMP's identifications: fullLoad the full set, insert only "
        "records not yet pushed, update only records already pushed, delete the ones withdrawn",
        "PRACTICE",
        "The EMP uploads the full set of current authentication data.",
        "EMP 2",
        _PUSH_AUTH,
        "push_authentication_data",
        basis="The text defines the four ActionTypes (a fullLoad is the full set; insert of an existing record and "
        "update of a missing one abort the whole push) but no sentence says the hub's store must equal the EMP's "
        "identifications. A fullLoad of a subset or a failed delta silently withdraws or keeps customers the hub "
        "then authorises offline; the project compares the hub's store with the EMP's declared identifications.",
    ),
    Requirement(
        "EMP-PUSH-AUTH-05",
        "PushAuthenticationData requests are sequential: the next waits for the previous one's response",
        "MUST",
        "In order to guarantee data consistency, data push requests that address the same operation MUST always be "
        "processed sequentially.",
        "EMP 1",
        "Data push operations",
        "push_authentication_data",
    ),
    # ---- Acknowledgement handling (outbound) -----------------------------------------------------------------------
    Requirement(
        "EMP-ACK-01",
        "a refusal (Result false with e.g. 602 in use, 603 unknown EvseID, 604 not compatible, 300 partner not "
        "found, 210 no valid contract, 019 inconsistent EvcoID) is surfaced with its code (where a probe or log is "
        "declared), not taken for success",
        "PRACTICE",
        "The different states are standardized in order to make automated status processing possible.",
        "EMP 1",
        "Status codes",
        basis="The text standardises the codes for automated processing but no sentence says what the EMP does "
        "with a refusal; the project expects its customer or operator to learn that, and why, a start, stop or "
        "push failed.",
    ),
    Requirement(
        "EMP-ACK-02",
        "a definitive refusal (602, 603, 604, 300, 210, 017, 019, 022, an invalid SessionID) is not sent again "
        "unchanged at once",
        "PRACTICE",
        "If not, Hubject will respond with the status code 603 “Unknown EvseID”.",
        "EMP 2",
        _REMOTE_START,
        basis="No sentence forbids sending again after Result false. The text names refusals caused by the request "
        "itself (603/604 here, 017 on a ProviderID not matching the certificate in EMP 1 Security, 019 on foreign "
        "EvcoIDs, a negative response to an invalid SessionID in EMP 1 Session handling); the same request sent "
        "again at once can only be refused again. Hub-side errors are different (EMP-ACK-03).",
    ),
    Requirement(
        "EMP-ACK-03",
        "a call that met a connection error or a hub-side error (a dropped connection, a timeout, HTTP 5xx, the "
        "default acknowledgement with 001, 002, 009 or 021) is sent again later, not dropped",
        "MUST",
        _COPE,
        "EMP 1",
        "Error handling",
    ),
    Requirement(
        "EMP-ACK-04",
        "immediate retries are bounded by the declared max_retries (no endless retrying of a failing hub)",
        "PRACTICE",
        "",
        "",
        "",
        basis="Project practice: retries against a hub that keeps failing only add load; the SUT declares its "
        "bound (max_retries). No sentence limits retries.",
    ),
    Requirement(
        "EMP-ACK-05",
        "after HTTP 429 the next try waits for Retry-After",
        "PRACTICE",
        "",
        "",
        "",
        basis="HTTP practice (RFC 6585 429 Too Many Requests, RFC 9110 Retry-After) and Hubject's rate limits on "
        "the real hub; the OICP 2.3 text never mentions 429 or Retry-After.",
    ),
    Requirement(
        "EMP-ACK-06",
        "every valid hub answer, of any shape (a default eRoamingAcknowledgement in place of the operation's "
        "response, optional members absent, empty lists, any code of the list), is handled without the EMP "
        "failing: it keeps answering and calling",
        "PRACTICE",
        "The system will then respond to the service requestor with a default eRoamingAcknowledgement message.",
        "EMP 1",
        "Error handling",
        basis="The text shows that any operation may be answered with a default eRoamingAcknowledgement and leaves "
        "many members optional, but no sentence speaks of the requester's robustness; the project expects an EMP "
        "to survive every answer the schemas allow.",
    ),
    # ---- Flows -----------------------------------------------------------------------------------------------------
    Requirement(
        "EMP-FLOW-01",
        "RemoteStart, Start notification (where charging_notifications is declared), CDR: the CDR of the session "
        "the EMP started, under the SessionID of the RemoteStart acknowledgement, is acknowledged Result true and "
        "booked once",
        "MUST",
        _CDR_ACK,
        "EMP 2",
        _CDR,
    ),
    Requirement(
        "EMP-FLOW-02",
        "AuthorizeStart forwarded by the hub and authorised, stop (AuthorizeStop where authorize_stop is declared), "
        "CDR: the CDR of the session the EMP authorised is acknowledged Result true and booked once",
        "MUST",
        _CDR_ACK,
        "EMP 2",
        _CDR,
    ),
    Requirement(
        "EMP-FLOW-03",
        "offline: identifications pushed with PushAuthenticationData let the hub authorise a charge, and the "
        "EMP's GetChargeDetailRecords then finds that session's CDR and books it once",
        "MUST",
        "This message is only mandatory for offline EMPs.",
        "EMP 2",
        "eRoamingGetChargeDetailRecords Message",
    ),
)

EMP: dict[str, Requirement] = {r.id: r for r in _REQUIREMENTS}

# Requirements on what the EMP serves (requests Hubject forwards to it) or on flows through such requests: an
# offline EMP serves nothing, so all of these hold for online EMPs only.
EMP_INBOUND: frozenset[str] = frozenset(
    {rid for rid in EMP if rid.startswith("EMP-IN-")} | {"EMP-FLOW-01", "EMP-FLOW-02"}
)

# Operations only an EMP that declares the feature calls or serves, per mode. AuthorizeStop and charging
# notifications are "Implementation: OPTIONAL" (EMP 2; the AuthorizationStop note's "only mandatory for online
# EMPs" makes the answer mandatory once the request comes, not the operation); GetChargeDetailRecords is "EMP Online
# OPTIONAL, EMP Offline MANDATORY"; PushAuthenticationData is "Implementation: MANDATORY" and "only for EMPs
# onboarded to the Hubject platform as offline EMPs" (EMP 2), which the catalogue reads as mandatory offline and
# optional online (erratum E-A04); PullEvseStatusByID is a service Hubject "offers" besides PullEvseStatus.
_OPTIONAL_IN: dict[str, frozenset[str]] = {
    "authorize_stop": _ON,
    "charging_notifications": _ON,
    "get_charge_detail_records": _ON,
    "push_authentication_data": _ON,
    "pull_evse_status_by_id": _BOTH,
}

# Which kinds of EMP each requirement applies to.
EMP_MODES: dict[str, frozenset[str]] = {
    rid: (_ON if rid in EMP_INBOUND else _OFF if rid == "EMP-FLOW-03" else _BOTH) for rid in EMP
}

# In which of its modes the operation a requirement judges is mandatory (in the others it is optional: judged only
# where the EMP declares the requirement's feature).
EMP_MANDATORY: dict[str, frozenset[str]] = {
    rid: EMP_MODES[rid] - (_OPTIONAL_IN[r.feature] if r.feature else _NONE) for rid, r in EMP.items()
}


def _check() -> None:
    # Caught at import, as Requirement checks itself: a mode table that disagrees with the requirements never
    # reaches a verdict.
    if len(EMP) != len(_REQUIREMENTS):
        raise ValueError("duplicate EMP requirement IDs")
    for rid, r in EMP.items():
        if not rid.startswith("EMP-"):
            raise ValueError(f"{rid}: EMP requirement IDs start with EMP-")
        if r.chapter and not r.chapter.startswith("EMP "):
            raise ValueError(f"{rid}: quotes come from the EMP chapters, not {r.chapter}")
        if r.feature is not None and r.feature not in FEATURES:
            raise ValueError(f"{rid}: unknown feature {r.feature!r}")
        if not EMP_MODES[rid] or not EMP_MODES[rid] <= MODES:
            raise ValueError(f"{rid}: modes {sorted(EMP_MODES[rid])} are not a non-empty subset of {sorted(MODES)}")
        if not EMP_MANDATORY[rid] <= EMP_MODES[rid]:
            raise ValueError(f"{rid}: mandatory in a mode it does not apply to")
        if rid in EMP_INBOUND and OFFLINE in EMP_MODES[rid]:
            raise ValueError(f"{rid}: an offline EMP serves nothing, so inbound requirements are online-only")


_check()
