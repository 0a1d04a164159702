"""`oicp-conformance validate`: verdicts, detection, JSON output and clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import cli

ACK = {"Result": True, "StatusCode": {"Code": "000"}}
CDR_BAD = {
    "SessionID": "b2688855-7f00-0002-6d8e-48d883f6abb6",
    "EvseID": "DE*ABC*E1234*1",
    "Identification": {"RFIDMifareFamilyIdentification": {"UID": "1234ABCD"}},
    "SessionStart": "2026-11-25T10:00:00",
    "SessionEnd": "2026-11-25T11:00:00+01:00",
    "ChargingStart": "2026-11-25T10:00:00+01:00",
    "ChargingEnd": "2026-11-25T11:00:00+01:00",
    "ConsumedEnergy": 1.5,
}


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def test_valid_message_detected_from_keys(tmp_path: Path) -> None:
    done = cli("validate", str(write(tmp_path, "ack.json", ACK)))
    assert done.returncode == 0, done.stderr
    assert "eRoamingAcknowledgment (detected from its keys)" in done.stdout and "valid" in done.stdout


def test_violation_names_pointer_and_exits_1(tmp_path: Path) -> None:
    done = cli("validate", "--message", "eroamingchargedetailrecord", str(write(tmp_path, "cdr.json", CDR_BAD)))
    assert done.returncode == 1
    assert "/SessionStart: is not an RFC 3339 date-time with an offset" in done.stdout


def test_json_format_one_object_per_file(tmp_path: Path) -> None:
    files = [str(write(tmp_path, "a.json", ACK)), str(write(tmp_path, "b.json", CDR_BAD))]
    done = cli("validate", "--format", "json", *files)
    assert done.returncode == 1
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["valid"] for line in lines] == [True, False]
    assert lines[1]["message"] == "eRoamingChargeDetailRecord"
    assert lines[1]["violations"][0]["pointer"] == "/SessionStart"
    assert {"pointer", "keyword", "message"} <= lines[1]["violations"][0].keys()


def test_acknowledgement_spelling_is_accepted(tmp_path: Path) -> None:
    done = cli("validate", "-m", "eRoamingAcknowledgement", str(write(tmp_path, "a.json", ACK)))
    assert done.returncode == 0, done.stderr


def test_official_profile_differs_where_an_erratum_says_so(tmp_path: Path) -> None:
    ack = {"Result": False, "StatusCode": {"Code": "999"}}
    path = str(write(tmp_path, "a.json", ack))
    corrected = cli("validate", path)
    official = cli("validate", "--profile", "official", path)
    assert corrected.returncode == 1 and "E-K02" in corrected.stdout
    assert official.returncode == 0


def test_release_2_2(tmp_path: Path) -> None:
    done = cli("validate", "-r", "2.2", "-m", "eRoamingAcknowledgement", str(write(tmp_path, "a.json", ACK)))
    assert done.returncode == 0, done.stderr


def test_ambiguous_keys_list_the_candidates(tmp_path: Path) -> None:
    stop = {"SessionID": "b2688855-7f00-0002-6d8e-48d883f6abb6", "ProviderID": "DE-DCB", "EvseID": "DE*ABC*E1"}
    done = cli("validate", str(write(tmp_path, "stop.json", stop)))
    assert done.returncode == 2
    assert "eRoamingAuthorizeRemoteReservationStop, eRoamingAuthorizeRemoteStop" in done.stderr


BAD_INPUTS = {
    "directory": (lambda p: p, "is a directory"),
    "missing": (lambda p: p / "nope.json", "no such file"),
    "binary": (lambda p: write_bytes(p / "b.bin", b"\x89PNG\x00\x00\x01"), "binary file"),
    "latin1": (lambda p: write_bytes(p / "l.json", b'{"a": "\xe9"}'), "not UTF-8"),
    "truncated": (lambda p: write(p, "t.json", '{"Result": true, "StatusCode": {'), "t.json:1:"),
    "empty": (lambda p: write(p, "e.json", ""), "empty file"),
    "nan": (lambda p: write(p, "n.json", '{"Result": NaN}'), "NaN is not JSON"),
    "deep": (lambda p: write(p, "d.json", "[" * 100000 + "]" * 100000), "invalid JSON"),
}


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_gives_one_line_and_exit_2(tmp_path: Path, kind: str) -> None:
    make, expected = BAD_INPUTS[kind]
    done = cli("validate", str(make(tmp_path)))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert expected in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_fifty_megabyte_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    done = cli("validate", str(big))
    assert done.returncode == 2
    assert "52.4 MB is larger than the 33.6 MB limit" in done.stderr and "--max-bytes" in done.stderr


def test_unknown_message_suggests_close_matches(tmp_path: Path) -> None:
    done = cli("validate", "--message", "eRoamingPushEvseDta", str(write(tmp_path, "a.json", ACK)))
    assert done.returncode == 2
    assert "unknown message 'eRoamingPushEvseDta' in OICP 2.3; did you mean eRoamingPushEvseData" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_unknown_keys_ask_for_message(tmp_path: Path) -> None:
    done = cli("validate", str(write(tmp_path, "x.json", {"Foo": 1})))
    assert done.returncode == 2 and "name it with --message" in done.stderr


def test_bad_file_does_not_hide_other_results(tmp_path: Path) -> None:
    done = cli("validate", str(write(tmp_path, "e.json", "")), str(write(tmp_path, "a.json", ACK)))
    assert done.returncode == 2
    assert "a.json: eRoamingAcknowledgment" in done.stdout


# --- detection by closest match -------------------------------------------------------------------

CDR_OK = {**CDR_BAD, "SessionStart": "2026-11-25T10:00:00+01:00"}


def test_missing_member_is_a_validation_result_not_bad_input(tmp_path: Path) -> None:
    cdr = {k: v for k, v in CDR_OK.items() if k != "ConsumedEnergy"}
    done = cli("validate", str(write(tmp_path, "cdr.json", cdr)))
    assert done.returncode == 1, done.stderr
    assert "detected as eRoamingChargeDetailRecord (closest match: 7 of 8 keys)" in done.stdout
    assert "/ConsumedEnergy: required member 'ConsumedEnergy' is missing" in done.stdout


def test_extra_member_is_detected_and_named(tmp_path: Path) -> None:
    done = cli("validate", str(write(tmp_path, "ack.json", {**ACK, "SessionId": "x"})))
    assert done.returncode == 0, done.stderr  # the schemas let unknown members pass, as with --message
    assert "detected as eRoamingAcknowledgment (closest match: 2 of 3 keys)" in done.stdout
    assert "/SessionId is not a member of eRoamingAcknowledgment" in done.stdout
    assert "did you mean SessionID?" in done.stdout


def test_equally_close_messages_stay_ambiguous(tmp_path: Path) -> None:
    stop = {"SessionID": "b2688855-7f00-0002-6d8e-48d883f6abb6", "ProviderID": "DE-DCB", "EvseID": "DE*ABC*E1", "X": 1}
    done = cli("validate", str(write(tmp_path, "stop.json", stop)))
    assert done.returncode == 2
    assert "equally close to several messages (eRoamingAuthorizeRemoteReservationStop, eRoamingAuthorizeRemoteStop" in (
        done.stderr
    )
    assert len(done.stderr.strip().splitlines()) == 1


def test_notification_type_decides_between_notifications(tmp_path: Path) -> None:
    end = {
        "Type": "End",
        "SessionID": "b2688855-7f00-0002-6d8e-48d883f6abb6",
        "EvseID": "DE*ABC*E1",
        "OperatorID": "DE*ABC",
        "ChargingStart": "2026-11-25T10:00:00+01:00",
    }
    done = cli("validate", str(write(tmp_path, "end.json", end)))
    assert done.returncode == 1, done.stderr
    assert "detected as eRoamingChargingNotificationEnd" in done.stdout and "'ChargingEnd' is missing" in done.stdout


@pytest.mark.parametrize(
    ("text", "kind"), [("[1, 2]", "an array"), ('"DE*ABC"', "a string"), ("42", "a number"), ("null", "null")]
)
def test_top_level_non_object_is_bad_input(tmp_path: Path, text: str, kind: str) -> None:
    done = cli("validate", str(write(tmp_path, "x.json", text)))
    assert done.returncode == 2
    assert f"x.json: expected a JSON object (an OICP message), got {kind}" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


# --- OICP rules beyond the schema -----------------------------------------------------------------

CDR_RULES = {
    **CDR_OK,
    "ChargingStart": "2026-11-25T10:30:00+01:00",
    "ChargingEnd": "2026-11-25T09:15:00Z",  # 10:15 at +01:00: before ChargingStart, although it reads earlier
    "MeterValueStart": 10,
    "MeterValueEnd": 12.5,
    "ConsumedEnergy": 5,
}
PUSH = {
    "ActionType": "update",
    "OperatorEvseStatus": {
        "OperatorID": "DE*ABC",
        "OperatorName": "ABC",
        "EvseStatusRecord": [
            {"EvseID": "DE*ABC*E1", "EvseStatus": "Available"},
            {"EvseID": "DE*XYZ*E1", "EvseStatus": "Available"},
        ],
    },
}
REMOTE_START = {
    "ProviderID": "DE-DCB",
    "EvseID": "DE*ABC*E1",
    "SessionID": "b2688855-7f00-0002-6d8e-48d883f6abb6",
    "Identification": {"RemoteIdentification": {"EvcoID": "NL-TNM-C12345678-X"}},
}


def test_rules_run_only_when_asked(tmp_path: Path) -> None:
    path = str(write(tmp_path, "cdr.json", CDR_RULES))
    assert cli("validate", path).returncode == 0
    done = cli("validate", "--rules", path)
    assert done.returncode == 1
    assert "OICP 2.3 corrected + OICP rules: 2 violation(s)" in done.stdout
    assert "/ChargingEnd: is before ChargingStart 2026-11-25T10:30:00+01:00" in done.stdout
    assert "[OICP rule time-order]" in done.stdout
    assert "/ConsumedEnergy: differs from MeterValueEnd - MeterValueStart = 2.5 kWh (got 5) [OICP rule energy]" in (
        done.stdout
    )


def test_rules_on_ids(tmp_path: Path) -> None:
    done = cli("validate", "--rules", str(write(tmp_path, "p.json", PUSH)))
    assert done.returncode == 1
    assert "/OperatorEvseStatus/EvseStatusRecord/1/EvseID: belongs to operator DE*XYZ, not to OperatorID DE*ABC" in (
        done.stdout
    )
    # A RemoteStart and a ReservationStart have the same members (erratum E-R01): name the message.
    remote = write(tmp_path, "r.json", REMOTE_START)
    done = cli("validate", "--rules", "-m", "eRoamingAuthorizeRemoteStart", str(remote))
    assert done.returncode == 1
    assert "/Identification/RemoteIdentification/EvcoID: names provider NL-TNM" in done.stdout
    sub = cli("validate", "--rules", "--sub-operator", "DE*XYZ", str(tmp_path / "p.json"))
    assert sub.returncode == 0, sub.stdout


def test_rules_wait_for_a_schema_valid_message(tmp_path: Path) -> None:
    done = cli("validate", "--rules", str(write(tmp_path, "cdr.json", {**CDR_RULES, "SessionStart": "10:00"})))
    assert done.returncode == 1
    assert "[OICP rule" not in done.stdout and "OICP rules not checked" in done.stdout


def test_rule_violations_in_json(tmp_path: Path) -> None:
    done = cli("validate", "--rules", "--format", "json", str(write(tmp_path, "cdr.json", CDR_RULES)))
    [result] = [json.loads(line) for line in done.stdout.splitlines()]
    assert result["rules_checked"] is True and result["valid"] is False
    energy = next(v for v in result["violations"] if v["rule"] == "energy")
    assert energy == {
        "pointer": "/ConsumedEnergy",
        "keyword": "rule",
        "rule": "energy",
        "message": "differs from MeterValueEnd - MeterValueStart = 2.5 kWh",
        "expected": 2.5,
        "actual": 5,
        "errata": [],
        "schema_pointer": "",
    }


def test_rules_agree_with_the_session_rules_of_the_suite() -> None:
    """`--rules` and the suite's `cdr_problems` find the same CDRs at fault (on schema-only CDRs, often broken)."""
    from conformance.oicp.sessions import cdr_problems
    from conformance.strategies import draw_many, structural
    from conformance.validation.rules import check_rules

    drawn = draw_many(structural("eRoamingChargeDetailRecord"), 40, 0)
    verdicts = [(bool(cdr_problems(m)), any(v.rule in ("time-order", "energy") for v in check_rules(m))) for m in drawn]
    assert all(a == b for a, b in verdicts) and any(a for a, _ in verdicts)


