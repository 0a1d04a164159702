"""OICP rules beyond the JSON schema, judged on the messages a CPO sends to the hub.

Interface (shared by the suite's journal-wide judgement and the rule checks themselves):
`judge_calls(sut, calls)` takes the hub journal of one test (the SUT's calls to the hub) and returns, per
requirement ID it could judge, the problems found (an empty list: judged and passed). A requirement that
does not apply to any of the calls is absent from the result, so it stays "not judged" for that test.

Each rule is a pure function over one message (or one EVSE record) returning `Breach`es with the JSON pointer
of what breaks it; `judge_calls` only finds the messages, the EVSE data the SUT pushed in the same journal and
the charge point's time zone, and groups the breaches by requirement (see RULE_REQUIREMENTS).

Where the local time of a charge point comes from (CPO-RULE-04), most precise first:
1. the declaration's `time_zone` (an IANA name such as "Europe/Berlin": DST-aware, one zone for all EVSEs);
2. the EVSE's own Address.TimeZone in EVSE data the SUT pushed in the same journal. OICP's TimeZoneType is a
   fixed "UTC+01:00", which says nothing about daylight saving time, so it is read together with the
   Address.Country: the zones of that country that are at this offset at some time of the year. A timestamp
   passes when its offset is what one of those zones is at that instant (never a false failure for a zone the
   suite guessed wrong); a TimeZone that fits no zone of its country leaves the timestamp unjudged.
Neither known: the offsets are not judged (only a timestamp without any offset is a breach)."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.hub import Call
    from conformance.sut import Sut

IDENTIFICATION = "CPO-RULE-01"  # MUST: one identification option of a kind the message allows, a QR PIN in clear
EVSE_DATA = "CPO-RULE-02"  # MUST: geo coordinates in one format, renewable energy, signed values where External
DESCRIBED = "CPO-RULE-03"  # PRACTICE: opening times, "No Payment" alone, no 2.2 MeteringSignature in a 2.3 CDR
LOCAL_TIME = "CPO-RULE-04"  # MUST: every date-time at the charge point's UTC offset at that instant
COUNTRY = "CPO-RULE-07"  # MUST: an EVSE's Address.Country is an ISO 3166-1 alpha-3 code
REMOTE = "CPO-RULE-08"  # MUST: the messages of a remotely started session identify with RemoteIdentification only

# Requirement IDs these rules report under.
RULE_REQUIREMENTS: tuple[str, ...] = (IDENTIFICATION, EVSE_DATA, DESCRIBED, LOCAL_TIME, COUNTRY)
# Rules judged on every journal as well, but on messages of a session the suite started (its session tests drive
# them), not on the flow of suites/cpo/test_rules.py: reported under their own IDs.
SESSION_RULES: tuple[str, ...] = (REMOTE,)

OPTIONS = (
    "RFIDMifareFamilyIdentification",
    "RFIDIdentification",
    "QRCodeIdentification",
    "PlugAndChargeIdentification",
    "RemoteIdentification",
)
GEO_FORMATS = ("Google", "DecimalDegree", "DegreeMinuteSeconds")
# CPO 3 EnergyType: Solar, Wind, HydroPower, GeothermalEnergy and Biomass are renewable; the rest "grey".
RENEWABLE = frozenset({"Solar", "Wind", "HydroPower", "GeothermalEnergy", "Biomass"})
GREY = frozenset({"Coal", "NuclearEnergy", "Petroleum", "NaturalGas"})
MAX_PIN = 20  # CPO 3 QRCodeIdentificationType: PIN, Field Length 0-20
AUTHORIZATIONS = ("eRoamingAuthorizeStart", "eRoamingAuthorizeStop")

# The hub operation a CPO calls -> the message it sends (notifications and pricing need no name here).
MESSAGES = {
    "AuthorizeStart.hub": "eRoamingAuthorizeStart",
    "AuthorizeStop.hub": "eRoamingAuthorizeStop",
    "ChargeDetailRecord.hub": "eRoamingChargeDetailRecord",
    "PushEvseData.hub": "eRoamingPushEvseData",
}
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(?P<tz>[Zz]|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True)
class Breach:
    """One rule broken at one place of a message: `pointer` is the JSON pointer inside that message."""

    requirement: str
    pointer: str
    text: str


def _pointer(parent: str, key: str | int) -> str:
    return f"{parent}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _members(node: Any, names: tuple[str, ...], at: str = "") -> Iterator[tuple[str, Any]]:
    """(pointer, value) of every member called one of `names`, anywhere in the message."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = _pointer(at, key)
            if key in names:
                yield where, value
            yield from _members(value, names, where)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _members(item, names, _pointer(at, index))


