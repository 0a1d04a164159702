"""One Allure result per requirement, from a run's summary, so Allure's tree agrees with the terminal table.

The suite's own Allure results are per test (a test may judge several requirements); these sit beside
them under the parent suite "<ROLE> requirements", one per requirement, grouped by strength."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from conformance.checks.failure import Failure

STATUS = {
    "pass": "passed",
    "fail": "failed",
    "error": "broken",
    "warn": "passed",
    "not judged": "skipped",
    "n/a": "skipped",
}
SEVERITY = {"MUST": "critical", "SHOULD": "normal", "PRACTICE": "minor"}


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
        result = {
            "uuid": str(uuid.uuid4()),
            "historyId": f"{role}:{row['id']}",
            "name": f"{row['id']} {row['title']}",
            "fullName": f"{role}.requirements.{row['id']}",
            "status": STATUS[row["status"]],
            "statusDetails": {"message": message, "trace": failures},
            "stage": "finished",
            "start": now,
            "stop": now,
            "description": f"{row['strength']}: {row.get('source', '')}",
            "labels": [
                {"name": "parentSuite", "value": f"{role} requirements"},
                {"name": "suite", "value": row["strength"]},
                {"name": "severity", "value": SEVERITY.get(row["strength"], "normal")},
                {"name": "tag", "value": row["status"]},
                {"name": "tag", "value": row["id"]},
            ],
        }
        (results / f"{result['uuid']}-result.json").write_text(json.dumps(result), encoding="utf-8")
    return len(summary.get("requirements", []))
