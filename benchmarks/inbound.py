"""Inbound throughput: this suite's property tests beside schemathesis, against one reference CPO, same run.

Baseline: schemathesis (`schemathesis run`) with Hubject's official CPO OpenAPI (a copy under
fixtures/official/openapi-2.3-cpo/, CC BY-SA 4.0) against the reference CPO served on the official paths,
limited to the four operations a CPO serves (RemoteStart/Stop, reservation start/stop), its default phases and
checks on. Ours: the suite's inbound property tests (`oicp-conformance run --examples N -k test_properties`)
against the same running reference, with their checks. Both rates count the requests a tool generated, sent and
judged per second of its own run (start-up and loading the spec excluded: schemathesis' engine time, the
properties' own time, which includes the setup and clean-up requests each case needs). The reference runs in a
process of its own, so neither tool shares an interpreter with it.

schemathesis is a benchmark-only dependency: `pip install -e '.[bench]'`.
How fast schemathesis goes depends on how many examples it is asked for (its fuzzing phase slows down per case
as the count grows; its coverage phase sends about the same few hundred cases whatever the count), so the
benchmark measures both tools at each count given, in the same run.
Run: `python benchmarks/inbound.py [--examples 50,200] [--seed 1]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "fixtures" / "official" / "openapi-2.3-cpo" / "openapi.yaml"
INBOUND = "authorize-remote|reservation-"  # the paths a CPO serves; the rest of the CPO OpenAPI is the hub's


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_reference(port: int, hub_port: int) -> subprocess.Popen[bytes]:
    """The reference CPO (official shape) in a process of its own, once it listens (at most 30 s)."""
    command = [sys.executable, "-m", "conformance.cli.main", "reference", "cpo", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--hub", f"http://127.0.0.1:{hub_port}/api/oicp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the reference CPO did not start on port {port}")


def schemathesis_rate(url: str, hub_port: int, examples: int, seed: int, work: Path) -> dict[str, Any]:
    """schemathesis run against the reference: requests, engine seconds, failures it reported."""
    from conformance.hub import FakeHub

    report = work / "schemathesis"
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(SPEC), "--url", url,
        "--include-path-regex", INBOUND, "--max-examples", str(examples), "--seed", str(seed),
        "--continue-on-failure", "--generation-database", "none", "--no-color",
        "--report", "ndjson", "--report-dir", str(report),
    ]  # fmt: skip
    with FakeHub(port=hub_port):  # where the reference sends what a request makes it send
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=1800)
    [events] = report.glob("*.ndjson") or [None]
    if events is None:
        raise SystemExit(f"schemathesis wrote no report (exit {done.returncode}):\n{done.stdout[-2000:]}")
    requests, seconds, failures = 0, 0.0, 0
    for line in events.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        kind, data = next(iter(event.items()))
        if kind == "ScenarioFinished":
            recorded = data["recorder"]["interactions"]
            requests += recorded if isinstance(recorded, int) else len(recorded)
        elif kind == "EngineFinished":
            seconds = data["running_time"]
    errors = 0
    for line in done.stdout.splitlines():
        if "unique failures" in line:
            failures = int(line.split("found")[1].split()[0])
        if line.startswith("=") and " error" in line:  # the closing line: "== 17 failures, 4 errors in 8.5s =="
            errors = int(line.split(" error")[0].split()[-1])
    return {"cases": requests, "seconds": seconds, "failures": failures, "errors": errors}


def our_rate(url: str, hub_port: int, examples: int, seed: int, work: Path) -> dict[str, Any]:
    """The suite's inbound property tests against the reference: cases, seconds, verdict."""
    from conformance.runner import run_suite
    from conformance.sut.default import reference_declaration

    declaration = work / "oicp-sut.toml"
    declaration.write_text(reference_declaration(url, hub_port), encoding="utf-8")
    outcome = run_suite(
        "cpo", work / "reports", sut=declaration, seed=seed, keyword="test_properties", examples=examples,
        quiet=True, allure=False,
    )  # fmt: skip
    summary = outcome.summary or {}
    found = summary.get("properties") or {}
    if not found.get("cases"):
        raise SystemExit(
            f"the property tests sent nothing (verdict {summary.get('verdict')}):\n{outcome.output[-2000:]}"
        )
    return {"cases": found["cases"], "seconds": found["seconds"], "verdict": summary.get("verdict")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--examples", default="50,200", help="examples per operation, for both tools; several counts: 50,200"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if importlib.util.find_spec("schemathesis") is None:
        print(
            "benchmarks/inbound.py needs schemathesis, a benchmark-only dependency: pip install -e '.[bench]'",
            file=sys.stderr,
        )
        return 2
    if not SPEC.is_file():
        print(f"the official CPO OpenAPI is missing: {SPEC}", file=sys.stderr)
        return 2
    said = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--version"], capture_output=True, text=True, check=False
    ).stdout.split()
    version = f"schemathesis {said[-1]}" if said else "schemathesis"
    counts = [int(n) for n in str(args.examples).split(",")]
    port, hub_port = free_port(), free_port()
    reference = start_reference(port, hub_port)
    url = f"http://127.0.0.1:{port}"
    rows = []
    try:
        for count in counts:
            with tempfile.TemporaryDirectory() as tmp:
                ours = our_rate(url, hub_port, count, args.seed, Path(tmp))
                theirs = schemathesis_rate(url, hub_port, count, args.seed, Path(tmp))
            rows.append((count, ours, theirs))
    finally:
        reference.terminate()
        reference.wait(timeout=10)
    print(f"inbound requests judged per second, reference CPO on the official paths, seed {args.seed}, same run")
    print(f"{'examples':>8}  {'tool':42} {'requests':>9} {'seconds':>8} {'per second':>11} {'ratio':>7}")
    for count, ours, theirs in rows:
        mine, base = ours["cases"] / ours["seconds"], theirs["cases"] / theirs["seconds"]
        print(
            f"{count:8d}  {'oicp-conformance property tests':42} {ours['cases']:9d} {ours['seconds']:8.2f} {mine:11.1f}"
        )
        print(f"{'':8}  {version:42} {theirs['cases']:9d} {theirs['seconds']:8.2f} {base:11.1f}")
        print(f"{'':8}  {'ratio (goal: 2x)':42} {'':9} {'':8} {'':11} {mine / base:6.2f}x")
        notes = f"our verdict: {ours['verdict']}; schemathesis: {theirs['failures']} failure(s)"
        if theirs["errors"]:
            notes += f", {theirs['errors']} error(s) of its own (its rate may not mean much)"
        print(f"{'':8}  {notes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
