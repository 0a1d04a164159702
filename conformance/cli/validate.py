"""`oicp-conformance validate FILE...`: check OICP messages in files against the schemas."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from conformance.cli.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, UsageError
from conformance.cli.loading import DEFAULT_MAX_BYTES, load_json_file
from conformance.validation import PROFILES, UnknownMessage, detect, resolve, validate


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="validate OICP JSON messages in files",
        description="Validate OICP messages. Exit 0: all valid; 1: violations; 2: bad input.",
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument(
        "--message",
        "-m",
        help="official message name, e.g. eRoamingPushEvseData (case-insensitive); detected from the keys when omitted",
    )
    p.add_argument("--release", "-r", default="2.3", help="OICP release (default 2.3)")
    p.add_argument(
        "--profile",
        choices=PROFILES,
        default="corrected",
        help="corrected (default): errata applied; official: the schema exactly as published",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="largest file accepted")
    p.add_argument("--report", type=Path, help="also write the JSON-lines results to this file")
    p.set_defaults(run=run)


def _pick_message(data: Any, args: argparse.Namespace, path: Path) -> tuple[str, bool]:
    if args.message:
        return resolve(args.message, args.release), False
    found = detect(data, args.release)
    if len(found) == 1:
        return found[0], True
    if not found:
        raise UsageError(f"{path}: no OICP {args.release} message has these top-level keys; name it with --message")
    raise UsageError(f"{path}: the keys fit several messages ({', '.join(found)}); choose one with --message")


def _check_file(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    data = load_json_file(path, args.max_bytes)
    name, detected = _pick_message(data, args, path)
    violations = validate(data, name, args.release, args.profile)
    return {
        "file": str(path),
        "message": name,
        "detected": detected,
        "valid": not violations,
        "violations": [v.as_dict() for v in violations],
        "_objects": violations,
    }


def run(args: argparse.Namespace) -> int:
    if args.message:  # a wrong --message is wrong for every file: say it once
        try:
            resolve(args.message, args.release)
        except (UnknownMessage, LookupError) as exc:
            raise UsageError(str(exc).strip('"')) from exc
    worst = EXIT_OK
    report_lines: list[str] = []
    for path in args.files:
        try:
            result = _check_file(path, args)
        except UsageError as exc:
            worst = EXIT_BAD_INPUT
            line = json.dumps({"file": str(path), "message": None, "valid": None, "error": str(exc)})
            report_lines.append(line)
            if args.format == "json":
                print(line)
            else:
                print(f"oicp-conformance: error: {exc}", file=sys.stderr)
            continue
        violations = result.pop("_objects")
        if violations and worst == EXIT_OK:
            worst = EXIT_FAILED
        line = json.dumps(result, ensure_ascii=False)
        report_lines.append(line)
        if args.format == "json":
            print(line)
            continue
        how = " (detected from its keys)" if result["detected"] else ""
        verdict = "valid" if not violations else f"{len(violations)} violation(s)"
        print(f"{path}: {result['message']}{how}, OICP {args.release} {args.profile}: {verdict}")
        for v in violations:
            print(f"  {v}")
    if args.report:
        _write_report(args.report, report_lines)
    return worst


def _write_report(path: Path, lines: list[str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the report: {exc.strerror or exc}") from exc
    print(f"report written to {path}", file=sys.stderr)
