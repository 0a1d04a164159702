"""`oicp-conformance validate FILE...`: check OICP messages in files (or stdin) against the schemas.

A file holds one JSON message, or JSON lines (one message per line, as `generate` prints them);
`-` reads stdin. Each message is validated against the message named with --message, or the one
its keys fit (exactly, else closest); `--rules` adds the OICP rules beyond the schema.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.cli.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, UsageError, one_line
from conformance.cli.loading import DEFAULT_MAX_BYTES, decode_text, load_json_file
from conformance.oicp.ids import operator_key
from conformance.validation import PROFILES, UnknownMessage, resolve, validate
from conformance.validation.detect import Match, closest, unknown_members
from conformance.validation.registry import check_release
from conformance.validation.rules import check_rules
from conformance.validation.violation import Violation

STDIN = "-"
STDIN_NAME = "<stdin>"
# What `generate --invalid` prints per line: a case around its payload, not a message.
CASE_KEYS = frozenset({"message", "mutation", "payload"})
_JSON_TYPES = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="validate OICP JSON messages in files (or stdin)",
        description="Validate OICP messages: one JSON message per file, or JSON lines (one per line); "
        "'-' reads stdin. Exit 0: all valid; 1: violations; 2: bad input.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="JSON or JSON-lines file; '-' for stdin")
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
    p.add_argument(
        "--rules",
        action="store_true",
        help="also check OICP rules beyond the schema (time order, energy, ID ownership) on schema-valid messages",
    )
    p.add_argument(
        "--sub-operator",
        action="append",
        default=[],
        metavar="OPERATOR_ID",
        help="with --rules: an operator whose EVSEs the message's OperatorID may push as hub operator",
    )
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument(
        "--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="largest file accepted, in bytes (default: 32 MiB)"
    )
    p.add_argument("--report", type=Path, help="also write the JSON-lines results to this file (folders are created)")
    p.set_defaults(run=run)


# --- reading: a file or stdin, one JSON document or JSON lines ------------------------------------


@dataclass
class Record:
    """One message to validate: where it came from (file, line for JSON lines) and its data or what is wrong."""

    source: str
    line: int | None = None
    data: Any = None
    error: str | None = None

    @property
    def where(self) -> str:
        return self.source if self.line is None else f"{self.source}:{self.line}"


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _lines(source: str, text: str) -> list[Record]:
    """JSON lines: each non-blank line its own message; a broken line is reported, the others still count."""
    records = []
    for number, line in enumerate(text.split("\n"), 1):  # not splitlines(): U+2028 may stand inside a string
        if not line.strip():
            continue
        try:
            records.append(Record(source, number, json.loads(line, parse_constant=_reject_constant)))
        except json.JSONDecodeError as exc:
            records.append(Record(source, number, error=f"{source}:{number}:{exc.colno}: invalid JSON: {exc.msg}"))
        except (ValueError, RecursionError) as exc:
            records.append(Record(source, number, error=f"{source}:{number}: invalid JSON: {exc}"))
    return records


def _is_json_lines(text: str) -> bool:
    """More than one document, and the first line a whole one: JSON lines, not a broken document."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    try:
        json.loads(first, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return False
    return True


def _parse(source: str, text: str) -> list[Record]:
    try:
        return [Record(source, data=json.loads(text, parse_constant=_reject_constant))]
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and _is_json_lines(text):
            return _lines(source, text)
        raise UsageError(f"{source}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{source}: invalid JSON: {exc}") from exc


def _read_stdin(max_bytes: int) -> list[Record]:
    raw = sys.stdin.buffer.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise UsageError(f"{STDIN_NAME}: more than the {max_bytes / 1e6:.1f} MB limit; raise it with --max-bytes")
    return _parse(STDIN_NAME, decode_text(STDIN_NAME, raw, "input", "expected a JSON message or JSON lines"))


def _read(name: str, max_bytes: int) -> list[Record]:
    """The messages of one FILE argument; UsageError when the whole source is unusable."""
    if name == STDIN:
        return _read_stdin(max_bytes)
    try:
        return [Record(name, data=load_json_file(Path(name), max_bytes))]
    except UsageError as exc:
        cause = exc.__cause__
        if isinstance(cause, json.JSONDecodeError) and cause.msg == "Extra data" and _is_json_lines(cause.doc):
            return _lines(name, cause.doc)
        raise


# --- judging one message ------------------------------------------------------------------------


@dataclass
class Verdict:
    """What `validate` says about one message: which message it was taken as, and why, and its violations."""

    name: str
    how: str  # "named", "detected", "closest" or "case"
    match: Match | None = None
    case: dict[str, Any] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    rules_checked: bool = False
    unknown: dict[str, str | None] = field(default_factory=dict)


def _kind(data: Any) -> str:
    return "null" if data is None else _JSON_TYPES.get(type(data), type(data).__name__)


def _ambiguous(match: Match) -> str:
    names = ", ".join(match.names[:6]) + (", …" if len(match.names) > 6 else "")
    if match.exact:
        return f"the keys fit several messages ({names}); choose one with --message"
    each = f"{match.shared} of {match.of} keys each"
    return f"the keys are equally close to several messages ({names}; {each}); choose one with --message"


def _case(data: dict[str, Any], args: argparse.Namespace, where: str) -> tuple[Any, str]:
    """The message inside a `generate --invalid` line, and its name."""
    if data.get("payload_truncated"):
        mutation = data["mutation"]
        raise UsageError(f"{where}: generate cut this case's payload (mutation {mutation}); nothing to validate")
    try:
        payload = json.loads(data["payload"], parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{where}: the case's payload is not JSON (mutation {data['mutation']}): {exc}") from exc
    try:
        name = resolve(args.message or str(data["message"]), args.release)
    except LookupError as exc:
        raise UsageError(f"{where}: {exc}") from exc
    return payload, name


def _judge(record: Record, args: argparse.Namespace) -> Verdict:
    data, where = record.data, record.where
    if not isinstance(data, dict):
        hint = "; for several messages, put one per line (JSON lines)" if isinstance(data, list) else ""
        raise UsageError(f"{where}: expected a JSON object (an OICP message), got {_kind(data)}{hint}")
    if data.keys() >= CASE_KEYS and isinstance(data["payload"], str):
        case = {"mutation": data.get("mutation"), "pointer": data.get("pointer")}
        data, name = _case(data, args, where)
        if not isinstance(data, dict):
            raise UsageError(f"{where}: the case's payload is {_kind(data)}, not a JSON object (an OICP message)")
        verdict = Verdict(name, "case", case=case)
    elif args.message:
        verdict = Verdict(resolve(args.message, args.release), "named")
    else:
        match = closest(data, args.release)
        if not match.names:
            keys = ", ".join(sorted(data)[:8]) or "none"
            raise UsageError(
                f"{where}: no OICP {args.release} message is close to these top-level keys ({keys}); "
                "name it with --message"
            )
        if len(match.names) > 1:
            raise UsageError(f"{where}: {_ambiguous(match)}")
        verdict = Verdict(match.names[0], "detected" if match.exact else "closest", match=match)
    verdict.violations = validate(data, verdict.name, args.release, args.profile)
    verdict.unknown = unknown_members(data, verdict.name, args.release)
    if args.rules and not verdict.violations:
        verdict.rules_checked = True
        verdict.violations = check_rules(data, tuple(args.sub_operator))
    return verdict


# --- reporting ------------------------------------------------------------------------------------


def _result(record: Record, verdict: Verdict, args: argparse.Namespace) -> dict[str, Any]:
    """One JSON-lines result: plain values only, release and profile named."""
    match = verdict.match
    return {
        "file": record.source,
        "line": record.line,
        "message": verdict.name,
        "release": args.release,
        "profile": args.profile,
        "detected": verdict.how in ("detected", "closest"),
        "closest_match": None if match is None or match.exact else {"shared": match.shared, "of": match.of},
        "case": verdict.case or None,
        "unknown_members": sorted(verdict.unknown),
        "rules": args.rules,
        "rules_checked": verdict.rules_checked,
        "valid": not verdict.violations,
        "violations": [v.as_dict() for v in verdict.violations],
    }


def _error(record: Record, message: str, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "file": record.source,
        "line": record.line,
        "message": None,
        "release": args.release,
        "profile": args.profile,
        "valid": None,
        "error": message,
    }


def _headline(record: Record, verdict: Verdict, args: argparse.Namespace) -> str:
    name, match = verdict.name, verdict.match
    if verdict.how == "detected":
        what = f"{name} (detected from its keys)"
    elif verdict.how == "closest" and match is not None:
        what = f"detected as {name} (closest match: {match.shared} of {match.of} keys)"
    elif verdict.how == "case":
        at = f" at {verdict.case['pointer']}" if verdict.case.get("pointer") else ""
        what = f"{name} (generate case, mutation {verdict.case.get('mutation')}{at})"
    else:
        what = name
    rules = " + OICP rules" if verdict.rules_checked else ""
    count = len(verdict.violations)
    outcome = "valid" if not count else f"{count} violation(s)"
    return f"{record.where}: {what}, OICP {args.release} {args.profile}{rules}: {outcome}"


def _print_text(record: Record, verdict: Verdict, args: argparse.Namespace) -> None:
    print(_headline(record, verdict, args))
    for v in verdict.violations:
        print(f"  {v}")
    for key, guess in verdict.unknown.items():
        mean = f" (did you mean {guess}?)" if guess else ""
        print(f"  note: /{key} is not a member of {verdict.name}; the schema lets it pass{mean}")
    if args.rules and not verdict.rules_checked:
        print("  note: OICP rules not checked: the message is not schema-valid")


def run(args: argparse.Namespace) -> int:
    if args.message:  # a wrong --message is wrong for every file: say it once
        try:
            resolve(args.message, args.release)
        except (UnknownMessage, LookupError) as exc:
            raise UsageError(str(exc).strip('"')) from exc
    else:
        check_release(args.release)
    if args.max_bytes < 1:
        raise UsageError(f"--max-bytes must be at least 1, got {args.max_bytes}")
    if args.files.count(STDIN) > 1:
        raise UsageError("'-' (stdin) can be named only once")
    if args.sub_operator and not args.rules:
        raise UsageError("--sub-operator only matters with --rules")
    for sub in args.sub_operator:
        if operator_key(sub) is None:
            raise UsageError(f"--sub-operator {sub!r}: not an OICP OperatorID (ISO like DE*ABC, DIN like +49*536)")
    if args.report:
        _prepare_report(args.report, args.files)
    worst = EXIT_OK
    lines: list[str] = []
    counts = {"valid": 0, "violations": 0, "errors": 0}
    for name in args.files:
        try:
            records = _read(name, args.max_bytes)
        except UsageError as exc:
            records = [Record(STDIN_NAME if name == STDIN else name, error=str(exc))]
        for record in records:
            try:
                if record.error is not None:
                    raise UsageError(record.error)
                verdict = _judge(record, args)
            except (UsageError, LookupError) as exc:
                worst = EXIT_BAD_INPUT
                counts["errors"] += 1
                message = str(exc).strip('"')
                lines.append(json.dumps(_error(record, message, args), ensure_ascii=False))
                if args.format == "json":
                    print(lines[-1])
                else:
                    print(f"oicp-conformance: error: {one_line(message)}", file=sys.stderr)
                continue
            counts["violations" if verdict.violations else "valid"] += 1
            if verdict.violations and worst == EXIT_OK:
                worst = EXIT_FAILED
            lines.append(json.dumps(_result(record, verdict, args), ensure_ascii=False))
            if args.format == "json":
                print(lines[-1])
            else:
                _print_text(record, verdict, args)
    total = sum(counts.values())
    if args.format == "text" and total > 1:
        print(
            f"{total} message(s): {counts['valid']} valid, {counts['violations']} with violations, "
            f"{counts['errors']} bad input"
        )
    if args.report:
        _write_report(args.report, lines)
    return worst


# --- the report file: never over a file the user wrote --------------------------------------------


def _is_report(path: Path) -> bool:
    """Whether an existing file is an earlier report (safe to replace): empty, or JSON lines of results."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(1 << 20).strip()
    except OSError:
        return False
    if not first:
        return path.stat().st_size == 0
    try:
        data = json.loads(first)
    except ValueError:
        return False
    return isinstance(data, dict) and {"file", "valid"} <= data.keys()


def _prepare_report(path: Path, inputs: list[str]) -> None:
    """Fail before validating anything: the folder is created, and no input or foreign file is overwritten."""
    if path.is_dir():
        raise UsageError(f"{path}: is a directory; name a file for --report")
    for name in inputs:
        if name != STDIN and path.exists() and Path(name).exists() and path.samefile(name):
            raise UsageError(f"{path}: is one of the files to validate; choose another --report file")
    if path.exists() and not _is_report(path):
        raise UsageError(f"{path}: exists and is not an earlier validate report; it stays as it is (choose another)")
    blocking = next((p for p in (path.parent, *path.parent.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise UsageError(f"{path}: cannot create the report folder: {blocking} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{path.parent}: cannot create the report folder: {exc.strerror or exc}") from exc


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _write_report(path: Path, lines: list[str]) -> None:
    """Written beside its target and renamed over it: a failed write leaves the earlier report whole."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("".join(f"{line}\n" for line in lines))
            os.chmod(tmp, _file_mode())  # mkstemp makes 0600; a report is an ordinary file
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the report: {exc.strerror or exc}") from exc
    print(f"report written to {path}", file=sys.stderr)