# --- CPO-RULE-01: identifications ------------------------------------------------------------------------


def identification_breaches(message: str, body: Any) -> list[Breach]:
    """Every Identification object of the message: exactly one option ("One of the following five options MUST
    be provided", CPO 3 IdentificationType); no RFIDIdentification in AuthorizeStart/Stop ("The option
    RFIDIdentification MUST not be used in the eRoamingAuthorization process."); a QR code in AuthorizeStart
    with its PIN in clear text, at most 20 characters, and no HashedPIN ("the PIN value MUST always be provided
    in clear text within the eRoamingAuthorizeStart request", CPO 2; HashedPIN: "In Authorization requests this
    field must be null!", CPO 3)."""
    found: list[Breach] = []
    for where, ident in _members(body, ("Identification",)):
        if not isinstance(ident, dict):
            continue  # the schema's business
        given = [k for k in OPTIONS if ident.get(k) is not None]
        if len(given) != 1:
            what = "none of the five options" if not given else f"{len(given)} options ({', '.join(given)})"
            found.append(Breach(IDENTIFICATION, where, f"carries {what}; exactly one must be provided"))
        if message in AUTHORIZATIONS and ident.get("RFIDIdentification") is not None:
            found.append(
                Breach(
                    IDENTIFICATION,
                    _pointer(where, "RFIDIdentification"),
                    f"{message} uses RFIDIdentification, which must not be used in authorisations "
                    "(an RFID card is sent as RFIDMifareFamilyIdentification)",
                )
            )
        qr = ident.get("QRCodeIdentification")
        if message == "eRoamingAuthorizeStart" and isinstance(qr, dict):
            found += _qr_pin(_pointer(where, "QRCodeIdentification"), qr)
    return found


def _qr_pin(where: str, qr: dict[str, Any]) -> list[Breach]:
    found = []
    if qr.get("HashedPIN") is not None:
        found.append(
            Breach(
                IDENTIFICATION,
                _pointer(where, "HashedPIN"),
                "AuthorizeStart carries a HashedPIN: the PIN must be sent in clear text (the hub hashes it; a "
                "hash of a hash is refused)",
            )
        )
    pin = qr.get("PIN")
    if not isinstance(pin, str):
        found.append(Breach(IDENTIFICATION, _pointer(where, "PIN"), "AuthorizeStart's QR code carries no clear PIN"))
    elif len(pin) > MAX_PIN:
        found.append(
            Breach(IDENTIFICATION, _pointer(where, "PIN"), f"the PIN has {len(pin)} characters, at most {MAX_PIN}")
        )
    return found


# --- CPO-RULE-02 and -03: EVSE data records ----------------------------------------------------------------


def geo_breaches(record: dict[str, Any], at: str = "") -> list[Breach]:
    """GeoCoordinates (and GeoChargingPointEntrance) in exactly one format: "One of the following three options
    MUST be provided" (CPO 3 GeoCoordinatesType)."""
    found = []
    for where, geo in _members(record, ("GeoCoordinates", "GeoChargingPointEntrance"), at):
        if not isinstance(geo, dict):
            continue
        given = [k for k in GEO_FORMATS if geo.get(k) is not None]
        if len(given) != 1:
            what = "no format" if not given else f"{len(given)} formats ({', '.join(given)})"
            found.append(Breach(EVSE_DATA, where, f"gives {what}; exactly one of {', '.join(GEO_FORMATS)}"))
    return found


