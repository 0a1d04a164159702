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
    """The per-requirement table and verdict, for the terminal."""
    counts: dict[str, int] = {}
    for row in summary["requirements"]:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    tally = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return f"{len(summary['requirements'])} requirements: {tally}\nverdict: {summary['verdict'].upper()}"
