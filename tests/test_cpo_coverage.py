"""Coverage you can read: the CPO chapters' MUST and SHOULD statements, each covered by checks or excused.

The list (conformance/suites/cpo_statements.toml) is complete and consistent, names only real requirements,
leaves no MUST uncovered but the ones named below, and `requirements --coverage` reports what the checks
really judge: a requirement that loses its check takes its statements' coverage with it."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from conformance.cli import requirements as cli_requirements
from conformance.cli.requirements import coverage
from conformance.suites.requirements import CPO
from conformance.suites.statements import (
    COVERED,
    NOT_OBSERVABLE,
    STATEMENTS_FILE,
    UNCOVERED,
    Statement,
    StatementError,
    counts,
    judge,
    load,
)
from tests.helpers import cli
from tests.test_requirements import SPEC, sections

# MUST statements no check judges yet, each with what is missing; the gap stays visible here and in the
# `--coverage` report. Remove an entry as soon as its statement is covered (the test below insists).
UNCOVERED_MUST_ALLOWED: dict[str, str] = {}

# Sections of chapters 1-3 whose text uses a MUST or SHOULD word but that hold no statement of their own.
NOT_A_STATEMENT: dict[tuple[str, str], str] = {
    ("CPO 2", "eRoamingAuthorizeRemoteReservationStart Message"): "only the recurring PartnerProductID column "
    "('must be unique'), listed once as CPO2-12",
    ("CPO 3", "AccessibilityType"): "an option's description ('EV Driver needs to pay a fee')",
    ("CPO 3", "AuthenticationModeType"): "an option's name ('No Authentication Required')",
}

MUST_WORD = re.compile(r"^(must|mandatory|required|requires?|has to|have to|needs? to|shall|can not|M|M/O)$", re.I)
SHOULD_WORD = re.compile(r"^(should|please|recommend(ed)?|best practices?)$", re.I)
ANY_WORD = re.compile(
    r"\b(must|mandatory|require[sd]?|has to|have to|needs? to|shall|should|please|recommend\w*|best practices?)\b",
    re.I,
)
STATEMENT_ID = re.compile(r"\bCPO[123]-\d{2}\b")

STATEMENTS = load()
STRENGTHS = {r.id: r.strength for r in CPO.values()}


@pytest.fixture(scope="module")
def checks() -> dict[str, list[str]]:
    """Requirement -> the CPO suite's tests that judge it, found as the CLI finds them."""
    return coverage("conformance.suites.cpo")


def test_the_list_is_complete_and_consistent() -> None:
    assert STATEMENTS_FILE.parent.name == "suites" and STATEMENTS_FILE.is_file()  # inside the package: shipped
    ids = [s.id for s in STATEMENTS]
    assert len(ids) == len(set(ids))
    for s in STATEMENTS:
        assert re.fullmatch(rf"CPO{s.chapter[-1]}-\d{{2}}", s.id), f"{s.id}: the ID names another chapter"
        words = MUST_WORD if s.strength == "MUST" else SHOULD_WORD
        assert words.match(s.word), f"{s.id}: {s.word!r} is no {s.strength} word"
        assert len(s.text) >= 20 and s.text.endswith((".", ")")), f"{s.id}: say what it demands, as a sentence"
        assert sum((bool(s.requirements), bool(s.unobservable), s.uncovered)) == 1, s.id
        for ref in STATEMENT_ID.findall(f"{s.text} {s.unobservable} {s.note}"):
            assert ref in ids, f"{s.id} refers to {ref}, which is not in the list"
    # Every chapter and both strengths are there.
    assert {s.chapter for s in STATEMENTS} == {"CPO 1", "CPO 2", "CPO 3"}
    assert {s.strength for s in STATEMENTS} == {"MUST", "SHOULD"}


def test_every_named_requirement_exists() -> None:
    unknown = {s.id: r for s in STATEMENTS for r in s.requirements if r not in CPO}
    assert not unknown, unknown