def renewable_breaches(record: dict[str, Any], at: str = "") -> list[Breach]:
    """RenewableEnergy true only when no grey EnergySource is listed: "If the Charging Station provides only
    renewable energy then the value MUST be true, if it use grey energy then value MUST be false" (CPO 3
    EvseDataRecordType). A grey source given with Percentage 0 supplies nothing and passes."""
    if record.get("RenewableEnergy") is not True or not isinstance(record.get("EnergySource"), list):
        return []
    found = []
    for index, source in enumerate(record["EnergySource"]):
        if not isinstance(source, dict) or source.get("Energy") not in GREY:
            continue
        share = source.get("Percentage")
        if isinstance(share, int | float) and not isinstance(share, bool) and share <= 0:
            continue
        found.append(
            Breach(
                EVSE_DATA,
                _pointer(_pointer(at, "EnergySource"), index),
                f"RenewableEnergy is true but the station uses {source['Energy']}"
                + (f" ({share} %)" if share is not None else "")
                + ", which is not renewable",
            )
        )
    return found


def signed_values_breaches(cdr: dict[str, Any], record: dict[str, Any] | None) -> list[Breach]:
    """A CDR of an EVSE whose data say CalibrationLawDataAvailability "External" carries SignedMeteringValues:
    "This field MUST be provided when the EVSEID in the ChargeDetailRecord contains the "External" value in the
    CalibrationLawDataAvailability field." (CPO 3 SignedMeteringValuesType). Unknown EVSE data: nothing to say."""
    if record is None or record.get("CalibrationLawDataAvailability") != "External":
        return []
    if isinstance(cdr.get("SignedMeteringValues"), list) and cdr["SignedMeteringValues"]:
        return []
    return [
        Breach(
            EVSE_DATA,
            "/SignedMeteringValues",
            f'EVSE {cdr.get("EvseID")} provides calibration law data externally (its EVSE data say "External"), '
            "but the CDR carries no SignedMeteringValues",
        )
    ]


def described_record_breaches(record: dict[str, Any], at: str = "") -> list[Breach]:
    """What the data types describe without a MUST word: OpeningTimes "in case that the charging station cannot
    be accessed around the clock" (M/O: given when IsOpen24Hours is false), and "No Payment can not be combined
    with other payment option" (CPO 3 PaymentOptionType)."""
    found = []
    if record.get("IsOpen24Hours") is False and not record.get("OpeningTimes"):
        found.append(
            Breach(DESCRIBED, _pointer(at, "OpeningTimes"), "IsOpen24Hours is false but no OpeningTimes are given")
        )
    options = record.get("PaymentOptions")
    if isinstance(options, list) and "No Payment" in options and len(set(options)) > 1:
        others = ", ".join(sorted({o for o in options if o != "No Payment"}, key=str))
        found.append(Breach(DESCRIBED, _pointer(at, "PaymentOptions"), f'"No Payment" is combined with {others}'))
    return found


def metering_signature_breaches(cdr: dict[str, Any], release: str) -> list[Breach]:
    """OICP 2.3 deleted the CDR's MeteringSignature (release notes; SignedMeteringValues replace it): a 2.3 CDR
    still carrying it sends calibration data the 2.3 EMP never reads. The schema lets the unknown member pass."""
    if release != "2.3" or cdr.get("MeteringSignature") is None:
        return []
    return [
        Breach(
            DESCRIBED,
            "/MeteringSignature",
            "a 2.3 CDR carries the 2.2 member MeteringSignature (deleted in 2.3: send SignedMeteringValues)",
        )
    ]


# --- CPO-RULE-07: country codes; CPO-RULE-08: a remote session's identification --------------------------


