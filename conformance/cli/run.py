"""`oicp-conformance run --role cpo`: the conformance suite against a SUT (default: the bundled reference)."""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.cli.errors import EXIT_BAD_INPUT, UsageError
from conformance.profiles import CI, DEV

if TYPE_CHECKING:
    from conformance.reports.baseline import Baseline, Gate

EXIT_HELP = (
    "Exit 0: pass (every MUST requirement judged and held); 1: fail (a MUST failed, or a SHOULD/PRACTICE "
    "under --strict); 2: configuration problem or SUT unreachable (found before or during the run); "
    "3: incomplete (nothing failed, but a MUST requirement of what the SUT must implement was not judged: "
    "the table says what to declare); 4: cut at the --deadline (what was not judged is listed); 130: interrupted."
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run a role's conformance suite and write reports",
        description=f"Run the conformance suite and write reports under REPORTS/<role>/. {EXIT_HELP}",
    )
    p.add_argument("--role", required=True, choices=("cpo", "emp"), help="the SUT's role: cpo or emp")
    p.add_argument(
        "--sut", type=Path, help="SUT declaration (oicp-sut.toml); default: the bundled reference of the role"
    )
    p.add_argument(
        "--mode",
        choices=("online", "offline"),
        help="the bundled reference EMP's mode (default: online); a declaration says its own; only without --sut",
    )
    p.add_argument("--release", help="OICP release; must match the declaration's (default: the declaration's)")
    p.add_argument("--reports", type=Path, default=Path("reports"), help="report folder (default: reports/)")
    p.add_argument("--seed", type=int, help="repeat a run exactly (default: random; printed at the start)")
    p.add_argument(
        "--strict", action="store_true", help="SHOULD and PRACTICE requirements fail the run (default: they warn)"
    )
    p.add_argument(
        "--hypothesis-profile", choices=(CI, DEV), help="Hypothesis settings profile (default: dev, ci under CI)"
    )
    p.add_argument("-k", dest="keyword", help="only tests matching this pytest -k expression (default: all)")
    p.add_argument(
        "--deadline",
        type=_seconds,
        metavar="SECONDS",
        help="stop the whole run after SECONDS, counted from the start (the checks of the declaration included): "
        "the suite is stopped, given 5 s to write its reports, and the summary says the run was cut and which "
        "requirements were not judged; exit 4 (default: no deadline; every single call to the SUT is bounded anyway "
        "by the declaration's timeout)",
    )
    p.add_argument(
        "--examples",
        type=_positive,
        metavar="N",
        help="generated requests per inbound operation in the Hypothesis property tests, each failure shrunk to the "
        "smallest request that still fails (default: 10); failing requests are kept in REPORTS/<role>/hypothesis "
        "and replayed first by the next run",
    )
    p.add_argument(
        "--requirement", action="append", default=[], help="only the tests of this requirement ID (repeatable)"
    )
    p.add_argument(
        "--defect",
        action="append",
        default=[],
        help="plant a defect in the bundled reference (see `oicp-conformance defects --role ROLE --list`); "
        "only without --sut",
    )
    p.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="CI gate: known failures (TOML: [[known_failure]] requirement, reason, expires); exit 1 only on a "
        "failure it does not list or an expired entry; incomplete (3) and configuration problems (2) stay",
    )
    p.add_argument(
        "--shape",
        default=None,
        help="deployment shape of the bundled reference (see `oicp-conformance reference --help`; "
        "default: official); only without --sut",
    )
    p.add_argument(
        "--tls",
        type=Path,
        metavar="DIR",
        help="the bundled reference, the fake hub and the suite over mutual TLS with the certificates "
        "`oicp-conformance certs DIR --operator ID` (or --provider ID) wrote; only without --sut (a declaration "
        "names its own in [tls] and [hub] tls)",
    )
    p.set_defaults(run=run)


class _DeadlinePassed(Exception):
    """--deadline passed while the declaration was still being checked (a SUT that answers nothing in time)."""


def _preflight(sut: object, deadline_at: float | None = None) -> None:
    """Every configuration problem, one line each, before any test; exit 2 if there is one.

    With a --deadline the checks get the time left of it: each call is bounded, but a dozen endpoints that never
    answer add up to minutes, so they run in a thread the run stops waiting for at the deadline."""
    from conformance.sut.preflight import problems

    if deadline_at is None:
        found = problems(sut)  # type: ignore[arg-type]
    else:
        result: list[list[str]] = []
        worker = threading.Thread(target=lambda: result.append(problems(sut)), daemon=True)  # type: ignore[arg-type]
        worker.start()
        worker.join(max(0.0, deadline_at - time.monotonic()))
        if not result:
            raise _DeadlinePassed
        found = result[0]
    if found:
        for line in found[:-1]:
            print(f"oicp-conformance: {line}", file=sys.stderr)
        raise UsageError(found[-1])


