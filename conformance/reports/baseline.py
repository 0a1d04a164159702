"""Baselines of known failures, and the CI gate a run passes or fails against one.

A release pipeline cannot wait until every requirement holds, but it must not let a new failure in. A
baseline names the failures a team has accepted, each with why and until when:

```toml
role = "emp"                      # optional: the gate refuses a baseline of the other role

[[known_failure]]
requirement = "EMP-IN-AUTH-START-03"   # a requirement ID of the role (`oicp-conformance requirements`)
reason = "error codes land with the new auth service (TICKET-123)"   # required
expires = 2027-03-31                   # required, a TOML date (no quotes); the gate fails after it
ticket = "https://tracker.example/TICKET-123"   # optional
```

Entries name requirements, not checks: verdicts are per requirement and a check judges several, so a
check in a baseline would silently accept every requirement it judges, including one that breaks later.

The gate re-judges the run with the accepted failures set aside, using the run's own verdict rules: it
fails on any failure the baseline does not accept and on any expired entry; it never turns an incomplete
run or a configuration problem green (they keep their exit codes 3 and 2).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from conformance.suites.verdicts import (
    EXIT_CODES,
    FAIL,
    PASS,
    VERDICT_CONFIG,
    VERDICT_FAIL,
    VERDICT_PASS,
    WARN,
    run_verdict,
)

TABLE = "known_failure"
ENTRY_KEYS = {"requirement", "reason", "expires", "ticket"}
TOP_KEYS = {"role", TABLE}


class BaselineError(Exception):
    """The baseline file cannot be used; the message names the file and the key, on one line."""


@dataclass(frozen=True)
class Entry:
    """One accepted failure."""

    requirement: str
    reason: str
    expires: date
    ticket: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "requirement": self.requirement,
            "reason": self.reason,
            "expires": self.expires.isoformat(),
            **({"ticket": self.ticket} if self.ticket else {}),
        }


@dataclass(frozen=True)
class Baseline:
    path: Path
    entries: tuple[Entry, ...]


def _requirements(role: str) -> dict[str, Any]:
    from conformance.suites.emp_requirements import EMP
    from conformance.suites.requirements import CPO

    return EMP if role == "emp" else CPO


def _checks_judging(role: str, name: str) -> list[str] | None:
    """The requirements a check (`test_inbound.py::test_x` or `test_x`) judges; None if no check has that name."""
    from conformance.cli.requirements import coverage

    bare = name.rsplit("::", 1)[-1]
    found = [
        rid
        for rid, checks in coverage(f"conformance.suites.{role}").items()
        if name in checks or any(c.rsplit("::", 1)[-1] == bare for c in checks)
    ]
    return sorted(found) or None


def load_baseline(path: Path, role: str) -> Baseline:
    """Read and check a baseline for a run of `role`; BaselineError (one line: file, key, what to do) if unusable."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"baseline {path}: no such file") from None
    except OSError as exc:
        raise BaselineError(f"baseline {path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise BaselineError(f"baseline {path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise BaselineError(f"baseline {path}: not valid TOML: {exc}") from None
    if unknown := sorted(set(data) - TOP_KEYS):
        raise BaselineError(f"baseline {path}: unknown key {unknown[0]!r} (known: role, [[{TABLE}]])")
    if "role" in data and data["role"] != role:
        raise BaselineError(f"baseline {path}: role = {data['role']!r} but this is a {role} run")
    tables = data.get(TABLE, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise BaselineError(f"baseline {path}: {TABLE} must be an array of tables: write each entry as [[{TABLE}]]")
    known = _requirements(role)
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for number, table in enumerate(tables, 1):
        where = f"baseline {path}: {TABLE}[{number}]"
        if unknown := sorted(set(table) - ENTRY_KEYS):
            raise BaselineError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(ENTRY_KEYS))})")
        requirement = table.get("requirement")
        if not isinstance(requirement, str) or not requirement.strip():
            raise BaselineError(
                f"{where}.requirement: missing; name the failing requirement ID, e.g. {next(iter(known))}"
            )
        if requirement not in known:
            judged = _checks_judging(role, requirement) if "test_" in requirement else None
            if judged:
                raise BaselineError(
                    f"{where}.requirement: {requirement!r} is a check, not a requirement; baselines name "
                    f"requirements: the one(s) it judges are {', '.join(judged)}"
                )
            raise BaselineError(
                f"{where}.requirement: unknown {role.upper()} requirement {requirement!r} "
                f"(`oicp-conformance requirements --role {role}` lists them)"
            )
        if requirement in seen:
            raise BaselineError(f"{where}.requirement: {requirement} is already listed in {TABLE}[{seen[requirement]}]")
        seen[requirement] = number
        reason = table.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise BaselineError(f"{where}.reason: missing; say why {requirement} may fail (a ticket, a plan)")
        expires = table.get("expires")
        if expires is None:
            raise BaselineError(f"{where}.expires: missing; give a TOML date like expires = 2027-03-31")
        if isinstance(expires, datetime) or not isinstance(expires, date):
            raise BaselineError(
                f"{where}.expires: {expires!r} is not a TOML date; write a bare date, e.g. expires = 2027-03-31"
            )
        ticket = table.get("ticket")
        if ticket is not None and not isinstance(ticket, str):
            raise BaselineError(f"{where}.ticket: must be a string")
        entries.append(Entry(requirement, reason.strip(), expires, ticket))
    return Baseline(path, tuple(entries))


