"""`oicp-conformance requirements --role cpo`: every requirement, the sentence it rests on, how strong, which checks.

The quote is printed in full so a reader can judge the strength from the spec's own words without a copy
of the spec at hand.
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
    table = rows(coverage(SUITES[args.role]), args.role)
    if args.format == "json":
        print(json.dumps(table, indent=2, ensure_ascii=False))
        return 0
    for row in table:
        print("\n".join(render(row)))
        print()
    print("MUST fails the run; SHOULD and PRACTICE warn (--strict makes them fail too).")
    return 0
