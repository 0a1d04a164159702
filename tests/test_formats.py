"""Timestamps: RFC 3339 with a mandatory offset, judged the same by both engines."""

from __future__ import annotations

import pytest

from conformance.validation import validate
from conformance.validation.formats import is_datetime

GOOD = [
    "2026-11-25T10:00:00Z",
    "2026-11-25T10:00:00+01:00",
    "2026-11-25T10:00:00.123456789-05:30",
    "2016-12-31T23:59:60Z",
    "2026-11-25t10:00:00z",
]
BAD = [
    "2026-11-25T10:00:00",
    "2026-11-25 10:00:00Z",
    "2026-02-30T10:00:00Z",
    "2026-11-25T25:00:00Z",
    "2026-11-25T10:00:00+0100",
    "25.11.2026 10:00",
    "",
]


@pytest.mark.parametrize("value", GOOD)
def test_accepts(value: str) -> None:
    assert is_datetime(value)


@pytest.mark.parametrize("value", BAD)
def test_rejects(value: str) -> None:
    assert not is_datetime(value)


@pytest.mark.parametrize("engine", ["python", "rust"])
@pytest.mark.parametrize("value", ["2026-11-25T10:00:00", "2026-02-30T10:00:00Z"])
def test_engines_reject_timestamps_without_offset(engine: str, value: str) -> None:
    request = {"ProviderID": "DE-DCB", "From": value, "To": "2026-11-25T10:00:00Z"}
    violations = validate(request, "eRoamingGetChargeDetailRecords", engine=engine)
    assert [(v.pointer, v.keyword) for v in violations] == [("/From", "format")]


def test_unicode_digits_why_erratum_e_p11_exists() -> None:
    """Python's \\d matches Arabic-Indic digits, ECMA-262's (and jsonschema-rs's) does not."""
    request = {
        "ProviderID": "DE-DCB",
        "GeoCoordinatesResponseFormat": "DecimalDegree",
        "SearchCenter": {
            "Radius": 1,
            "GeoCoordinates": {"DecimalDegree": {"Latitude": "٥٢.520008", "Longitude": "13.404954"}},
        },
    }
    assert validate(request, "eRoamingPullEVSEData", profile="official", engine="python") == []
    assert validate(request, "eRoamingPullEVSEData", profile="official", engine="rust") != []
    for engine in ("python", "rust"):
        found = validate(request, "eRoamingPullEVSEData", engine=engine)
        assert [v.errata for v in found] == [("E-P11",)]