def test_every_must_is_covered_or_has_a_reason(checks: dict[str, list[str]]) -> None:
    rows = judge(STATEMENTS, checks, STRENGTHS)
    uncovered = {r["id"] for r in rows if r["status"] == UNCOVERED and r["strength"] == "MUST"}
    assert not uncovered - set(UNCOVERED_MUST_ALLOWED), f"uncovered MUST not allowed: {sorted(uncovered)}"
    assert not set(UNCOVERED_MUST_ALLOWED) - uncovered, (
        f"covered or excused now, remove from UNCOVERED_MUST_ALLOWED: {sorted(set(UNCOVERED_MUST_ALLOWED) - uncovered)}"
    )
    for r in rows:
        if r["status"] == COVERED:
            assert r["requirements"] and all(r["checks"][rid] for rid in r["requirements"]), r["id"]
        if r["status"] == NOT_OBSERVABLE:
            assert len(r["reason"]) >= 20, f"{r['id']}: say why it cannot be observed"


def test_cli_text(checks: dict[str, list[str]]) -> None:
    done = cli("requirements", "--role", "cpo", "--coverage")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    rows = judge(STATEMENTS, checks, STRENGTHS)
    totals = counts(rows)
    for r in rows:
        assert re.search(rf"^{r['id']}\s+{r['strength']}\s", out, re.MULTILINE), r["id"]
    flat = " ".join(out.split())
    covered = next(r for r in rows if r["status"] == COVERED)
    for rid, tests in covered["checks"].items():
        assert f"covered by {rid} ({STRENGTHS[rid]}): {', '.join(tests)}" in flat
    excused = next(r for r in rows if r["status"] == NOT_OBSERVABLE)
    assert f"not observable: {excused['reason']}" in flat
    for rid in totals["uncovered_must"]:
        assert re.search(rf"^{rid}\s+MUST\s+UNCOVERED", out, re.MULTILINE), rid
    assert out.count("!! UNCOVERED MUST") == len(totals["uncovered_must"])
    # A MUST judged only by SHOULD/PRACTICE requirements is covered, but says that a failure there only warns.
    assert out.count("mind: a MUST judged only by SHOULD/PRACTICE") == len(totals["must_that_only_warns"])
    assert (
        f"{totals['statements']} statements ({totals['must']} MUST, {totals['should']} SHOULD): "
        f"{totals['covered']} covered, {totals['not observable']} not observable, {totals['uncovered']} uncovered"
    ) in out
    assert totals["covered"] + totals["not observable"] + totals["uncovered"] == len(STATEMENTS)


def _json(capsys: pytest.CaptureFixture[str]) -> dict:
    assert cli_requirements.run(argparse.Namespace(role="cpo", format="json", coverage=True)) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_json(capsys: pytest.CaptureFixture[str], checks: dict[str, list[str]]) -> None:
    report = _json(capsys)
    assert [r["id"] for r in report["statements"]] == [s.id for s in STATEMENTS]
    assert report["statements"] == judge(STATEMENTS, checks, STRENGTHS)
    assert report["counts"] == counts(report["statements"])
    first = report["statements"][0]
    assert {
        "id",
        "strength",
        "word",
        "chapter",
        "section",
        "place",
        "party",
        "text",
        "status",
        "checks",
        "reason",
    } <= set(first)


