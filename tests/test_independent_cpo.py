"""The suite against a CPO it has never seen: `examples/independent-cpo`, written from the spec alone by someone
who never read the checks (per-operation URLs with the ProviderID in the query, triggers that answer 202 and
deliver from one queue per operation, strict about SessionIDs and reservations). A run must not fail it for
the suite's own mistakes; its one deliberate leniency (text/plain bodies) is a PRACTICE warning."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import ROOT, cli

HOME = ROOT / "examples" / "independent-cpo"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def independent(tmp_path: Path) -> Iterator[Path]:
    port, hub_port = _port(), _port()
    process = subprocess.Popen(
        [sys.executable, str(HOME / "independent_cpo.py"), "--port", str(port), "--hub",
         f"http://127.0.0.1:{hub_port}/api/oicp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/admin/sessions", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    text = (HOME / "oicp-sut.toml.template").read_text()
    sut = tmp_path / "oicp-sut.toml"
    sut.write_text(text.replace("{base_url}", base).replace("{hub_port}", str(hub_port)))
    yield sut
    process.terminate()
    process.wait(timeout=10)


def test_the_suite_does_not_fail_a_correct_cpo_it_never_saw(tmp_path: Path, independent: Path) -> None:
    verdicts = []
    for seed in ("5", "6"):  # twice against the same running CPO: the same verdicts
        done = cli("run", "--role", "cpo", "--sut", str(independent), "--reports", str(tmp_path / seed),
                   "--seed", seed, timeout=400)  # fmt: skip
        summary = json.loads((tmp_path / seed / "cpo" / "summary.json").read_text())
        rows = {r["id"]: r["status"] for r in summary["requirements"]}
        verdicts.append(rows)
        assert done.returncode == 0, done.stdout[-3000:]
        # an optional feature it does not declare (dynamic pricing) is not judged, and not expected to be
        optional = {r["id"] for r in summary["requirements"] if r["status"] == "not judged" and not r["expected"]}
        assert all(rid.startswith("CPO-PRICING-") for rid in optional), optional
        bad = {rid: status for rid, status in rows.items() if status != "pass" and rid not in optional}
        assert bad == {"CPO-IN-INVALID-02": "warn"}, bad  # it takes text/plain on purpose
    assert verdicts[0] == verdicts[1]
