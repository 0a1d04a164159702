"""`oicp-conformance run --role cpo`: the conformance suite against a SUT (default: the bundled reference)."""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from conformance.cli.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, UsageError
from conformance.profiles import CI, DEV
from conformance.sut import Sut


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run a role's conformance suite and write reports",
        description="Run the conformance suite. Exit 0: every MUST requirement holds; 1: failures; "
        "2: configuration problem or SUT unreachable.",
    )
    p.add_argument("--role", required=True, help="cpo (the EMP suite is not written yet)")
    p.add_argument("--sut", type=Path, help="SUT declaration (oicp-sut.toml); default: the bundled reference CPO")
    p.add_argument("--release", help="OICP release; must match the declaration's (default: its release)")
    p.add_argument("--reports", type=Path, default=Path("reports"), help="report folder (default: reports/)")
    p.add_argument("--seed", type=int, help="repeat a run: the seed is printed at the start of every run")
    p.add_argument("--hypothesis-profile", choices=(CI, DEV), help="Hypothesis settings profile")
    p.add_argument("-k", dest="keyword", help="only tests matching this pytest -k expression")
    p.add_argument("--requirement", action="append", default=[], help="only the tests of this requirement ID")
    p.add_argument(
        "--defect",
        action="append",
        default=[],
        help="plant a defect in the bundled reference CPO (see `oicp-conformance defects`); only without --sut",
    )
    p.set_defaults(run=run)


def _probe(sut: Sut) -> None:
    """Reachable (any HTTP answer) and authorised (no 401/403 with the declared headers), or exit 2 now."""
    from conformance.catalog import load_release
    from conformance.sut.client import headers_for, poke

    op = load_release(sut.release).operation("AuthorizeRemoteStop.cpo")
    url, answer, error = poke(sut, op)
    if answer is None:
        raise UsageError(f"SUT unreachable at {url}: {error}")
    if answer.status_code in (401, 403):
        raise UsageError(
            f"authorisation problem: {url} answered HTTP {answer.status_code} to the declared headers "
            f"({', '.join(headers_for(sut, op)) or 'none'}); check [headers] and [inbound.*.headers] in "
            f"{sut.source} (values written as ${{VAR}} are read from the environment)"
        )


def check_arguments(args: argparse.Namespace) -> None:
    """The configuration problems `run` and `defects` share, reported before any test runs."""
    from conformance.reference.cpo.defects import DEFECTS
    from conformance.suites.requirements import CPO
    from conformance.sut import ConfigError, load

    if args.role != "cpo":
        raise UsageError(f"role {args.role!r}: only the CPO suite exists so far (--role cpo)")
    if unknown := [d for d in args.defect if d not in DEFECTS]:
        raise UsageError(f"unknown defect(s) {unknown}; `oicp-conformance defects --list` names them")
    if unknown := [r for r in args.requirement if r not in CPO]:
        raise UsageError(f"unknown requirement(s) {unknown}")
    if args.sut is not None:
        if args.defect:
            raise UsageError("--defect plants bugs in the bundled reference CPO; it cannot go with --sut")
        try:
            sut = load(args.sut)
        except ConfigError as exc:
            raise UsageError(str(exc)) from exc
        if args.release and args.release != sut.release:
            raise UsageError(f"--release {args.release} but {args.sut} declares release {sut.release}")
        if sut.hub_port == 0:
            print(
                f"warning: {args.sut} has no hub.port: the SUT cannot know where the fake hub listens; its "
                "outbound checks will find no calls",
                file=sys.stderr,
            )
        _probe(sut)
    elif args.release and args.release != "2.3":
        raise UsageError("the bundled reference CPO speaks OICP 2.3; test 2.2 with your own --sut")


def run(args: argparse.Namespace) -> int:
    from conformance.reports import render, service_versions, write_environment
    from conformance.runner import run_suite

    check_arguments(args)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    target = (
        str(args.sut) if args.sut else "bundled reference CPO" + (f" with defects {args.defect}" if args.defect else "")
    )
    print(f"oicp-conformance: CPO suite against {target}, seed {seed} (repeat with --seed {seed})", flush=True)
    try:
        outcome = run_suite(
            "cpo",
            args.reports,
            sut=args.sut,
            seed=seed,
            defects=args.defect,
            requirements=args.requirement,
            keyword=args.keyword,
            profile=args.hypothesis_profile,
        )
    except FileExistsError as exc:
        raise UsageError(str(exc)) from exc
    folder = args.reports / "cpo"
    release = args.release or "2.3"
    write_environment(
        folder / "allure-results",
        {
            "SUT": target,
            "Role": "CPO",
            "OICP.release": release,
            "Service.versions": service_versions(release),
            "Seed": seed,
            "Verdict": (outcome.summary or {}).get("verdict", "unknown"),
        },
    )
    if outcome.exit_code in (2, 3, 4):
        print(
            f"oicp-conformance: the suite could not run (pytest exit {outcome.exit_code}); see above", file=sys.stderr
        )
        return EXIT_BAD_INPUT
    if outcome.exit_code == 5 or outcome.summary is None:
        print("oicp-conformance: no test ran (check -k / --requirement)", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(render(outcome.summary))
    print(
        f"reports: {folder / 'allure-results'} (allure serve {folder / 'allure-results'}), {folder / 'junit.xml'}, "
        f"{folder / 'summary.json'}"
    )
    failed = outcome.summary["verdict"] == "fail" or outcome.exit_code != 0
    return EXIT_FAILED if failed else EXIT_OK
