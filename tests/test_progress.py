"""Progress on long runs: one line per finished test with its requirements and a running count, a live bar
on a terminal, plain lines (no escape codes) under CI or into a pipe; the requirement table as before."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.suites.plugin import live_output, progress_bar, progress_line
from tests.helpers import ROOT, cli

LINE = re.compile(
    r"^\[(?P<done>\d)/2\] cpo/test_inbound\.py::(?P<test>test_remote_stop_of_\w+) PASSED  "
    r"CPO-REMOTE-STOP-01(, [A-Z0-9-]+)* pass"
    r"  \(\d+\.\d s\)$"
)


def _env(**extra: str) -> dict[str, str]:
    """The user's environment without colour forcing or CI, this checkout first; then `extra`."""
    dropped = ("CI", "PY_COLORS", "FORCE_COLOR", "NO_COLOR", "PYTEST_ADDOPTS", "TERM")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def test_under_ci_each_finished_test_is_one_plain_line(tmp_path: Path) -> None:
    done = cli(
        "run", "--role", "cpo", "--requirement", "CPO-REMOTE-STOP-01", "-k", "test_remote_stop_of", "--seed", "3",
        "--reports", str(tmp_path), env=_env(CI="1"), timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = [m for line in done.stdout.splitlines() if (m := LINE.match(line))]
    assert [(m["done"], m["test"]) for m in lines] == [
        ("1", "test_remote_stop_of_running_session"),
        ("2", "test_remote_stop_of_unknown_session"),
    ], done.stdout
    assert "\x1b" not in done.stdout + done.stderr and "\r" not in done.stdout
    assert "[ 50%]" not in done.stdout and "[100%]" not in done.stdout  # pytest's own per-test lines are gone
    assert "PASS       CPO-REMOTE-STOP-01" in done.stdout and "verdict: PASS" in done.stdout  # the table as before


def test_a_failed_check_names_its_requirement_and_keeps_its_details(tmp_path: Path) -> None:
    done = cli(
        "run", "--role", "cpo", "--defect", "own-session-id-in-cdr", "--requirement", "CPO-SESSION-01",
        "--seed", "42", "--reports", str(tmp_path), env=_env(CI="1"), timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-2000:]
    failed = [line for line in done.stdout.splitlines() if line.startswith("[") and " FAILED  " in line]
    # the hub refuses the CDR of a session it never issued too (CPO-CDR-02): both fail, the line names them first
    assert failed and all(re.search(r" FAILED  CPO-SESSION-01(, [A-Z0-9-]+)* fail; ", line) for line in failed), (
        done.stdout
    )
    assert "[CPO-SESSION-01] the CDR carries SessionID" in done.stdout  # what went wrong, in full
    assert "oicp-conformance run --role cpo --defect own-session-id-in-cdr --seed 42 -k" in done.stdout


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_terminal_gets_a_live_bar(tmp_path: Path) -> None:
    leader, follower = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli.main", "run", "--role", "cpo", "--requirement", "CPO-REMOTE-STOP-01",
         "-k", "test_remote_stop_of", "--seed", "3", "--reports", str(tmp_path)],
        stdout=follower, stderr=follower, cwd=ROOT, env=_env(TERM="xterm", COLUMNS="160"),
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=300) == 0
    out = b"".join(chunks).decode("utf-8", "replace")
    assert re.search(r"\[#+\.*\] 1/2 \d:\d\d  cpo/test_inbound\.py::test_remote_stop_of_unknown", out), out
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    finished = [line.rsplit("\r", 1)[-1] for line in plain.split("\r\n")]
    assert sum(bool(LINE.match(line)) for line in finished) == 2, finished
    assert "verdict: PASS" in out


def test_line_and_bar_say_what_finished_and_how_far_the_run_is() -> None:
    line = progress_line(6, 21, "cpo/t.py::test_x", "PASSED", {"CPO-ACK-04": "pass", "CPO-STATE-02": "warn"}, 4.42)
    assert line == "[ 6/21] cpo/t.py::test_x PASSED  CPO-STATE-02 warn; CPO-ACK-04 pass  (4.4 s)"
    assert progress_line(1, 0, "x.py::test_y", "SKIPPED", {}, 0.0) == "[1] x.py::test_y SKIPPED  (0.0 s)"
    bar = progress_bar(5, 20, "cpo/t.py::test_x", 75.0, width=200)
    assert bar == "[#####...............] 5/20 1:15  cpo/t.py::test_x"
    assert len(progress_bar(5, 20, "x" * 300, 0.0, width=80)) == 79  # never wraps the terminal line


def test_only_a_terminal_outside_ci_gets_the_bar() -> None:
    assert live_output(True, {})
    assert not live_output(False, {})
    assert not live_output(True, {"CI": "true"})
    assert not live_output(True, {"TERM": "dumb"})
