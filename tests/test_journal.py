"""Every call a CPO makes to the fake hub is judged, whatever the test was about; a refusal is read under the
requirement it breaks, and what the suite itself caused is never held against the CPO.

The calls here go to a real fake hub, so the hub's own wording of its refusals is what the judgement reads. (The
judgement against the reference in every shape, and each planted defect caught, are tests/test_shapes.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from conformance.checks.failure import Failure
from conformance.checks.journal import JOURNAL_REQUIREMENTS, JournalJudgement, RunMemory, judge_journal
from conformance.hub import FakeHub, Fault, Partners
from conformance.runner import run_suite
from conformance.suites.requirements import CPO
from conformance.suites.verdicts import FAIL, PASS, WARN, Verdict
from conformance.sut import Sut
from conformance.sut.default import reference_sut
from conformance.wire import utf8_problem

OP = "DE*REF"
EVSE, OTHER_EVSE = "DE*REF*E1001*1", "DE*REF*E1001*2"
RFID = {"RFIDMifareFamilyIdentification": {"UID": "04A2B3C4"}}
NEVER = "0c1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"  # a SessionID nobody issued
START = f"/charging/v21/operators/{OP}/authorize/start"
STOP = f"/charging/v21/operators/{OP}/authorize/stop"
CDR = f"/cdrmgmt/v22/operators/{OP}/charge-detail-record"
STATUS = f"/evsepush/v21/operators/{OP}/status-records"
REPRODUCE = "oicp-conformance run --role cpo --seed 1 -k test_x"


@pytest.fixture(scope="module")
def sut() -> Sut:
    return reference_sut("http://127.0.0.1:1", 2)


@pytest.fixture(scope="module")
def hub_server(sut: Sut) -> Iterator[FakeHub]:
    with FakeHub(partners=Partners(operators={sut.operator_id})) as hub:
        yield hub


@pytest.fixture
def hub(hub_server: FakeHub) -> Iterator[FakeHub]:
    with hub_server.clean() as clean:
        yield clean


def post(hub: FakeHub, path: str, body: Any, content_type: str = "application/json") -> dict[str, Any]:
    data = body if isinstance(body, bytes) else httpx.Request("POST", "/", json=body).content
    answer = httpx.post(hub.url + path, content=data, headers={"Content-Type": content_type}, timeout=5)
    return answer.json() if answer.content else {}


def cdr(session_id: str, evse: str = EVSE) -> dict[str, Any]:
    at = "2026-11-25T10:00:00+01:00"
    end = "2026-11-25T11:00:00+01:00"
    return {
        "SessionID": session_id,
        "EvseID": evse,
        "Identification": RFID,
        "SessionStart": at,
        "ChargingStart": at,
        "ChargingEnd": end,
        "SessionEnd": end,
        "ConsumedEnergy": 11.0,
    }


def start(hub: FakeHub, evse: str = EVSE) -> str:
    answer = post(hub, START, {"OperatorID": OP, "EvseID": evse, "Identification": RFID})
    assert answer["AuthorizationStatus"] == "Authorized", answer
    return str(answer["SessionID"])


def stop_body(session_id: str, identification: dict[str, Any] = RFID) -> dict[str, Any]:
    return {"SessionID": session_id, "OperatorID": OP, "EvseID": EVSE, "Identification": identification}


def judged(hub: FakeHub, sut: Sut, **kwargs: Any) -> JournalJudgement:
    return judge_journal(sut, hub.calls(), reproduce=REPRODUCE, **kwargs)


def by_requirement(judgement: JournalJudgement) -> dict[str, list[Failure]]:
    out: dict[str, list[Failure]] = {}
    for failure in judgement.failures:
        out.setdefault(failure.requirement, []).append(failure)
    return out


def test_a_clean_session_is_judged_on_every_call_and_passes(hub: FakeHub, sut: Sut) -> None:
    session = start(hub)
    post(hub, STOP, stop_body(session))
    post(hub, CDR, cdr(session))
    post(hub, STATUS, {"ActionType": "fullLoad", "OperatorEvseStatus": {"OperatorID": OP, "EvseStatusRecord": []}})
    found = judged(hub, sut)
    assert not found.failures and not found.notes, (found.failures, found.notes)
    assert found.judged == {
        "CPO-OUT-01",
        "CPO-OUT-02",
        "CPO-OUT-03",
        "CPO-OUT-05",
        "CPO-AUTH-01",
        "CPO-AUTH-STOP-01",
        "CPO-SESSION-03",
        "CPO-CDR-01",
        "CPO-CDR-02",
        "CPO-SESSION-02",
        "CPO-EVSE-STATUS-01",
    } | found.judged & {r for r in CPO if r.startswith("CPO-RULE-")}  # the rules' own, where they apply
    assert found.judged <= set(CPO)


def test_the_hubs_refusals_are_read_under_the_requirement_they_break(hub: FakeHub, sut: Sut) -> None:
    session = start(hub)
    post(hub, STOP, stop_body(session, {"RFIDMifareFamilyIdentification": {"UID": "0000FFFF"}}))  # 400: medium
    post(hub, CDR, cdr(session, OTHER_EVSE))  # 018: another EVSE than the session's
    post(hub, CDR, cdr(NEVER))  # 400: a session Hubject never issued
    post(hub, CDR, cdr(session))
    post(hub, CDR, cdr(session))  # 022: a second CDR
    post(hub, "/evsepush/v21/operators/DE*XYZ/status-records", {"ActionType": "fullLoad", "OperatorEvseStatus": {
        "OperatorID": OP, "EvseStatusRecord": [{"EvseID": "FR*XYZ*E1*1", "EvseStatus": "Available"}]}})  # fmt: skip
    memory = RunMemory(cdrs={"5b0c0f7e-1c2d-4e3f-9a8b-7c6d5e4f3a2b"})  # acknowledged in an earlier test
    post(hub, CDR, cdr("5b0c0f7e-1c2d-4e3f-9a8b-7c6d5e4f3a2b"))  # 400 now: the hub forgot it, a second CDR
    found = by_requirement(judged(hub, sut, memory=memory))
    assert set(found) == {"CPO-SESSION-03", "CPO-CDR-02", "CPO-SESSION-02", "CPO-OUT-02", "CPO-OUT-03"}, found
    assert [f.title.split("StatusCode ")[1][:3] for f in found["CPO-CDR-02"]] == ["018", "400"]
    assert "never issued SessionID " + NEVER in found["CPO-CDR-02"][1].title
    assert "StatusCode 400" in found["CPO-SESSION-03"][0].title
    assert ["022" in f.title or "earlier in this run" in f.title for f in found["CPO-SESSION-02"]] == [True, True]
    # one failure per call and requirement: the path's operator and the hub's 017 for it are one finding
    [operator] = found["CPO-OUT-02"]
    assert "path operatorID DE*XYZ" in operator.title and "StatusCode 017" in operator.body
    assert "FR*XYZ*E1*1" in found["CPO-OUT-03"][0].title
    assert all(f.reproduce == REPRODUCE and "hub journal: #" in f.body for fs in found.values() for f in fs)


def test_what_the_suite_caused_is_never_held_against_the_cpo(hub: FakeHub, sut: Sut) -> None:
    handed = "7d3e2c1b-0a9f-4e8d-b7c6-a5f4e3d2c1b0"  # a RemoteStart's SessionID the suite never told the hub of
    post(hub, CDR, cdr(handed))
    hub.deny(RFID)
    post(hub, START, {"OperatorID": OP, "EvseID": EVSE, "Identification": RFID})  # 102: the suite's denial
    post(hub, STATUS, {"ActionType": "delete", "OperatorEvseStatus": {
        "OperatorID": OP, "EvseStatusRecord": [{"EvseID": EVSE, "EvseStatus": "Available"}]}})  # fmt: skip
    found = judged(hub, sut, handed={handed})
    assert not found.failures, found.failures
    notes = "\n".join(found.notes)
    assert f"session {handed} was handed" in notes and "StatusCode 102" in notes and "before this test" in notes
    seen = len(hub.calls())
    session = "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6"
    hub.open_session(session, EVSE, "DE-DCB", RFID)
    hub.script("ChargeDetailRecord.hub", [None, Fault.delay(0.05)])  # stored, its answer late (a lost one)
    post(hub, CDR, cdr(session))
    post(hub, CDR, cdr(session))  # sent again: 022, the script's doing
    later = judged(hub, sut, handed={handed}, after=seen)
    assert not later.failures and len(later.notes) == 1 and "scripted" in later.notes[0], later


def test_routing_and_message_problems(hub: FakeHub, sut: Sut) -> None:
    session = start(hub)
    post(hub, STOP.replace("/v21/", "/v20/"), stop_body(session))
    post(hub, "/evsepull/v21/providers/DE-DCB/status-records", {"ProviderID": "DE-DCB"})  # an EMP's operation
    post(hub, STOP, {k: v for k, v in stop_body(session).items() if k != "OperatorID"})
    post(hub, CDR, b'{"SessionID": "x"', content_type="application/json")
    post(hub, CDR, {**cdr(session), "SessionID": "handed-but-broken"})
    found = by_requirement(judged(hub, sut, handed={"handed-but-broken"}))
    assert set(found) == {"CPO-OUT-01", "CPO-AUTH-STOP-01", "CPO-CDR-01"}, found
    v20, emp = found["CPO-OUT-01"]
    assert "charging/v20" in v20.title and "AuthorizeStop is served on /charging/v21/" in v20.title
    assert "operation the EMP calls" in emp.title
    assert "OperatorID" in found["CPO-AUTH-STOP-01"][0].title
    [broken] = found["CPO-CDR-01"]  # the unparseable body; the SessionID the suite handed out is not the CPO's
    assert "not JSON" in broken.title


def test_a_test_records_what_the_journal_judged_once_and_only_where_it_judged() -> None:
    v = Verdict(SimpleNamespace(name="t"), 1, CPO)
    marked = ("CPO-REMOTE-START-01",)
    v.check(True, "CPO-REMOTE-START-01", "fine")
    assert set(v.outcomes(marked, None, None)) == set(marked)  # no hub call: the journal's requirements unjudged
    broken = Failure("CPO-CDR-02", "call #1: refused", "", REPRODUCE)
    warned = Failure("CPO-SESSION-02", "call #2: a second CDR", "", REPRODUCE)
    assert v.record_journal({"CPO-OUT-01", "CPO-CDR-02", "CPO-SESSION-02"}, [broken, warned], ["n"]) == [broken, warned]
    assert v.record_journal({"CPO-CDR-02"}, [broken], ["n"]) == []  # judged again after the teardown: nothing twice
    out = v.outcomes(marked, None, None)
    assert {rid: o.status for rid, o in out.items()} == {
        "CPO-REMOTE-START-01": PASS,
        "CPO-OUT-01": PASS,
        "CPO-CDR-02": FAIL,
        "CPO-SESSION-02": WARN,
    }
    assert v.blocking() == [broken] and v.journal_notes == ["n"]
    assert {"CPO-OUT-01", "CPO-CDR-02", "CPO-SESSION-02"} <= JOURNAL_REQUIREMENTS


def test_a_cleanup_call_of_a_test_about_something_else_fails_its_requirement(tmp_path: Path) -> None:
    """The RemoteStart timing test makes no hub call itself; the CDR of the session its clean-up stops is judged
    after its teardown, and pytest's own outcome agrees with the requirement table."""
    outcome = run_suite(
        "cpo",
        tmp_path,
        seed=3,
        defects=["cdr-evse-not-the-sessions"],
        requirements=["CPO-REMOTE-START-03"],
        quiet=True,
        allure=False,
        fork=True,
    )
    assert outcome.summary is not None, outcome.output[-3000:]
    rows = {r["id"]: r for r in outcome.summary["requirements"]}
    assert rows["CPO-REMOTE-START-03"]["status"] == "pass"
    assert rows["CPO-CDR-02"]["status"] == "fail" and "test_remote_start_is_accepted" in rows["CPO-CDR-02"]["tests"]
    failure = rows["CPO-CDR-02"]["failures"][0]
    assert "StatusCode 018" in failure["title"] and "--defect cdr-evse-not-the-sessions" in failure["reproduce"]
    assert outcome.exit_code == 1, outcome.output[-2000:]