def test_a_requirement_without_a_check_leaves_its_statements_uncovered(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, checks: dict[str, list[str]]
) -> None:
    """CPO-OUT-04's check removed: every statement resting on it is reported uncovered, by name, in both formats."""
    leaning = {s.id for s in STATEMENTS if "CPO-OUT-04" in s.requirements}
    assert leaning, "the proof needs statements that rest on CPO-OUT-04"
    monkeypatch.setattr(
        cli_requirements, "coverage", lambda package: {k: v for k, v in checks.items() if k != "CPO-OUT-04"}
    )
    report = _json(capsys)
    rows = {r["id"]: r for r in report["statements"]}
    for sid in leaning:
        assert rows[sid]["status"] == UNCOVERED and rows[sid]["unchecked"] == ["CPO-OUT-04"], rows[sid]
        assert rows[sid]["reason"] == "no check judges CPO-OUT-04"
    assert {sid for sid in leaning if rows[sid]["strength"] == "MUST"} <= set(report["counts"]["uncovered_must"])
    assert cli_requirements.run(argparse.Namespace(role="cpo", format="text", coverage=True)) == 0
    out = capsys.readouterr().out
    assert "!! UNCOVERED MUST: no check judges CPO-OUT-04" in out
    # A requirement the suite does not have at all is named as such.
    ghost = [
        Statement(
            "CPO1-99",
            "MUST",
            "MUST",
            "CPO 1",
            "REST",
            "A statement on a lost requirement.",
            requirements=("CPO-GONE-01",),
        )
    ]
    [row] = judge(ghost, checks, STRENGTHS)
    assert row["status"] == UNCOVERED and row["reason"] == "CPO-GONE-01 is not a requirement of the suite"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            'text = "A statement covered and excused at once."\nrequirements = ["CPO-OUT-04"]\nunobservable = "why"',
            "exactly one",
        ),
        ('text = "A statement with no verdict at all."', "exactly one"),
        ('text = "An uncovered statement without a note."\nuncovered = true', "needs a note"),
        ('text = "A statement with a typo."\nrequirement = ["CPO-OUT-04"]', "unknown key"),
        ('text = ""\nrequirements = ["CPO-OUT-04"]', "missing or empty text"),
    ],
)
def test_an_incomplete_entry_is_refused(tmp_path: Path, entry: str, message: str) -> None:
    head = 'id = "CPO1-01"\nstrength = "MUST"\nword = "MUST"\nchapter = "CPO 1"\nsection = "REST"\n'
    path = tmp_path / "statements.toml"
    path.write_text(f"[[statement]]\n{head}{entry}\n", encoding="utf-8")
    with pytest.raises(StatementError, match=message):
        load(path)


def test_a_repeated_id_is_refused(tmp_path: Path) -> None:
    one = '[[statement]]\nid = "CPO1-01"\nstrength = "MUST"\nword = "MUST"\nchapter = "CPO 1"\nsection = "REST"\n'
    one += 'text = "Everything is UTF-8."\nrequirements = ["CPO-OUT-04"]\n'
    path = tmp_path / "statements.toml"
    path.write_text(one + one, encoding="utf-8")
    with pytest.raises(StatementError, match="listed twice"):
        load(path)


@pytest.mark.skipif(not SPEC.is_dir(), reason=f"no OICP spec checkout at {SPEC}: sections not compared with the text")
def test_every_section_and_word_is_in_its_chapter() -> None:
    for s in STATEMENTS:
        chapter = sections(s.chapter)
        assert s.section in chapter, f"{s.id}: {s.chapter} has no section {s.section!r}"
        word = "M/O" if s.word == "M" else s.word
        assert word.lower() in chapter[s.section].lower(), f"{s.id}: {s.word!r} is not in {s.section!r}"


@pytest.mark.skipif(not SPEC.is_dir(), reason=f"no OICP spec checkout at {SPEC}: sections not compared with the text")
def test_no_section_with_a_must_or_should_word_is_forgotten() -> None:
    listed = {(s.chapter, s.section) for s in STATEMENTS}
    forgotten = [
        (chapter, heading)
        for chapter in ("CPO 1", "CPO 2", "CPO 3")
        for heading, text in sections(chapter).items()
        if ANY_WORD.search(text) and (chapter, heading) not in listed and (chapter, heading) not in NOT_A_STATEMENT
    ]
    assert not forgotten, forgotten
    assert not set(NOT_A_STATEMENT) & listed, "a section with statements needs no excuse"
