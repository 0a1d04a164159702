"""Run reports: the Allure environment file, the per-requirement summary, and the clean-up of old results."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from conformance.catalog import releases

_ALLURE_FILE = re.compile(r".*-(result|container|attachment)(\.\w+)?$|^environment\.properties$|^categories\.json$")


def prepare(results: Path) -> None:
    """Empty an allure-results folder of an earlier run; refuse to touch one that holds anything else."""
    if results.exists():
        strangers = [p.name for p in results.iterdir() if not _ALLURE_FILE.match(p.name)]
        if strangers:
            raise FileExistsError(
                f"{results} holds files that are not Allure results ({', '.join(strangers[:3])}); "
                "choose another --reports folder"
            )
        shutil.rmtree(results)
    results.mkdir(parents=True)


def write_environment(results: Path, values: dict[str, Any]) -> None:
    """environment.properties: what Allure shows as the run's environment."""
    lines = [f"{key}={str(value).replace(chr(10), ' ')}" for key, value in values.items()]
    (results / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")


def service_versions(release: str) -> str:
    return ", ".join(f"{service} {'/'.join(versions)}" for service, versions in releases()[release].items())


def load_summary(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def render(summary: dict[str, Any]) -> str:
    """The per-requirement table, reasons in full, what to declare, and the verdict once."""
    lines = []
    for row in summary.get("requirements", []):
        lines.append(f"{row['status'].upper():10} {row['id']:22} {row['strength']:8} {row['title']}")
        if row["status"] != "pass" and row.get("reason"):
            lines.append(f"{'':11}{row['reason']}")
    counts: dict[str, int] = {}
    for row in summary.get("requirements", []):
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    tally = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    lines.append(f"{len(summary.get('requirements', []))} requirements: {tally or 'none run'}")
    for problem in summary.get("configuration_problems", []):
        lines.append(f"configuration problem: {problem}")
    missing = [
        r
        for r in summary.get("requirements", [])
        if r["status"] == "not judged" and r["strength"] == "MUST" and r["expected"]
    ]
    if missing and summary["verdict"] == "incomplete":
        lines.append("not judged, so the run cannot vouch for them:")
        for row in missing:
            hint = f"declare {row['declare']}" if row.get("declare") else row.get("reason", "")
            lines.append(f"  {row['id']:22} {hint}")
    if summary.get("reason"):
        lines.append(str(summary["reason"]))
    lines.append(f"verdict: {summary['verdict'].upper()}")
    return "\n".join(lines)
