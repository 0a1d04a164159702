"""Run a role's suite with pytest in a child process, with reports, and read back its summary.

The child never reads the user's own pytest set-up (pytest.ini, pyproject, conftest.py, PYTEST_ADDOPTS):
CPO teams run the tool from inside their backend's repository. Reports are written to a fresh folder
and swapped in at the end, so `reports/<role>/` never mixes two runs, and an interrupted run still
leaves a summary whose verdict says so.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance.redact import for_summary
from conformance.reports import load_summary
from conformance.reports.allure_requirements import write_requirement_results
from conformance.reports.compliance import write_run_report
from conformance.reports.junit import write_junit

SUITES = {"cpo": "conformance.suites.cpo", "emp": "conformance.suites.emp"}
SUITES_DIR = Path(__file__).resolve().parent / "suites"
# After the deadline the child gets SIGINT and this long to write its summary and stop its servers; then SIGKILL.
STOP_GRACE = 5.0
# What a run writes into reports/<role>/; anything else there is the user's and stops the run.
OURS = {"allure-results", "junit.xml", "summary.json", "compliance.json", "compliance.html", "hypothesis"}


class ReportsError(Exception):
    """The report folder cannot be used (a file, or it holds files that are not a run's)."""


@dataclass
class Outcome:
    exit_code: int  # pytest's
    summary: dict[str, Any] | None
    output: str
    folder: Path | None = None


def check_reports(reports: Path, role: str) -> Path:
    """The role's report folder, or ReportsError before anything runs."""
    if reports.exists() and not reports.is_dir():
        raise ReportsError(f"--reports {reports} is a file, not a folder")
    folder = reports / role
    if folder.exists() and not folder.is_dir():
        raise ReportsError(f"{folder} is a file, not a folder")
    if folder.is_dir() and (strangers := sorted(p.name for p in folder.iterdir() if p.name not in OURS)):
        raise ReportsError(
            f"{folder} holds files this tool did not write ({', '.join(strangers[:3])}); "
            "move them or choose another --reports folder"
        )
    return folder


def _swap_in(work: Path, folder: Path) -> None:
    """Replace the previous run's folder with this run's in two renames."""
    old = folder.with_name(f".{folder.name}-old-{os.getpid()}")
    if folder.exists():
        folder.rename(old)
    work.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def pytest_args(
    role: str,
    work: Path,
    *,
    sut: Path | None,
    seed: int | None,
    defects: list[str],
    shape: str | None,
    mode: str | None = None,
    requirements: list[str],
    keyword: str | None,
    profile: str | None,
    allure: bool,
    strict: bool,
    examples: int | None = None,
    database: Path | None = None,
    tls: Path | None = None,
) -> list[str]:
    args = [
        "--pyargs",
        SUITES[role],
        "-c",
        str(SUITES_DIR / "pytest.ini"),  # the suite's own settings, never the user's
        "--rootdir",
        str(SUITES_DIR),
        "--noconftest",
        "-p",
        "no:cacheprovider",
        "--oicp-progress",  # one line per finished test with its requirements, instead of pytest's own
        "--no-header",  # the tool prints what ran (SUT, seed) itself: no platform, plugin or rootdir lines
        "-p",
        "no:benchmark",
        "--tb=line",
        # The suites report through verdicts, never through a bare assert's introspection; rewriting the
        # package's ~130 modules on every start cost more CPU than most runs of a single check.
        "--assert=plain",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        "--oicp-via-cli",
        f"--oicp-role={role}",
        f"--oicp-summary={work / 'summary.json'}",
    ]
    if allure:
        args.append(f"--alluredir={work / 'allure-results'}")
    if sut is not None:
        args.append(f"--oicp-sut={sut.resolve()}")
    if seed is not None:
        args.append(f"--oicp-seed={seed}")
    if shape:
        args.append(f"--oicp-reference-shape={shape}")
    if mode:
        args.append(f"--oicp-mode={mode}")
    if tls is not None:
        args.append(f"--oicp-reference-tls={tls.resolve()}")
    if strict:
        args.append("--oicp-strict")
    if profile:
        args.append(f"--hypothesis-profile={profile}")
    if examples is not None:
        args.append(f"--oicp-examples={examples}")
    if database is not None:
        args.append(f"--oicp-examples-db={database}")
    if keyword:
        args += ["-k", keyword]
    args += [f"--oicp-reference-defect={d}" for d in defects]
    args += [f"--oicp-requirement={r}" for r in requirements]
    return args


def run_suite(
    role: str,
    reports: Path,
    *,
    sut: Path | None = None,
    seed: int | None = None,
    defects: list[str] | None = None,
    shape: str | None = None,
    mode: str | None = None,
    requirements: list[str] | None = None,
    keyword: str | None = None,
    profile: str | None = None,
    quiet: bool = False,
    allure: bool = True,
    strict: bool = False,
    fork: bool = False,
    deadline: float | None = None,
    since: float | None = None,
    examples: int | None = None,
    tls: Path | None = None,
) -> Outcome:
    """pytest over the role's suite; progress streams to the terminal unless `quiet`.

    `fork` runs pytest in a forked copy of this process instead of a new interpreter: the same isolation
    for a fraction of the start-up cost, for the many short runs of `defects` and the project's tests.
    `deadline`: seconds after `since` (a time.monotonic(); default: now) at which the run is stopped (SIGINT, then
    SIGKILL after STOP_GRACE) and its summary says it was cut there (verdict "deadline"); None: no deadline.
    `tls`: the bundled reference, the fake hub and the suite over mutual TLS with that folder's certificates."""
    folder = check_reports(reports.resolve(), role)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = folder.with_name(f".{folder.name}-running-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # Hypothesis' example database outlives the run: the failing requests it keeps are replayed first next time.
    if (folder / "hypothesis").is_dir():
        shutil.copytree(folder / "hypothesis", work / "hypothesis")
    args = pytest_args(
        role,
        work,
        sut=sut,
        seed=seed,
        defects=defects or [],
        shape=shape,
        mode=mode,
        requirements=requirements or [],
        keyword=keyword,
        profile=profile,
        allure=allure,
        strict=strict,
        examples=examples,
        database=work / "hypothesis",
        tls=tls,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    started = datetime.now(UTC)
    left = deadline
    if deadline is not None and since is not None:  # the caller's clock started earlier (its own checks)
        left = max(0.0, deadline - (time.monotonic() - since))
    # From the suites' folder, so test IDs read `cpo/test_inbound.py::...` wherever the user stands.
    if fork and hasattr(os, "fork"):
        output, code, interrupted, cut = _run_forked(args, env, cwd=SUITES_DIR, role=role, deadline=left)
    else:
        # -P: the suites' folder (the child's working directory) must not shadow top-level modules
        command = [sys.executable, "-P", "-c", _LAUNCHER, *args]
        output, code, interrupted, cut = _run(command, env, quiet, cwd=SUITES_DIR, deadline=left)
    summary = load_summary(work / "summary.json")
    if cut and deadline is not None:
        summary = cut_at_deadline(summary or _fallback(None, started, code, False, output), deadline)
    elif summary is None or interrupted:
        summary = _fallback(summary, started, code, interrupted, output)
    # Once, for every report written from here (JUnit, Allure per requirement) and for a summary made here (its
    # reason may quote the child's output): never a secret in a report (conformance.redact).
    summary = for_summary(summary).json(summary)
    (work / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    write_junit(summary, work / "junit.xml")
    write_requirement_results(summary, work / "allure-results")
    write_run_report(summary, work, role, args)  # compliance.json and compliance.html
    _swap_in(work, folder)
    if interrupted:
        raise KeyboardInterrupt
    return Outcome(code, summary, output, folder)


def cut_at_deadline(summary: dict[str, Any], deadline: float) -> dict[str, Any]:
    """The summary of a run stopped at its deadline: verdict `deadline`, and every requirement no test judged before
    the cut says so. What was judged stands (a failure found is listed), but the run cannot vouch for the SUT."""
    from conformance.suites.verdicts import NOT_JUDGED, VERDICT_DEADLINE

    unreached = [r for r in summary.get("requirements") or [] if r.get("status") == NOT_JUDGED and not r.get("tests")]
    for row in unreached:
        row["reason"] = f"not judged: the run was cut at the deadline ({deadline:g} s) before a test of it finished"
    failed = sum(r.get("status") == "fail" for r in summary.get("requirements") or [])
    summary["verdict"] = VERDICT_DEADLINE
    summary["deadline_s"] = deadline
    summary["reason"] = (
        f"the run was cut at the deadline of {deadline:g} s (--deadline): {len(unreached)} requirement(s) not "
        f"judged for want of time, {failed} failed before the cut; it cannot vouch for the SUT"
    )
    return summary


# `python -m pytest`, except that a stop (the deadline's SIGINT) that comes while pytest is still importing ends the
# child quietly with pytest's "interrupted" code instead of a KeyboardInterrupt traceback; the parent says the rest.
_LAUNCHER = """import sys
try:
    import pytest
    sys.exit(pytest.console_main())
except KeyboardInterrupt:
    sys.exit(2)
"""


def _stop(process: subprocess.Popen[str], grace: float | None = None) -> str:
    """SIGINT (pytest then writes its summary and stops its servers), SIGKILL if it is not done within `grace`
    (default STOP_GRACE)."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        out, _ = process.communicate(timeout=STOP_GRACE if grace is None else grace)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out or ""


def _run(
    args: list[str], env: dict[str, str], quiet: bool, cwd: Path, deadline: float | None = None
) -> tuple[str, int, bool, bool]:
    """Run pytest; on Ctrl-C or at the deadline give it time to write its summary instead of killing it.

    Returns the output (when quiet), pytest's exit code, whether it was interrupted and whether it was cut."""
    process = subprocess.Popen(
        args,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.STDOUT if quiet else None,
        text=True,
    )
    try:
        out, _ = process.communicate(timeout=deadline)
        return out or "", process.returncode, False, False
    except subprocess.TimeoutExpired:
        return _stop(process), process.returncode, False, True
    except KeyboardInterrupt:  # Ctrl-C reached the child too: longer to finish what it was writing
        return _stop(process, grace=15), process.returncode, True, False


_WARMED: set[str] = set()


def _warm_for_forks(role: str) -> None:
    """Import once, in this process, what every forked child would otherwise import again: the pytest plugins
    of the entry points, the role's suite modules (as pytest names them: the suites' folder is a package), the
    reference SUTs and the HTTP stack's lazy back-ends. Measured with the gc.freeze below: a forked defect run
    drops from 0.6 to 0.27 CPU-seconds. Only imports: no state a run could leave behind is shared."""
    import importlib
    import pkgutil
    from importlib import metadata

    if role in _WARMED:
        return
    names = [ep.value.split(":")[0] for ep in metadata.entry_points(group="pytest11")]
    for package in (f"conformance.suites.{role}", f"conformance.reference.{role}"):
        try:
            found = importlib.import_module(package)
        except ImportError:
            continue
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules(found.__path__)]
    names += ["conformance.suites.steps", "conformance.checks.journal", "conformance.reports.compliance_html"]
    names += ["httpcore._backends.sync", "anyio", "h11"]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # a plugin that cannot import here fails in the child, with its message
            continue
    try:  # Hypothesis reads the constants of every loaded module's source at its first draw: once, here
        from hypothesis.internal.conjecture.providers import _get_local_constants

        _get_local_constants()
    except Exception:  # a private helper; without it the child only starts colder
        pass
    _WARMED.add(role)


def _run_forked(
    args: list[str], env: dict[str, str], cwd: Path, role: str = "", deadline: float | None = None
) -> tuple[str, int, bool, bool]:
    """pytest.main in a forked child, its output captured through a pipe (always quiet); stopped as `_run` stops
    its child at the deadline."""
    import pytest  # imported before the fork, so the child starts warm

    _warm_for_forks(role)
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    # The objects the child inherits are frozen: its garbage collections skip them instead of walking (and so
    # copying) every page of the parent's heap, as the gc module's documentation advises for fork without exec.
    gc.freeze()
    try:
        pid = os.fork()
    except OSError:
        gc.unfreeze()
        os.close(read)
        os.close(write)
        raise
    if pid == 0:  # the child: fresh stdio on the pipe, the environment and folder of a new process
        code = 3
        try:
            os.close(read)
            os.dup2(write, 1)
            os.dup2(write, 2)
            sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the child's own stdio
            sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(env)
            code = int(pytest.main(args))
        except BaseException:  # the child must never return into the caller's code
            code = 3
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    gc.unfreeze()
    os.close(write)
    output, cut = _read_child(read, pid, deadline)
    _, status = os.waitpid(pid, 0)
    return output, os.waitstatus_to_exitcode(status), False, cut


def _read_child(read: int, pid: int, deadline: float | None) -> tuple[str, bool]:
    """A forked child's output until it closes the pipe; at the deadline SIGINT, after STOP_GRACE SIGKILL."""
    chunks = []
    now = time.monotonic()
    signal_at = None if deadline is None else now + deadline
    kill_at: float | None = None
    cut = False
    with os.fdopen(read, "rb", buffering=0) as pipe:
        while True:
            now = time.monotonic()
            if signal_at is not None and not cut and now >= signal_at:
                cut, kill_at = True, now + STOP_GRACE
                _signal(pid, signal.SIGINT)
            elif kill_at is not None and now >= kill_at:
                _signal(pid, signal.SIGKILL)
                break  # killed: whatever else may still hold the pipe (a grandchild) is not waited for
            wake = [t for t in (signal_at if not cut else None, kill_at) if t is not None]
            ready, _, _ = select.select([pipe], [], [], max(0.0, min(wake) - now) if wake else None)
            if ready:
                chunk = pipe.read(65536)
                if not chunk:
                    break
                chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace"), cut


def _signal(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended on its own meanwhile
        os.kill(pid, number)


def _fallback(
    summary: dict[str, Any] | None, started: datetime, code: int, interrupted: bool, output: str
) -> dict[str, Any]:
    """A summary that says the run did not finish (interrupted, or pytest could not run the suite)."""
    base = summary or {"requirements": [], "counts": {}, "configuration_problems": []}
    base.setdefault("started", started.isoformat(timespec="seconds"))
    base["duration_s"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    if interrupted:
        base["verdict"] = "interrupted"
        base["reason"] = "the run was interrupted (Ctrl-C or a signal) before it finished"
    else:
        base["verdict"] = "aborted"
        tail = [line for line in output.strip().splitlines() if line.strip()][-3:]
        base["reason"] = f"the suite could not run (pytest exit {code})" + (f": {' | '.join(tail)}" if tail else "")
    return base
