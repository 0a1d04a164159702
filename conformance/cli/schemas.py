"""`oicp-conformance schemas build|check|snippets`: regenerate and check `schemas/` from the official material."""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance.build.builder import BuildError, build
from conformance.build.snippets import SnippetError, write_snippets
from conformance.cli.errors import EXIT_FAILED, UsageError
from conformance.paths import REPO_ROOT


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schemas", help="build the JSON schemas from the official OICP material")
    actions = p.add_subparsers(dest="action", required=True)
    for action, text in (("build", "write schemas/ from the spec"), ("check", "fail if schemas/ is stale")):
        a = actions.add_parser(action, help=text)
        a.add_argument(
            "--spec",
            type=Path,
            default=REPO_ROOT.parent / "shared" / "oicp-spec",
            help="folder with openapi-2.3-cpo, openapi-2.3-emp and swagger-2.2 (default: ../shared/oicp-spec)",
        )
        a.add_argument("--out", type=Path, default=REPO_ROOT / "schemas", help="schema folder (default: schemas/)")
        a.set_defaults(run=run_build)
    s = actions.add_parser("snippets", help="extract the spec's JSON code snippets into fixtures/official")
    s.add_argument(
        "--spec",
        type=Path,
        default=REPO_ROOT.parent / "shared" / "oicp-spec",
        help="the OICP spec material (default: ../shared/oicp-spec)",
    )
    s.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / "fixtures" / "official" / "oicp-2.3",
        help="where the snippets go (default: fixtures/official/oicp-2.3)",
    )
    s.set_defaults(run=run_snippets)


def run_build(args: argparse.Namespace) -> int:
    if not args.spec.is_dir():
        raise UsageError(f"{args.spec}: no such folder; pass --spec pointing at the OICP spec material")
    try:
        changed = build(args.spec, args.out, check=args.action == "check")
    except BuildError as exc:
        raise UsageError(str(exc)) from exc
    if args.action == "check":
        for rel in changed:
            print(f"stale: {args.out / rel}")
        print("schemas are up to date" if not changed else f"{len(changed)} file(s) differ; run `schemas build`")
        return EXIT_FAILED if changed else 0
    print(f"{len(changed)} file(s) written under {args.out}" if changed else "schemas already up to date")
    return 0


def run_snippets(args: argparse.Namespace) -> int:
    if not args.spec.is_dir():
        raise UsageError(f"{args.spec}: no such folder; pass --spec pointing at the OICP spec material")
    try:
        changed = write_snippets(args.spec, args.out)
    except SnippetError as exc:
        raise UsageError(str(exc)) from exc
    print(f"{len(changed)} snippet file(s) written under {args.out}" if changed else "snippets already up to date")
    return 0
