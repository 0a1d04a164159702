"""`oicp-conformance check-config FILE`: validate a declaration and probe each URL it names, before a long run."""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance.cli.errors import EXIT_BAD_INPUT, EXIT_OK, UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check-config",
        help="validate an oicp-sut.toml and probe every URL, trigger and probe it declares",
        description="Exit 0 when the declaration can be used; 2 with one line per problem otherwise. Nothing "
        "here makes the SUT act: inbound endpoints get {}, triggers the JSON body null, probes a GET.",
    )
    p.add_argument("file", type=Path, help="the declaration (oicp-sut.toml)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from conformance.sut import ConfigError, load
    from conformance.sut.preflight import findings

    try:
        sut = load(args.file)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    print(f"{args.file}: valid declaration of {sut.name} (OICP {sut.release}, operator {sut.operator_id})")
    from conformance.cli.exposure import warn_if_hub_exposed

    warn_if_hub_exposed(args.file, sut)
    found = findings(sut)
    for finding in found:
        print(f"  {'ok     ' if finding.problem is None else 'PROBLEM'} {finding.what:44} {finding.where}")
        if finding.problem:
            print(f"          {finding.problem}")
    if sut.hub_port == 0:
        print(
            "  note: no hub.port: the SUT cannot know where the fake hub listens; its outbound calls cannot be judged"
        )
    bad = [f for f in found if f.problem]
    if bad:
        print(f"{len(bad)} problem(s): fix them before a run")
        return EXIT_BAD_INPUT
    print(f"every declared URL, trigger and probe answers ({len(found)} checked)")
    return EXIT_OK
