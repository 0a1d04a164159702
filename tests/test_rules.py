"""OICP rules beyond the schema (conformance/checks/rules.py): each rule both ways on hand-built messages,
the time zone rule at the DST edges of Europe/Berlin, the journal as the suite hands it over, and the suite's own
generated messages keeping the rules (a forwarding SUT is never blamed for them)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from conformance.checks import rules
from conformance.checks.rules import LocalTime, declared_time, judge_calls, pushed_time, time_breaches
from conformance.hub import Call
from conformance.strategies import draw_many, valid
from conformance.sut import Sut
from conformance.sut.declaration import ConfigError, parse
from conformance.sut.messages import message_for

EVSE = "DE*REF*E1001*1"
QR = {"QRCodeIdentification": {"EvcoID": "DE-DCB-C00004711-3", "PIN": "1234"}}
RFID = {"RFIDMifareFamilyIdentification": {"UID": "04A2B3C4"}}
BERLIN = declared_time("Europe/Berlin")


def sut(time_zone: str | None = None, release: str = "2.3") -> Sut:
    return Sut(
        role="cpo",
        release=release,
        base_url="http://127.0.0.1:1",
        operator_id="DE*REF",
        evse_ids=(EVSE,),
        time_zone=time_zone,
    )


def record(**changes: Any) -> dict[str, Any]:
    """An EvseDataRecord that keeps every rule; `changes` break one (None removes the member)."""
    base: dict[str, Any] = {
        "EvseID": EVSE,
        "Address": {
            "Country": "DEU",
            "City": "Berlin",
            "Street": "Torstrasse",
            "PostalCode": "10119",
            "HouseNum": "1",
            "TimeZone": "UTC+01:00",
        },
        "GeoCoordinates": {"DecimalDegree": {"Latitude": "52.529", "Longitude": "13.401"}},
        "RenewableEnergy": True,
        "EnergySource": [{"Energy": "Wind", "Percentage": 60}, {"Energy": "Solar", "Percentage": 40}],
        "CalibrationLawDataAvailability": "External",
        "PaymentOptions": ["Contract", "Direct"],
        "IsOpen24Hours": True,
    }
    for key, value in changes.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def cdr(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "SessionID": "b2688855-7f00-0002-6d8e-48d883f6abb6",
        "EvseID": EVSE,
        "Identification": RFID,
        "SessionStart": "2026-11-30T10:00:00+01:00",
        "ChargingStart": "2026-11-30T10:00:05+01:00",
        "ChargingEnd": "2026-11-30T11:00:00+01:00",
        "SessionEnd": "2026-11-30T11:00:05+01:00",
        "ConsumedEnergy": 11.0,
        "SignedMeteringValues": [{"SignedMeteringValue": "OCMF|start", "MeteringStatus": "Start"}],
    }
    for key, value in changes.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def texts(breaches: list[rules.Breach]) -> list[str]:
    return [f"{b.pointer}: {b.text}" for b in breaches]


# --- CPO-RULE-01 ------------------------------------------------------------------------------------------


def test_one_identification_option_of_a_kind_the_message_allows() -> None:
    start = {"OperatorID": "DE*REF", "Identification": QR}
    assert rules.identification_breaches("eRoamingAuthorizeStart", start) == []
    assert rules.identification_breaches("eRoamingChargeDetailRecord", cdr()) == []
    two = {"Identification": {**RFID, **QR}}
    [breach] = rules.identification_breaches("eRoamingChargeDetailRecord", two)
    assert breach.pointer == "/Identification" and "2 options" in breach.text
    none = rules.identification_breaches("eRoamingChargeDetailRecord", {"Identification": {"Foo": {}}})
    assert [b.pointer for b in none] == ["/Identification"] and "none of the five" in none[0].text
    # an option given as null is no option (the text itself uses null for "absent")
    assert rules.identification_breaches("eRoamingAuthorizeStop", {"Identification": {**RFID, "QR": None}}) == []
    generic = {"Identification": {"RFIDIdentification": {"UID": "04A2B3C4", "RFIDType": "mifareCls"}}}
    [rfid] = rules.identification_breaches("eRoamingAuthorizeStop", generic)
    assert rfid.pointer == "/Identification/RFIDIdentification" and "must not be used" in rfid.text
    assert rules.identification_breaches("eRoamingChargeDetailRecord", generic) == []  # not an authorisation


def test_a_qr_code_in_authorize_start_carries_its_pin_in_clear() -> None:
    def start(**qr: Any) -> dict[str, Any]:
        return {"Identification": {"QRCodeIdentification": {"EvcoID": "DE-DCB-C00004711-3", **qr}}}

    assert rules.identification_breaches("eRoamingAuthorizeStart", start(PIN="1" * 20, HashedPIN=None)) == []
    hashed = start(HashedPIN={"Value": "a" * 64, "Function": "Bcrypt"})
    assert texts(rules.identification_breaches("eRoamingAuthorizeStart", hashed)) == [
        "/Identification/QRCodeIdentification/HashedPIN: AuthorizeStart carries a HashedPIN: the PIN must be sent "
        "in clear text (the hub hashes it; a hash of a hash is refused)",
        "/Identification/QRCodeIdentification/PIN: AuthorizeStart's QR code carries no clear PIN",
    ]
    [long] = rules.identification_breaches("eRoamingAuthorizeStart", start(PIN="1" * 21))
    assert long.pointer.endswith("/PIN") and "21 characters" in long.text
    # only AuthorizeStart: the hashed PIN is what an EMP uploads, and a CDR only repeats the identification
    assert rules.identification_breaches("eRoamingChargeDetailRecord", hashed) == []


# --- CPO-RULE-02 and -03 ----------------------------------------------------------------------------------


def test_geo_coordinates_in_exactly_one_format() -> None:
    assert rules.geo_breaches(record()) == []
    two = record(
        GeoCoordinates={"DecimalDegree": {"Latitude": "1.0", "Longitude": "2.0"}, "Google": {"Coordinates": "1.0 2.0"}}
    )
    [breach] = rules.geo_breaches(two, "/OperatorEvseData/EvseDataRecord/0")
    assert breach.pointer == "/OperatorEvseData/EvseDataRecord/0/GeoCoordinates"
    assert "2 formats (Google, DecimalDegree)" in breach.text
    entrance = record(GeoChargingPointEntrance={})
    assert [b.pointer for b in rules.geo_breaches(entrance)] == ["/GeoChargingPointEntrance"]


def test_renewable_energy_only_without_grey_sources() -> None:
    assert rules.renewable_breaches(record()) == []
    coal = record(EnergySource=[{"Energy": "Wind", "Percentage": 70}, {"Energy": "Coal", "Percentage": 30}])
    [breach] = rules.renewable_breaches(coal)
    assert breach.pointer == "/EnergySource/1" and "Coal (30 %)" in breach.text
    assert rules.renewable_breaches(record(EnergySource=[{"Energy": "NuclearEnergy"}]))  # no share: it is used
    assert rules.renewable_breaches(record(EnergySource=[{"Energy": "Coal", "Percentage": 0}])) == []
    assert rules.renewable_breaches(record(RenewableEnergy=False, EnergySource=[{"Energy": "Coal"}])) == []
    assert rules.renewable_breaches(record(EnergySource=None)) == []  # nothing listed: nothing to contradict


def test_opening_times_and_no_payment() -> None:
    assert rules.described_record_breaches(record()) == []
    hours = [{"Period": [{"begin": "06:00", "end": "22:00"}], "on": "Workdays"}]
    assert rules.described_record_breaches(record(IsOpen24Hours=False, OpeningTimes=hours)) == []
    [closed] = rules.described_record_breaches(record(IsOpen24Hours=False), "/r")
    assert closed.pointer == "/r/OpeningTimes" and closed.requirement == "CPO-RULE-03"
    assert rules.described_record_breaches(record(IsOpen24Hours=False, OpeningTimes=[]))
    assert rules.described_record_breaches(record(PaymentOptions=["No Payment"])) == []
    [free] = rules.described_record_breaches(record(PaymentOptions=["No Payment", "Contract"]))
    assert free.pointer == "/PaymentOptions" and "combined with Contract" in free.text


def test_signed_metering_values_where_the_evse_says_external() -> None:
    assert rules.signed_values_breaches(cdr(), record()) == []
    [breach] = rules.signed_values_breaches(cdr(SignedMeteringValues=None), record())
    assert breach.pointer == "/SignedMeteringValues" and breach.requirement == "CPO-RULE-02"
    assert rules.signed_values_breaches(cdr(SignedMeteringValues=[]), record())
    local = record(CalibrationLawDataAvailability="Local")
    assert rules.signed_values_breaches(cdr(SignedMeteringValues=None), local) == []
    assert rules.signed_values_breaches(cdr(SignedMeteringValues=None), None) == []  # EVSE data unknown


def test_no_metering_signature_in_a_2_3_cdr() -> None:
    assert rules.metering_signature_breaches(cdr(), "2.3") == []
    old = cdr(MeteringSignature="https://meter.example/1.xml")
    assert [b.pointer for b in rules.metering_signature_breaches(old, "2.3")] == ["/MeteringSignature"]
    assert rules.metering_signature_breaches(old, "2.2") == []  # part of the 2.2 CDR


# --- CPO-RULE-04: local time, DST edges of Europe/Berlin --------------------------------------------------


@pytest.mark.parametrize(
    ("stamp", "ok"),
    [
        ("2026-11-30T10:00:00+01:00", True),  # winter: CET
        ("2026-07-01T10:00:00+02:00", True),  # summer: CEST
        ("2026-07-01T10:00:00+01:00", False),  # winter offset in summer
        ("2026-11-30T09:00:00+00:00", False),  # the same instant in UTC
        ("2026-11-30T09:00:00Z", False),  # Z only where the zone is at 0
        ("2026-03-29T01:59:59+01:00", True),  # last Sunday of March: 00:59:59 UTC, still CET
        ("2026-03-29T03:00:00+02:00", True),  # 01:00 UTC: CEST from here
        ("2026-03-29T02:30:00+01:00", False),  # 01:30 UTC is 03:30 CEST; 02:30 does not exist that day
        ("2026-10-25T02:30:00+02:00", True),  # last Sunday of October: 00:30 UTC, still CEST
        ("2026-10-25T02:30:00+01:00", True),  # 01:30 UTC, CET again (02:30 happens twice)
        ("2026-10-25T03:30:00+02:00", False),  # 01:30 UTC is CET by then
        ("2026-10-25T02:59:59.999+02:00", True),  # fractions of a second: 00:59:59.999 UTC
    ],
)
def test_offsets_follow_berlin_across_daylight_saving(stamp: str, ok: bool) -> None:
    breaches, compared = time_breaches({"SessionStart": stamp}, BERLIN)
    assert compared == 1
    assert (breaches == []) is ok, texts(breaches)
    if not ok:
        assert breaches[0].pointer == "/SessionStart" and "Europe/Berlin" in breaches[0].text


def test_zero_offsets_pass_only_where_the_zone_is_at_zero() -> None:
    london = declared_time("Europe/London")
    assert time_breaches({"T": "2026-11-30T10:00:00Z"}, london) == ([], 1)
    assert time_breaches({"T": "2026-11-30T10:00:00+00:00"}, london) == ([], 1)
    [unknown], _ = time_breaches({"T": "2026-11-30T10:00:00-00:00"}, london)
    assert "unknown" in unknown.text
    assert time_breaches({"T": "2026-07-01T10:00:00Z"}, london)[0]  # BST: +01:00


def test_timestamps_without_offset_and_unknown_zones() -> None:
    [breach], compared = time_breaches({"Nested": [{"ChargingEnd": "2026-11-30T10:00:00"}]}, None)
    assert breach.pointer == "/Nested/0/ChargingEnd" and "no UTC offset" in breach.text and compared == 0
    assert time_breaches({"T": "2026-11-30T10:00:00+05:00"}, None) == ([], 0)  # no zone: not compared
    assert time_breaches({"EvseID": EVSE, "PIN": "2026"}, BERLIN) == ([], 0)  # no date-times at all
    assert declared_time("Mars/Olympus_Mons") is None and declared_time(None) is None


@pytest.mark.skipif(not rules.country_zones("DEU"), reason="no time zone table (zone1970.tab) on this machine")
def test_the_pushed_time_zone_is_read_with_its_country() -> None:
    berlin = pushed_time(record(), 2026)
    assert isinstance(berlin, LocalTime)
    assert time_breaches({"T": "2026-07-01T10:00:00+02:00"}, berlin) == ([], 1)  # UTC+01:00 plus summer time
    assert time_breaches({"T": "2026-11-30T10:00:00+00:00"}, berlin)[0]
    summer = pushed_time(record(Address={**record()["Address"], "TimeZone": "UTC+02:00"}), 2026)
    assert isinstance(summer, LocalTime)  # the summer offset given as the zone: still Germany's zones
    assert time_breaches({"T": "2026-11-30T10:00:00+01:00"}, summer) == ([], 1)
    wrong = pushed_time(record(Address={**record()["Address"], "TimeZone": "UTC+05:00"}), 2026)
    assert wrong == "its Address.TimeZone UTC+05:00 fits no time zone of DEU"
    assert pushed_time(record(Address={"Country": "DEU"}), 2026) is None
    # a country of several zones: any zone at that offset in the year is taken (never a false failure)
    usa = pushed_time(record(Address={"Country": "USA", "TimeZone": "UTC-05:00"}), 2026)
    assert isinstance(usa, LocalTime) and len(usa.zones) > 1
    assert time_breaches({"T": "2026-11-30T10:00:00-05:00"}, usa) == ([], 1)


# --- the journal ------------------------------------------------------------------------------------------


def call(seq: int, operation: str, body: dict[str, Any], direction: str = "in") -> Call:
    return Call(
        seq=seq,
        at=datetime(2026, 11, 30, 12, tzinfo=UTC).timestamp(),
        method="POST",
        path="/",
        operation=operation,
        body=copy.deepcopy(body),
        direction=direction,
        status=200,
    )


def push(*records: dict[str, Any], action: str = "fullLoad") -> dict[str, Any]:
    return {"ActionType": action, "OperatorEvseData": {"OperatorID": "DE*REF", "EvseDataRecord": list(records)}}


def test_judge_calls_judges_what_applies_and_leaves_the_rest_out() -> None:
    assert judge_calls(sut("Europe/Berlin"), []) == {}
    status = {"ActionType": "fullLoad", "OperatorEvseStatus": {"OperatorID": "DE*REF", "EvseStatusRecord": []}}
    assert judge_calls(sut("Europe/Berlin"), [call(1, "PushEvseStatus.hub", status)]) == {}
    clean = [call(1, "PushEvseData.hub", push(record())), call(2, "ChargeDetailRecord.hub", cdr())]
    assert judge_calls(sut(), clean) == {rid: [] for rid in rules.RULE_REQUIREMENTS}
    # without the EVSE data, the CDR's calibration law and its charge point's zone are unknown
    alone = judge_calls(sut(), [call(2, "ChargeDetailRecord.hub", cdr())])
    assert alone == {"CPO-RULE-01": [], "CPO-RULE-03": []}


def test_judge_calls_names_the_call_and_pointer_once_per_message() -> None:
    broken = cdr(SignedMeteringValues=None, SessionStart="2026-11-30T09:00:00+00:00")
    calls = [
        call(1, "PushEvseData.hub", push(record())),
        call(2, "ChargeDetailRecord.hub", broken),
        call(3, "ChargeDetailRecord.hub", broken),  # the same CDR sent again: judged once
        call(4, "ChargeDetailRecord.emp", broken, direction="out"),  # the hub's own forward: not the CPO's call
    ]
    found = judge_calls(sut(), calls)
    assert found["CPO-RULE-02"] == [
        "ChargeDetailRecord.hub (hub call #2) /SignedMeteringValues: EVSE DE*REF*E1001*1 provides calibration law "
        'data externally (its EVSE data say "External"), but the CDR carries no SignedMeteringValues'
    ]
    [offset] = found["CPO-RULE-04"]
    assert offset.startswith("ChargeDetailRecord.hub (hub call #2) /SessionStart: 2026-11-30T09:00:00+00:00")
    assert "Address.TimeZone UTC+01:00 in DEU" in offset


def test_broken_messages_never_break_the_judgement() -> None:
    """Whatever shape a body has (the schema checks judge that), the rules neither raise nor invent breaches."""
    odd: list[dict[str, Any]] = [
        {"OperatorEvseData": []},
        {"OperatorEvseData": {"EvseDataRecord": "none"}},
        {"OperatorEvseData": {"EvseDataRecord": [1, None, {"GeoCoordinates": 5, "PaymentOptions": "No Payment"}]}},
        {"Identification": "x", "EvseID": 7, "SessionStart": "2026-13-45T99:00:00+01:00"},
        {"Identification": {"QRCodeIdentification": "1234"}},
    ]
    for operation in ("PushEvseData.hub", "AuthorizeStart.hub", "ChargeDetailRecord.hub", None):
        found = judge_calls(sut("Europe/Berlin"), [call(i, operation, b) for i, b in enumerate(odd)])  # type: ignore[arg-type]
        assert all(isinstance(p, str) for problems in found.values() for p in problems)


def test_the_declared_zone_comes_first_and_deleted_evses_say_nothing() -> None:
    utc_station = record(Address={**record()["Address"], "Country": "GBR", "TimeZone": "UTC+00:00"})
    calls = [call(1, "PushEvseData.hub", push(utc_station)), call(2, "ChargeDetailRecord.hub", cdr())]
    assert judge_calls(sut("Europe/Berlin"), calls)["CPO-RULE-04"] == []
    assert judge_calls(sut(), calls)["CPO-RULE-04"]  # +01:00 in London's winter
    deleted = [
        call(1, "PushEvseData.hub", push(record(), action="delete")),
        call(2, "ChargeDetailRecord.hub", cdr(SignedMeteringValues=None)),
    ]
    assert "CPO-RULE-02" not in judge_calls(sut(), deleted)


# --- what the suite generates keeps the rules -------------------------------------------------------------


def test_generated_evse_data_keep_the_rules() -> None:
    records = [
        r for m in draw_many(valid("eRoamingPushEvseData"), 40, 5) for r in m["OperatorEvseData"]["EvseDataRecord"]
    ]
    assert any(r["IsOpen24Hours"] is False for r in records)
    for r in records:
        assert rules.geo_breaches(r) + rules.renewable_breaches(r) + rules.described_record_breaches(r) == []


def test_forwarded_messages_keep_the_declared_zone_and_promise_no_external_data() -> None:
    declared = sut("Europe/Berlin")
    values = {
        "session_id": "b2688855-7f00-0002-6d8e-48d883f6abb6",
        "evse_id": EVSE,
        "identification": RFID,
        "started_at": datetime(2026, 3, 28, 22, tzinfo=UTC),
    }
    for seed in range(5):  # sessions over the night Berlin changes to summer time
        message = message_for(declared, "end_session", values, seed)
        assert time_breaches(message, BERLIN)[0] == []
    pushed = {"action": "fullLoad", "evse_ids": json.dumps([EVSE, "DE*REF*E1001*2", "DE*REF*E1002*1"])}
    for seed in range(8):  # no External: a CDR need not carry SignedMeteringValues for the suite's EVSE data
        data = message_for(sut(), "push_evse_data", pushed, seed)["OperatorEvseData"]["EvseDataRecord"]
        assert all(r["CalibrationLawDataAvailability"] != "External" and "TimeZone" not in r["Address"] for r in data)


def test_the_declaration_names_an_iana_zone() -> None:
    base = {"role": "cpo", "base_url": "http://127.0.0.1:1", "operator_id": "DE*REF", "evse_ids": [EVSE]}
    assert parse({**base, "time_zone": "Europe/Berlin"}).time_zone == "Europe/Berlin"
    assert parse(base).time_zone is None
    with pytest.raises(ConfigError, match="time_zone 'UTC\\+01:00' is no IANA time zone"):
        parse({**base, "time_zone": "UTC+01:00"})


# --- CPO-RULE-07: ISO 3166-1 alpha-3 countries; CPO-RULE-08: a remote session's identification ----------------

REMOTE = {"RemoteIdentification": {"EvcoID": "DE-DCB-C12345678-X"}}


def test_the_country_is_an_iso_alpha_3_code() -> None:
    assert rules.country_breaches(record()) == []
    assert rules.country_breaches(record(Address={**record()["Address"], "Country": "deu"})) == []  # case aside
    for code in ("GER", "DE", "XXX"):
        [breach] = rules.country_breaches(record(Address={**record()["Address"], "Country": code}), "/R/0")
        assert breach.requirement == "CPO-RULE-07" and breach.pointer == "/R/0/Address/Country"
        assert f"Country {code!r} is no ISO 3166-1 alpha-3 code" in breach.text
    assert rules.country_breaches(record(Address=None)) == []  # no address: the schema's business
    german = record(Address={**record()["Address"], "Country": "GER"})
    found = judge_calls(sut(), [call(1, "PushEvseData.hub", push(record(), german))])
    assert found["CPO-RULE-07"] == [
        "PushEvseData.hub (hub call #1) /OperatorEvseData/EvseDataRecord/1/Address/Country: Country 'GER' is no "
        "ISO 3166-1 alpha-3 code (e.g. DEU, FRA, USA)"
    ]


def test_the_suites_own_evse_data_carry_iso_countries() -> None:
    """A forwarding SUT is never blamed for the suite's country codes: random, maximal and minimal messages."""
    pushed = {"action": "fullLoad", "evse_ids": json.dumps([EVSE, "DE*REF*E1001*2", "DE*REF*E1002*1"])}
    messages = [message_for(sut(), "push_evse_data", pushed, seed, v) for seed in range(6) for v in (None, "maximal")]
    messages += draw_many(valid("eRoamingPushEvseData"), 20, 7)
    records = [r for m in messages for r in m["OperatorEvseData"]["EvseDataRecord"]]
    assert len({r["Address"]["Country"] for r in records}) > 5
    assert [b for r in records for b in rules.country_breaches(r)] == []


