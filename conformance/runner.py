"""Run a role's suite with pytest in a child process, with reports, and read back its summary."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.reports import load_summary, prepare

SUITES = {"cpo": "conformance.suites.cpo"}


@dataclass
class Outcome:
    exit_code: int  # pytest's
    summary: dict[str, Any] | None
    output: str


def run_suite(
    role: str,
    reports: Path,
    *,
    sut: Path | None = None,
    seed: int | None = None,
    defects: list[str] | None = None,
    requirements: list[str] | None = None,
    keyword: str | None = None,
    profile: str | None = None,
    quiet: bool = False,
    allure: bool = True,
) -> Outcome:
    """pytest over the role's suite; progress streams to the terminal unless `quiet`."""
    folder = reports / role
    folder.mkdir(parents=True, exist_ok=True)
    args = [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        SUITES[role],
        "-p",
        "no:cacheprovider",
        "-v",
        "--tb=line",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        f"--oicp-summary={folder / 'summary.json'}",
        f"--junitxml={folder / 'junit.xml'}",
        "-o",
        "junit_family=xunit2",
    ]
    if allure:
        prepare(folder / "allure-results")
        args.append(f"--alluredir={folder / 'allure-results'}")
    if sut is not None:
        args.append(f"--oicp-sut={sut}")
    if seed is not None:
        args.append(f"--oicp-seed={seed}")
    if profile:
        args.append(f"--hypothesis-profile={profile}")
    if keyword:
        args += ["-k", keyword]
    for defect in defects or []:
        args.append(f"--oicp-reference-defect={defect}")
    for requirement in requirements or []:
        args.append(f"--oicp-requirement={requirement}")
    (folder / "summary.json").unlink(missing_ok=True)
    if quiet:
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        return Outcome(done.returncode, load_summary(folder / "summary.json"), done.stdout + done.stderr)
    done = subprocess.run(args, check=False)
    return Outcome(done.returncode, load_summary(folder / "summary.json"), "")
