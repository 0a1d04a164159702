"""Small helpers shared by the project's own tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def fixture_cases(release: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(file id, message, test case) for every hand-written fixture of a release."""
    out = []
    for path in sorted((FIXTURES / f"oicp-{release}").glob("*.json")):
        for group in json.loads(path.read_text(encoding="utf-8")):
            for case in group["tests"]:
                out.append((f"{path.stem}: {case['description']}", group["message"], case))
    return out


def cli(
    *args: str,
    stdin: str | None = None,
    timeout: float = 60,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed command line exactly as a user would, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "conformance.cli.main", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        cwd=cwd or ROOT,
        env=env,
        check=False,
    )


def clean_run_problems(summary: dict[str, Any], allowed_warnings: set[str] = frozenset()) -> list[tuple[str, ...]]:
    """The rows of a clean reference's run that are not fine: anything but a pass, an n/a, a warning the shape
    gives on purpose, or an optional feature the shape does not declare (not judged, not expected)."""
    return [
        (row["id"], row["status"], row["reason"], *[f["title"] for f in row["failures"]])
        for row in summary["requirements"]
        if not (
            row["status"] in ("pass", "n/a")
            or (row["status"] == "warn" and row["id"] in allowed_warnings)
            or (row["status"] == "not judged" and not row["expected"])
        )
    ]