# --- JSON output: plain values, release and profile -----------------------------------------------


def test_json_output_carries_plain_values(tmp_path: Path) -> None:
    cdr = {k: v for k, v in CDR_OK.items() if k != "EvseID"} | {"ConsumedEnergy": "1.5", "PartnerProductID": 5}
    done = cli("validate", "--format", "json", "-m", "eRoamingChargeDetailRecord", str(write(tmp_path, "c.json", cdr)))
    [result] = [json.loads(line) for line in done.stdout.splitlines()]
    assert result["release"] == "2.3" and result["profile"] == "corrected" and result["line"] is None
    by_pointer = {v["pointer"]: v for v in result["violations"]}
    assert by_pointer["/ConsumedEnergy"]["expected"] == "number" and by_pointer["/ConsumedEnergy"]["actual"] == "1.5"
    assert by_pointer["/PartnerProductID"]["actual"] == 5 and by_pointer["/PartnerProductID"]["errata"] == ["E-K01"]
    assert by_pointer["/EvseID"]["keyword"] == "required"
    assert by_pointer["/EvseID"]["expected"] == "EvseID" and by_pointer["/EvseID"]["actual"] is None
    for v in result["violations"]:
        assert set(v) >= {"pointer", "keyword", "message", "expected", "actual", "errata"}


