"""The compliance report a certification lead reads: written by every run, rebuilt by `report`, never a secret.

Each run here judges one requirement, so the whole file stays quick. The browser test renders the page in a
headless Chromium (skipped, with the reason, where none is installed: scripts/install-browser.sh)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import report as report_cli
from conformance.cli.main import main
from conformance.reference.cpo import Config, ReferenceCpo
from conformance.reference.cpo.defects import DEFECTS
from conformance.reports.compliance import run_options, write_run_report
from conformance.runner import Outcome, run_suite
from conformance.sut.default import reference_declaration
from tests.helpers import cli

DEFECT = "remote-start-crash-unknown-evse"
CAUGHT_BY = DEFECTS[DEFECT].caught_by
SECRET = "s3cr3t-compliance-4f9a1c"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _report(folder: Path) -> tuple[dict[str, Any], str]:
    return (
        json.loads((folder / "compliance.json").read_text(encoding="utf-8")),
        (folder / "compliance.html").read_text(encoding="utf-8"),
    )


def _failing(report: dict[str, Any]) -> set[str]:
    return {r["id"] for r in report["requirements"] if r["status"] == "fail"}


@pytest.fixture(scope="module")
def defect_run(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """The reference CPO with one planted defect, judged on the one requirement meant to catch it."""
    reports = tmp_path_factory.mktemp("defect")
    outcome = run_suite(
        "cpo", reports, seed=3, defects=[DEFECT], requirements=[CAUGHT_BY], quiet=True, allure=False, fork=True
    )
    assert outcome.summary is not None, outcome.output[-3000:]
    return outcome


@pytest.fixture(scope="module")
def secret_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A user declaration whose [headers] carry an API key the SUT checks; the SUT has a defect to report."""
    folder = tmp_path_factory.mktemp("secret")
    hub_port = _port()
    cpo = ReferenceCpo(
        Config(hub_url=f"http://127.0.0.1:{hub_port}/api/oicp", api_key=SECRET, defects=frozenset({DEFECT}))
    )
    url = cpo.start()
    try:
        declaration = folder / "oicp-sut.toml"
        declaration.write_text(reference_declaration(url, hub_port, api_key=SECRET, api_key_header=True))
        assert f'X-Api-Key = "{SECRET}"' in declaration.read_text()
        outcome = run_suite(
            "cpo", folder / "reports", sut=declaration, seed=5, requirements=[CAUGHT_BY], quiet=True, fork=True
        )
        assert outcome.summary is not None and outcome.folder is not None, outcome.output[-3000:]
        yield outcome.folder
    finally:
        cpo.stop()


def test_a_planted_defect_fails_its_requirement_with_evidence_and_reproduce(defect_run: Outcome) -> None:
    assert defect_run.folder is not None
    report, html = _report(defect_run.folder)
    assert report["verdict"]["key"] == "fail" and report["verdict"]["run_verdict"] == "fail"
    assert _failing(report) == {CAUGHT_BY}
    evidence = [e for e in report["evidence"] if e["requirement"] == CAUGHT_BY]
    assert evidence and all(e["title"] and e["reproduce"] for e in evidence)
    row = next(r for r in report["requirements"] if r["id"] == CAUGHT_BY)
    assert row["quote"] and row["chapter"] and row["section"] and row["tests"]
    assert report["scope"]["partial"] and report["run"]["seed"] == 3
    assert f"--defect {DEFECT}" in report["run"]["repeat"]
    assert report["sut"]["declaration_summary"]["features"], "the reference's declared features are listed"
    assert report["spec"]["schema_profile"] == "corrected" and report["spec"]["errata"]["count"] > 0
    assert report["coverage"]["operations"] and report["coverage"]["exercised"] >= 1
    # the page: verdict first, then the failure with its quote and reproduce command, escaped as HTML
    assert html.index("Verdict: FAIL") < html.index(f'id="finding-{CAUGHT_BY}"') < html.index('id="requirements"')
    assert escape(evidence[0]["reproduce"], quote=True) in html
    assert escape(row["quote"], quote=True) in html


def test_the_clean_reference_reports_pass(tmp_path: Path) -> None:
    outcome = run_suite("cpo", tmp_path, seed=3, requirements=[CAUGHT_BY], quiet=True, allure=False, fork=True)
    assert outcome.folder is not None and outcome.summary is not None, outcome.output[-3000:]
    report, html = _report(outcome.folder)
    assert report["verdict"]["key"] == "pass", report["verdict"]
    assert not report["evidence"] and not _failing(report)
    assert "Verdict: PASS" in html and "No requirement failed" in html


