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
