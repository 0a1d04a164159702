"""Fake-hub throughput on loopback with schema checking on: sequential and with 8 concurrent clients.

Baseline: a bare pytest-httpserver answering a fixed acknowledgement (no routing, no validation,
no state), measured in the same run, so the ratio shows what the hub's checks cost.
Run: `python benchmarks/hub.py [--requests 600]`.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from pytest_httpserver import HTTPServer

from conformance.hub import FakeHub
from conformance.strategies import Pins, draw_many, valid_cases

OPERATOR = "DE*ABC"


def run(url_and_bodies: list[tuple[str, bytes]], clients: int) -> float:
    """Requests per second for these requests spread over `clients` keep-alive connections."""
    chunks = [url_and_bodies[i::clients] for i in range(clients)]

    def worker(chunk: list[tuple[str, bytes]]) -> None:
        with httpx.Client(timeout=10, headers={"Content-Type": "application/json"}) as client:
            for url, body in chunk:
                client.post(url, content=body).raise_for_status()

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, chunks))
    return len(url_and_bodies) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    args = parser.parse_args()
    cases = draw_many(valid_cases("PushEvseStatus.hub", pins=Pins(operator_id=OPERATOR)), 50, 0)
    payloads = [(c.path_params, c.payload()) for c in cases]
    size = sum(len(p) for _, p in payloads) / len(payloads)
    print(f"{args.requests} PushEvseStatus requests (average {size:.0f} bytes), schema checking on")
    bare = HTTPServer("127.0.0.1", 0, threaded=True)
    bare.expect_request(re.compile(".*")).respond_with_data(
        json.dumps({"Result": True, "StatusCode": {"Code": "000"}}), content_type="application/json"
    )
    bare.start()
    try:
        with FakeHub() as hub:
            rows = []
            for clients in (1, 8):
                hub.reset()
                hub_reqs = [(hub.url_for("PushEvseStatus.hub", **params), body) for params, body in payloads] * (
                    args.requests // len(payloads)
                )
                bare_reqs = [(bare.url_for("/x"), body) for _, body in hub_reqs]
                base = run(bare_reqs, clients)
                ours = run(hub_reqs, clients)
                refused = sum(1 for c in hub.calls() if not c.accepted)
                rows.append((clients, base, ours, refused, len(hub.calls())))
                hub.check()
    finally:
        bare.stop()
    print(f"{'clients':>8} {'bare server req/s':>18} {'fake hub req/s':>15} {'ratio':>7}  refused")
    for clients, base, ours, refused, total in rows:
        print(f"{clients:8d} {base:18.0f} {ours:15.0f} {ours / base:6.2f}x  {refused}/{total}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
