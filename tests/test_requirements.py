"""Strength follows the spec's words: every requirement's quote carries the word its strength claims, and is
copied verbatim from the OICP 2.3 CPO chapters (checked where the spec checkout sits beside the repository)."""

from __future__ import annotations

import argparse
import json
import re
from functools import cache
from pathlib import Path

import pytest

from conformance.cli.requirements import run
from conformance.strategies.mutations import MUTATIONS
from conformance.suites.requirements import CPO, MUTATION_REQUIREMENT, Requirement

SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "oicp-spec" / "spec-2.3" / "cpo"

MUST_WORDS = re.compile(r"\b(must|mandatory|required|has to|shall)\b", re.IGNORECASE)
SHOULD_WORDS = re.compile(r"\b(should|best practice|tip|please|recommend\w*)\b", re.IGNORECASE)
HEADING = re.compile(r"^=+\s+(\S.*?)\s*$")

QUOTED = [r for r in CPO.values() if r.quote]


def normalise(text: str) -> str:
    """The words of a passage without asciidoc markup (backticks, cross-references, emphasis) or line breaks."""
    text = re.sub(r"<<[^,>]*,([^>]*)>>", r"\1", text)  # <<target,Label>> -> Label
    text = text.replace("`", "")
    text = re.sub(r"(?<![\w*])\*([^*\n]+?)\*(?![\w*])", r"\1", text)  # *bold*, not the * inside IDs
    text = re.sub(r"(?<!\w)_([^_\n]+?)_(?!\w)", r"\1", text)  # _italic_, not the _ in eRoamingX_V2.1
    return " ".join(text.split())


@cache
def sections(chapter: str) -> dict[str, str]:
    """Section heading -> the normalised text under it, for one chapter ("CPO 2", "EMP 1") of the spec checkout."""
    role, number = chapter.split()
    [path] = (SPEC.parent / role.lower()).glob(f"0{number}_*.asciidoc")
    found: dict[str, list[str]] = {}
    current = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := HEADING.match(line):
            current = normalise(match.group(1))
            continue
        found.setdefault(current, []).append(line)
    return {heading: normalise("\n".join(lines)) for heading, lines in found.items()}


@pytest.mark.parametrize("req", [r for r in CPO.values() if r.strength == "MUST"], ids=lambda r: r.id)
def test_every_must_quotes_a_must_sentence(req: Requirement) -> None:
    assert req.quote, f"{req.id} is a MUST without a quoted sentence"
    assert MUST_WORDS.search(req.quote), f"{req.id} is a MUST but its quote has no MUST word: {req.quote}"


@pytest.mark.parametrize("req", [r for r in CPO.values() if r.strength == "SHOULD"], ids=lambda r: r.id)
def test_every_should_quotes_a_should_sentence(req: Requirement) -> None:
    assert SHOULD_WORDS.search(req.quote), f"{req.id} is a SHOULD but its quote has no SHOULD word: {req.quote}"
    assert not MUST_WORDS.search(req.quote), f"{req.id} quotes a MUST sentence but claims only SHOULD"


@pytest.mark.parametrize("req", [r for r in CPO.values() if r.strength == "PRACTICE"], ids=lambda r: r.id)
def test_every_practice_says_where_it_comes_from(req: Requirement) -> None:
    assert req.basis.strip(), f"{req.id} is a PRACTICE without a basis"
    # A descriptive sentence may anchor a practice; one with a MUST or SHOULD word would set its strength instead.
    assert not MUST_WORDS.search(req.quote), f"{req.id} quotes a MUST sentence but claims only PRACTICE"
    assert not SHOULD_WORDS.search(req.quote), f"{req.id} quotes a SHOULD sentence but claims only PRACTICE"


def test_strengths_and_what_they_block() -> None:
    assert {r.strength for r in CPO.values()} <= {"MUST", "SHOULD", "PRACTICE"}
    assert not [r.id for r in CPO.values() if r.strength == "MUST" and not r.quote]
    for r in CPO.values():
        assert r.fails_verdict is (r.strength == "MUST") and r.blocks(strict=False) is r.fails_verdict
        assert r.blocks(strict=True)
        assert r.source == (f"practice: {r.basis}" if r.strength == "PRACTICE" else r.place)


