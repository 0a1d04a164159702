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
