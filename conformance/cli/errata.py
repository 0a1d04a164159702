"""`oicp-conformance errata`: where the project's schemas differ from the official OICP text, and why.

An unknown --release is bad input (exit 2, one line), as for `catalog`: an empty list would read as
"no errata for that release" when the release does not exist at all.
"""

from __future__ import annotations

import argparse
import json

from conformance.build.errata import ErrataError, load_errata
from conformance.cli.errors import UsageError
from conformance.paths import schemas_dir
from conformance.validation.registry import check_release


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("errata", help="list where the project's schemas differ from the official text")
    p.add_argument("--release", "-r", help="only the errata of this OICP release (default: all)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.release:
        check_release(args.release)  # LookupError: one line, exit 2 (cli.main)
    path = schemas_dir() / "errata.toml"
    try:
        errata = [e for e in load_errata(path) if not args.release or args.release in e.releases]
    except (OSError, ErrataError) as exc:
        raise UsageError(f"{path}: cannot read the errata registry: {exc}") from exc
    if getattr(args, "format", "text") == "json":
        fields = ("id", "kind", "title", "official", "corrected", "reason")
        for e in errata:
            entry = {"releases": list(e.releases), **{k: getattr(e, k) for k in fields}}
            print(json.dumps(entry, ensure_ascii=False, default=str))
        return 0
    for e in errata:
        print(f"{e.id}  [{e.kind}, OICP {'/'.join(e.releases)}]  {e.title}")
        print(f"    official:  {e.official}")
        print(f"    project:   {e.corrected}")
        print(f"    why:       {e.reason}")
    if not errata:
        print(f"no errata for OICP {args.release}" if args.release else "no errata")
    return 0