def country_breaches(record: dict[str, Any], at: str = "") -> list[Breach]:
    """Address.Country is an ISO 3166-1 alpha-3 code: "Alpha 3 ISO (ISO 3166-1) code is required, (e.g. 'DEU',
    'FRA', 'USA')." (CPO 2 eRoamingEvseData Best Practices; CountryCodeType: "Alpha-3 country codes only"). The
    schema only counts three characters. Letter case is not judged (the code list is upper case, the text never
    says a receiver must tell 'deu' from 'DEU')."""
    address = record.get("Address")
    country = address.get("Country") if isinstance(address, dict) else None
    if not isinstance(country, str) or _iso_country(country):
        return []  # absent or not a string: the schema's business
    return [
        Breach(
            COUNTRY,
            _pointer(_pointer(at, "Address"), "Country"),
            f"Country {country!r} is no ISO 3166-1 alpha-3 code (e.g. DEU, FRA, USA)",
        )
    ]


def _iso_country(code: str) -> bool:
    import pycountry

    return len(code) == 3 and pycountry.countries.get(alpha_3=code.upper()) is not None


def remote_breaches(body: dict[str, Any], began_with: Any) -> list[Breach]:
    """A message of a session the hub brokered from a RemoteStart (with RemoteIdentification) identifies the
    customer with RemoteIdentification only: "For the Remote Authorization process, only the option
    RemoteIdentification MUST be used in the respective messages." (CPO 3 IdentificationType). A message without
    an Identification (optional in notifications) says nothing; a start the suite made with another option is
    not judged here (the suite's own doing)."""
    ident = body.get("Identification")
    if not isinstance(ident, dict) or not _remote(began_with):
        return []
    given = _options(ident)
    if given == ["RemoteIdentification"]:
        return []
    what = ", ".join(given) or "no option"
    return [
        Breach(
            REMOTE,
            "/Identification",
            f"the session was started remotely (RemoteStart with RemoteIdentification), but this message identifies "
            f"the customer with {what}: a remote authorisation's messages use RemoteIdentification only",
        )
    ]


def _options(ident: dict[str, Any]) -> list[str]:
    return [k for k in OPTIONS if ident.get(k) is not None]


def _remote(identification: Any) -> bool:
    """Whether a session began with a RemoteIdentification alone (as Hubject's RemoteStart carries it)."""
    return isinstance(identification, dict) and _options(identification) == ["RemoteIdentification"]


# --- CPO-RULE-04: local time of the charge point ----------------------------------------------------------


@dataclass(frozen=True)
class LocalTime:
    """Where a charge point is on the clock: the zones it may be in, and where that knowledge comes from."""

    source: str  # e.g. "Europe/Berlin, the declaration's time_zone"
    zones: tuple[tzinfo, ...]

    def offsets(self, instant: datetime) -> set[timedelta]:
        """The UTC offsets the charge point may have at this instant (one, for a declared IANA zone)."""
        found = set()
        for zone in self.zones:
            offset = instant.astimezone(zone).utcoffset()
            if offset is not None:
                found.add(offset)
        return found


