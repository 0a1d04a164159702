"""`oicp-conformance catalog`: the operations of a release as a table (or JSON)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from conformance.catalog import load_release

ROLE_CHOICES = ("cpo", "emp", "emp_online", "emp_offline")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "catalog",
        help="list the OICP operations of a release",
        description="Operations per release: path, who serves and calls, messages, obligations.",
    )
    p.add_argument("--release", "-r", default="2.3", help="OICP release: 2.3 or 2.2 (default: 2.3)")
    p.add_argument("--role", choices=ROLE_CHOICES, help="only operations this role serves or calls")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.set_defaults(run=run)


def _names(messages: tuple[str, ...]) -> str:
    """`eRoamingChargingNotification{Start|Progress|End|Error}` instead of four long names."""
    if len(messages) < 3:
        return " | ".join(messages)
    stem = messages[0]
    while not all(m.startswith(stem) for m in messages):
        stem = stem[:-1]
    return f"{stem}{{{'|'.join(m[len(stem) :] for m in messages)}}}"


def run(args: argparse.Namespace) -> int:
    release = load_release(args.release)
    ops = release.for_role(args.role) if args.role else list(release.operations)
    if args.format == "json":
        print(json.dumps([asdict(op) for op in ops], indent=2))
        return 0
    rows = [("operation", "calls -> serves", "path", "request -> response", "cpo", "emp online", "emp offline")]
    for op in ops:
        rows.append(
            (
                op.id,
                f"{op.called_by} -> {op.served_by}",
                f"{op.method} {op.path}",
                f"{_names(op.request)} -> {_names(op.response)}",
                op.cpo,
                op.emp_online,
                op.emp_offline,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(f"OICP {release.name}: {len(ops)} operations" + (f" for role {args.role}" if args.role else ""))
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    return 0
