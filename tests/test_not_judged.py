"""No requirement passes whose check did not run: each requirement that rests on a declared trigger, feature
or probe is run with that removed, against the clean reference, and must come out *not judged* (with what
to declare), never pass.

Requirements judged on inbound calls alone (CPO-REMOTE-START-*, CPO-REMOTE-STOP-01, CPO-IN-INVALID-*) rest on
no element a declaration can leave out; an unreachable or unrouted SUT stops the run before any test
(tests/test_first_run.py)."""

from __future__ import annotations

import json
import socket
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.reference.cpo import Config, ReferenceCpo
from conformance.suites.requirements import CPO
from conformance.sut.default import reference_declaration
from tests.helpers import cli

# removed element -> the requirements that must then be not judged
REMOVALS = {
    "triggers.push_evse_data": [
        "CPO-EVSE-DATA-01",
        "CPO-EVSE-DATA-02",
        "CPO-OUT-01",
        "CPO-OUT-02",
        "CPO-OUT-03",
        "CPO-RULE-02",  # the EVSE data rules (test_rules.py: a group passes only where all its rules ran)
        "CPO-RULE-03",
        "CPO-RULE-07",
        "CPO-OUT-05",  # judged on every journal; its own test pushes EVSE data (names, addresses: non-ASCII text)
    ],
    "triggers.push_evse_status": [
        "CPO-EVSE-STATUS-01",
        "CPO-OUT-04",
        "CPO-ACK-01",
        "CPO-ACK-02",
        "CPO-ACK-03",
        "CPO-ACK-05",
        "CPO-ACK-06",
    ],
    "triggers.authorize_start": [
        "CPO-AUTH-01",
        "CPO-SESSION-03",
        "CPO-ACK-04",
        "CPO-STATE-02",
        "CPO-SESSION-04",
        "CPO-RULE-01",  # the identification rules need a QR code AuthorizeStart
        "CPO-RULE-05",
    ],
    "triggers.authorize_stop": ["CPO-SESSION-03", "CPO-AUTH-STOP-01"],
    "triggers.end_session": [
        "CPO-CDR-01",
        "CPO-CDR-02",
        "CPO-SESSION-01",
        "CPO-SESSION-02",
        "CPO-ACK-04",
        "CPO-RULE-04",  # the CDR's times (notifications alone leave it not judged)
    ],
    "triggers.send_notification": ["CPO-NOTIFY-01", "CPO-NOTIFY-02", "CPO-NOTIFY-03", "CPO-NOTIFY-04"],
    "probes.sessions": ["CPO-STATE-01"],
    "probes.cdrs": ["CPO-STATE-02"],
    "features.reservation": ["CPO-RESERVATION-01", "CPO-RESERVATION-02", "CPO-RESERVATION-03", "CPO-RULE-06"],
    "features.charging_notifications": ["CPO-NOTIFY-01", "CPO-NOTIFY-02", "CPO-NOTIFY-03", "CPO-NOTIFY-04"],
    "features.dynamic_pricing": ["CPO-PRICING-01", "CPO-PRICING-02", "CPO-PRICING-03", "CPO-PRICING-04"],
}


def test_every_requirement_resting_on_a_declaration_is_in_the_table() -> None:
    covered = {rid for rids in REMOVALS.values() for rid in rids}
    inbound_only = {r for r in CPO if r.startswith(("CPO-REMOTE-", "CPO-IN-INVALID", "CPO-ACK-IN-"))}
    # CPO-RULE-08 reads the CDR a CPO sends after the suite's RemoteStop (the reference sends it on its own; a SUT
    # that needs end_session for it is told so); CPO-IN-PATH-01 has a test of its own below
    others = {"CPO-IN-PATH-01", "CPO-RULE-08"}
    assert covered | inbound_only | others == set(CPO), set(CPO) - covered - inbound_only - others


@pytest.fixture(scope="module")
def reference() -> Iterator[tuple[str, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        hub_port = probe.getsockname()[1]
    cpo = ReferenceCpo(Config(hub_url=f"http://127.0.0.1:{hub_port}/api/oicp"))
    url = cpo.start()
    yield url, hub_port
    cpo.stop()


def _without(text: str, removed: str) -> str:
    data = tomllib.loads(text)
    section, name = removed.split(".")
    if section == "features":
        data["features"].remove(name)
    else:
        del data[section][name]
    lines = [f"{k} = {json.dumps(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for key, table in ((k, v) for k, v in data.items() if isinstance(v, dict)):
        nested = {n: t for n, t in table.items() if isinstance(t, dict)}
        flat = {n: t for n, t in table.items() if not isinstance(t, dict)}
        if flat:
            lines += [f"[{key}]", *(f"{n} = {json.dumps(v)}" for n, v in flat.items())]
        for sub, values in nested.items():
            lines += [f"[{key}.{sub}]", *(f"{n} = {json.dumps(v)}" for n, v in values.items())]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("removed", sorted(REMOVALS))
def test_a_removed_declaration_leaves_its_requirements_not_judged(
    tmp_path: Path, reference: tuple[str, int], removed: str
) -> None:
    url, hub_port = reference
    sut = tmp_path / "sut.toml"
    sut.write_text(_without(reference_declaration(url, hub_port), removed))
    wanted = REMOVALS[removed]
    args = [a for rid in wanted for a in ("--requirement", rid)]
    done = cli("run", "--role", "cpo", "--sut", str(sut), "--reports", str(tmp_path / "r"), *args, timeout=400)
    summary = json.loads((tmp_path / "r" / "cpo" / "summary.json").read_text())
    rows = {r["id"]: r for r in summary["requirements"]}
    for rid in wanted:
        row = rows[rid]
        assert row["status"] == "not judged", (rid, row["status"], done.stdout[-2000:])
        name = removed.split(".")[1]
        assert name in row["reason"] or name in (row["declare"] or "") or "features" in (row["declare"] or ""), row
    expected_exit = 3 if any(rows[r]["expected"] and CPO[r].strength == "MUST" for r in wanted) else 0
    failed = {rid: [f["title"] for f in r["failures"]] for rid, r in rows.items() if r["status"] == "fail"}
    assert done.returncode == expected_exit, (failed, done.stdout[-2000:])


def test_path_check_does_not_apply_without_a_provider_in_the_url(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        hub_port = probe.getsockname()[1]
    cpo = ReferenceCpo(Config(hub_url=f"http://127.0.0.1:{hub_port}/api/oicp", custom_urls=True))
    url = cpo.start()
    try:
        text = reference_declaration(url, hub_port, custom_urls=True, api_key="k").replace("?provider={providerID}", "")
        sut = tmp_path / "sut.toml"
        sut.write_text(text)
        done = cli(
            "run", "--role", "cpo", "--sut", str(sut), "--reports", str(tmp_path / "r"),
            "--requirement", "CPO-IN-PATH-01", timeout=200,
        )  # fmt: skip
    finally:
        cpo.stop()
    rows = {r["id"]: r for r in json.loads((tmp_path / "r" / "cpo" / "summary.json").read_text())["requirements"]}
    assert rows["CPO-IN-PATH-01"]["status"] == "n/a" and "carries no {providerID}" in rows["CPO-IN-PATH-01"]["reason"]
    assert done.returncode == 0, done.stdout[-2000:]
