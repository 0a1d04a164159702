"""Hand-written fixtures: each message accepts its valid cases and rejects each invalid one at its pointer."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.catalog import load_release
from conformance.validation import validate
from conformance.validation.engines import ENGINES
from tests.helpers import FIXTURES, fixture_cases

CASES = [(release, *case) for release in ("2.2", "2.3") for case in fixture_cases(release)]


@pytest.mark.parametrize("release", ["2.2", "2.3"])
def test_every_message_has_fixtures(release: str) -> None:
    have = {path.stem for path in (FIXTURES / f"oicp-{release}").glob("*.json")}
    assert have == set(load_release(release).messages)
    for _, message, case in fixture_cases(release):
        assert set(case) <= {"description", "data", "valid", "pointer", "valid_official", "erratum"}, message
    by_message: dict[str, list[bool]] = {}
    for _, message, case in fixture_cases(release):
        by_message.setdefault(message, []).append(case["valid"])
    for message, verdicts in by_message.items():
        assert True in verdicts and verdicts.count(False) >= 3, f"{message}: needs 1 valid and 3 invalid cases"


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize(("release", "case_id", "message", "case"), CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_fixture_verdict(engine: str, release: str, case_id: str, message: str, case: dict[str, Any]) -> None:
    violations = validate(case["data"], message, release, "corrected", engine=engine)
    if case["valid"]:
        assert violations == [], [str(v) for v in violations]
        return
    assert {v.pointer for v in violations} == {case["pointer"]}, [str(v) for v in violations]
    official = validate(case["data"], message, release, "official", engine=engine)
    if case.get("valid_official"):
        assert official == [], [str(v) for v in official]
        assert case["erratum"] in {e for v in violations for e in v.errata}
    else:
        assert {v.pointer for v in official} == {case["pointer"]}
