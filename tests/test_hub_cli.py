"""`oicp-conformance hub`: starts, answers the README's curl, logs the call and stops cleanly on Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import httpx

from tests.helpers import ROOT


def test_standalone_hub_serves_and_stops_on_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli.main", "hub", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = proc.stdout.readline()  # type: ignore[union-attr]
        url = re.search(r"listening on (\S+)", banner).group(1)  # type: ignore[union-attr]
        assert url.endswith("/api/oicp") and url.startswith("http://127.0.0.1:")
        curl = proc.stdout.readline()  # type: ignore[union-attr]
        assert curl.startswith("try: curl")
        body = {
            "ActionType": "fullLoad",
            "OperatorEvseStatus": {
                "OperatorID": "DE*ABC",
                "EvseStatusRecord": [{"EvseID": "DE*ABC*E1", "EvseStatus": "Available"}],
            },
        }
        answer = httpx.post(f"{url}/evsepush/v21/operators/DE*ABC/status-records", json=body, timeout=5)
        assert answer.json() == {"Result": True, "StatusCode": {"Code": "000", "Description": "Success."}}
        assert (
            "#1 POST /api/oicp/evsepush/v21/operators/DE*ABC/status-records -> PushEvseStatus.hub: HTTP 200"
            in proc.stdout.readline()
        )  # type: ignore[union-attr]
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped after 1 call(s)" in err and "Traceback" not in err


def test_hub_refuses_a_busy_port() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "conformance.cli.main", "hub", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as first:
        try:
            port = re.search(r":(\d+)/", first.stdout.readline()).group(1)  # type: ignore[union-attr]
            second = subprocess.run(
                [sys.executable, "-m", "conformance.cli.main", "hub", "--port", port],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
            assert second.returncode == 2 and "cannot listen on 127.0.0.1:" in second.stderr
            assert "Traceback" not in second.stderr
        finally:
            first.send_signal(signal.SIGINT)
            first.communicate(timeout=10)
