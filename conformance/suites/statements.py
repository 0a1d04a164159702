"""The MUST and SHOULD statements of the OICP 2.3 CPO chapters 1-3 and which checks of the suite cover each.

The list lives in `cpo_statements.toml` beside this module (shipped with the package), each statement in the
project's own words with the spec word its strength rests on. A statement names the requirements whose checks
judge it, or why nothing outside the CPO can judge it, or that nothing does yet. Naming a requirement is only a
claim: the statement counts as covered while every requirement it names is judged by a check of the suite,
which `judge` decides from the checks found at run time, so a requirement that lost its check shows its
statements as uncovered instead of silently keeping them covered.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATEMENTS_FILE = Path(__file__).with_name("cpo_statements.toml")
RELEASE = "OICP 2.3"
STRENGTHS = ("MUST", "SHOULD")
CHAPTERS = ("CPO 1", "CPO 2", "CPO 3")
PARTIES = ("CPO", "Hubject", "EMP", "driver")
COVERED, NOT_OBSERVABLE, UNCOVERED = "covered", "not observable", "uncovered"
_REQUIRED = ("id", "strength", "word", "chapter", "section", "text")
_OPTIONAL = ("party", "requirements", "unobservable", "uncovered", "note")


class StatementError(ValueError):
    """The statement file is incomplete or inconsistent (raised with the statement's ID and what is wrong)."""


@dataclass(frozen=True)
class Statement:
    """One MUST or SHOULD of the CPO chapters; exactly one of requirements / unobservable / uncovered is set."""

    id: str
    strength: str
    word: str  # the spec's word the strength rests on, e.g. "MUST", "mandatory", "please"
    chapter: str
    section: str
    text: str  # the project's paraphrase
    party: str = "CPO"  # whom the sentence binds
    requirements: tuple[str, ...] = ()
    unobservable: str = ""  # why no test from outside the CPO can judge it
    uncovered: bool = False  # observable, but no check yet
    note: str = ""

    @property
    def place(self) -> str:
        """Where it sits, readable: "OICP 2.3 CPO chapter 1, Time zones"."""
        role, number = self.chapter.split()
        return f"{RELEASE} {role} chapter {number}, {self.section}"


def _statement(entry: Mapping[str, Any], index: int) -> Statement:
    """One entry of the file, checked: a half-filled entry would show as covered or excused without grounds."""
    label = str(entry.get("id") or f"statement #{index + 1}")
    if unknown := sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL)):
        raise StatementError(f"{label}: unknown key(s) {', '.join(unknown)}")
    if missing := [k for k in _REQUIRED if not (isinstance(entry.get(k), str) and entry[k].strip())]:
        raise StatementError(f"{label}: missing or empty {', '.join(missing)}")
    if entry["strength"] not in STRENGTHS:
        raise StatementError(f"{label}: strength {entry['strength']!r} is not one of {STRENGTHS}")
    if entry["chapter"] not in CHAPTERS:
        raise StatementError(f"{label}: chapter {entry['chapter']!r} is not one of {CHAPTERS}")
    party = entry.get("party", "CPO")
    if party not in PARTIES:
        raise StatementError(f"{label}: party {party!r} is not one of {PARTIES}")
    requirements = entry.get("requirements", [])
    if not isinstance(requirements, list) or not all(isinstance(r, str) and r for r in requirements):
        raise StatementError(f"{label}: requirements must be a list of requirement IDs")
    unobservable = entry.get("unobservable", "")
    uncovered = entry.get("uncovered", False)
    if not isinstance(unobservable, str) or not isinstance(uncovered, bool):
        raise StatementError(f"{label}: unobservable is a reason (text), uncovered is true or false")
    chosen = [
        k
        for k, v in (("requirements", requirements), ("unobservable", unobservable.strip()), ("uncovered", uncovered))
        if v
    ]
    if len(chosen) != 1:
        raise StatementError(
            f"{label}: needs exactly one of requirements, unobservable or uncovered = true (has {chosen or 'none'})"
        )
    note = entry.get("note", "")
    if not isinstance(note, str) or (uncovered and not note.strip()):
        raise StatementError(f"{label}: an uncovered statement needs a note saying what is missing")
    return Statement(
        id=label,
        strength=entry["strength"],
        word=entry["word"],
        chapter=entry["chapter"],
        section=entry["section"],
        text=" ".join(entry["text"].split()),
        party=party,
        requirements=tuple(requirements),
        unobservable=" ".join(unobservable.split()),
        uncovered=uncovered,
        note=" ".join(note.split()),
    )


def load(path: Path = STATEMENTS_FILE) -> list[Statement]:
    """Every statement of the file, in its order; StatementError on the first incomplete entry or a repeated ID."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise StatementError(f"{path}: {exc}") from exc
    entries = data.get("statement")
    if not isinstance(entries, list) or not entries:
        raise StatementError(f"{path}: no [[statement]] entries")
    statements = [_statement(e, i) for i, e in enumerate(entries)]
    seen: set[str] = set()
    for s in statements:
        if s.id in seen:
            raise StatementError(f"{s.id}: listed twice")
        seen.add(s.id)
    return statements


def judge(
    statements: list[Statement], checks: Mapping[str, list[str]], strengths: Mapping[str, str]
) -> list[dict[str, Any]]:
    """One row per statement with its status, computed from the checks that exist now (requirement -> tests)
    and the suite's requirements (ID -> strength).

    Covered needs every named requirement to exist and be judged by at least one check; otherwise the
    statement is uncovered and `unchecked` says which requirement let it down. `warns_only` marks a covered
    MUST whose requirements are all SHOULD or PRACTICE: judged, but a failure only warns (unless --strict)."""
    rows = []
    for s in statements:
        found = {rid: list(checks.get(rid, [])) for rid in s.requirements}
        unchecked = [rid for rid in s.requirements if rid not in strengths or not found[rid]]
        if s.unobservable:
            status, why = NOT_OBSERVABLE, s.unobservable
        elif s.uncovered:
            status, why = UNCOVERED, s.note
        elif unchecked:
            status = UNCOVERED
            why = "; ".join(
                f"{rid} is not a requirement of the suite" if rid not in strengths else f"no check judges {rid}"
                for rid in unchecked
            )
        else:
            status, why = COVERED, ""
        rows.append(
            {
                "id": s.id,
                "strength": s.strength,
                "word": s.word,
                "chapter": s.chapter,
                "section": s.section,
                "place": s.place,
                "party": s.party,
                "text": s.text,
                "status": status,
                "requirements": list(s.requirements),
                "checks": found,
                "requirement_strengths": {rid: strengths.get(rid, "") for rid in s.requirements},
                "unchecked": unchecked,
                "warns_only": status == COVERED
                and s.strength == "MUST"
                and all(strengths[rid] != "MUST" for rid in s.requirements),
                "reason": why,
                "note": s.note,
            }
        )
    return rows


def counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals for the count line: per status, per strength, and which MUSTs are uncovered."""
    by_status = {status: sum(r["status"] == status for r in rows) for status in (COVERED, NOT_OBSERVABLE, UNCOVERED)}
    return {
        "statements": len(rows),
        "must": sum(r["strength"] == "MUST" for r in rows),
        "should": sum(r["strength"] == "SHOULD" for r in rows),
        **by_status,
        "uncovered_must": [r["id"] for r in rows if r["status"] == UNCOVERED and r["strength"] == "MUST"],
        "uncovered_should": [r["id"] for r in rows if r["status"] == UNCOVERED and r["strength"] == "SHOULD"],
        "must_that_only_warns": [r["id"] for r in rows if r["warns_only"]],
    }
