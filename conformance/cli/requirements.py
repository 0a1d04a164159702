"""`oicp-conformance requirements --role cpo`: every requirement, the sentence it rests on, how strong, which checks.

The quote is printed in full so a reader can judge the strength from the spec's own words without a copy
of the spec at hand. `--coverage` turns the view around: each MUST and SHOULD statement of the CPO chapters
(conformance/suites/cpo_statements.toml) with the checks that cover it, or why it cannot be observed from
outside, or that nothing judges it yet, so a team sees what a pass does not vouch for.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import textwrap
from typing import Any

from conformance.cli.errors import UsageError

WIDTH = 100
INDENT = " " * 4


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("requirements", help="list the requirements of a role's suite and the checks covering them")
    p.add_argument("--role", default="cpo", choices=("cpo", "emp"), help="whose requirements (default: cpo)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument(
        "--coverage",
        action="store_true",
        help="list the MUST and SHOULD statements of the CPO chapters 1-3 with the checks covering each, or why "
        "they cannot be observed (cpo only; default: off)",
    )
    p.set_defaults(run=run)


def coverage(package: str) -> dict[str, list[str]]:
    """Requirement ID -> the suite tests that check it (read from their `requirement` markers)."""
    covered: dict[str, list[str]] = {}
    module_names = [m.name for m in pkgutil.iter_modules(importlib.import_module(package).__path__)]
    for name in sorted(n for n in module_names if n.startswith("test_")):
        module = importlib.import_module(f"{package}.{name}")
        for attr, fn in sorted(vars(module).items()):
            if not attr.startswith("test_"):
                continue
            for mark in getattr(fn, "pytestmark", []):
                if mark.name == "requirement":
                    for rid in mark.args:
                        covered.setdefault(rid, []).append(f"{name}.py::{attr}")
    return covered


def rows(covered: dict[str, list[str]], role: str = "cpo") -> list[dict[str, Any]]:
    """Every requirement of the role with all its fields, the derived ones and its covering checks."""
    from conformance.suites.emp_requirements import EMP, EMP_MANDATORY, EMP_MODES
    from conformance.suites.requirements import CPO

    table = EMP if role == "emp" else CPO
    return [
        {
            "id": r.id,
            "strength": r.strength,
            "title": r.title,
            "quote": r.quote,
            "chapter": r.chapter,
            "section": r.section,
            "place": r.place,
            "feature": r.feature,
            "basis": r.basis,
            "source": r.source,
            "fails_verdict": r.fails_verdict,
            "checks": covered.get(r.id, []),
            **(
                {"modes": sorted(EMP_MODES[r.id]), "mandatory_in": sorted(EMP_MANDATORY[r.id])} if role == "emp" else {}
            ),
        }
        for r in table.values()
    ]


def _wrapped(label: str, text: str) -> list[str]:
    """`label: text` wrapped under the requirement, continuation lines aligned after the label."""
    first = f"{INDENT}{label}: "
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=" " * len(first))


def render(row: dict[str, Any]) -> list[str]:
    """The text block of one requirement: headline, quote with its place or the practice basis, feature, checks."""
    head = f"{row['id']:22} {row['strength']:8} "
    lines = textwrap.wrap(row["title"], WIDTH, initial_indent=head, subsequent_indent=" " * len(head))
    if row["quote"]:
        lines += _wrapped("quote", f"“{row['quote']}”")
        lines.append(f"{INDENT}{' ' * len('quote: ')}({row['place']})")
    if row["strength"] == "PRACTICE":
        lines += _wrapped("practice", row["basis"])
    feature = f"{row['feature']} (optional; checked where the SUT declares it)" if row["feature"] else "none"
    lines.append(f"{INDENT}feature: {feature}")
    if "modes" in row:
        mandatory = " and ".join(row["mandatory_in"]) or "no mode (optional)"
        lines.append(f"{INDENT}EMP modes: {' and '.join(row['modes'])}; mandatory in {mandatory}")
    lines += _wrapped("checks", ", ".join(row["checks"]) or "NONE")
    return lines


def run(args: argparse.Namespace) -> int:
    from conformance.runner import SUITES

    if args.role not in SUITES:
        raise UsageError(f"role {args.role!r}: no such suite")
    if getattr(args, "coverage", False):
        if args.role != "cpo":
            raise UsageError("--coverage: the statement list exists for --role cpo only")
        return run_coverage(coverage(SUITES[args.role]), args.format)
    table = rows(coverage(SUITES[args.role]), args.role)
    if args.format == "json":
        print(json.dumps(table, indent=2, ensure_ascii=False))
        return 0
    for row in table:
        print("\n".join(render(row)))
        print()
    print("MUST fails the run; SHOULD and PRACTICE warn (--strict makes them fail too).")
    return 0


# --- `--coverage`: the CPO chapters' statements and what covers them (issue 12 point 7) ---------------------


def statement_rows(checks: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Every statement of the CPO chapters with its status, judged against the checks found now."""
    from conformance.suites.requirements import CPO
    from conformance.suites.statements import judge, load

    return judge(load(), checks, {r.id: r.strength for r in CPO.values()})