def test_an_emp_run_has_its_report_too(tmp_path: Path) -> None:
    outcome = run_suite(
        "emp", tmp_path, seed=4, requirements=["EMP-IN-AUTH-START-01"], quiet=True, allure=False, fork=True
    )
    assert outcome.folder is not None and outcome.summary is not None, outcome.output[-3000:]
    report, html = _report(outcome.folder)
    assert report["sut"]["role"] == "emp" and report["sut"]["declaration_summary"]["mode"] == "online"
    assert report["verdict"]["run_verdict"] == outcome.summary["verdict"]
    assert "EMP-IN-AUTH-START-01" in {r["id"] for r in report["requirements"]}
    operations = {o["id"]: o for o in report["coverage"]["operations"]}
    assert report["coverage"]["catalogue_role"] == "emp_online" and operations["AuthorizeStart.emp"]["exercised"]
    assert "OICP 2.3 EMP conformance" in html


def test_report_rebuilds_the_files_from_a_run_folder(defect_run: Outcome, tmp_path: Path) -> None:
    assert defect_run.folder is not None
    folder = tmp_path / "cpo"
    shutil.copytree(defect_run.folder, folder)
    for name in ("compliance.json", "compliance.html"):
        (folder / name).unlink()
    done = cli("report", str(folder))
    assert done.returncode == 0, done.stderr
    assert "FAIL" in done.stdout and not done.stderr
    report, html = _report(folder)
    assert report["verdict"]["key"] == "fail" and _failing(report) == {CAUGHT_BY} and "Verdict: FAIL" in html
    assert report["sut"]["declaration_summary"]["shape"] == "official", "the reference's declaration, from its name"


@pytest.mark.parametrize("case", ["missing", "no-summary", "broken-json", "not-a-summary"])
def test_report_on_a_folder_without_a_usable_summary_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    folder = tmp_path / "cpo"
    if case != "missing":
        folder.mkdir()
    if case == "broken-json":
        (folder / "summary.json").write_text('{"verdict": "pass", "requirements": [', encoding="utf-8")
    if case == "not-a-summary":
        (folder / "summary.json").write_text('{"hello": 1}', encoding="utf-8")
    done = cli("report", str(folder))
    assert done.returncode == 2, done
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("oicp-conformance: error: ") and not (folder / "compliance.html").exists()


