"""CI gating: `run --baseline` lets known failures through and nothing else, `diff` names what changed between
two runs, and the CI examples' shared script gates a real EMP run.

The runs are the reference CPO with one planted defect, narrowed to the requirement that catches it, so the
whole module takes seconds."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conformance.reference.cpo.defects import DEFECTS
from conformance.reports.baseline import Baseline, BaselineError, Entry, evaluate, load_baseline
from tests.helpers import ROOT, cli

DEFECT = "remote-start-crash-unknown-evse"
REQUIREMENT = DEFECTS[DEFECT].caught_by  # a MUST: the defect fails the run
CI = ROOT / "examples" / "ci"


def _baseline(path: Path, *entries: str, role: str | None = "cpo") -> Path:
    head = f'role = "{role}"\n' if role else ""
    path.write_text(head + "".join(f"\n[[known_failure]]\n{e}\n" for e in entries), encoding="utf-8")
    return path


def _entry(requirement: str = REQUIREMENT, expires: str = "2099-12-31", reason: str = "fix in TICKET-1") -> str:
    return f'requirement = "{requirement}"\nreason = "{reason}"\nexpires = {expires}'


def _run(reports: Path, *extra: str, defect: bool = True) -> subprocess.CompletedProcess[str]:
    args = ["run", "--role", "cpo", "--requirement", REQUIREMENT, "--seed", "1", "--reports", str(reports)]
    return cli(*args, *(["--defect", DEFECT] if defect else []), *extra, timeout=180)


def _summary(reports: Path, role: str = "cpo") -> dict[str, Any]:
    return json.loads((reports / role / "summary.json").read_text(encoding="utf-8"))


def _output(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"


def test_a_baseline_accepts_the_known_failure_and_reports_it_fixed_once_gone(tmp_path: Path) -> None:
    """The acceptance story in one sequence (three short runs, on one worker): fail without the baseline, pass
    with it, report the entry fixed once the defect is gone (rerunning into the same folder), diff the two."""
    baseline = _baseline(tmp_path / "oicp-baseline.toml", _entry())

    plain = _run(tmp_path / "plain")
    assert plain.returncode == 1, _output(plain)
    assert "gate:" not in plain.stdout and "gate" not in _summary(tmp_path / "plain")
    assert {r["id"]: r["status"] for r in _summary(tmp_path / "plain")["requirements"]}[REQUIREMENT] == "fail"

    accepted = _run(tmp_path / "gated", "--baseline", str(baseline))
    assert accepted.returncode == 0, _output(accepted)
    assert accepted.stdout.count("verdict:") == 1
    assert "verdict: FAIL; gate: PASS (exit 0: 1 known failure(s) accepted)" in accepted.stdout
    assert f"accepted  {REQUIREMENT}" in accepted.stdout
    summary, before = _summary(tmp_path / "gated"), _summary(tmp_path / "plain")
    assert summary["verdict"] == before["verdict"] == "fail"  # the run's own verdict is untouched
    assert set(summary) - set(before) == {"gate"}
    assert [(r["id"], r["status"]) for r in summary["requirements"]] == [
        (r["id"], r["status"]) for r in before["requirements"]
    ]
    gate = summary["gate"]
    assert (gate["verdict"], gate["exit_code"], gate["new_failures"]) == ("pass", 0, [])
    assert [a["requirement"] for a in gate["accepted"]] == [REQUIREMENT]
    assert gate["baseline"] == str(baseline)

    # The defect removed, into the same folder: the gate lives in summary.json, not in a file of its own
    # that the next run's check of the report folder would take for a stranger's.
    clean = _run(tmp_path / "gated", "--baseline", str(baseline), defect=False)
    assert clean.returncode == 0, _output(clean)
    assert f"fixed     {REQUIREMENT:22} passes now: remove it from the baseline" in clean.stdout
    gate = _summary(tmp_path / "gated")["gate"]
    assert [f["requirement"] for f in gate["fixed"]] == [REQUIREMENT]
    assert gate["verdict"] == "pass" and not gate["accepted"]

    _check_diff(tmp_path / "plain" / "cpo" / "summary.json", tmp_path / "gated" / "cpo" / "summary.json")


def _check_diff(defect: Path, clean: Path) -> None:
    """diff names exactly the requirements whose status differs, exit 1 towards the defect, 0 away from it."""
    before = {r["id"]: r["status"] for r in json.loads(clean.read_text())["requirements"]}
    after = {r["id"]: r["status"] for r in json.loads(defect.read_text())["requirements"]}
    changed = {rid for rid in before.keys() | after.keys() if before.get(rid) != after.get(rid)}
    assert REQUIREMENT in changed

    worse = cli("diff", str(clean), str(defect), "--format", "json")
    assert worse.returncode == 1, _output(worse)
    body = json.loads(worse.stdout)
    assert [i["id"] for i in body["new_failures"]] == [REQUIREMENT] and not body["fixes"]
    named = {i["id"] for group in ("new_failures", "fixes", "changed", "only_old", "only_new") for i in body[group]}
    assert named == changed
    assert all(before[i["id"]] == i["old"] and after[i["id"]] == i["new"] for i in body["changed"])

    better = cli("diff", str(defect), str(clean))
    assert better.returncode == 0, _output(better)
    assert "fixes (1):" in better.stdout and REQUIREMENT in better.stdout.split("fixes (1):")[1].splitlines()[1]
    assert "new failures" not in better.stdout.split("\n", 1)[1]

    same = cli("diff", str(clean), str(clean))
    assert same.returncode == 0 and "no requirement changed" in same.stdout


def test_an_expired_entry_fails_the_gate_and_is_named(tmp_path: Path) -> None:
    """Even on a clean run: the entry's time is up, so someone must fix or renew it."""
    baseline = _baseline(tmp_path / "b.toml", _entry(expires="2020-01-31"))
    done = _run(tmp_path / "r", "--baseline", str(baseline), defect=False)
    assert done.returncode == 1, _output(done)
    assert f"expired   {REQUIREMENT:22} expired 2020-01-31" in done.stdout
    assert "verdict: PASS; gate: FAIL (exit 1: 1 expired entry" in done.stdout
    assert [e["requirement"] for e in _summary(tmp_path / "r")["gate"]["expired"]] == [REQUIREMENT]