def remote_call(seq: int, body: dict[str, Any], origin: str = "remote", began: Any = REMOTE) -> Call:
    found = call(seq, "ChargeDetailRecord.hub", body)
    found.session_origin, found.session_identification = origin, began
    return found


def test_a_remote_session_keeps_remote_identification() -> None:
    assert rules.remote_breaches(cdr(Identification=REMOTE), REMOTE) == []
    [breach] = rules.remote_breaches(cdr(), REMOTE)
    assert breach.requirement == "CPO-RULE-08" and breach.pointer == "/Identification"
    assert "RFIDMifareFamilyIdentification" in breach.text and "RemoteIdentification only" in breach.text
    assert rules.remote_breaches(cdr(), QR) == []  # a start the suite made otherwise: not the CPO's to keep
    assert judge_calls(sut(), [remote_call(1, cdr())])["CPO-RULE-08"] == [
        f"ChargeDetailRecord.hub (hub call #1) /Identification: {breach.text}"
    ]
    assert judge_calls(sut(), [remote_call(1, cdr(Identification=REMOTE))])["CPO-RULE-08"] == []
    # judged only on a message with an Identification, of a session the hub knows began remotely with one
    note = {"Type": "Start", "SessionID": "s", "EvseID": EVSE, "ChargingStart": "2026-11-30T10:00:00+01:00"}
    for unjudged in (
        remote_call(1, note),
        remote_call(1, cdr(), origin="authorize"),
        remote_call(1, cdr(), origin="reservation"),
        remote_call(1, cdr(), began=QR),
        call(1, "ChargeDetailRecord.hub", cdr()),
    ):
        assert "CPO-RULE-08" not in judge_calls(sut(), [unjudged])