def test_huge_values_are_cut_and_say_so() -> None:
    from conformance.validation import validate

    [violation] = validate(
        {"Result": True, "StatusCode": {"Code": "000"}, "SessionID": ["x"] * 2000}, "eRoamingAcknowledgment"
    )
    out = violation.as_dict()
    assert out["actual_truncated"] is True and len(out["actual"]) <= 2000 and out["expected"] == "string"


# --- stdin and JSON lines -------------------------------------------------------------------------


def test_stdin(tmp_path: Path) -> None:
    done = cli("validate", "-", stdin=json.dumps(ACK))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("<stdin>: eRoamingAcknowledgment (detected from its keys)")


def test_json_lines_report_each_line(tmp_path: Path) -> None:
    text = "\n".join([json.dumps(ACK), '{"Result": tru', "", json.dumps(CDR_BAD), "[1]"]) + "\n"
    done = cli("validate", str(write(tmp_path, "m.jsonl", text)))
    assert done.returncode == 2
    assert "m.jsonl:1: eRoamingAcknowledgment (detected from its keys), OICP 2.3 corrected: valid" in done.stdout
    assert "m.jsonl:4: eRoamingChargeDetailRecord (detected from its keys)" in done.stdout
    assert "4 message(s): 1 valid, 1 with violations, 2 bad input" in done.stdout
    errors = done.stderr.replace(str(tmp_path) + "/", "").splitlines()
    assert errors == [
        "oicp-conformance: error: m.jsonl:2:12: invalid JSON: Expecting value",
        "oicp-conformance: error: m.jsonl:5: expected a JSON object (an OICP message), got an array; "
        "for several messages, put one per line (JSON lines)",
    ]


