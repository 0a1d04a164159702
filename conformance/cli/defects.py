"""`oicp-conformance defects --role cpo`: plant each defect in the reference CPO and show what caught it."""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance.cli.errors import EXIT_FAILED, EXIT_OK, UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "defects",
        help="run the suite once per planted defect of the reference CPO",
        description="Proves the checks: each planted defect must be caught by its intended check.",
    )
    p.add_argument("--role", default="cpo")
    p.add_argument("--list", action="store_true", help="list the defects and exit")
    p.add_argument("--quick", action="store_true", help="run only each defect's intended checks (much faster)")
    p.add_argument("--only", action="append", default=[], metavar="DEFECT", help="only these defects")
    p.add_argument("--reports", type=Path, default=Path("reports"), help="report folder (default: reports/)")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from conformance.reference.cpo.defects import DEFECTS
    from conformance.runner import run_suite

    if args.role != "cpo":
        raise UsageError("only the reference CPO has defects so far (--role cpo)")
    if unknown := [d for d in args.only if d not in DEFECTS]:
        raise UsageError(f"unknown defect(s) {unknown}; `--list` names them")
    if args.list:
        for d in DEFECTS.values():
            print(f"{d.name:34} {d.area:26} {d.caught_by:20} {d.description}")
        return EXIT_OK
    missed = 0
    print(f"{'defect':34} {'intended check':20} {'verdict':8} requirements that failed or warned")
    for defect in DEFECTS.values():
        if args.only and defect.name not in args.only:
            continue
        outcome = run_suite(
            "cpo",
            args.reports / "cpo-defects" / defect.name,
            seed=args.seed,
            defects=[defect.name],
            requirements=[defect.caught_by] if args.quick else None,
            quiet=True,
            allure=False,
        )
        rows = (outcome.summary or {}).get("requirements", [])
        caught = [f"{r['id']} ({r['status']})" for r in rows if r["status"] in ("fail", "warn", "error")]
        hit = any(r["id"] == defect.caught_by and r["status"] in ("fail", "warn") for r in rows)
        missed += not hit
        print(
            f"{defect.name:34} {defect.caught_by:20} {'caught' if hit else 'MISSED':8} {', '.join(caught) or '-'}",
            flush=True,
        )
    print("every planted defect was caught by its intended check" if not missed else f"{missed} defect(s) missed")
    return EXIT_OK if not missed else EXIT_FAILED