def check_arguments(args: argparse.Namespace) -> None:
    """The configuration problems `run` and `defects` share, reported before any test runs."""
    from conformance.suites.emp_requirements import EMP
    from conformance.suites.requirements import CPO
    from conformance.sut import ConfigError, load

    if args.role == "emp":
        from conformance.reference.emp.defects import DEFECTS
    else:
        from conformance.reference.cpo.defects import DEFECTS
    known = EMP if args.role == "emp" else CPO
    if unknown := [d for d in args.defect if d not in DEFECTS]:
        raise UsageError(
            f"unknown defect(s) {unknown}; `oicp-conformance defects --role {args.role} --list` names them"
        )
    if unknown := [r for r in args.requirement if r not in known]:
        raise UsageError(
            f"unknown requirement(s) {unknown}; `oicp-conformance requirements --role {args.role}` lists them"
        )
    shape = getattr(args, "shape", None)
    mode = getattr(args, "mode", None)
    if args.role == "cpo" and mode:
        raise UsageError("--mode is an EMP's (online or offline); a CPO has none")
    if getattr(args, "tls", None) is not None:
        _check_tls(args.tls, args.role, sut_given=args.sut is not None)
    if args.sut is not None:
        if args.defect or shape or mode:
            raise UsageError("--defect, --shape and --mode set up the bundled reference; they cannot go with --sut")
        try:
            sut = load(args.sut)
        except ConfigError as exc:
            raise UsageError(str(exc)) from exc
        if args.release and args.release != sut.release:
            raise UsageError(f"--release {args.release} but {args.sut} declares release {sut.release}")
        if sut.role != args.role:
            raise UsageError(f"--role {args.role} but {args.sut} declares role {sut.role}")
        if sut.hub_port == 0:
            print(
                f"warning: {args.sut} has no hub.port: the SUT cannot know where the fake hub listens; its "
                "outbound checks will find no calls",
                file=sys.stderr,
            )
        _preflight(sut, getattr(args, "deadline_at", None))
        from conformance.cli.exposure import warn_if_hub_exposed

        warn_if_hub_exposed(args.sut, sut)
        return
    if args.release and args.release != "2.3":
        raise UsageError(f"the bundled reference {args.role.upper()} speaks OICP 2.3; test 2.2 with your own --sut")
    if shape:
        if args.role == "emp":
            from conformance.reference.emp.shapes import SHAPES
        else:
            from conformance.reference.cpo.shapes import SHAPES

        if shape not in SHAPES:
            raise UsageError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")
        if unfit := [d for d in args.defect if not DEFECTS[d].applies(shape)]:
            raise UsageError(f"defect(s) {unfit} do not apply to shape {shape!r}")


# What `oicp-conformance certs DIR` writes and a run over mutual TLS uses.
TLS_FILES = ("ca.pem", "hub.pem", "hub.key", "client.pem", "client.key")


def _check_tls(folder: Path, role: str, *, sut_given: bool) -> None:
    """--tls DIR: only for the bundled reference, and DIR must hold every certificate and key the run uses."""
    if sut_given:
        raise UsageError("--tls sets up the bundled reference; a declaration names its files in [tls] and [hub] tls")
    from conformance.cli.certs import check_folder
    from conformance.tls import CertError, client_context

    make = check_folder(folder, role, TLS_FILES)

    for name in ("client", "hub"):  # each certificate with its key, and the CA they are checked against
        try:
            client_context(folder / "ca.pem", folder / f"{name}.pem", folder / f"{name}.key")
        except CertError as exc:
            raise UsageError(f"--tls {folder}: {exc}; {make}") from None