# --- bad baselines: one line, exit 2, nothing run ----------------------------------------------------


BAD = [
    ("broken", "[[known_failure]\nrequirement = ", "not valid TOML"),
    (
        "unknown",
        _entry(requirement="CPO-NOPE-99"),
        "known_failure[1].requirement: unknown CPO requirement 'CPO-NOPE-99'",
    ),
    ("other-role", _entry(requirement="EMP-IN-AUTH-START-01"), "unknown CPO requirement 'EMP-IN-AUTH-START-01'"),
    ("no-reason", f'requirement = "{REQUIREMENT}"\nexpires = 2099-12-31', "known_failure[1].reason: missing"),
    ("no-expiry", f'requirement = "{REQUIREMENT}"\nreason = "x"', "known_failure[1].expires: missing"),
    ("quoted-date", _entry(expires='"2099-12-31"'), "known_failure[1].expires: '2099-12-31' is not a TOML date"),
    ("datetime", _entry(expires="2099-12-31T00:00:00Z"), "is not a TOML date"),
    ("typo", _entry() + '\nexpiry = "soon"', "known_failure[1]: unknown key 'expiry'"),
    ("check-id", _entry(requirement="test_remote_start_unknown_evse"), "is a check, not a requirement"),
    ("duplicate", _entry() + "\n\n[[known_failure]]\n" + _entry(), "known_failure[2].requirement: "),
]


