#!/usr/bin/env python3
"""Tiny self-check for independent_cpo.py (loopback only, < 10 s).

Starts a stub hub (http.server) and the CPO on free ports, fires
POST /admin/push-evse-status and checks that the stub received a
schema-shaped eRoamingPushEvseStatus on the OpenAPI path.
Exit code 0 on success.
"""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
RECEIVED = []
GOT = threading.Event()

RE_OPERATOR = re.compile(r"^(([A-Za-z]{2}\*?[A-Za-z0-9]{3})|(\+?[0-9]{1,3}\*[0-9]{3}))$")
RE_EVSE = re.compile(
    r"^(([A-Za-z]{2}\*?[A-Za-z0-9]{3}\*?E[A-Za-z0-9\*]{1,30})|(\+?[0-9]{1,3}\*[0-9]{3}\*[0-9\*]{1,32}))$")
STATUSES = {"Available", "Reserved", "Occupied", "OutOfService", "EvseNotFound", "Unknown"}


class StubHub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        RECEIVED.append((self.path, self.headers.get("Content-Type"), body))
        GOT.set()
        out = json.dumps({"Result": True, "StatusCode": {"Code": "000"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_push_evse_status(body: dict):
    assert set(body) >= {"ActionType", "OperatorEvseStatus"}, body
    assert body["ActionType"] in ("fullLoad", "update", "insert", "delete")
    oes = body["OperatorEvseStatus"]
    assert isinstance(oes, dict) and RE_OPERATOR.fullmatch(oes["OperatorID"]), oes
    recs = oes["EvseStatusRecord"]
    assert isinstance(recs, list) and recs, recs
    for r in recs:
        assert RE_EVSE.fullmatch(r["EvseID"]) and r["EvseStatus"] in STATUSES, r
    return {r["EvseID"]: r["EvseStatus"] for r in recs}


def main() -> int:
    t0 = time.monotonic()
    hub_port, cpo_port = free_port(), free_port()
    hub = ThreadingHTTPServer(("127.0.0.1", hub_port), StubHub)
    threading.Thread(target=hub.serve_forever, daemon=True).start()
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "independent_cpo.py"), "--port", str(cpo_port),
         "--hub", f"http://127.0.0.1:{hub_port}/api/oicp", "--log-level", "WARNING"])
    base = f"http://127.0.0.1:{cpo_port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/admin/sessions", timeout=0.5).read()
                break
            except OSError:
                time.sleep(0.05)
        req = urllib.request.Request(
            base + "/admin/push-evse-status", method="POST",
            data=json.dumps({"action": "fullLoad", "evse_ids": []}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=2) as resp:
            assert resp.status == 202, resp.status
        assert GOT.wait(5), "stub hub received nothing"
        path, ctype, raw = RECEIVED[0]
        assert path == "/api/oicp/evsepush/v21/operators/DE*IND/status-records", path
        assert ctype and ctype.startswith("application/json"), ctype
        statuses = check_push_evse_status(json.loads(raw.decode("utf-8")))
        assert statuses == {"DE*IND*E100*1": "Available", "DE*IND*E100*2": "Available",
                            "DE*IND*E200*1": "Available", "DE*IND*E200*2": "OutOfService"}, statuses
        print(f"smoke OK in {time.monotonic() - t0:.2f}s: {path} {statuses}")
        return 0
    except AssertionError as e:
        print(f"smoke FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        proc.terminate()
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            proc.kill()
        hub.shutdown()


if __name__ == "__main__":
    sys.exit(main())
