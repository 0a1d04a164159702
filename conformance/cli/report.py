"""`oicp-conformance report reports/cpo`: the compliance report again from a run's folder, and as PDF or Allure.

Every run writes compliance.json and compliance.html itself; `report` rebuilds them (after an upgrade of the
tool, or from a folder copied off a CI machine), prints the HTML to PDF with a headless Chromium, and builds
the Allure HTML report with the Allure command line. What is missing (the folder, its summary, a browser,
Allure) is one line and exit 2, with how to get it."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from conformance.cli.errors import EXIT_OK, UsageError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_BROWSER = (
    "--pdf needs Chromium or Google Chrome on PATH (chromium, chromium-browser or google-chrome); "
    "on Debian/Ubuntu: sudo apt-get install -y chromium (or run scripts/install-browser.sh)"
)
INSTALL_ALLURE = (
    "--allure needs the Allure command line on PATH: npm install -g allure "
    "(Allure 3, Node.js 20 or later; Allure 2 works too: https://allurereport.org/docs/install/)"
)
PDF_SECONDS, ALLURE_SECONDS = 120, 600


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="rebuild a run's compliance report (compliance.json/.html); optionally as PDF or Allure HTML",
        description=(
            "Rebuild compliance.json and compliance.html from a run's folder (the one holding summary.json, "
            "e.g. reports/cpo). Exit 0 when written; 2 when the folder, its summary, a browser (--pdf) or "
            "Allure (--allure) is missing."
        ),
    )
    p.add_argument("folder", type=Path, help="a run's report folder, e.g. reports/cpo (holds summary.json)")
    p.add_argument(
        "--pdf",
        nargs="?",
        const="",
        type=str,
        metavar="FILE",
        help="also print the HTML to PDF with headless Chromium (default FILE: FOLDER-compliance.pdf beside FOLDER)",
    )
    p.add_argument(
        "--allure",
        nargs="?",
        const="",
        type=str,
        metavar="DIR",
        help="also build the Allure HTML report from FOLDER/allure-results "
        "(default DIR: FOLDER-allure-report beside FOLDER)",
    )
    p.set_defaults(run=run)


def read_summary(folder: Path) -> tuple[Path, dict[str, Any]]:
    """The run's folder and its summary, or UsageError saying in one line what is wrong."""
    if folder.is_file():
        if folder.name != "summary.json":
            raise UsageError(f"{folder} is a file; give the run's folder (the one holding summary.json)")
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder (a run writes REPORTS/<role>, e.g. reports/cpo)")
    path = folder / "summary.json"
    if not path.is_file():
        inside = [folder / role for role in ("cpo", "emp") if (folder / role / "summary.json").is_file()]
        hint = f"; did you mean {' or '.join(str(p) for p in inside)}?" if inside else " (is it a run's folder?)"
        raise UsageError(f"{folder} holds no summary.json{hint}")
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read ({exc})") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("requirements"), list):
        raise UsageError(f"{path}: not a run summary of oicp-conformance (no list of requirements)")
    return folder, summary


def _beside(folder: Path, suffix: str) -> Path:
    folder = folder.resolve()
    return folder.parent / f"{folder.name}{suffix}"


def find_browser() -> str | None:
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def print_pdf(html: Path, out: Path) -> Path:
    """The page printed by a headless Chromium with a throw-away profile (never the user's running browser)."""
    browser = find_browser()
    if browser is None:
        raise UsageError(f"{INSTALL_BROWSER}; the HTML report is {html}")
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="oicp-pdf-") as profile:
        args = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            html.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=PDF_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise UsageError(f"{browser} could not print {html}: {exc}") from None
    if not out.is_file() or out.stat().st_size == 0:
        last = [line for line in (done.stderr or "").splitlines() if line.strip()][-1:]
        raise UsageError(f"{browser} wrote no PDF (exit {done.returncode}){': ' + last[0] if last else ''}")
    return out


def find_allure() -> list[str] | None:
    """`allure` on PATH, else one installed for `npx` (never downloaded: --no-install)."""
    if found := shutil.which("allure"):
        return [found]
    if npx := shutil.which("npx"):
        try:
            probe = subprocess.run(
                [npx, "--no-install", "allure", "--version"], capture_output=True, text=True, timeout=60, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if probe.returncode == 0 and re.search(r"\d+\.\d+", probe.stdout):
            return [npx, "--no-install", "allure"]
    return None


def allure_major(command: list[str]) -> int | None:
    """2 or 3 from `allure --version` (Allure 2 prints `2.x.y`, Allure 3 `3.x.y`); None when it says neither."""
    try:
        done = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+)\.\d+", done.stdout + done.stderr)
    return int(match.group(1)) if match else None


def build_allure(folder: Path, out: Path) -> Path:
    """Allure's own HTML report from the run's allure-results into `out` (replacing an earlier Allure report)."""
    results = folder / "allure-results"
    if not results.is_dir():
        raise UsageError(f"{folder} has no allure-results (that run was made without Allure)")
    command = find_allure()
    if command is None:
        raise UsageError(INSTALL_ALLURE)
    out = out.resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "index.html").is_file())):
        raise UsageError(f"{out} exists and is no Allure report; choose another --allure DIR")
    major = allure_major(command)
    if major == 2:
        args = [*command, "generate", str(results.resolve()), "-o", str(out), "--clean"]
    else:  # Allure 3 (or a version it does not say): its generate takes the results and --output
        shutil.rmtree(out, ignore_errors=True)
        args = [*command, "generate", str(results.resolve()), "--output", str(out)]
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=ALLURE_SECONDS, cwd=folder.resolve(), check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"allure generate failed: {exc}") from None
    if done.returncode != 0 or not (out / "index.html").is_file():
        last = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()][-1:]
        raise UsageError(
            f"allure generate wrote no report (exit {done.returncode}){': ' + last[0] if last else ''}; "
            f"command: {' '.join(args)}"
        )
    return out


def run(args: argparse.Namespace) -> int:
    from conformance.reports.compliance import rebuild

    folder, summary = read_summary(args.folder)
    try:
        json_path, html_path = rebuild(folder, summary)
    except OSError as exc:
        raise UsageError(f"cannot write the compliance report into {folder}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"{folder / 'summary.json'}: cannot build a report from it ({exc!r})") from None
    verdict = json.loads(json_path.read_text(encoding="utf-8"))["verdict"]["label"]
    print(f"compliance report ({verdict}): {html_path} and {json_path}")
    if args.pdf is not None:
        pdf = print_pdf(html_path, Path(args.pdf) if args.pdf else _beside(folder, "-compliance.pdf"))
        print(f"PDF: {pdf}")
    if args.allure is not None:
        site = build_allure(folder, Path(args.allure) if args.allure else _beside(folder, "-allure-report"))
        print(f"Allure report: {site}/index.html (open it with: allure open {site})")
    return EXIT_OK