def test_a_quote_free_must_or_a_basis_free_practice_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="needs the quoted sentence"):
        Requirement("X-1", "t", "MUST", "", "", "")
    with pytest.raises(ValueError, match="needs a basis"):
        Requirement("X-2", "t", "PRACTICE", "", "", "")
    with pytest.raises(ValueError, match="strength"):
        Requirement("X-3", "t", "DERIVED", "q", "CPO 1", "REST")


def test_known_strengths_follow_the_text() -> None:
    """The cases users named: a Best Practice, a re-scoped refusal rule, HTTP 429, sequential pushes per operation."""
    assert CPO["CPO-REMOTE-START-03"].strength == "SHOULD" and "10 seconds" in CPO["CPO-REMOTE-START-03"].quote
    assert CPO["CPO-ACK-01"].strength == "PRACTICE" and "unchanged" in CPO["CPO-ACK-01"].title
    assert CPO["CPO-ACK-03"].strength == "PRACTICE" and not CPO["CPO-ACK-03"].quote
    assert "same operation MUST always be processed sequentially" in CPO["CPO-OUT-04"].quote
    assert CPO["CPO-ACK-06"].strength == "MUST" and CPO["CPO-IN-INVALID-02"].strength == "PRACTICE"


@pytest.mark.skipif(not SPEC.is_dir(), reason=f"no OICP spec checkout at {SPEC}: quotes not compared with the text")
@pytest.mark.parametrize("req", QUOTED, ids=lambda r: r.id)
def test_every_quote_is_verbatim_under_its_section(req: Requirement) -> None:
    chapter = sections(req.chapter)
    everywhere = " ".join(chapter.values())
    quote = normalise(req.quote)
    assert quote in everywhere, f"{req.id}: the quote is not in {req.chapter} word for word:\n{req.quote}"
    assert req.section in chapter, f"{req.id}: {req.chapter} has no section {req.section!r}"
    assert quote in chapter[req.section], f"{req.id}: the quote is in {req.chapter} but not under {req.section!r}"


def test_every_mutation_is_mapped_to_a_requirement() -> None:
    assert set(MUTATION_REQUIREMENT) == set(MUTATIONS), (
        f"unmapped: {sorted(set(MUTATIONS) - set(MUTATION_REQUIREMENT))}, "
        f"unknown: {sorted(set(MUTATION_REQUIREMENT) - set(MUTATIONS))}"
    )
    assert set(MUTATION_REQUIREMENT.values()) <= set(CPO)
    assert MUTATION_REQUIREMENT["wrong-content-type"] == MUTATION_REQUIREMENT["oversized-body"] == "CPO-IN-INVALID-02"
    assert MUTATION_REQUIREMENT["missing-required"] == "CPO-IN-INVALID-01"


def _cli(capsys: pytest.CaptureFixture[str], fmt: str) -> str:
    assert run(argparse.Namespace(role="cpo", format=fmt)) == 0
    return capsys.readouterr().out


def test_cli_prints_quote_place_and_strength(capsys: pytest.CaptureFixture[str]) -> None:
    out = _cli(capsys, "text")
    flat = " ".join(out.split())
    for r in CPO.values():
        assert re.search(rf"^{re.escape(r.id)}\s+{r.strength}\s", out, re.MULTILINE), r.id
        if r.quote:
            assert f"“{' '.join(r.quote.split())}”" in flat, r.id
            assert f"({r.place})" in flat, r.id
        if r.strength == "PRACTICE":
            assert f"practice: {' '.join(r.basis.split())}" in flat, r.id
    assert "OICP 2.3 CPO chapter 1, Session handling" in out
    assert "feature: reservation" in out


def test_cli_json_has_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    rows = {row["id"]: row for row in json.loads(_cli(capsys, "json"))}
    assert set(rows) == set(CPO)
    for rid, r in CPO.items():
        row = rows[rid]
        for field in ("title", "strength", "quote", "chapter", "section", "feature", "basis", "source"):
            assert row[field] == getattr(r, field), (rid, field)
        assert isinstance(row["checks"], list)