# --- every body UTF-8 (CPO-OUT-05), and a remote session's identification (CPO-RULE-08) on the hub's sessions ------

REMOTE = {"RemoteIdentification": {"EvcoID": "DE-DCB-C12345678-X"}}


def status_push(name: str = "Zentrale Süd") -> dict[str, Any]:
    """A status push with non-ASCII text (the OperatorName), as pushed EVSE data and status carry it."""
    status = {"OperatorID": OP, "OperatorName": name, "EvseStatusRecord": [{"EvseID": EVSE, "EvseStatus": "Available"}]}
    return {"ActionType": "fullLoad", "OperatorEvseStatus": status}


def test_every_body_the_hub_reads_is_judged_for_utf8(hub: FakeHub, sut: Sut) -> None:
    """UTF-8 with non-ASCII text passes; UTF-16 without byte order mark (which JSON readers still parse, so the hub
    takes it: its answers are as before) and Latin-1 under a declared charset fail CPO-OUT-05 alone; a body the hub
    never read (a scripted answer) is not judged."""
    text = json.dumps(status_push(), ensure_ascii=False)
    assert post(hub, STATUS, text.encode("utf-8"))["Result"] is True
    clean = judged(hub, sut)
    assert "CPO-OUT-05" in clean.judged and not clean.failures, clean.failures
    seen = len(hub.calls())
    assert post(hub, STATUS, text.encode("utf-16-le"))["Result"] is True  # the hub's answer as for any valid push
    latin = post(hub, STATUS, text.encode("latin-1"), content_type="application/json; charset=ISO-8859-1")
    assert "Malformed JSON" in latin["validationErrors"][0]["errorMessage"]  # the hub's 400, as before
    found = by_requirement(judged(hub, sut, after=seen))
    assert set(found) == {"CPO-OUT-05"}, found  # not also "not JSON" under the message's requirement
    utf16, latin1 = found["CPO-OUT-05"]
    assert "the body is UTF-16-LE" in utf16.title and utf16.reproduce == REPRODUCE
    assert "charset=ISO-8859-1" in latin1.title and "byte 0xFC" in latin1.title and "Latin-1" in latin1.title
    seen = len(hub.calls())
    hub.script("PushEvseStatus.hub", always=Fault.http(503))
    post(hub, STATUS, text.encode("utf-16"))
    assert "CPO-OUT-05" not in judged(hub, sut, after=seen).judged  # the hub never read it: nothing to judge


