"""Soak: the fake hub takes a 10 000-EVSE full load and 3 000 status pushes from five clients at once, and afterwards
its store, its journal and a pull hold exactly what was sent, with memory bounded by what the journal must keep.

Budget: about 10 CPU-s (the validator is jsonschema-rs; most of the cost is HTTP); throughput is measured, not
asserted, by `python benchmarks/hub.py`."""

from __future__ import annotations

import gc
import http.client
import json
import random
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conformance.hub import FakeHub
from tests.helpers import ROOT

OP, PROV = "DE*ABC", "DE-DCB"
EVSES = [f"DE*ABC*E{i}*1" for i in range(10_000)]
CLIENTS, PUSHES_PER_CLIENT, EVSES_PER_PUSH, SAMPLE = 5, 600, 3, 100
STATUSES = ["Available", "Occupied", "Reserved", "OutOfService", "EvseNotFound", "Unknown"]
EXAMPLE = json.loads((ROOT / "fixtures/examples/push-evse-data.json").read_text())["OperatorEvseData"][
    "EvseDataRecord"
][0]
JSON = {"Content-Type": "application/json"}


def full_load() -> bytes:
    records = [{**EXAMPLE, "EvseID": e} for e in EVSES]
    body = {
        "ActionType": "fullLoad",
        "OperatorEvseData": {"OperatorID": OP, "OperatorName": "ABC", "EvseDataRecord": records},
    }
    return json.dumps(body).encode()


def status_pushes(client: int) -> list[dict[str, Any]]:
    """This client's pushes: updates of a few of its own EVSEs (client c owns every EVSE i with i % CLIENTS == c),
    so the last status pushed per EVSE does not depend on how the clients interleave (client CLIENTS: any EVSE)."""
    draw = random.Random(client)
    own = EVSES[client::CLIENTS] if client < CLIENTS else EVSES
    pushes = []
    for _ in range(PUSHES_PER_CLIENT):
        records = [{"EvseID": e, "EvseStatus": draw.choice(STATUSES)} for e in draw.sample(own, EVSES_PER_PUSH)]
        pushes.append({"ActionType": "update", "OperatorEvseStatus": {"OperatorID": OP, "EvseStatusRecord": records}})
    return pushes


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeHub]:
    with FakeHub() as hub:
        yield hub


def test_soak_full_load_then_thousands_of_status_pushes(hub: FakeHub) -> None:
    hub.reset()
    body = full_load()
    assert len(body) < hub.max_body  # near the limit (about 9 MB), as a big CPO's full load is

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        answer = httpx.post(hub.url_for("PushEvseData.hub", operatorID=OP), content=body, headers=JSON, timeout=60)
        deadline = time.monotonic() + 3  # the raw body lives on in werkzeug's request (a cycle) until collected
        while (loaded := tracemalloc.get_traced_memory()[0] - before) > 4.5 * len(body) and time.monotonic() < deadline:
            time.sleep(0.05)
            gc.collect()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 200 and answer.json()["Result"] is True, answer.text[:500]
    [call] = hub.calls()
    assert (call.operation, call.size, call.violations, call.problems) == ("PushEvseData.hub", len(body), [], [])
    stored = hub.state.evse_data["DEABC"]
    assert list(stored) == EVSES
    records = call.body["OperatorEvseData"]["EvseDataRecord"]
    assert all(stored[r["EvseID"]] is r for r in records)  # the store and the journal share the records, no copy
    # what the full load holds on to: the parsed message once (its Python objects take about 3.8 times the JSON's
    # bytes), not the raw body besides (pytest-httpserver's log kept it: 4.9 times)
    assert loaded < 4.5 * len(body), f"{loaded / 1e6:.1f} MB kept for a {len(body) / 1e6:.1f} MB body"

    pulled: list[str] = []
    with httpx.Client(timeout=30, headers=JSON) as puller:
        for page in range(3):
            url = hub.url_for("PullEvseData.hub", providerID=PROV) + f"?page={page}&size=4000"
            answer = puller.post(url, json={"ProviderID": PROV, "GeoCoordinatesResponseFormat": "DecimalDegree"}).json()
            assert (answer["totalElements"], answer["number"], answer["last"]) == (10_000, page, page == 2)
            pulled += [r["EvseID"] for r in answer["content"]]
    assert pulled == EVSES

    pushes = {c: status_pushes(c) for c in range(CLIENTS)}
    answers: dict[int, list[int]] = {c: [] for c in range(CLIENTS)}
    start = threading.Barrier(CLIENTS, timeout=10)
    path = hub.prefix + f"/evsepush/v21/operators/{OP}/status-records"

    def send(push: dict[str, Any]) -> int:
        """One push on its own connection (the hub closes each), with http.client: httpx would cost more CPU."""
        conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=30)
        try:
            conn.request("POST", path, body=json.dumps(push), headers=JSON)
            answer = conn.getresponse()
            return answer.status if json.loads(answer.read()).get("Result") is True else -answer.status
        finally:
            conn.close()

    def client(c: int) -> None:
        start.wait()
        answers[c] += [send(push) for push in pushes[c]]

    journaled_before = len(hub.calls())
    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    # what each status push holds on to, measured on a sequential sample: its journal entry (parsed body, answer,
    # findings), about 4.2 kB; the raw body and werkzeug's request must not stay (pytest-httpserver's log: 7.7 kB)
    sample = status_pushes(CLIENTS)[:SAMPLE]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        answers[CLIENTS] = [send(push) for push in sample]
        per_call = (tracemalloc.get_traced_memory()[0] - before) / SAMPLE
    finally:
        tracemalloc.stop()
    pushes[CLIENTS] = sample
    total = CLIENTS * PUSHES_PER_CLIENT + SAMPLE
    assert sorted(len(a) for a in answers.values()) == [SAMPLE] + [PUSHES_PER_CLIENT] * CLIENTS
    assert {s for a in answers.values() for s in a} == {200}

    calls = hub.calls()
    status_calls = calls[journaled_before:]
    assert [c.seq for c in calls] == list(range(1, len(calls) + 1))  # none lost, none twice
    assert len(status_calls) == total and {c.operation for c in status_calls} == {"PushEvseStatus.hub"}
    assert sorted(c.call_no for c in status_calls) == list(range(1, total + 1))
    assert sorted(json.dumps(c.body, sort_keys=True) for c in status_calls) == sorted(
        json.dumps(p, sort_keys=True) for ps in pushes.values() for p in ps
    )
    expected = {}
    for own in pushes.values():  # the sample came after the concurrent phase: its statuses are the last
        for push in own:
            expected.update({r["EvseID"]: r["EvseStatus"] for r in push["OperatorEvseStatus"]["EvseStatusRecord"]})
    assert hub.state.evse_status == {"DEABC": expected}
    assert set(hub.state.in_flight.values()) == {0}
    assert len(hub.state.evse_data["DEABC"]) == 10_000  # the status pushes left the data alone
    assert per_call < 6_000, f"{per_call:.0f} bytes kept per status push"
    print(
        f"\nmemory kept: full load {loaded / 1e6:.1f} MB for {len(body) / 1e6:.1f} MB; {per_call:.0f} B per status push"
    )
    hub.check()
