"""`oicp-conformance defects --role cpo`: plant each defect in the reference CPO and show what caught it."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from conformance.cli.errors import EXIT_FAILED, EXIT_OK, UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "defects",
        help="run the suite once per planted defect of the reference CPO",
        description="Proves the checks: each planted defect must be caught by its intended check. A full run "
        "takes about 15 minutes on two cores; --quick (only each defect's intended check) about 3.",
    )
    p.add_argument("--role", default="cpo", choices=("cpo", "emp"), help="whose reference (default: cpo)")
    p.add_argument("--list", action="store_true", help="list the defects and exit")
    p.add_argument("--quick", action="store_true", help="run only each defect's intended check (much faster)")
    p.add_argument("--only", action="append", default=[], metavar="DEFECT", help="only these defects (repeatable)")
    p.add_argument(
        "--shape", default="official", help="deployment shape of the reference CPO (default: official; CPO only)"
    )
    p.add_argument(
        "--reports",
        type=Path,
        default=Path("reports"),
        help="report folder (default: reports/; each defect in REPORTS/cpo-defects/<defect>/)",
    )
    p.add_argument("--seed", type=int, default=1, help="seed of every run (default: 1)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from conformance.runner import ReportsError, run_suite

    if args.role == "emp":
        from conformance.reference.emp.defects import DEFECTS
        from conformance.reference.emp.shapes import SHAPES
    else:
        from conformance.reference.cpo.defects import DEFECTS
        from conformance.reference.cpo.shapes import SHAPES

    if unknown := [d for d in args.only if d not in DEFECTS]:
        raise UsageError(f"unknown defect(s) {unknown}; `--list` names them")
    if args.role == "cpo" and args.shape not in SHAPES:
        raise UsageError(f"unknown shape {args.shape!r}; known: {', '.join(SHAPES)}")
    if args.list:
        for d in DEFECTS.values():
            print(f"{d.name:34} {d.area:26} {d.caught_by or '(no check yet)':20} {d.description}")
        print(f"{len(DEFECTS)} defects")
        return EXIT_OK
    unchecked = [d.name for d in DEFECTS.values() if not d.caught_by]
    shape = args.shape if args.role == "cpo" else None
    chosen = [
        d
        for d in DEFECTS.values()
        if (not args.only or d.name in args.only) and d.caught_by and (shape is None or d.applies(shape))
    ]
    missed = 0
    print(f"{'':7} {'defect':34} {'intended check':20} {'verdict':8} requirements that failed or warned")
    for index, defect in enumerate(chosen, 1):
        began = time.monotonic()
        try:
            mode = None
            if args.role == "emp":
                from conformance.reference.emp.defects import mode_for
                from conformance.suites.emp_requirements import EMP_MANDATORY

                mode = mode_for(defect, EMP_MANDATORY[defect.caught_by])  # type: ignore[arg-type]
            outcome = run_suite(
                args.role,
                args.reports / f"{args.role}-defects" / defect.name,
                seed=args.seed,
                defects=[defect.name],
                shape=shape,
                mode=mode,
                requirements=[defect.caught_by] if args.quick else None,
                quiet=True,
                allure=False,
                fork=True,
            )
        except ReportsError as exc:
            raise UsageError(str(exc)) from exc
        rows = (outcome.summary or {}).get("requirements", [])
        caught = [f"{r['id']} ({r['status']})" for r in rows if r["status"] in ("fail", "warn", "error")]
        hit = any(r["id"] == defect.caught_by and r["status"] in ("fail", "warn") for r in rows)
        missed += not hit
        progress = f"{index}/{len(chosen)}"
        print(
            f"{progress:7} {defect.name:34} {defect.caught_by:20} {'caught' if hit else 'MISSED':8} "
            f"{', '.join(caught) or '-'} ({time.monotonic() - began:.0f} s)",
            flush=True,
        )
    if unchecked:
        print(f"{len(unchecked)} defect(s) have no check yet and were not run: {', '.join(unchecked)}")
    print("every planted defect was caught by its intended check" if not missed else f"{missed} defect(s) missed")
    return EXIT_OK if not missed else EXIT_FAILED
