"""The spec's own code snippets: extracted unchanged, each verdict pinned, each failure explained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.build.snippets import write_snippets
from conformance.validation import validate

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = ROOT / "fixtures" / "official" / "oicp-2.3"
PINS = json.loads((ROOT / "fixtures" / "official" / "verdicts.json").read_text(encoding="utf-8"))["snippets"]


def test_extraction_is_up_to_date(spec_dir: Path) -> None:
    assert write_snippets(spec_dir, SNIPPETS, check=True) == []


def test_all_66_snippets_are_pinned_and_24_break_the_official_schema() -> None:
    files = {str(p.relative_to(SNIPPETS))[:-5] for p in SNIPPETS.rglob("*.json")}
    assert files == set(PINS) and len(files) == 66
    assert sum(not pin["official"]["valid"] for pin in PINS.values()) == 24


@pytest.mark.parametrize("name", sorted(PINS))
@pytest.mark.parametrize("profile", ["official", "corrected"])
def test_snippet_verdict_is_pinned(name: str, profile: str) -> None:
    snippet = json.loads((SNIPPETS / f"{name}.json").read_text(encoding="utf-8"))
    pin = PINS[name]
    assert snippet["message"] == pin["message"]
    assert "CC BY-SA 4.0" in snippet["attribution"]
    violations = validate(snippet["data"], snippet["message"], "2.3", profile)
    assert [f"{v.pointer} {v.keyword}" for v in violations] == pin[profile]["violations"]
    assert pin[profile]["valid"] == (not violations)
    if violations:
        assert pin.get("note"), f"{name}: an invalid snippet needs a note saying what is wrong"