def test_a_broken_document_is_not_taken_for_json_lines(tmp_path: Path) -> None:
    done = cli("validate", str(write(tmp_path, "a.json", json.dumps(ACK, indent=1) + "\n}")))
    assert done.returncode == 2 and "a.json:7:1: invalid JSON: Extra data" in done.stderr


def test_generate_piped_into_validate() -> None:
    generated = cli("generate", "eRoamingChargeDetailRecord", "-n", "4", "--seed", "3")
    assert generated.returncode == 0, generated.stderr
    done = cli("validate", "--rules", "--format", "json", "-", stdin=generated.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["line"] for r in results] == [1, 2, 3, 4] and all(r["valid"] and r["rules_checked"] for r in results)


def test_generated_invalid_cases_piped_into_validate() -> None:
    generated = cli("generate", "AuthorizeRemoteStart.cpo", "--mutation", "missing-required", "-n", "3", "--seed", "3")
    done = cli("validate", "--format", "json", "-", stdin=generated.stdout)
    assert done.returncode == 1, done.stdout + done.stderr
    cases = [json.loads(line) for line in generated.stdout.splitlines()]
    for case, result in zip(cases, (json.loads(line) for line in done.stdout.splitlines()), strict=True):
        assert result["message"] == "eRoamingAuthorizeRemoteStart" and result["case"]["mutation"] == "missing-required"
        assert [v["pointer"] for v in result["violations"]] == [case["pointer"]]


# --- the report file ------------------------------------------------------------------------------


def test_report_into_a_missing_folder_is_created(tmp_path: Path) -> None:
    report = tmp_path / "new" / "deeper" / "report.jsonl"
    done = cli("validate", "--report", str(report), str(write(tmp_path, "a.json", ACK)))
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text())["valid"] is True


@pytest.mark.parametrize("target", ["input", "foreign"])
def test_report_never_overwrites_what_the_user_wrote(tmp_path: Path, target: str) -> None:
    ack = write(tmp_path, "a.json", ACK)
    report = ack if target == "input" else write(tmp_path, "notes.txt", "my notes\n")
    before = report.read_text()
    done = cli("validate", "--report", str(report), str(ack))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert report.read_text() == before and done.stdout == ""


def test_report_replaces_an_earlier_report(tmp_path: Path) -> None:
    report = tmp_path / "r.jsonl"
    ack = str(write(tmp_path, "a.json", ACK))
    assert cli("validate", "--report", str(report), ack).returncode == 0
    assert cli("validate", "--report", str(report), ack, ack).returncode == 0
    assert len(report.read_text().splitlines()) == 2