def zone(name: str) -> tzinfo | None:
    """The IANA zone, or None when the name is unknown or the machine has no time zone database."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def declared_time(name: str | None) -> LocalTime | None:
    found = zone(name) if name else None
    return LocalTime(f"{name}, the declaration's time_zone", (found,)) if found is not None else None


_UTC_OFFSET = re.compile(r"^UTC([+-])(\d{2}):(\d{2})$")


def pushed_time(record: dict[str, Any], year: int) -> LocalTime | str | None:
    """The charge point's zones from its pushed Address (TimeZone and Country); a reason when they cannot be
    told; None when the record gives no TimeZone."""
    address = record.get("Address") if isinstance(record.get("Address"), dict) else {}
    stated, country = address.get("TimeZone"), address.get("Country")
    if not isinstance(stated, str):
        return None
    match = _UTC_OFFSET.match(stated)
    if match is None:
        return f"its Address.TimeZone {stated!r} is no UTC offset"
    sign = -1 if match.group(1) == "-" else 1
    offset = sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
    names = country_zones(country if isinstance(country, str) else "")
    if not names:
        return f"no time zone table knows country {country!r} (its Address.TimeZone is {stated})"
    marks = (datetime(year, 1, 15, 12, tzinfo=UTC), datetime(year, 7, 15, 12, tzinfo=UTC))
    zones = []
    for name in names:
        found = zone(name)
        if found is not None and any(m.astimezone(found).utcoffset() == offset for m in marks):
            zones.append(found)
    if not zones:
        return f"its Address.TimeZone {stated} fits no time zone of {country}"
    return LocalTime(f"Address.TimeZone {stated} in {country} of the EVSE data pushed", tuple(zones))


@cache
def _zone_table() -> dict[str, tuple[str, ...]]:
    """ISO 3166 alpha-2 country -> IANA zone names, from the time zone database's zone1970.tab and zone.tab."""
    texts = []
    for folder in zoneinfo.TZPATH:
        for name in ("zone1970.tab", "zone.tab"):
            path = Path(folder) / name
            if path.is_file():
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
    if not texts:  # Windows and slim images: the tzdata package, where installed
        try:
            folder = resources.files("tzdata").joinpath("zoneinfo")
            texts = [folder.joinpath(n).read_text(encoding="utf-8") for n in ("zone1970.tab", "zone.tab")]
        except (ModuleNotFoundError, FileNotFoundError, OSError):
            texts = []
    table: dict[str, set[str]] = {}
    for text in texts:
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) >= 3:
                for code in fields[0].split(","):
                    table.setdefault(code.strip().upper(), set()).add(fields[2].strip())
    return {code: tuple(sorted(names)) for code, names in table.items()}


def country_zones(country: str) -> tuple[str, ...]:
    """The IANA zones of a country given as ISO 3166 alpha-3 (OICP's form) or alpha-2."""
    code = country.strip().upper()
    if len(code) == 3:
        import pycountry

        found = pycountry.countries.get(alpha_3=code)
        code = found.alpha_2 if found is not None else ""
    return _zone_table().get(code, ())


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def time_breaches(body: Any, local: LocalTime | None) -> tuple[list[Breach], int]:
    """Every date-time of the message against the charge point's local offset at that instant: "It is mandatory
    for CPO's to provide date/time values including a time zone offset which refers to the charge point location"
    (CPO 1 Time zones). Returns the breaches and how many timestamps were compared with a known local time.

    A timestamp without offset is a breach whatever is known; "Z" and +00:00 pass only where the zone is at 0."""
    found: list[Breach] = []
    compared = 0
    for where, text in _date_times(body):
        match = _DATE_TIME.match(text)
        assert match is not None
        if match.group("tz") is None:
            found.append(Breach(LOCAL_TIME, where, f"{text} has no UTC offset"))
            continue
        if local is None:
            continue
        try:
            instant = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            continue  # not a real date (the schema's business)
        expected = local.offsets(instant)
        if not expected:
            continue
        compared += 1
        offset = instant.utcoffset()
        if text.endswith("-00:00"):
            found.append(Breach(LOCAL_TIME, where, f"{text} says its local offset is unknown (-00:00)"))
        elif offset not in expected:
            wanted = " or ".join(sorted(_offset_text(o) for o in expected))
            found.append(
                Breach(
                    LOCAL_TIME,
                    where,
                    f"{text} is at UTC offset {_offset_text(offset or timedelta(0))}, but the charge point "
                    f"({local.source}) is at {wanted} at that instant",
                )
            )
    return found, compared


