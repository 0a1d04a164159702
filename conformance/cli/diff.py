"""`oicp-conformance diff OLD NEW`: what changed between two runs, for a release pipeline or a reviewer.

Reads the `requirements` rows (at least `id` and `status`) of two summary.json or two compliance.json files,
so a pipeline can compare the last release's report with this build's without rerunning anything.
Exit 1 when NEW fails a requirement OLD did not fail, else 0; exit 2 for a missing or broken file or
reports of two different roles.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.cli.errors import EXIT_FAILED, EXIT_OK, UsageError

PASS, FAIL, WARN = "pass", "fail", "warn"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "diff",
        help="compare two runs' reports: new failures, fixes, every other changed verdict",
        description="Compare two reports (summary.json or compliance.json) of the same role: new failures (not "
        "failing in OLD, failing in NEW), fixes (failing in OLD, passing in NEW), every other changed status, and "
        "requirements only one of them has. Exit 0: no new failure; 1: new failures; 2: a missing or broken file, "
        "or reports of different roles.",
    )
    p.add_argument("old", type=Path, metavar="OLD", help="the earlier report (e.g. the last release's summary.json)")
    p.add_argument("new", type=Path, metavar="NEW", help="the later report (e.g. this build's summary.json)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument("--strict", action="store_true", help="a warning counts as a failure (default: only fail)")
    p.set_defaults(run=run)


@dataclass
class Report:
    path: Path
    role: str | None
    rows: dict[str, dict[str, Any]]


def load_report(path: Path) -> Report:
    """The requirement rows of a summary.json or compliance.json; UsageError naming the file if unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a folder; give its summary.json or compliance.json") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path}: not JSON ({exc})") from None
    rows = data.get("requirements") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise UsageError(f"{path}: no requirements list; give a run's summary.json or compliance.json")
    out: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not isinstance(row.get("status"), str):
            raise UsageError(f"{path}: requirements[{number}] has no string id and status")
        out[row["id"]] = row
    return Report(path, _role(data, out), out)


def _role(data: dict[str, Any], rows: dict[str, dict[str, Any]]) -> str | None:
    """The report's role: its `role` field (top level or under `sut`), else what its requirement IDs say."""
    for value in (data.get("role"), (data.get("sut") or {}).get("role") if isinstance(data.get("sut"), dict) else None):
        if isinstance(value, str) and value:
            return value.lower()
    prefixes = {rid.split("-", 1)[0].lower() for rid in rows}
    return prefixes.pop() if len(prefixes) == 1 and prefixes <= {"cpo", "emp"} else None


@dataclass
class Changes:
    new_failures: list[dict[str, Any]] = field(default_factory=list)
    fixes: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    only_old: list[dict[str, Any]] = field(default_factory=list)
    only_new: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "new_failures": self.new_failures,
            "fixes": self.fixes,
            "changed": self.changed,
            "only_old": self.only_old,
            "only_new": self.only_new,
        }


def compare(old: Report, new: Report, *, strict: bool = False) -> Changes:
    """Sort every requirement whose status differs into exactly one group.

    A requirement only NEW has counts as a new failure when it fails (it was not failing before); one only
    OLD has is listed, never taken for a fix (a narrower run is not a repair)."""
    failing = {FAIL, WARN} if strict else {FAIL}
    changes = Changes()
    for rid, row in new.rows.items():
        before = old.rows.get(rid)
        item = {"id": rid, "old": before["status"] if before else None, "new": row["status"], "title": row.get("title")}
        if before is None:
            (changes.new_failures if row["status"] in failing else changes.only_new).append(item)
        elif before["status"] == row["status"]:
            continue
        elif row["status"] in failing and before["status"] not in failing:
            changes.new_failures.append(item)
        elif before["status"] in failing and row["status"] == PASS:
            changes.fixes.append(item)
        else:
            changes.changed.append(item)
    for rid, row in old.rows.items():
        if rid not in new.rows:
            changes.only_old.append({"id": rid, "old": row["status"], "new": None, "title": row.get("title")})
    return changes


def render(old: Report, new: Report, changes: Changes) -> str:
    def status(value: str | None) -> str:
        return value if value is not None else "(absent)"

    lines = [f"{old.path} ({len(old.rows)} requirements) -> {new.path} ({len(new.rows)} requirements)"]
    groups = (
        ("new failures", changes.new_failures),
        ("fixes", changes.fixes),
        ("other changes", changes.changed),
        ("only in OLD", changes.only_old),
        ("only in NEW", changes.only_new),
    )
    for label, items in groups:
        if not items:
            continue
        lines.append(f"{label} ({len(items)}):")
        for item in items:
            lines.append(
                f"  {item['id']:24} {status(item['old']):>10} -> {status(item['new']):10} {item['title'] or ''}"
            )
    if not any(items for _, items in groups):
        lines.append("no requirement changed")
    lines.append(
        f"{len(changes.new_failures)} new failure(s), {len(changes.fixes)} fix(es), {len(changes.changed)} other "
        f"change(s), {len(changes.only_old)} only in OLD, {len(changes.only_new)} only in NEW"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    old, new = load_report(args.old), load_report(args.new)
    if old.role and new.role and old.role != new.role:
        raise UsageError(f"{args.old} is of role {old.role}, {args.new} of role {new.role}: compare one role's runs")
    changes = compare(old, new, strict=args.strict)
    if args.format == "json":
        body = {"old": str(old.path), "new": str(new.path), "role": old.role or new.role, **changes.to_json()}
        print(json.dumps(body, indent=2))
    else:
        print(render(old, new, changes))
    return EXIT_FAILED if changes.new_failures else EXIT_OK