@dataclass
class Gate:
    """What the gate decided about one run, and why."""

    baseline: Path
    strict: bool
    today: date
    verdict: str  # pass / fail / incomplete / configuration problem (the run's verdict with accepted failures aside)
    exit_code: int
    new_failures: list[dict[str, Any]] = field(default_factory=list)  # failing, not in the baseline
    accepted: list[dict[str, Any]] = field(default_factory=list)  # failing, in the baseline
    fixed: list[dict[str, Any]] = field(default_factory=list)  # in the baseline, passing now
    expired: list[dict[str, Any]] = field(default_factory=list)  # in the baseline, past their date
    not_run: list[dict[str, Any]] = field(default_factory=list)  # in the baseline, not judged by this run

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline": str(self.baseline),
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "strict": self.strict,
            "today": self.today.isoformat(),
            "new_failures": self.new_failures,
            "accepted": self.accepted,
            "fixed": self.fixed,
            "expired": self.expired,
            "not_run": self.not_run,
        }


def failing_statuses(strict: bool) -> frozenset[str]:
    """The statuses the gate holds against a SUT: fail, and under --strict also warn."""
    return frozenset({FAIL, WARN}) if strict else frozenset({FAIL})


def evaluate(baseline: Baseline, summary: dict[str, Any], *, strict: bool, today: date | None = None) -> Gate:
    """Judge a finished run's summary against the baseline.

    The verdict is `run_verdict` over the rows with accepted failures taken out, so whatever else would make
    the run incomplete or a configuration problem still does; an expired entry fails an otherwise passing gate."""
    today = today or date.today()
    failing = failing_statuses(strict)
    rows = {r["id"]: r for r in summary.get("requirements", [])}
    entries = {e.requirement: e for e in baseline.entries}
    gate = Gate(baseline.path, strict, today, VERDICT_PASS, 0)
    for entry in baseline.entries:
        if entry.expires < today:
            gate.expired.append(entry.to_json())
    set_aside: set[str] = set()
    for rid, row in rows.items():
        if row["status"] not in failing:
            continue
        entry = entries.get(rid)
        item = {"requirement": rid, "status": row["status"], "strength": row.get("strength"), "title": row.get("title")}
        if entry is None or entry.expires < today:  # an expired entry accepts nothing
            gate.new_failures.append({**item, "reason": row.get("reason", "")})
        else:
            gate.accepted.append({**item, **entry.to_json()})
            set_aside.add(rid)
    for entry in baseline.entries:
        row = rows.get(entry.requirement)
        if row is not None and row["status"] == PASS:
            gate.fixed.append(entry.to_json())
        elif row is not None and row["status"] == WARN and not strict:
            gate.accepted.append(
                {"requirement": entry.requirement, "status": WARN, "strength": row.get("strength"),
                 "title": row.get("title"), **entry.to_json()}
            )  # fmt: skip
        elif row is None or row["status"] not in failing:
            gate.not_run.append({**entry.to_json(), "status": row["status"] if row else "not in this run"})
    kept = [r for r in summary.get("requirements", []) if r["id"] not in set_aside]
    verdict = summary.get("verdict")
    if verdict == VERDICT_CONFIG or summary.get("configuration_problems"):
        gate.verdict = VERDICT_CONFIG
    elif verdict in EXIT_CODES and verdict not in (VERDICT_PASS, VERDICT_FAIL):
        gate.verdict = verdict  # incomplete, interrupted: what the run said stands
    else:
        gate.verdict = run_verdict(kept, [], False)
    if gate.verdict == VERDICT_PASS and (gate.new_failures or gate.expired):
        gate.verdict = VERDICT_FAIL  # a warning under --strict, or an entry past its date
    gate.exit_code = EXIT_CODES[gate.verdict]
    return gate


def render_gate(gate: Gate) -> str:
    """The gate block printed after the requirement table: each baseline entry's fate and every new failure."""
    lines = [f"gate against baseline {gate.baseline}{' (--strict: warnings count)' if gate.strict else ''}:"]
    for item in gate.new_failures:
        lines.append(f"  NEW       {item['requirement']:22} {item['status']}, not in the baseline")
    for item in gate.accepted:
        lines.append(
            f"  accepted  {item['requirement']:22} {item['status']}, known until {item['expires']}: {item['reason']}"
        )
    for item in gate.fixed:
        lines.append(f"  fixed     {item['requirement']:22} passes now: remove it from the baseline")
    for item in gate.expired:
        lines.append(
            f"  expired   {item['requirement']:22} expired {item['expires']} (today {gate.today.isoformat()}): "
            "fix it, or renew the entry with a new date"
        )
    for item in gate.not_run:
        lines.append(
            f"  not run   {item['requirement']:22} {item['status']}: this run cannot say whether it still fails"
        )
    if len(lines) == 1:
        lines.append("  no failure, and the baseline is empty")
    return "\n".join(lines)


def gate_line(gate: Gate) -> str:
    """The gate's outcome in a few words, for the verdict line."""
    parts = []
    if gate.new_failures:
        parts.append(f"{len(gate.new_failures)} new failure(s)")
    if gate.expired:
        parts.append(f"{len(gate.expired)} expired entr{'y' if len(gate.expired) == 1 else 'ies'}")
    if gate.accepted:
        parts.append(f"{len(gate.accepted)} known failure(s) accepted")
    if gate.fixed:
        parts.append(f"{len(gate.fixed)} fixed")
    return f"gate: {gate.verdict.upper()} (exit {gate.exit_code}{': ' + ', '.join(parts) if parts else ''})"
