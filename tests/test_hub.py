"""The fake Hubject: every operation answered as Hubject answers, state rules, refusals, faults, robustness."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.hub import FakeHub, Fault, Partners
from conformance.hub.answers import VALIDATION_MESSAGE, field_reference
from conformance.strategies import MUTATIONS, Pins, draw_many, invalid_cases, valid_cases
from conformance.validation import validate
from tests.helpers import ROOT

OP, PROV, EVSE = "DE*ABC", "DE-DCB", "DE*ABC*E1*1"
SID = "b2688855-7f00-0002-6d8e-48d883f6abb6"
RFID = {"RFIDMifareFamilyIdentification": {"UID": "1234ABCD"}}
OTHER_RFID = {"RFIDMifareFamilyIdentification": {"UID": "CAFEBABE"}}


def post(
    hub: FakeHub, operation: str, body: Any, timeout: float = 5, content_type: str = "application/json", **params: str
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        hub.url_for(operation, **params), content=content, timeout=timeout, headers={"Content-Type": content_type}
    )


def start(hub: FakeHub, ident: dict = RFID, evse: str = EVSE) -> str:
    answer = post(
        hub,
        "AuthorizeStart.hub",
        {"OperatorID": OP, "EvseID": evse, "Identification": ident, "CPOPartnerSessionID": "cpo-1"},
        operatorID=OP,
    ).json()
    assert answer["AuthorizationStatus"] == "Authorized", answer
    assert answer["CPOPartnerSessionID"] == "cpo-1"
    return answer["SessionID"]


def cdr(session_id: str, evse: str = EVSE) -> dict[str, Any]:
    return {
        "SessionID": session_id,
        "EvseID": evse,
        "Identification": RFID,
        "ConsumedEnergy": 10.5,
        "SessionStart": "2026-11-25T10:00:00+01:00",
        "ChargingStart": "2026-11-25T10:01:00+01:00",
        "ChargingEnd": "2026-11-25T11:00:00+01:00",
        "SessionEnd": "2026-11-25T11:01:00+01:00",
    }


EXAMPLE_RECORD = json.loads((ROOT / "fixtures/examples/push-evse-data.json").read_text())["OperatorEvseData"][
    "EvseDataRecord"
][0]


def push(action: str, *evses: str) -> dict[str, Any]:
    records = [{**EXAMPLE_RECORD, "EvseID": e} for e in evses]
    return {
        "ActionType": action,
        "OperatorEvseData": {"OperatorID": OP, "OperatorName": "ABC", "EvseDataRecord": records},
    }


@pytest.fixture(scope="module")
def hub22() -> Iterator[FakeHub]:
    with FakeHub(release="2.2") as hub:
        yield hub


# --- every operation, valid and invalid ---------------------------------------------------------------


@pytest.mark.parametrize("release", ["2.3", "2.2"])
def test_every_operation_answers_valid_calls_with_its_response_message(
    release: str, fake_hub: FakeHub, hub22: FakeHub
) -> None:
    hub = fake_hub if release == "2.3" else hub22
    hub.reset()
    for op in hub.operations:
        for case in draw_many(valid_cases(op.id, release, Pins(operator_id=OP, provider_id=PROV)), 3, 5):
            answer = post(hub, op.id, case.body, **case.path_params)
            assert answer.status_code == 200, (op.id, answer.text)
            assert validate(answer.json(), op.response[0], release) == [], (op.id, answer.text)
            call = hub.calls()[-1]
            assert (call.operation, call.service, call.version) == (op.id, op.service, op.version)
            assert call.violations == []
    hub.check()


@pytest.mark.parametrize("release", ["2.3", "2.2"])
def test_schema_violations_get_hubjects_400(release: str, fake_hub: FakeHub, hub22: FakeHub) -> None:
    hub = fake_hub if release == "2.3" else hub22
    hub.reset()
    schema_mutations = [m for m, spec in MUTATIONS.items() if spec.level == "schema"]
    for op in hub.operations:
        for case in draw_many(invalid_cases(op.id, release), 6, 2):
            if case.mutation not in schema_mutations:
                continue
            answer = post(hub, op.id, case.body, **case.path_params)
            assert answer.status_code == 400, (op.id, case.describe(), answer.text)
            fault = answer.json()
            assert fault["message"] == VALIDATION_MESSAGE
            assert field_reference(case.pointer) in [e["fieldReference"] for e in fault["validationErrors"]]
            assert all(e["errorMessage"] for e in fault["validationErrors"])
    hub.check()


def test_field_reference_spelling() -> None:
    assert field_reference("/OperatorEvseData/EvseDataRecord/0/EvseID") == "OperatorEvseData.EvseDataRecord[0].EvseID"
    assert field_reference("") == ""


# --- malformed input never crashes the hub -------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "content", "ctype", "status"),
    [
        ("POST", "/evsepush/v21/operators/DE*ABC/status-records", b'{"ActionType": ', "application/json", 400),
        ("POST", "/evsepush/v21/operators/DE*ABC/status-records", b"", "application/json", 400),
        ("POST", "/evsepush/v21/operators/DE*ABC/status-records", b"\xff\xfe\x00garbage", "application/json", 400),
        ("POST", "/evsepush/v21/operators/DE*ABC/status-records", b"[]", "application/json", 400),
        ("POST", "/evsepush/v21/operators/DE*ABC/status-records", b"{}", "text/plain", 415),
        ("GET", "/evsepush/v21/operators/DE*ABC/status-records", b"", "application/json", 405),
        ("POST", "/evsepush/v99/operators/DE*ABC/status-records", b"{}", "application/json", 404),
        ("POST", "/no/such/path", b"{}", "application/json", 404),
    ],
)
def test_malformed_requests_get_hubject_format(
    fake_hub: FakeHub, method: str, path: str, content: bytes, ctype: str, status: int
) -> None:
    answer = httpx.request(method, fake_hub.url + path, content=content, headers={"Content-Type": ctype}, timeout=5)
    assert answer.status_code == status
    assert set(answer.json()) == {"message", "validationErrors"}
    assert (
        post(
            fake_hub,
            "PushEvseStatus.hub",
            {
                "ActionType": "fullLoad",
                "OperatorEvseStatus": {
                    "OperatorID": OP,
                    "EvseStatusRecord": [{"EvseID": EVSE, "EvseStatus": "Available"}],
                },
            },
            operatorID=OP,
        ).json()["Result"]
        is True
    )


def test_oversized_body_is_refused_unread(fake_hub: FakeHub) -> None:
    fake_hub.max_body = 1000
    try:
        answer = post(fake_hub, "PushEvseData.hub", b'{"x": "' + b"y" * 5000 + b'"}', operatorID=OP)
    finally:
        fake_hub.max_body = 10 * 1024 * 1024
    assert answer.status_code == 413 and "larger than 1000 bytes" in answer.json()["message"]
    assert post(fake_hub, "PushEvseData.hub", push("fullLoad", EVSE), operatorID=OP).json()["Result"] is True


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.text("abcdefghijklmnopqrstuvwxyz0123456789/*{}%-_.", max_size=60),
    body=st.binary(max_size=300),
    method=st.sampled_from(["POST", "GET", "PUT", "DELETE", "PATCH"]),
)
def test_any_request_is_answered_without_5xx(fake_hub_server: FakeHub, path: str, body: bytes, method: str) -> None:
    fake_hub_server.reset()
    answer = httpx.request(
        method,
        fake_hub_server.url + "/" + path.lstrip("/"),
        content=body,
        timeout=5,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code < 500
    assert "message" in answer.json()
    fake_hub_server.check()


# --- identity -------------------------------------------------------------------------------------------


def test_path_operator_must_match_body(fake_hub: FakeHub) -> None:
    answer = post(fake_hub, "AuthorizeStart.hub", {"OperatorID": "DE*XYZ", "Identification": RFID}, operatorID=OP)
    assert answer.json()["StatusCode"]["Code"] == "017"
    assert "path operatorID DE*ABC but body OperatorID DE*XYZ" in fake_hub.calls()[-1].problems[0]


def test_another_operator_than_the_clients_gets_017(fake_hub: FakeHub) -> None:
    start(fake_hub)
    answer = post(
        fake_hub, "AuthorizeStart.hub", {"OperatorID": "FR*XYZ", "Identification": RFID}, operatorID="FR*XYZ"
    ).json()
    assert (answer["AuthorizationStatus"], answer["StatusCode"]["Code"]) == ("NotAuthorized", "017")


def test_declared_partner_is_enforced() -> None:
    with FakeHub(partners=Partners(operators={"DE*ABC"})) as hub:
        ok = post(
            hub,
            "PushEvseStatus.hub",
            {"ActionType": "update", "OperatorEvseStatus": {"OperatorID": "DEABC", "EvseStatusRecord": []}},
            operatorID="DEABC",
        ).json()
        assert ok["Result"] is True  # the same operator spelt without separator
        bad = post(
            hub,
            "PushEvseStatus.hub",
            {"ActionType": "update", "OperatorEvseStatus": {"OperatorID": "DE*XYZ", "EvseStatusRecord": []}},
            operatorID="DE*XYZ",
        ).json()
        assert (bad["Result"], bad["StatusCode"]["Code"]) == (False, "017")


def test_provider_path_must_match_body(fake_hub: FakeHub) -> None:
    answer = post(fake_hub, "PullEvseStatusByID.hub", {"ProviderID": "DE-XXX", "EvseID": [EVSE]}, providerID=PROV)
    assert answer.json()["StatusCode"]["Code"] == "017"


def test_unknown_partner_gets_300(fake_hub: FakeHub) -> None:
    remote = {
        "ProviderID": PROV,
        "EvseID": "FR*QQQ*E1",
        "SessionID": SID,
        "Identification": {"RemoteIdentification": {"EvcoID": "DE-DCB-C12345678-X"}},
    }
    assert post(fake_hub, "AuthorizeRemoteStart.hub", remote, providerID=PROV).json()["StatusCode"]["Code"] == "300"
    qr = {"OperatorID": OP, "Identification": {"QRCodeIdentification": {"EvcoID": "NL-ZZZ-C12345678-X", "PIN": "1234"}}}
    answer = post(fake_hub, "AuthorizeStart.hub", qr, operatorID=OP).json()
    assert (answer["AuthorizationStatus"], answer["StatusCode"]["Code"]) == ("NotAuthorized", "300")


# --- sessions -------------------------------------------------------------------------------------------


def test_session_lifecycle_and_refusals(fake_hub: FakeHub) -> None:
    session = start(fake_hub)
    stop = {"SessionID": session, "OperatorID": OP, "Identification": OTHER_RFID}
    refused = post(fake_hub, "AuthorizeStop.hub", stop, operatorID=OP).json()
    assert (refused["AuthorizationStatus"], refused["StatusCode"]["Code"]) == ("NotAuthorized", "400")
    assert "differs from the one that started" in refused["StatusCode"]["AdditionalInfo"]
    stopped = post(fake_hub, "AuthorizeStop.hub", {**stop, "Identification": RFID}, operatorID=OP).json()
    assert stopped["AuthorizationStatus"] == "Authorized" and stopped["SessionID"] == session
    again = post(fake_hub, "AuthorizeStop.hub", {**stop, "Identification": RFID}, operatorID=OP).json()
    assert again["StatusCode"]["Code"] == "400"

    assert post(fake_hub, "ChargeDetailRecord.hub", cdr(SID), operatorID=OP).json()["StatusCode"]["Code"] == "400"
    wrong_evse = post(fake_hub, "ChargeDetailRecord.hub", cdr(session, "DE*ABC*E9*9"), operatorID=OP).json()
    assert (wrong_evse["Result"], wrong_evse["StatusCode"]["Code"]) == (False, "018")
    first = post(fake_hub, "ChargeDetailRecord.hub", cdr(session), operatorID=OP).json()
    assert first["Result"] is True and first["SessionID"] == session
    second = post(fake_hub, "ChargeDetailRecord.hub", cdr(session), operatorID=OP).json()
    assert (second["Result"], second["StatusCode"]["Code"]) == (False, "022")


def test_notification_needs_a_session(fake_hub: FakeHub) -> None:
    note = {
        "Type": "Start",
        "SessionID": SID,
        "EvseID": EVSE,
        "OperatorID": OP,
        "ChargingStart": "2026-11-25T10:00:00Z",
    }
    assert post(fake_hub, "ChargingNotification.hub", note).json()["StatusCode"]["Code"] == "400"
    session = start(fake_hub)
    assert post(fake_hub, "ChargingNotification.hub", {**note, "SessionID": session}).json()["Result"] is True


def test_offline_emp_authorisation_and_cdr_pull(fake_hub: FakeHub) -> None:
    offline = "DE-OFF"
    auth = {
        "ActionType": "fullLoad",
        "ProviderAuthenticationData": {
            "ProviderID": offline,
            "AuthenticationDataRecord": [{"Identification": OTHER_RFID}],
        },
    }
    assert post(fake_hub, "PushAuthenticationData.hub", auth, providerID=offline).json()["Result"] is True
    answer = post(
        fake_hub, "AuthorizeStart.hub", {"OperatorID": OP, "EvseID": EVSE, "Identification": OTHER_RFID}, operatorID=OP
    ).json()
    assert (answer["AuthorizationStatus"], answer["ProviderID"]) == ("Authorized", offline)
    assert (
        post(
            fake_hub,
            "ChargeDetailRecord.hub",
            {**cdr(answer["SessionID"]), "Identification": OTHER_RFID},
            operatorID=OP,
        ).json()["Result"]
        is True
    )
    query = {"ProviderID": offline, "From": "2026-11-25T00:00:00Z", "To": "2026-11-26T00:00:00Z"}
    page = post(fake_hub, "GetChargeDetailRecords.hub", query, providerID=offline).json()
    assert [c["SessionID"] for c in page["content"]] == [answer["SessionID"]]
    assert validate(page, "eRoamingChargeDetailRecords") == []
    other = post(fake_hub, "GetChargeDetailRecords.hub", {**query, "ProviderID": PROV}, providerID=PROV).json()
    assert other["content"] == []


# --- EVSE store -----------------------------------------------------------------------------------------


def test_evse_store_actions_and_pull_round_trip(fake_hub: FakeHub) -> None:
    e1, e2, e3 = "DE*ABC*E1*1", "DE*ABC*E1*2", "DE*ABC*E1*3"

    def pushed(action: str, *evses: str) -> dict[str, Any]:
        return post(fake_hub, "PushEvseData.hub", push(action, *evses), operatorID=OP).json()

    def pulled() -> list[str]:
        page = post(
            fake_hub,
            "PullEvseData.hub",
            {"ProviderID": PROV, "GeoCoordinatesResponseFormat": "Google"},
            providerID=PROV,
        ).json()
        assert validate(page, "eRoamingEVSEData") == []
        return sorted(r["EvseID"] for r in page["content"])

    assert pushed("fullLoad", e1, e2)["Result"] is True
    assert pulled() == [e1, e2]
    dup = pushed("insert", e2, e3)
    assert (dup["Result"], dup["StatusCode"]["Code"]) == (False, "022") and e2 in dup["StatusCode"]["AdditionalInfo"]
    assert pulled() == [e1, e2]  # refused as a whole
    assert pushed("insert", e3)["Result"] is True
    unknown = pushed("delete", "DE*ABC*E7*7")
    assert (unknown["Result"], unknown["StatusCode"]["Code"]) == (False, "022")
    assert pushed("delete", e1)["Result"] is True
    assert pushed("update", e1)["Result"] is True
    assert pulled() == [e1, e2, e3]
    assert pushed("fullLoad", e3)["Result"] is True
    assert pulled() == [e3]
    foreign = pushed("update", "FR*XYZ*E1")
    assert foreign["StatusCode"]["Code"] == "018"


def test_status_push_and_pulls(fake_hub: FakeHub) -> None:
    status = {
        "ActionType": "fullLoad",
        "OperatorEvseStatus": {"OperatorID": OP, "EvseStatusRecord": [{"EvseID": EVSE, "EvseStatus": "Occupied"}]},
    }
    assert post(fake_hub, "PushEvseStatus.hub", status, operatorID=OP).json()["Result"] is True
    by_id = post(
        fake_hub, "PullEvseStatusByID.hub", {"ProviderID": PROV, "EvseID": [EVSE, "DE*ABC*E5"]}, providerID=PROV
    ).json()
    assert by_id["EVSEStatusRecords"]["EvseStatusRecord"] == [
        {"EvseID": EVSE, "EvseStatus": "Occupied"},
        {"EvseID": "DE*ABC*E5", "EvseStatus": "Unknown"},
    ]
    by_op = post(
        fake_hub, "PullEvseStatusByOperatorID.hub", {"ProviderID": PROV, "OperatorID": [OP]}, providerID=PROV
    ).json()
    assert by_op["EvseStatuses"]["OperatorEvseStatus"][0]["EvseStatusRecord"][0]["EvseID"] == EVSE


# --- scripted faults ------------------------------------------------------------------------------------


def test_result_false_and_http_faults(fake_hub: FakeHub) -> None:
    fake_hub.script(
        "PushEvseData.hub",
        [Fault.result_false("022"), Fault.http(503), Fault.http(500), Fault.too_many_requests(3), None],
    )
    body = push("fullLoad", EVSE)
    first = post(fake_hub, "PushEvseData.hub", body, operatorID=OP)
    assert (first.status_code, first.json()["Result"], first.json()["StatusCode"]["Code"]) == (200, False, "022")
    assert post(fake_hub, "PushEvseData.hub", body, operatorID=OP).status_code == 503
    assert post(fake_hub, "PushEvseData.hub", body, operatorID=OP).status_code == 500
    limited = post(fake_hub, "PushEvseData.hub", body, operatorID=OP)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
    assert post(fake_hub, "PushEvseData.hub", body, operatorID=OP).json()["Result"] is True
    assert [c.fault for c in fake_hub.calls()] == ["result-false(022)", "http(503)", "http(500)", "429(3s)", None]
    fake_hub.check()  # scripted faults are not hub errors


def test_lost_acknowledgement_by_delay(fake_hub: FakeHub) -> None:
    session = start(fake_hub)
    fake_hub.script("ChargeDetailRecord.hub", [Fault.delay(3)])
    with pytest.raises(httpx.ReadTimeout):
        post(fake_hub, "ChargeDetailRecord.hub", cdr(session), timeout=0.5, operatorID=OP)
    again = post(fake_hub, "ChargeDetailRecord.hub", cdr(session), operatorID=OP).json()
    assert again["StatusCode"]["Code"] == "022"  # the first one was stored: a resend is a duplicate


def test_dropped_connection(fake_hub: FakeHub) -> None:
    fake_hub.script("PushEvseStatus.hub", always=Fault.drop(process=False))
    with pytest.raises(httpx.RemoteProtocolError):
        post(
            fake_hub,
            "PushEvseStatus.hub",
            {"ActionType": "fullLoad", "OperatorEvseStatus": {"OperatorID": OP, "EvseStatusRecord": []}},
            operatorID=OP,
        )
    assert fake_hub.state.evse_status == {}


def test_malformed_empty_and_minimal_answers(fake_hub: FakeHub) -> None:
    fake_hub.script("AuthorizeStart.hub", [Fault.malformed(), Fault.empty(), Fault.minimal()])
    body = {"OperatorID": OP, "Identification": RFID, "CPOPartnerSessionID": "x"}
    with pytest.raises(json.JSONDecodeError):
        post(fake_hub, "AuthorizeStart.hub", body, operatorID=OP).json()
    assert post(fake_hub, "AuthorizeStart.hub", body, operatorID=OP).content == b""
    minimal = post(fake_hub, "AuthorizeStart.hub", body, operatorID=OP).json()
    assert set(minimal) == {"AuthorizationStatus", "StatusCode"} and minimal["StatusCode"] == {"Code": "000"}
    assert validate(minimal, "eRoamingAuthorizationStart") == []


def test_rate_limit_answers_429_with_retry_after() -> None:
    with FakeHub(rate_limit=(2, 60)) as hub:
        body = {"ActionType": "update", "OperatorEvseStatus": {"OperatorID": OP, "EvseStatusRecord": []}}
        codes = [post(hub, "PushEvseStatus.hub", body, operatorID=OP).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert int(post(hub, "PushEvseStatus.hub", body, operatorID=OP).headers["Retry-After"]) >= 1


def test_parallel_pushes_are_detected(fake_hub: FakeHub) -> None:
    fake_hub.script("PushEvseData.hub", [Fault.delay(1.0)])
    slow = threading.Thread(
        target=post, args=(fake_hub, "PushEvseData.hub", push("fullLoad", EVSE)), kwargs={"operatorID": OP}
    )
    slow.start()
    time.sleep(0.3)
    post(fake_hub, "PushEvseData.hub", push("update", EVSE), operatorID=OP)
    slow.join()
    flagged = [c for c in fake_hub.calls("PushEvseData.hub") if c.concurrent]
    assert len(flagged) == 1 and "parallel push" in flagged[0].problems[0]


def test_pushes_of_different_operations_may_overlap(fake_hub: FakeHub) -> None:
    """CPO chapter 1 asks for sequential pushes of the *same* operation; data and status may overlap."""
    fake_hub.script("PushEvseData.hub", [Fault.delay(1.0)])
    slow = threading.Thread(
        target=post, args=(fake_hub, "PushEvseData.hub", push("fullLoad", EVSE)), kwargs={"operatorID": OP}
    )
    slow.start()
    time.sleep(0.3)
    status = {"ActionType": "fullLoad", "OperatorEvseStatus": {"OperatorID": OP, "EvseStatusRecord": []}}
    post(fake_hub, "PushEvseStatus.hub", status, operatorID=OP)
    slow.join()
    assert not [c for c in fake_hub.calls() if c.concurrent]


def test_sub_operator_evses_are_accepted_for_the_hub_operator() -> None:
    partners = Partners(operators={OP}, sub_operators={"DEABC": {"DE*SUB"}})
    with FakeHub(partners=partners) as hub:
        ok = post(hub, "PushEvseData.hub", push("fullLoad", "DE*SUB*E1*1"), operatorID=OP).json()
        foreign = post(hub, "PushEvseData.hub", push("fullLoad", "FR*XYZ*E1*1"), operatorID=OP).json()
    assert ok["Result"] is True
    assert foreign["Result"] is False and foreign["StatusCode"]["Code"] == "018"


def test_script_rejects_unknown_operations(fake_hub: FakeHub) -> None:
    with pytest.raises(KeyError, match="not a hub operation"):
        fake_hub.script("AuthorizeRemoteStart.cpo", [Fault.http(500)])


# --- errors inside the hub surface in the test -----------------------------------------------------------


def test_hub_errors_surface_in_the_test(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.hub import handlers

    def broken(exchange: Any) -> Any:
        raise AssertionError("checked inside the handler")

    monkeypatch.setitem(handlers.HANDLERS, "PushEvseStatus", broken)
    answer = post(
        fake_hub,
        "PushEvseStatus.hub",
        {"ActionType": "update", "OperatorEvseStatus": {"OperatorID": OP, "EvseStatusRecord": []}},
        operatorID=OP,
    )
    assert answer.status_code == 500 and answer.json()["message"] == "Hubject system error."
    with pytest.raises(AssertionError, match="checked inside the handler"):
        fake_hub.check()


def test_reset_wakes_delayed_calls_and_keeps_them_out_of_the_next_journal(fake_hub: FakeHub) -> None:
    fake_hub.script("PushEvseStatus.hub", [Fault.delay(30)])
    body = {"ActionType": "update", "OperatorEvseStatus": {"OperatorID": OP, "EvseStatusRecord": []}}
    answered: list[int] = []
    late = threading.Thread(
        target=lambda: answered.append(
            post(fake_hub, "PushEvseStatus.hub", body, timeout=10, operatorID=OP).status_code
        )
    )
    late.start()
    deadline = time.monotonic() + 10  # under load the request may take a while to arrive: reset once it waits
    while not any(fake_hub.state.in_flight.values()) and time.monotonic() < deadline:
        time.sleep(0.02)
    started = time.monotonic()
    fake_hub.reset()
    late.join(5)
    assert answered == [200] and time.monotonic() - started < 5  # woken, not after 30 s
    assert fake_hub.calls() == []


@pytest.mark.parametrize(("prefix", "path"), [("/", ""), ("custom/prefix/", "/custom/prefix"), ("", "")])
def test_prefix_is_configurable(prefix: str, path: str) -> None:
    with FakeHub(prefix=prefix) as hub:
        assert hub.url.endswith(f":{hub.port}{path}")
        body = {"ActionType": "update", "OperatorEvseStatus": {"OperatorID": OP, "EvseStatusRecord": []}}
        assert post(hub, "PushEvseStatus.hub", body, operatorID=OP).json()["Result"] is True
        wrong = httpx.post(
            f"http://127.0.0.1:{hub.port}/api/oicp/evsepush/v21/operators/{OP}/status-records", json=body, timeout=5
        )
        assert wrong.status_code == 404


def test_a_delta_pull_returns_only_what_changed_since_last_call(fake_hub: FakeHub) -> None:
    """PullEvseData with LastCall answers the EVSEs whose data changed after it, not the whole store."""
    post(fake_hub, "PushEvseData.hub", push("fullLoad", EVSE, "DE*ABC*E2*1"), operatorID=OP)
    time.sleep(1.1)  # LastCall has whole seconds
    since = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    time.sleep(1.1)
    post(fake_hub, "PushEvseData.hub", push("update", "DE*ABC*E2*1"), operatorID=OP)
    pull = {"ProviderID": PROV, "GeoCoordinatesResponseFormat": "DecimalDegree", "LastCall": since}
    answer = post(fake_hub, "PullEvseData.hub", pull, providerID=PROV).json()
    assert [r["EvseID"] for r in answer["content"]] == ["DE*ABC*E2*1"]
    full = post(fake_hub, "PullEvseData.hub", {k: v for k, v in pull.items() if k != "LastCall"}, providerID=PROV)
    assert len(full.json()["content"]) == 2


# --- answer shapes: minimal, maximal, no records ---------------------------------------------------------


def _records_in(answer: Any) -> list[Any]:
    """Every non-empty list in an answer outside its StatusCode (the records it carries)."""
    if isinstance(answer, list):
        return [answer] if answer else []
    if isinstance(answer, dict):
        return [found for k, v in answer.items() if k != "StatusCode" for found in _records_in(v)]
    return []


@pytest.mark.parametrize("release", ["2.3", "2.2"])
def test_every_answer_shape_is_valid_for_every_emp_operation(release: str, fake_hub: FakeHub, hub22: FakeHub) -> None:
    """The EMP suite sends these shapes in place of the normal answer: each must be a valid answer of the
    operation in the release (an EMP is never blamed for a shape the hub got wrong). The maximal one carries
    every top-level member its schema defines and a full StatusCode; no-records carries no record."""
    from conformance.validation import load_schema, resolve

    hub = fake_hub if release == "2.3" else hub22
    hub.reset()
    hub.state.partners.operators.add(OP)
    [example] = json.loads((ROOT / f"fixtures/oicp-{release}/eRoamingPushEvseData.json").read_text())
    record = {**example["tests"][0]["data"]["OperatorEvseData"]["EvseDataRecord"][0], "EvseID": EVSE}
    with hub.state.lock:
        hub.state.evse_data["DEABC"] = {EVSE: record}
        hub.state.evse_status["DEABC"] = {EVSE: "Available"}
        hub.state.operator_names["DEABC"] = (OP, "")  # no OperatorName: the maximal shape adds it
    emp_operations = [op for op in hub.operations if op.called_by == "emp"]
    assert {"PullEvseData.hub", "PullEvseStatusByID.hub", "AuthorizeRemoteStart.hub"} <= {o.id for o in emp_operations}
    for op in emp_operations:
        defined = set(load_schema(resolve(op.response[0], release), release).get("properties", {}))
        for fault in (Fault.minimal(), Fault.maximal(), Fault.no_records()):
            hub.script(op.id, always=fault)
            [case] = draw_many(valid_cases(op.id, release, Pins(operator_id=OP, provider_id=PROV)), 1, 5)
            body = {  # requests that find the store's record: no-records must have something to empty
                "PullEvseData": {"ProviderID": PROV, "GeoCoordinatesResponseFormat": "DecimalDegree"},
                "PullEvseStatusByID": {"ProviderID": PROV, "EvseID": [EVSE]},
                "PullEvseStatusByOperatorID": {"ProviderID": PROV, "OperatorID": [OP]},
            }.get(op.name, case.body)
            if "Stop" in op.name:  # a stop of a session the hub brokered, so the answer is a success
                hub.open_session(SID, EVSE, PROV, {"RemoteIdentification": {"EvcoID": "DE-DCB-C12345678-X"}})
                hub.state.sessions[SID].stopped = False
                body = {**body, "SessionID": SID, "EvseID": EVSE, "ProviderID": PROV}
            answer = post(hub, op.id, body, **case.path_params)
            shown = (release, op.id, fault.kind, answer.text[:300])
            assert answer.status_code == 200, shown
            assert validate(answer.json(), op.response[0], release) == [], shown
            assert hub.calls()[-1].fault == fault.name, shown
            got = answer.json()
            if fault.kind == "maximal":
                assert defined <= set(got), (shown, defined - set(got))
                if isinstance(got.get("StatusCode"), dict):
                    assert {"Code", "Description", "AdditionalInfo"} <= set(got["StatusCode"]), shown
                for wrapper, member in (("EvseStatuses", "OperatorEvseStatus"), ("EvseData", "OperatorEvseData")):
                    for group in got.get(wrapper, {}).get(member, []):
                        assert group["OperatorName"], shown
            if fault.kind == "no-records":
                assert _records_in(got) == [], shown
                if "content" in got:
                    assert got["last"] is True and got["numberOfElements"] == 0, shown
        hub.scripts.clear()
    normal = post(hub, "PullEvseStatus.hub", {"ProviderID": PROV}, providerID=PROV).json()
    assert _records_in(normal), normal  # the store has records: no-records really emptied the answers above
    hub.check()
