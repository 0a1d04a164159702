"""Allure's tree as a user reads it: role, then operation, then requirement; and one result per requirement.

The suite's own Allure results are per test (a test may judge several requirements); the plugin labels them
role › operation › requirement with the helpers here. The per-requirement results written from a run's
summary sit under the same role, in the suite "Requirements" grouped by strength, so Allure's tree agrees
with the terminal table."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from conformance.checks.failure import Failure
from conformance.suites.emp_requirements import EMP
from conformance.suites.requirements import CPO, Requirement

STATUS = {
    "pass": "passed",
    "fail": "failed",
    "error": "broken",
    "warn": "passed",
    "not judged": "skipped",
    "n/a": "skipped",
}
SEVERITY = {"MUST": "critical", "SHOULD": "normal", "PRACTICE": "minor"}
REQUIREMENTS_SUITE = "Requirements"
LINK_TYPE = "requirement"
_KNOWN: dict[str, Requirement] = {**CPO, **EMP}


def requirement_url(rid: str, patterns: dict[str, str] | None = None) -> str:
    """Where a requirement's link points: the user's `--allure-link-pattern requirement:...` filled with the
    ID, else a stable pseudo-URL (`oicp-requirement:CPO-ACK-01`) that names it without pretending a page."""
    pattern = (patterns or {}).get(LINK_TYPE)
    return pattern.format(rid) if pattern else f"oicp-{LINK_TYPE}:{rid}"


def severity(strengths: list[str]) -> str:
    """The severity of a result judging requirements of these strengths: the strongest one's."""
    for strength in ("MUST", "SHOULD", "PRACTICE"):
        if strength in strengths:
            return SEVERITY[strength]
    return "normal"


def explain(requirement: Requirement) -> str:
    """A requirement in a few lines for a description: ID, strength, title, and the sentence it rests on."""
    lines = [f"{requirement.id} ({requirement.strength}): {requirement.title}"]
    if requirement.quote:
        lines.append(f'  "{requirement.quote}" ({requirement.place})')
    if requirement.basis:
        lines.append(f"  basis: {requirement.basis}")
    return "\n".join(lines)


def write_requirement_results(summary: dict[str, Any], results: Path) -> int:
    """Write the results; returns how many. Nothing is written where there is no allure-results folder."""
    if not results.is_dir():
        return 0
    role = (summary.get("role") or "oicp").upper()
    now = int(time.time() * 1000)
    for row in summary.get("requirements", []):
        failures = "\n\n".join(Failure(**f).render(summary.get("seed")) for f in row.get("failures", []))
        message = row.get("reason") or ""
        if row["status"] == "warn":
            message = f"warning (does not fail the run): {message}"
        if row.get("declare"):
            message += f" (declare {row['declare']} to judge it)"
        known = _KNOWN.get(row["id"])
        description = explain(known) if known else f"{row['strength']}: {row.get('source', '')}"
        if row.get("tests"):
            description += "\n\njudged by: " + ", ".join(dict.fromkeys(row["tests"]))
        result = {
            "uuid": str(uuid.uuid4()),
            "historyId": f"{role}:{row['id']}",
            "testCaseId": f"{role}:{row['id']}",
            "name": f"{row['id']} {row['title']}",
            "fullName": f"{role}.requirements.{row['id']}",
            "titlePath": [role, REQUIREMENTS_SUITE, row["strength"]],
            "status": STATUS[row["status"]],
            "statusDetails": {"message": message, "trace": failures},
            "stage": "finished",
            "start": now,
            "stop": now,
            "description": description,
            "labels": [
                {"name": "parentSuite", "value": role},
                {"name": "suite", "value": REQUIREMENTS_SUITE},
                {"name": "subSuite", "value": row["strength"]},
                {"name": "epic", "value": role},
                {"name": "feature", "value": REQUIREMENTS_SUITE},
                {"name": "story", "value": f"{row['id']} {row['title']}"},
                {"name": "severity", "value": SEVERITY.get(row["strength"], "normal")},
                {"name": "tag", "value": row["status"]},
                {"name": "tag", "value": row["id"]},
            ],
            "links": [{"type": LINK_TYPE, "name": row["id"], "url": requirement_url(row["id"])}],
        }
        (results / f"{result['uuid']}-result.json").write_text(json.dumps(result), encoding="utf-8")
    return len(summary.get("requirements", []))