def test_pdf_and_allure_without_their_tools_say_how_to_install(
    defect_run: Outcome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert defect_run.folder is not None
    folder = tmp_path / "cpo"
    shutil.copytree(defect_run.folder, folder)
    (folder / "allure-results").mkdir(exist_ok=True)
    monkeypatch.setattr(report_cli, "find_browser", lambda: None)
    monkeypatch.setattr(report_cli, "find_allure", lambda: None)
    assert main(["report", str(folder), "--pdf"]) == 2
    err = capsys.readouterr().err
    assert "apt-get install -y chromium" in err and len(err.strip().splitlines()) == 1
    assert main(["report", str(folder), "--allure"]) == 2
    err = capsys.readouterr().err
    assert "npm install -g allure" in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.pdf")) and not list(tmp_path.glob("*allure-report"))


@pytest.fixture(scope="module")
def allure_cli() -> list[str]:
    """The Allure command line, or a skip saying how to install it (before any run is set up)."""
    found = report_cli.find_allure()
    if found is None:
        pytest.skip("no Allure command line on PATH (install: npm install -g allure)")
    return found


@pytest.fixture(scope="module")
def browser() -> str:
    """A headless-capable Chromium, or a skip saying how to install it (before any run is set up)."""
    found = report_cli.find_browser()
    if found is None:
        pytest.skip("no chromium, chromium-browser or google-chrome on PATH (install: scripts/install-browser.sh)")
    return found


def test_allure_builds_its_html_report_where_installed(
    allure_cli: list[str], defect_run: Outcome, tmp_path: Path
) -> None:
    assert defect_run.folder is not None and defect_run.summary is not None
    from conformance.reports.allure_requirements import write_requirement_results

    folder = tmp_path / "cpo"
    shutil.copytree(defect_run.folder, folder)
    (folder / "allure-results").mkdir(exist_ok=True)
    write_requirement_results(defect_run.summary, folder / "allure-results")
    assert main(["report", str(folder), "--allure"]) == 0
    assert (tmp_path / "cpo-allure-report" / "index.html").is_file()


def test_a_declared_secret_never_reaches_the_report(secret_run: Path) -> None:
    report, html = _report(secret_run)
    text = (secret_run / "compliance.json").read_text(encoding="utf-8")
    assert SECRET not in text and SECRET not in html
    assert report["sut"]["declaration_summary"]["headers"] == {"X-Api-Key": "<redacted>"}
    assert _failing(report) == {CAUGHT_BY}, "the SUT was reached with its key and its defect reported"
    assert any("X-Api-Key" in e["reproduce"] for e in report["evidence"]), "the curl names the header, not its value"
    done = cli("report", str(secret_run))  # rebuilt from the folder: still no secret
    assert done.returncode == 0, done.stderr
    assert all(
        SECRET not in (secret_run / n).read_text(encoding="utf-8") for n in ("compliance.json", "compliance.html")
    )


def test_a_secret_that_leaked_into_the_summary_is_scrubbed(tmp_path: Path) -> None:
    """Defence in depth: should evidence ever carry a declared header value, the report still never shows it."""
    declaration = tmp_path / "oicp-sut.toml"
    declaration.write_text(reference_declaration("http://127.0.0.1:9", 9, api_key=SECRET, api_key_header=True))
    summary = {
        "role": "cpo",
        "release": "2.3",
        "seed": 1,
        "verdict": "fail",
        "sut": {"name": "leaky", "base_url": f"http://user:{SECRET}@127.0.0.1:9", "declaration": str(declaration)},
        "requirements": [
            {
                "id": CAUGHT_BY,
                "title": "t",
                "strength": "MUST",
                "status": "fail",
                "reason": f"answered {SECRET}",
                "tests": ["test_remote_start_unknown_evse"],
                "failures": [
                    {"title": "x", "body": f"X-Api-Key: {SECRET}", "reproduce": f"curl -H 'X-Api-Key: {SECRET}'"}
                ],
            }
        ],
    }
    write_run_report(summary, tmp_path, "cpo", ["--oicp-role=cpo", f"--oicp-sut={declaration}"])
    report, html = _report(tmp_path)
    assert SECRET not in json.dumps(report) and SECRET not in html
    assert report["sut"]["base_url"] == "http://127.0.0.1:9" and "<redacted>" in report["evidence"][0]["body"]


def test_the_page_escapes_what_it_shows_and_loads_nothing(tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script><img src="http://example.com/x.png">'
    summary = {
        "role": "cpo",
        "release": "2.3",
        "verdict": "fail",
        "sut": {"name": hostile, "base_url": "http://127.0.0.1:9", "declaration": "(test)"},
        "requirements": [
            {
                "id": CAUGHT_BY,
                "title": hostile,
                "strength": "MUST",
                "status": "fail",
                "reason": hostile,
                "tests": [hostile],
                "failures": [{"title": hostile, "body": hostile, "reproduce": hostile}],
            }
        ],
    }
    write_run_report(summary, tmp_path, "cpo", [])
    _, html = _report(tmp_path)
    assert "<script" not in html and "<img" not in html and "<link" not in html
    assert 'src="' not in html and "href=" not in html and "url(" not in html  # nothing to fetch
    assert escape(hostile, quote=True) in html and "@media print" in html


@pytest.mark.parametrize(
    ("verdict", "statuses", "shown"),
    [
        ("pass", ["pass"], "pass"),
        ("pass", ["pass", "warn"], "pass with warnings"),
        ("fail", ["fail", "warn"], "fail"),
        ("incomplete", ["not judged"], "incomplete"),
        ("configuration problem", ["not judged"], "configuration problem"),
        ("interrupted", ["pass"], "incomplete"),
        ("aborted", [], "incomplete"),
    ],
)
def test_every_run_verdict_shows_as_one_of_five(tmp_path: Path, verdict: str, statuses: list[str], shown: str) -> None:
    rows = [
        {"id": f"CPO-X-{n}", "title": "t", "strength": "MUST", "status": s, "tests": [], "failures": []}
        for n, s in enumerate(statuses)
    ]
    summary = {"role": "cpo", "verdict": verdict, "reason": "stopped early" if not rows else "", "requirements": rows}
    write_run_report(summary, tmp_path, "cpo", [])
    report, html = _report(tmp_path)
    assert report["verdict"]["key"] == shown and report["verdict"]["run_verdict"] == verdict
    assert f"Verdict: {shown.upper()}" in html and f'data-verdict="{shown}"' in html


def test_run_options_read_back_what_the_runner_asked_for() -> None:
    args = ["--oicp-sut=/x/s.toml", "--oicp-reference-defect=a", "--oicp-reference-defect=b", "-k", "foo"]
    options = run_options([*args, "--oicp-mode=offline", "--oicp-requirement=R-1"])
    assert options["sut"] == "/x/s.toml" and options["defects"] == ["a", "b"] and options["keyword"] == "foo"
    assert options["mode"] == "offline" and options["requirements"] == ["R-1"]


def _dump_dom(browser: str, page: Path) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="oicp-dom-") as profile:
        return subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def test_the_page_renders_in_a_headless_browser(
    browser: str, defect_run: Outcome, secret_run: Path, tmp_path: Path
) -> None:
    assert defect_run.folder is not None
    for folder in (defect_run.folder, secret_run):
        report, _ = _report(folder)
        done = _dump_dom(browser, folder / "compliance.html")
        assert done.returncode == 0, done.stderr[-2000:]
        dom = done.stdout
        assert "Verdict: FAIL" in dom and 'data-verdict="fail"' in dom, dom[:2000]
        for rid in _failing(report):
            assert f'id="finding-{rid}"' in dom and f'id="req-{rid}"' in dom
        assert SECRET not in dom
        assert "Uncaught" not in done.stderr and "SyntaxError" not in done.stderr, done.stderr[-2000:]
    # and it prints: `report --pdf` writes a PDF with the same browser
    pdf = tmp_path / "report.pdf"
    assert main(["report", str(defect_run.folder), "--pdf", str(pdf)]) == 0
    assert pdf.read_bytes()[:5] == b"%PDF-"