def _date_times(node: Any, at: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _date_times(value, _pointer(at, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _date_times(item, _pointer(at, index))
    elif isinstance(node, str) and _DATE_TIME.match(node):
        yield at, node


# --- the journal ------------------------------------------------------------------------------------------


def pushed_records(calls: Sequence[Call]) -> dict[str, dict[str, Any]]:
    """EvseID -> the latest EvseDataRecord the SUT pushed in these calls (deletions left out)."""
    records: dict[str, dict[str, Any]] = {}
    for call in calls:
        if call.direction != "in" or call.operation != "PushEvseData.hub" or not isinstance(call.body, dict):
            continue
        if call.body.get("ActionType") == "delete":
            continue
        for record in _evse_records(call.body):
            if isinstance(record.get("EvseID"), str):
                records[record["EvseID"]] = record
    return records


def _evse_records(body: dict[str, Any]) -> list[dict[str, Any]]:
    data = body.get("OperatorEvseData")
    records = data.get("EvseDataRecord") if isinstance(data, dict) else None
    return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []


def local_time(sut: Sut, evse_id: Any, records: dict[str, dict[str, Any]], year: int) -> LocalTime | str | None:
    """The charge point's local time for a message about `evse_id` (see the module docstring)."""
    declared = declared_time(getattr(sut, "time_zone", None))
    if declared is not None:
        return declared
    record = records.get(evse_id) if isinstance(evse_id, str) else None
    return pushed_time(record, year) if record is not None else None


def judge_calls(sut: Sut, calls: Sequence[Call]) -> dict[str, list[str]]:
    """Per requirement ID, the rule breaches in the SUT's calls (see the module docstring)."""
    records = pushed_records(calls)
    judged: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for call in calls:
        if call.direction != "in" or call.operation is None or not isinstance(call.body, dict):
            continue
        key = (call.operation, repr(call.body))
        if key in seen:  # a retry of the same message: judged once
            continue
        seen.add(key)
        for rid, breaches in _judge_message(sut, call, records).items():
            problems = judged.setdefault(rid, [])
            problems += [f"{call.operation} (hub call #{call.seq}) {b.pointer or '/'}: {b.text}" for b in breaches]
    return judged


def _judge_message(sut: Sut, call: Call, records: dict[str, dict[str, Any]]) -> dict[str, list[Breach]]:
    """The requirements this one message is judged under, each with its breaches (empty: it held)."""
    body: dict[str, Any] = call.body
    message = MESSAGES.get(call.operation or "", "")
    out: dict[str, list[Breach]] = {}
    if any(isinstance(v, dict) for _, v in _members(body, ("Identification",))):
        out[IDENTIFICATION] = identification_breaches(message, body)
    if message == "eRoamingPushEvseData" and body.get("ActionType") != "delete":
        base = "/OperatorEvseData/EvseDataRecord"
        data = body.get("OperatorEvseData")
        listed = data.get("EvseDataRecord") if isinstance(data, dict) else None
        for index, record in enumerate(listed if isinstance(listed, list) else []):
            if isinstance(record, dict):
                at = _pointer(base, index)
                out.setdefault(EVSE_DATA, []).extend(geo_breaches(record, at) + renewable_breaches(record, at))
                out.setdefault(DESCRIBED, []).extend(described_record_breaches(record, at))
                if isinstance(record.get("Address"), dict):
                    out.setdefault(COUNTRY, []).extend(country_breaches(record, at))
    if message == "eRoamingChargeDetailRecord":
        if sut.release == "2.3":
            out.setdefault(DESCRIBED, []).extend(metering_signature_breaches(body, sut.release))
        record = records.get(body.get("EvseID")) if isinstance(body.get("EvseID"), str) else None
        if record is not None:
            out.setdefault(EVSE_DATA, []).extend(signed_values_breaches(body, record))
    remote = call.session_origin == "remote" and _remote(call.session_identification)
    if remote and isinstance(body.get("Identification"), dict):
        out[REMOTE] = remote_breaches(body, call.session_identification)
    year = datetime.fromtimestamp(call.at, UTC).year if call.at else datetime.now(UTC).year
    local = local_time(sut, body.get("EvseID"), records, year)
    breaches, compared = time_breaches(body, local if isinstance(local, LocalTime) else None)
    if compared or breaches:
        out[LOCAL_TIME] = breaches
    return out