@pytest.mark.parametrize(
    ("raw", "content_type", "problem"),
    [
        (b'{"a": "\xc3\xbc"}', "application/json", ""),
        (b'\xef\xbb\xbf{"a": 1}', "application/json; charset=UTF-8", ""),  # a UTF-8 byte order mark is UTF-8
        (b'{"a": 1}', 'application/json;charset="utf8"', ""),
        (b"", "", ""),
        (b'{"a": "\\u00fc"}', "application/json; charset=us-ascii", ""),  # ASCII (escaped JSON) is UTF-8 as it is
        (b'{"a": "\xfc"}', "application/json; charset=us-ascii", "declares charset=us-ascii"),
        (b'{"a": 1}', "application/json; charset=ISO-8859-1", "declares charset=ISO-8859-1"),
        (b'{"a": "\xfc"}', "application/json", "byte 0xFC at offset 7"),
        ('{"a": 1}'.encode("utf-16"), "application/json", "the body is UTF-16"),
        ('{"a": 1}'.encode("utf-32-be"), "application/json", "the body is UTF-32-BE"),
    ],
)
def test_what_is_utf8(raw: bytes, content_type: str, problem: str) -> None:
    found = utf8_problem(raw, content_type)
    assert (problem in found and bool(found)) if problem else found == ""


