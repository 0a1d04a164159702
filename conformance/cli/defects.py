"""`oicp-conformance defects --role cpo`: plant each defect in the reference CPO and show what caught it."""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from conformance.cli.errors import EXIT_FAILED, EXIT_OK, UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "defects",
        help="run the suite on the clean reference and once per planted defect",
        description="Proves the checks: the clean reference passes every check (SHOULDs included) and each planted "
        "defect is caught by its intended check. --quick runs only each defect's intended check.",
    )
    p.add_argument("--role", default="cpo", choices=("cpo", "emp"), help="whose reference (default: cpo)")
    p.add_argument("--list", action="store_true", help="list the defects and exit")
    p.add_argument("--quick", action="store_true", help="run only each defect's intended check (much faster)")
    p.add_argument("--only", action="append", default=[], metavar="DEFECT", help="only these defects (repeatable)")
    p.add_argument(
        "--shape",
        default="official",
        help="deployment shape of the reference (default: official); see `reference --help`",
    )
    p.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=min(8, 2 * (os.cpu_count() or 1)),
        help="runs at once (default: twice the cores, at most 8; the runs mostly wait on sockets)",
    )
    p.add_argument(
        "--reports",
        type=Path,
        default=Path("reports"),
        help="report folder (default: reports/; each run in REPORTS/<role>-defects/<defect or clean>/)",
    )
    p.add_argument("--seed", type=int, default=1, help="seed of every run (default: 1)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from conformance.runner import ReportsError

    if args.role == "emp":
        from conformance.reference.emp.defects import DEFECTS
        from conformance.reference.emp.shapes import SHAPES
    else:
        from conformance.reference.cpo.defects import DEFECTS
        from conformance.reference.cpo.shapes import SHAPES

    if unknown := [d for d in args.only if d not in DEFECTS]:
        raise UsageError(f"unknown defect(s) {unknown}; `--list` names them")
    if args.shape not in SHAPES:
        raise UsageError(f"unknown shape {args.shape!r}; known: {', '.join(SHAPES)}")
    if args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: at least 1")
    if args.list:
        for d in DEFECTS.values():
            print(f"{d.name:34} {d.area:26} {d.caught_by or '(no check yet)':20} {d.description}")
        print(f"{len(DEFECTS)} defects")
        return EXIT_OK
    unchecked = [d.name for d in DEFECTS.values() if not d.caught_by]
    chosen = [d for d in DEFECTS.values() if (not args.only or d.name in args.only) and d.caught_by]
    runs: list[tuple[str, Any]] = [("(none: the clean reference)", None)] if not args.only else []
    skipped = []
    for defect in chosen:
        mode = _mode(args, SHAPES, defect)
        config = SHAPES[args.shape].build(**({"mode": mode} if mode else {}))
        if why := defect.why_not(config):
            skipped.append(f"{defect.name} ({why})")
        else:
            runs.append((defect.name, defect))
    print(f"{'':7} {'defect':34} {'intended check':20} {'verdict':8} requirements that failed or warned", flush=True)
    lines: dict[int, str] = {}
    missed = 0
    try:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = {pool.submit(_one, args, SHAPES, name, defect): i for i, (name, defect) in enumerate(runs)}
            for done, future in enumerate(as_completed(futures), 1):
                index = futures[future]
                name, defect = runs[index]
                caught, hit, seconds = future.result()
                if defect is None:  # the clean reference: nothing may fail or warn, SHOULDs included
                    verdict, intended = ("clean" if not caught else "NOT CLEAN"), "-"
                    missed += bool(caught)
                else:
                    verdict, intended = ("caught" if hit else "MISSED"), defect.caught_by
                    missed += not hit
                lines[index] = f"{name:34} {intended:20} {verdict:8} {', '.join(caught) or '-'} ({seconds:.0f} s)"
                print(f"{f'{done}/{len(runs)}':7} {lines[index]}", flush=True)
    except ReportsError as exc:
        raise UsageError(str(exc)) from exc
    if skipped:
        print(f"not in shape {args.shape}: {'; '.join(skipped)}")
    if unchecked:
        print(f"{len(unchecked)} defect(s) have no check yet and were not run: {', '.join(unchecked)}")
    print(
        "the clean reference passed and every planted defect was caught by its intended check"
        if not missed
        else f"{missed} run(s) did not end as they must (a defect missed, or the clean reference not clean)"
    )
    return EXIT_OK if not missed else EXIT_FAILED


def _mode(args: argparse.Namespace, shapes: dict[str, Any], defect: Any) -> str | None:
    """An EMP defect runs in the shape's own mode, else where its check's operation is mandatory."""
    if args.role != "emp":
        return None
    from conformance.reference.emp.defects import mode_for
    from conformance.suites.emp_requirements import EMP_MANDATORY

    chosen = mode_for(defect, EMP_MANDATORY[defect.caught_by])
    return str(shapes[args.shape].config.get("mode", chosen))


def _one(args: argparse.Namespace, shapes: dict[str, Any], name: str, defect: Any) -> tuple[list[str], bool, float]:
    """One run: the requirements that failed, warned or broke, and whether the intended one caught it."""
    from conformance.runner import run_suite

    began = time.monotonic()
    outcome = run_suite(
        args.role,
        args.reports / f"{args.role}-defects" / (name if defect is not None else "clean"),
        seed=args.seed,
        defects=[defect.name] if defect is not None else [],
        shape=args.shape,
        mode=_mode(args, shapes, defect) if defect is not None else None,
        requirements=[defect.caught_by] if args.quick and defect is not None else None,
        quiet=True,
        allure=False,
        fork=args.jobs == 1,  # forking a process that runs threads is unsafe: with --jobs, fresh interpreters
    )
    rows = (outcome.summary or {}).get("requirements", [])
    caught = [f"{r['id']} ({r['status']})" for r in rows if r["status"] in ("fail", "warn", "error")]
    if outcome.summary is None:
        caught.append(f"no summary (exit {outcome.exit_code})")
    hit = defect is not None and any(r["id"] == defect.caught_by and r["status"] in ("fail", "warn") for r in rows)
    return caught, hit, time.monotonic() - began