def _labelled(label: str, text: str) -> list[str]:
    """`label: text` wrapped as `_wrapped` does, never inside an ID or a test name (CPO-OUT-04 stays whole)."""
    first = f"{INDENT}{label}: "
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=" " * len(first),
        break_on_hyphens=False,
        break_long_words=False,
    )


def render_statement(row: dict[str, Any]) -> list[str]:
    """The text block of one statement: headline with status and place, paraphrase, checks or reason."""
    from conformance.suites.statements import COVERED, NOT_OBSERVABLE

    status = row["status"].upper() if row["status"] not in (COVERED, NOT_OBSERVABLE) else row["status"]
    head = f"{row['id']:8} {row['strength']:6} {status:14} "
    binds = "" if row["party"] == "CPO" else f" (binds {row['party']})"
    lines = [f"{head}{row['chapter']}, {row['section']}{binds}"]
    lines += textwrap.wrap(row["text"], WIDTH, initial_indent=INDENT, subsequent_indent=INDENT, break_on_hyphens=False)
    if row["status"] == COVERED:
        for rid, tests in row["checks"].items():
            lines += _labelled(f"covered by {rid} ({row['requirement_strengths'][rid]})", ", ".join(tests))
        if row["warns_only"]:
            lines += _labelled("mind", "a MUST judged only by SHOULD/PRACTICE requirements: a failure warns")
    elif row["status"] == NOT_OBSERVABLE:
        lines += _labelled("not observable", row["reason"])
    else:
        label = "!! UNCOVERED MUST" if row["strength"] == "MUST" else "uncovered"
        lines += _labelled(label, row["reason"])
        for rid in row["requirements"]:
            if rid not in row["unchecked"]:
                strength = row["requirement_strengths"][rid]
                lines += _labelled(f"judged by {rid} ({strength})", ", ".join(row["checks"][rid]))
    if row["note"] and row["reason"] != row["note"]:
        lines += _labelled("note", row["note"])
    return lines


def count_line(totals: dict[str, Any]) -> str:
    """The closing count: covered / not observable / uncovered, and how many uncovered statements are MUSTs."""
    return (
        f"{totals['statements']} statements ({totals['must']} MUST, {totals['should']} SHOULD): "
        f"{totals['covered']} covered, {totals['not observable']} not observable, {totals['uncovered']} uncovered "
        f"({len(totals['uncovered_must'])} MUST, {len(totals['uncovered_should'])} SHOULD)"
    )


def run_coverage(checks: dict[str, list[str]], fmt: str) -> int:
    """Print the statements with their coverage; exit 0 whatever the coverage (a report, not a gate)."""
    from conformance.suites.statements import StatementError, counts

    try:
        table = statement_rows(checks)
    except StatementError as exc:
        raise UsageError(f"the statement list is broken: {exc}") from exc
    totals = counts(table)
    if fmt == "json":
        print(json.dumps({"statements": table, "counts": totals}, indent=2, ensure_ascii=False))
        return 0
    for row in table:
        print("\n".join(render_statement(row)))
        print()
    print(count_line(totals))
    if totals["must_that_only_warns"]:
        print(f"MUST judged only as SHOULD/PRACTICE (a failure warns): {', '.join(totals['must_that_only_warns'])}")
    if totals["uncovered_must"]:
        print(f"UNCOVERED MUST: {', '.join(totals['uncovered_must'])}")
    return 0