def test_a_remote_sessions_cdr_keeps_its_remote_identification(hub: FakeHub, sut: Sut) -> None:
    """The hub tells the judgement how the session its CDR names began: a RemoteStart with RemoteIdentification
    makes an RFID card in the CDR a breach of CPO-RULE-08; a session the CPO authorised itself says nothing."""
    remote, other = "2b1c0d9e-8f7a-4b6c-9d5e-4f3a2b1c0d9e", "3c2d1e0f-9a8b-4c7d-8e6f-5a4b3c2d1e0f"
    hub.open_session(remote, EVSE, "DE-DCB", REMOTE)
    hub.open_session(other, EVSE, "DE-DCB", REMOTE)
    post(hub, CDR, {**cdr(remote), "Identification": REMOTE})
    post(hub, CDR, cdr(other))  # RFID in the CDR of a remote session
    post(hub, CDR, cdr(start(hub)))  # RFID in the CDR of an RFID session: fine
    found = judged(hub, sut, handed={remote, other})
    assert "CPO-RULE-08" in found.judged
    [breach] = by_requirement(found)["CPO-RULE-08"]
    assert "RFIDMifareFamilyIdentification" in breach.title and "/Identification" in breach.title
    assert f"hub call #{hub.calls('ChargeDetailRecord.hub')[1].seq}" in breach.title


def test_a_certificate_017_is_the_cpos_even_where_the_test_scripted_that_operation(sut: Sut) -> None:
    """The hub decides identity before any scripted answer (CPO 1 Security), so a retry refused for the caller's
    certificate is judged under CPO-OUT-02, while the scripted answers themselves stay notes."""
    from conformance.hub.journal import Call

    status = "PushEvseStatus.hub"
    body = {"ActionType": "fullLoad", "OperatorEvseStatus": {"OperatorID": OP, "EvseStatusRecord": []}}
    params = {"operatorID": OP}  # the declared operator: only the certificate says otherwise
    scripted = Call(1, 0.0, "POST", STATUS, status, params=params, body=body, status=200, fault="result_false 009")
    scripted.problems.append("refused 009: scripted")
    mismatch = "client certificate of OperatorID DE*OTH but path operatorID DE*REF"
    retry = Call(2, 0.1, "POST", STATUS, status, params=params, body=body, status=200)
    retry.problems.append(f"refused 017: {mismatch}")
    found = by_requirement(judge_journal(sut, [scripted, retry], reproduce=REPRODUCE))
    assert list(found) == ["CPO-OUT-02"], found
    assert "StatusCode 017" in found["CPO-OUT-02"][0].title and mismatch in found["CPO-OUT-02"][0].title
    retry.problems = ["refused 018: scripted"]  # any other refusal of a scripted operation stays the script's
    assert not judge_journal(sut, [scripted, retry], reproduce=REPRODUCE).failures