def run(args: argparse.Namespace) -> int:
    from conformance.reports import render, service_versions, write_environment
    from conformance.runner import ReportsError, check_reports, run_suite
    from conformance.suites.verdicts import EXIT_CODES

    started = time.monotonic()  # --deadline counts from here
    deadline = getattr(args, "deadline", None)
    args.deadline_at = None if deadline is None else started + deadline
    baseline = _baseline(args)
    with contextlib.suppress(_DeadlinePassed):  # reported below, as any deadline passed before the first test
        check_arguments(args)
    try:
        check_reports(args.reports, args.role)
    except ReportsError as exc:
        raise UsageError(str(exc)) from exc
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    shape, mode, role = getattr(args, "shape", None), getattr(args, "mode", None), args.role
    target = (
        str(args.sut.resolve())
        if args.sut
        else f"bundled reference {role.upper()}"
        + (f", shape {shape}" if shape else "")
        + (f", {mode}" if mode else "")
        + (f", defects {', '.join(args.defect)}" if args.defect else "")
        + (f", mutual TLS with the certificates of {args.tls}" if getattr(args, "tls", None) else "")
    )
    print(
        f"oicp-conformance: {role.upper()} suite against {target}, seed {seed} (repeat with --seed {seed})", flush=True
    )
    if deadline is not None and time.monotonic() - started >= deadline:
        print(
            f"oicp-conformance: the deadline of {deadline:g} s passed before the first test (checking the declaration "
            "took that long); no test ran and no report was written",
            file=sys.stderr,
        )
        return EXIT_CODES["deadline"]
    try:
        outcome = run_suite(
            role,
            args.reports,
            sut=args.sut,
            seed=seed,
            defects=args.defect,
            shape=shape,
            mode=mode,
            requirements=args.requirement,
            keyword=args.keyword,
            profile=args.hypothesis_profile,
            strict=args.strict,
            examples=getattr(args, "examples", None),
            tls=getattr(args, "tls", None),
            deadline=deadline,
            since=started,
        )
    except ReportsError as exc:
        raise UsageError(str(exc)) from exc
    except KeyboardInterrupt:
        print(f"oicp-conformance: interrupted; the partial summary is in {args.reports / role}", file=sys.stderr)
        return EXIT_CODES["interrupted"]
    folder = outcome.folder or args.reports / role
    summary = outcome.summary or {}
    release = args.release or summary.get("release") or "2.3"
    gate = _gate(baseline, summary, folder, args.strict)
    if (folder / "allure-results").is_dir():
        write_environment(
            folder / "allure-results",
            {
                "SUT": target,
                "Role": role.upper(),
                "OICP.release": release,
                "Service.versions": service_versions(release),
                "Seed": seed,
                "Verdict": summary.get("verdict", "unknown"),
                **({"Gate": gate.verdict, "Baseline": str(args.baseline)} if gate else {}),
            },
        )
    if summary.get("verdict") == "aborted":
        print(f"oicp-conformance: {summary.get('reason')}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if summary.get("verdict") == "deadline" and not summary.get("requirements"):  # a narrowed run cut before a test
        print(f"oicp-conformance: {summary.get('reason')}", file=sys.stderr)
        return EXIT_CODES["deadline"]
    if not summary.get("requirements"):
        print("oicp-conformance: no test ran (check -k / --requirement)", file=sys.stderr)
        return EXIT_BAD_INPUT
    table = render(summary)
    if gate is None:
        print(table)
    else:
        from conformance.reports.baseline import gate_line, render_gate

        body, _, verdict_line = table.rpartition("\n")
        print(f"{body}\n{render_gate(gate)}\n{verdict_line}; {gate_line(gate)}")
    if line := properties_line(summary):
        print(line)
    if (folder / "compliance.html").is_file():
        print(f"compliance report: {folder / 'compliance.html'} (and compliance.json)")
    print(
        f"reports: {folder / 'summary.json'}, {folder / 'junit.xml'}, {folder / 'allure-results'} "
        f"(allure serve {folder / 'allure-results'})"
    )
    if gate is not None:
        return gate.exit_code
    return EXIT_CODES.get(summary["verdict"], EXIT_BAD_INPUT)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, not {text}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def properties_line(summary: dict[str, Any]) -> str | None:
    """How many generated requests the property tests sent, and how fast (None when none ran)."""
    found = summary.get("properties")
    if not found or not found.get("cases"):
        return None
    rate = found.get("cases_per_second")
    speed = f" ({rate:g} per second)" if rate is not None else ""
    skipped = f"; {found['skipped']} not sent, the time budget ran out" if found.get("skipped") else ""
    return (
        f"property tests: {found['cases']} generated requests sent in {found['seconds']:g} s{speed}; "
        f"--examples {found['examples']} per inbound operation{skipped}"
    )


def _baseline(args: argparse.Namespace) -> Baseline | None:
    """The --baseline file, checked before anything runs: a broken one is a configuration problem (exit 2)."""
    if getattr(args, "baseline", None) is None:
        return None
    from conformance.reports.baseline import BaselineError, load_baseline

    try:
        return load_baseline(args.baseline, args.role)
    except BaselineError as exc:
        raise UsageError(str(exc)) from exc


def _gate(baseline: Baseline | None, summary: dict[str, Any], folder: Path, strict: bool) -> Gate | None:
    """Judge a finished run against the baseline and record the gate in summary.json under a new `gate` key.

    Only a run that judged something is gated: an aborted run or one where no test ran exits 2 as before."""
    if baseline is None or summary.get("verdict") == "aborted" or not summary.get("requirements"):
        return None
    from conformance.reports import load_summary
    from conformance.reports.baseline import evaluate

    gate = evaluate(baseline, summary, strict=strict)
    stored = load_summary(folder / "summary.json")
    if stored is not None:  # the existing fields stay as the run wrote them
        stored["gate"] = gate.to_json()
        (folder / "summary.json").write_text(json.dumps(stored, indent=2), encoding="utf-8")
    return gate