@pytest.mark.parametrize(("body", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_baseline_stops_before_anything_runs(tmp_path: Path, body: str, expected: str) -> None:
    baseline = tmp_path / "oicp-baseline.toml"
    baseline.write_text(body if body.startswith("[[known_failure]") else f"[[known_failure]]\n{body}\n")
    done = _run(tmp_path / "r", "--baseline", str(baseline))
    assert done.returncode == 2, _output(done)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(baseline) in lines[0] and expected in lines[0], lines[0]
    assert not (tmp_path / "r").exists() and "suite against" not in done.stdout


@pytest.mark.parametrize(
    ("setup", "expected"),
    [("missing", "no such file"), ("role", "role = 'emp' but this is a cpo run"), ("table", "array of tables")],
)
def test_a_baseline_file_that_cannot_be_used(tmp_path: Path, setup: str, expected: str) -> None:
    baseline = tmp_path / "b.toml"
    if setup == "role":
        _baseline(baseline, _entry(), role="emp")
    elif setup == "table":
        baseline.write_text(f"[known_failure]\n{_entry()}\n")
    done = _run(tmp_path / "r", "--baseline", str(baseline))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, _output(done)
    assert expected in done.stderr and str(baseline) in done.stderr


# --- the gate's decision, on summaries made up for the case -----------------------------------------


def _row(rid: str, status: str, strength: str = "MUST", expected: bool = True) -> dict[str, Any]:
    return {"id": rid, "status": status, "strength": strength, "expected": expected, "title": rid, "reason": ""}


def _gate(rows: list[dict[str, Any]], *known: str, verdict: str = "fail", strict: bool = False, **extra: Any) -> Any:
    baseline = Baseline(Path("b.toml"), tuple(Entry(r, "why", date(2099, 1, 1)) for r in known))
    summary = {"verdict": verdict, "requirements": rows, "configuration_problems": [], **extra}
    return evaluate(baseline, summary, strict=strict, today=date(2026, 1, 1))


def test_accepting_every_failure_never_hides_an_incomplete_run() -> None:
    """The failure is accepted, but a MUST the SUT implements was not judged: exit 3 as without a baseline."""
    gate = _gate([_row("CPO-A", "fail"), _row("CPO-B", "not judged")], "CPO-A")
    assert (gate.verdict, gate.exit_code) == ("incomplete", 3)
    gate = _gate([_row("CPO-A", "pass"), _row("CPO-B", "error")], "CPO-A", verdict="incomplete")
    assert gate.exit_code == 3 and [f["requirement"] for f in gate.fixed] == ["CPO-A"]


def test_a_configuration_problem_keeps_exit_2() -> None:
    gate = _gate([_row("CPO-A", "fail")], "CPO-A", verdict="configuration problem", configuration_problems=["x"])
    assert gate.exit_code == 2


def test_under_strict_an_unlisted_warning_fails_and_a_listed_one_passes() -> None:
    rows = [_row("CPO-A", "warn", "SHOULD")]
    assert _gate(rows, verdict="pass").exit_code == 0  # not strict: a warning never gates
    assert _gate(rows, verdict="pass", strict=True).exit_code == 1
    strict = _gate(rows, "CPO-A", verdict="pass", strict=True)
    assert strict.exit_code == 0 and [a["requirement"] for a in strict.accepted] == ["CPO-A"]


def test_an_entry_expiring_today_still_holds() -> None:
    baseline = Baseline(Path("b.toml"), (Entry("CPO-A", "why", date(2026, 1, 1)),))
    summary = {"verdict": "fail", "requirements": [_row("CPO-A", "fail")], "configuration_problems": []}
    assert evaluate(baseline, summary, strict=False, today=date(2026, 1, 1)).exit_code == 0
    assert evaluate(baseline, summary, strict=False, today=date(2026, 1, 2)).exit_code == 1


# --- diff ---------------------------------------------------------------------------------------------


def _report(path: Path, rows: dict[str, str], **top: Any) -> Path:
    """A compliance.json-like file: rows with more fields than diff needs, no summary fields."""
    requirements = [{"id": k, "status": v, "title": k, "strength": "MUST", "source": "s"} for k, v in rows.items()]
    path.write_text(json.dumps({**top, "requirements": requirements}), encoding="utf-8")
    return path


def test_diff_reads_compliance_files_and_lists_requirements_only_one_has(tmp_path: Path) -> None:
    old = _report(tmp_path / "old.json", {"EMP-A-01": "pass", "EMP-B-01": "warn", "EMP-C-01": "fail"})
    new = _report(tmp_path / "new.json", {"EMP-A-01": "not judged", "EMP-B-01": "pass", "EMP-D-01": "fail"})
    done = cli("diff", str(old), str(new), "--format", "json")
    assert done.returncode == 1, _output(done)
    body = json.loads(done.stdout)
    assert body["role"] == "emp"
    assert [(i["id"], i["old"], i["new"]) for i in body["new_failures"]] == [("EMP-D-01", None, "fail")]
    assert [(i["id"], i["old"], i["new"]) for i in body["changed"]] == [
        ("EMP-A-01", "pass", "not judged"),
        ("EMP-B-01", "warn", "pass"),
    ]
    assert [i["id"] for i in body["only_old"]] == ["EMP-C-01"] and not body["fixes"] and not body["only_new"]


@pytest.mark.parametrize("case", ["missing", "not-json", "no-rows", "roles", "folder"])
def test_diff_bad_input_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    good = _report(tmp_path / "good.json", {"CPO-A-01": "pass"}, role="cpo")
    other = tmp_path / "other.json"
    if case == "not-json":
        other.write_text("{not json")
    elif case == "no-rows":
        other.write_text('{"verdict": "pass"}')
    elif case == "roles":
        _report(other, {"EMP-A-01": "pass"}, role="emp")
    elif case == "folder":
        other = tmp_path
    done = cli("diff", str(good), str(other))
    assert done.returncode == 2, _output(done)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(other) in lines[0] and "Traceback" not in done.stderr, done.stderr


# --- the CI examples ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(shutil.which("bash") is None, reason="the CI script is a bash script")
def test_the_ci_script_gates_the_reference_emp(tmp_path: Path) -> None:
    """What both CI jobs run: start the reference EMP, run the EMP suite with the sample baseline, stop it."""
    env = {
        **os.environ,
        "OICP_CONFORMANCE": f"{sys.executable} -m conformance.cli.main",
        "OICP_REPORTS": str(tmp_path / "reports"),
        "OICP_EMP_PORT": str(_free_port()),
        "OICP_HUB_PORT": str(_free_port()),
        "OICP_BASELINE": str(_baseline(tmp_path / "b.toml", _entry("EMP-IN-AUTH-START-01"), role="emp")),
    }
    env.pop("OICP_SUT", None)
    done = subprocess.run(
        ["bash", str(CI / "run-emp-gate.sh"), "--requirement", "EMP-IN-AUTH-START-01", "--seed", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, _output(done)
    summary = _summary(tmp_path / "reports", "emp")
    assert summary["role"] == "emp" and summary["gate"]["verdict"] == "pass"
    assert [f["requirement"] for f in summary["gate"]["fixed"]] == ["EMP-IN-AUTH-START-01"]
    assert "reference EMP DE-REF" in done.stdout  # it ran the reference it started, and stopped it after


@pytest.mark.skipif(shutil.which("bash") is None, reason="the CI script is a bash script")
def test_the_ci_script_passes_the_gate_exit_code_on(tmp_path: Path) -> None:
    """A bad baseline (exit 2) comes out of the script as is, and the EMP it started is stopped."""
    bad = tmp_path / "b.toml"
    bad.write_text("[[known_failure]]\nrequirement = 'EMP-IN-AUTH-START-01'\n")
    port = _free_port()
    env = {
        **os.environ,
        "OICP_CONFORMANCE": f"{sys.executable} -m conformance.cli.main",
        "OICP_REPORTS": str(tmp_path / "reports"),
        "OICP_EMP_PORT": str(port),
        "OICP_HUB_PORT": str(_free_port()),
        "OICP_BASELINE": str(bad),
    }
    done = subprocess.run(
        ["bash", str(CI / "run-emp-gate.sh")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 2, _output(done)
    assert "known_failure[1].reason: missing" in done.stderr
    with socket.socket() as probe:  # the port is free again: the script stopped the EMP
        probe.bind(("127.0.0.1", port))


def test_the_sample_baseline_is_valid() -> None:
    baseline = load_baseline(CI / "oicp-baseline.toml", "emp")
    assert baseline.entries and all(e.reason and e.expires for e in baseline.entries)
    with pytest.raises(BaselineError, match="role = 'emp' but this is a cpo run"):
        load_baseline(CI / "oicp-baseline.toml", "cpo")


def _yaml(path: Path) -> Any:
    try:
        import yaml  # type: ignore[import-untyped]

        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except ImportError:
        pass
    try:
        from ruamel.yaml import YAML  # a dependency of the tool; reads YAML 1.2, where `on` stays a string
    except ImportError:
        pytest.skip("neither PyYAML nor ruamel.yaml is installed: the CI files' YAML is not checked")
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def test_the_github_actions_job_runs_the_script_and_always_uploads_the_reports() -> None:
    workflow = _yaml(CI / "github-actions.yml")
    triggers = workflow.get("on", workflow.get(True))  # PyYAML reads the key `on` as True
    assert "push" in triggers and "pull_request" in triggers
    (job,) = workflow["jobs"].values()
    runs = [s.get("run", "") for s in job["steps"]]
    assert any("pip install" in r for r in runs) and any("run-emp-gate.sh" in r for r in runs)
    (upload,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert upload["if"] in ("${{ !cancelled() }}", "always()", "${{ always() }}")
    assert upload["with"]["path"].rstrip("/") == "reports"


def test_the_gitlab_job_runs_the_script_and_always_keeps_the_reports() -> None:
    pipeline = _yaml(CI / "gitlab-ci.yml")
    job = pipeline["oicp-emp-conformance"]
    assert any("pip install" in line for line in job["before_script"])
    assert any("run-emp-gate.sh" in line for line in job["script"])
    assert job["artifacts"]["when"] == "always"
    assert [p.rstrip("/") for p in job["artifacts"]["paths"]] == ["reports"]
