"""`oicp-conformance requirements --role cpo`: every requirement, where it comes from, how strong, which checks."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil

from conformance.cli.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("requirements", help="list the requirements of a role's suite and the checks covering them")
    p.add_argument("--role", default="cpo")
    p.add_argument("--format", choices=("text", "json"), default="text")
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


def run(args: argparse.Namespace) -> int:
    from conformance.runner import SUITES
    from conformance.suites.requirements import CPO

    if args.role not in SUITES:
        raise UsageError(f"role {args.role!r}: only the CPO suite exists so far (--role cpo)")
    covered = coverage(SUITES[args.role])
    rows = [
        {
            "id": r.id,
            "strength": r.strength,
            "feature": r.feature,
            "title": r.title,
            "source": r.source,
            "checks": covered.get(r.id, []),
        }
        for r in CPO.values()
    ]
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        feature = f" (optional feature: {row['feature']})" if row["feature"] else ""
        print(f"{row['id']:22} {row['strength']:7} {row['title']}{feature}")
        print(f"{'':30} source: {row['source']}")
        print(f"{'':30} checks: {', '.join(row['checks']) or 'NONE'}")
    return 0
