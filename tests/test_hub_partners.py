"""The hub as a caller: `PartnerClient` against stub partners, and forwarding between a CPO and an EMP."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from conformance.hub import Call, Endpoint, FakeHub, Forwarding, PartnerClient
from conformance.hub.partners import fill
from conformance.validation import validate
from tests.helpers import ROOT, cli

OP, PROV, EVSE = "DE*ABC", "DE-DCB", "DE*ABC*E1*1"
RFID = {"RFIDMifareFamilyIdentification": {"UID": "1234ABCD"}}
EVCO = {"RemoteIdentification": {"EvcoID": "DE-DCB-C12345678-X"}}
EMP_SID = "0c0ffee0-0000-4000-8000-000000000001"
AUTHORIZED = {"AuthorizationStatus": "Authorized", "StatusCode": {"Code": "000"}, "ProviderID": PROV}
ACK = {"Result": True, "StatusCode": {"Code": "000"}}

Answer = Callable[[str, Any], "tuple[int, Any] | Response"]


class Stub:
    """A partner backend on loopback: keeps what reached it, answers with `answer(path, body)`."""

    def __init__(self) -> None:
        self.server = HTTPServer("127.0.0.1", 0, threaded=True)
        self.received: list[tuple[str, Any, Request]] = []
        self.answer: Answer = lambda path, body: (200, ACK)

    def start(self) -> Stub:
        self.server.start()
        self.server.expect_request(re.compile(".*"), method="POST").respond_with_handler(self._handle)
        return self

    def stop(self) -> None:
        self.server.stop()

    def reset(self, answer: Answer | None = None) -> None:
        self.received.clear()
        self.answer = answer or (lambda path, body: (200, ACK))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/oicp"

    def bodies(self, suffix: str) -> list[Any]:
        return [body for path, body, _ in self.received if path.endswith(suffix)]

    def _handle(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data())
        except ValueError:
            body = None
        path = request.full_path.rstrip("?")
        self.received.append((path, body, request))
        answer = self.answer(path, body)
        if isinstance(answer, Response):
            return answer
        status, content = answer
        text = content if isinstance(content, str) else json.dumps(content)
        return Response(text, status=status, content_type="application/json")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def echo_session(answer: dict[str, Any]) -> Answer:
    """Answer with `answer`, echoing the request's SessionID as a partner does."""
    return lambda path, body: (200, {**answer, **({"SessionID": body["SessionID"]} if "SessionID" in body else {})})


@pytest.fixture(scope="module")
def stubs() -> Iterator[tuple[Stub, Stub]]:
    cpo, emp = Stub().start(), Stub().start()
    yield cpo, emp
    cpo.stop()
    emp.stop()


@pytest.fixture(scope="module")
def e2e_server(stubs: tuple[Stub, Stub]) -> Iterator[FakeHub]:
    cpo, emp = stubs
    forward = Forwarding(cpo=Endpoint(cpo.url, timeout=2), emp=Endpoint(emp.url, timeout=2), emp_provider=PROV)
    with FakeHub(forward_to=forward) as hub:
        yield hub


@pytest.fixture
def e2e(e2e_server: FakeHub, stubs: tuple[Stub, Stub]) -> Iterator[FakeHub]:
    for stub in stubs:
        stub.reset()
    with e2e_server.clean() as hub:
        yield hub


def post(hub: FakeHub, operation: str, body: Any, **params: str) -> dict[str, Any]:
    answer = httpx.post(hub.url_for(operation, **params), json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def authorize(hub: FakeHub, ident: dict[str, Any] = RFID) -> dict[str, Any]:
    body = {"OperatorID": OP, "EvseID": EVSE, "Identification": ident, "CPOPartnerSessionID": "cpo-1"}
    return post(hub, "AuthorizeStart.hub", body, operatorID=OP)


def remote_start(hub: FakeHub, operation: str = "AuthorizeRemoteStart.hub") -> dict[str, Any]:
    body = {
        "SessionID": EMP_SID,
        "ProviderID": PROV,
        "EvseID": EVSE,
        "Identification": EVCO,
        "EMPPartnerSessionID": "emp-1",
    }
    return post(hub, operation, body, providerID=PROV)


def cdr(session_id: str) -> dict[str, Any]:
    return {
        "SessionID": session_id,
        "CPOPartnerSessionID": "cpo-1",
        "EvseID": EVSE,
        "Identification": RFID,
        "ConsumedEnergy": 10.5,
        "SessionStart": "2026-11-25T10:00:00+01:00",
        "ChargingStart": "2026-11-25T10:01:00+01:00",
        "ChargingEnd": "2026-11-25T11:00:00+01:00",
        "SessionEnd": "2026-11-25T11:01:00+01:00",
    }


def legs(hub: FakeHub) -> list[tuple[str, str | None]]:
    return [(c.direction, c.operation) for c in hub.calls()]


# --- PartnerClient --------------------------------------------------------------------------------------


def test_client_posts_to_the_official_path_and_judges_a_valid_answer(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/base/charging/v21/operators/DE*ABC/authorize/start", method="POST").respond_with_json(
        AUTHORIZED
    )
    client = PartnerClient(httpserver.url_for("/base/"), timeout=5)
    body = {"OperatorID": OP, "Identification": RFID}
    sent = client.call("AuthorizeStart.emp", body, {"operatorID": OP})
    assert (sent.status, sent.ok, sent.violations, sent.body) == (200, True, [], AUTHORIZED)
    assert json.loads(httpserver.log[0][0].get_data()) == body
    assert httpserver.log[0][0].headers["Content-Type"] == "application/json"
    [call] = client.journal.calls()
    assert (call.direction, call.operation, call.status, call.response, call.body) == (
        "out",
        "AuthorizeStart.emp",
        200,
        AUTHORIZED,
        body,
    )
    assert call.url == sent.url and call.url.endswith("/base/charging/v21/operators/DE*ABC/authorize/start")
    assert call.duration > 0 and call.call_no == 1 and call.service and call.version
    assert "#1 out POST http://" in call.summary() and "-> AuthorizeStart.emp: HTTP 200" in call.summary()
    assert sent.curl.startswith(f"curl -sS -X POST '{sent.url}'") and '"OperatorID": "DE*ABC"' in sent.curl


def test_client_judges_a_nonconforming_answer(httpserver: HTTPServer) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_json({"AuthorizationStatus": "Maybe"})
    sent = PartnerClient(httpserver.url_for("/")).call(
        "AuthorizeStart.emp", {"OperatorID": OP, "Identification": RFID}, {"operatorID": OP}
    )
    assert sent.status == 200 and sent.answered and not sent.ok
    pointers = {v.pointer for v in sent.violations}
    assert pointers == {"/AuthorizationStatus", "/StatusCode"}  # not in the enum; missing
    assert sent.call is not None and sent.call.violations == sent.violations


@pytest.mark.parametrize(
    ("status", "content", "problem"),
    [
        (503, '{"message": "down"}', "HTTP 503"),
        (500, "<html>Internal Server Error</html>", "HTTP 500"),
        (200, '{"Result": tru', "HTTP 200 with a body that is not JSON"),
        (200, "", "HTTP 200 with an empty body"),
    ],
)
def test_client_never_raises_for_errors_and_garbage(
    httpserver: HTTPServer, status: int, content: str, problem: str
) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_data(content, status=status)
    client = PartnerClient(httpserver.url_for("/"))
    sent = client.call("ChargeDetailRecord.emp", cdr(EMP_SID), {"operatorID": OP})
    assert (sent.status, sent.ok, sent.violations, sent.problems) == (status, False, [], [problem])
    assert sent.text == content and sent.describe().startswith(f"HTTP {status}")
    [call] = client.journal.calls(direction="out")
    assert call.status == status and call.problems == [problem]
    assert call.response == (json.loads(content) if status == 503 else content or None)


def test_client_times_out_without_raising(httpserver: HTTPServer) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(5)
        return Response(json.dumps(ACK), content_type="application/json")

    httpserver.expect_request(re.compile(".*")).respond_with_handler(slow)
    client = PartnerClient(httpserver.url_for("/"), timeout=0.3)
    started = time.monotonic()
    try:
        sent = client.call("AuthorizeRemoteStop.cpo", {"SessionID": EMP_SID}, {"providerID": PROV})
    finally:
        release.set()
    assert time.monotonic() - started < 3
    assert sent.status is None and sent.body is None and "Timeout" in (sent.error or "")
    assert sent.describe().startswith("no answer after") and sent.problems[0].startswith("no answer: ")
    [call] = client.journal.calls()
    assert call.status == 0 and call.error == sent.error and "no answer (" in call.summary()


def test_client_survives_a_partner_that_is_not_there() -> None:
    sent = PartnerClient(f"http://127.0.0.1:{closed_port()}", timeout=2).call(
        "ChargingNotification.emp", {"Type": "Start"}, {}
    )
    assert sent.status is None and "ConnectError" in (sent.error or "")


def test_client_uses_a_per_operation_url_with_the_id_in_the_query(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/auth", method="POST").respond_with_json(AUTHORIZED)
    client = PartnerClient(
        "http://127.0.0.1:1/unused", routes={"AuthorizeStart.emp": httpserver.url_for("/auth") + "?op={operatorID}"}
    )
    sent = client.call(
        "AuthorizeStart.emp", {"OperatorID": "+49*536", "Identification": RFID}, {"operatorID": "+49*536"}
    )
    assert sent.ok, sent.describe()
    request = httpserver.log[0][0]
    assert request.args["op"] == "+49*536"  # `+` escaped in the query: it would arrive as a space
    assert sent.call is not None and sent.call.path == "/auth?op=%2B49*536"
    assert fill("/operators/{operatorID}/x?p={providerID}", {"operatorID": "+49*536", "providerID": "DE-DCB"}) == (
        "/operators/+49*536/x?p=DE-DCB"
    )


def test_client_sends_headers_and_redacts_them_in_curl(httpserver: HTTPServer) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_json(ACK)
    route = type("Route", (), {"url": httpserver.url_for("/cdr"), "headers": {"X-Route": "route-secret"}})()
    client = PartnerClient(
        httpserver.url_for("/"),
        routes={"ChargeDetailRecord.emp": route},
        headers={"Authorization": "Bearer s3cret", "X-Api-Key": "k3y"},
        redacted={"Bearer s3cret": "Bearer ${EMP_TOKEN}"},
    )
    sent = client.call("ChargeDetailRecord.emp", cdr(EMP_SID))
    received = httpserver.log[0][0].headers
    assert (received["Authorization"], received["X-Api-Key"], received["X-Route"]) == (
        "Bearer s3cret",
        "k3y",
        "route-secret",
    )
    assert '-H "Authorization: Bearer ${EMP_TOKEN}"' in sent.curl
    assert "-H 'X-Api-Key: <redacted>'" in sent.curl and "-H 'X-Route: <redacted>'" in sent.curl
    assert "s3cret" not in sent.curl and "k3y" not in sent.curl
    assert sent.call is not None and sent.call.curl == sent.curl


def test_client_refuses_what_is_no_partner_operation() -> None:
    client = PartnerClient("http://127.0.0.1:1")
    with pytest.raises(KeyError, match="not a partner operation"):
        client.call("AuthorizeStart.hub", {}, {"operatorID": OP})
    with pytest.raises(KeyError, match="no value for"):
        client.call("AuthorizeStart.emp", {}, {})
    with pytest.raises(KeyError, match="not partner operations"):
        PartnerClient("http://127.0.0.1:1", routes={"PushEvseData.hub": "http://x"})


def test_hub_client_journals_out_calls_next_to_in_calls(fake_hub: FakeHub, httpserver: HTTPServer) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_json(ACK)
    seen: list[Call] = []
    fake_hub.on_call = seen.append
    try:
        status = {"ActionType": "update", "OperatorEvseStatus": {"OperatorID": OP, "EvseStatusRecord": []}}
        post(fake_hub, "PushEvseStatus.hub", status, operatorID=OP)
        fake_hub.client(httpserver.url_for("/")).call("ChargeDetailRecord.emp", cdr(EMP_SID), {"operatorID": OP})
    finally:
        fake_hub.on_call = None
    assert legs(fake_hub) == [("in", "PushEvseStatus.hub"), ("out", "ChargeDetailRecord.emp")]
    assert [c.seq for c in fake_hub.calls()] == [1, 2] and seen == fake_hub.calls()
    assert [c.operation for c in fake_hub.calls(direction="out")] == ["ChargeDetailRecord.emp"]
    assert fake_hub.calls("ChargeDetailRecord.emp")[0].call_no == 1


# --- forwarding: EMP -> hub -> CPO ----------------------------------------------------------------------


def test_remote_start_reaches_the_cpo_with_a_hub_session_and_the_emp_gets_its_answer(
    e2e: FakeHub, stubs: tuple[Stub, Stub]
) -> None:
    cpo, _ = stubs
    cpo.reset(echo_session({**ACK, "CPOPartnerSessionID": "cpo-77"}))
    answer = remote_start(e2e)
    [(path, forwarded, _)] = cpo.received
    assert path == "/oicp/charging/v21/providers/DE-DCB/authorize-remote/start"
    session = forwarded["SessionID"]
    assert session != EMP_SID  # Hubject issues the SessionID
    assert {k: v for k, v in forwarded.items() if k != "SessionID"} == {
        "ProviderID": PROV,
        "EvseID": EVSE,
        "Identification": EVCO,
        "EMPPartnerSessionID": "emp-1",
    }
    assert answer == {
        "Result": True,
        "StatusCode": {"Code": "000"},
        "SessionID": session,
        "EMPPartnerSessionID": "emp-1",
        "CPOPartnerSessionID": "cpo-77",
    }
    assert e2e.state.sessions[session].provider_id == PROV
    inbound, outbound = e2e.calls()
    assert (inbound.direction, inbound.operation, inbound.violations) == ("in", "AuthorizeRemoteStart.hub", [])
    assert (outbound.direction, outbound.operation, outbound.violations) == ("out", "AuthorizeRemoteStart.cpo", [])
    assert outbound.caused_by == inbound.seq and outbound.seq > inbound.seq


def test_the_cpos_refusal_is_passed_on_and_no_session_is_kept(e2e: FakeHub, stubs: tuple[Stub, Stub]) -> None:
    cpo, _ = stubs
    cpo.reset(lambda path, body: (200, {"Result": False, "StatusCode": {"Code": "602", "AdditionalInfo": "busy"}}))
    answer = remote_start(e2e, "AuthorizeRemoteReservationStart.hub")
    assert cpo.received[0][0] == "/oicp/reservation/v11/providers/DE-DCB/reservation-start-request"
    assert (answer["Result"], answer["StatusCode"]) == (False, {"Code": "602", "AdditionalInfo": "busy"})
    assert e2e.state.sessions == {}


@pytest.mark.parametrize(
    "answer",
    [
        lambda path, body: (503, {"message": "down"}),
        lambda path, body: (200, "<html>"),
        lambda path, body: (200, {"Result": "yes"}),
    ],
    ids=["503", "garbage", "nonconforming"],
)
def test_an_unusable_cpo_gives_the_emp_false_and_the_error(
    e2e: FakeHub, stubs: tuple[Stub, Stub], answer: Answer
) -> None:
    cpo, _ = stubs
    cpo.reset(answer)
    result = remote_start(e2e)
    assert (result["Result"], result["StatusCode"]["Code"]) == (False, "310")
    assert "CPO" in result["StatusCode"]["AdditionalInfo"] and result["EMPPartnerSessionID"] == "emp-1"
    assert validate(result, "eRoamingAcknowledgement") == []
    assert e2e.state.sessions == {}


def test_an_unreachable_cpo_gives_the_emp_false() -> None:
    forward = Forwarding(cpo=f"http://127.0.0.1:{closed_port()}")
    with FakeHub(forward_to=forward) as hub:
        result = remote_start(hub)
        assert (result["Result"], result["StatusCode"]["Code"]) == (False, "310")
        assert "could not be addressed: no answer" in result["StatusCode"]["AdditionalInfo"]
        assert hub.calls(direction="out")[0].error is not None
        hub.check()


def test_remote_stop_follows_the_session_to_the_cpo(e2e: FakeHub, stubs: tuple[Stub, Stub]) -> None:
    cpo, _ = stubs
    cpo.reset(echo_session(ACK))
    session = remote_start(e2e)["SessionID"]
    stop = {"SessionID": session, "ProviderID": PROV, "EvseID": EVSE}
    answer = post(e2e, "AuthorizeRemoteStop.hub", stop, providerID=PROV)
    assert cpo.bodies("/authorize-remote/stop") == [stop]
    assert answer["Result"] is True and answer["SessionID"] == session
    assert e2e.state.sessions[session].stopped
    assert legs(e2e)[-2:] == [("in", "AuthorizeRemoteStop.hub"), ("out", "AuthorizeRemoteStop.cpo")]


# --- forwarding: CPO -> hub -> EMP ----------------------------------------------------------------------


def test_authorize_start_reaches_the_emp_and_the_cpo_gets_authorized_with_a_session(
    e2e: FakeHub, stubs: tuple[Stub, Stub]
) -> None:
    _, emp = stubs
    emp.reset(echo_session({**AUTHORIZED, "EMPPartnerSessionID": "emp-9", "AuthorizationStopIdentifications": [RFID]}))
    answer = authorize(e2e)
    [(path, forwarded, _)] = emp.received
    assert path == "/oicp/charging/v21/operators/DE*ABC/authorize/start"
    assert forwarded == {
        "OperatorID": OP,
        "EvseID": EVSE,
        "Identification": RFID,
        "CPOPartnerSessionID": "cpo-1",
        "SessionID": forwarded["SessionID"],
    }
    assert answer == {
        "AuthorizationStatus": "Authorized",
        "StatusCode": {"Code": "000"},
        "SessionID": forwarded["SessionID"],
        "ProviderID": PROV,
        "AuthorizationStopIdentifications": [RFID],
        "CPOPartnerSessionID": "cpo-1",
        "EMPPartnerSessionID": "emp-9",
    }
    assert legs(e2e) == [("in", "AuthorizeStart.hub"), ("out", "AuthorizeStart.emp")]
    assert all(c.violations == [] for c in e2e.calls())


def test_the_emps_refusal_is_passed_on_without_a_session(e2e: FakeHub, stubs: tuple[Stub, Stub]) -> None:
    _, emp = stubs
    emp.reset(lambda path, body: (200, {"AuthorizationStatus": "NotAuthorized", "StatusCode": {"Code": "102"}}))
    answer = authorize(e2e)
    assert answer == {
        "AuthorizationStatus": "NotAuthorized",
        "StatusCode": {"Code": "102"},
        "CPOPartnerSessionID": "cpo-1",
    }
    assert e2e.state.sessions == {}


def test_an_authorisation_without_provider_id_or_for_another_session_is_noted(
    e2e: FakeHub, stubs: tuple[Stub, Stub]
) -> None:
    _, emp = stubs
    emp.reset(lambda path, body: (200, {"AuthorizationStatus": "Authorized", "StatusCode": {"Code": "000"}}))
    assert authorize(e2e)["ProviderID"] == PROV  # the hub knows whom it asked
    assert "Authorized without ProviderID" in e2e.calls(direction="out")[0].problems[0]
    emp.reset(lambda path, body: (200, {**AUTHORIZED, "SessionID": EMP_SID}))
    answer = authorize(e2e)
    assert answer["SessionID"] != EMP_SID  # the hub's own
    assert f"answered SessionID {EMP_SID}" in e2e.calls(direction="out")[-1].problems[0]


@pytest.mark.parametrize(
    "answer",
    [
        lambda path, body: (500, {"message": "boom"}),
        lambda path, body: (200, "not json"),
        lambda path, body: (200, {"AuthorizationStatus": "Authorized"}),  # no StatusCode: cannot be passed on
    ],
    ids=["500", "garbage", "nonconforming"],
)
def test_an_unusable_emp_is_dealt_with_as_not_authorized(
    e2e: FakeHub, stubs: tuple[Stub, Stub], answer: Answer
) -> None:
    _, emp = stubs
    emp.reset(answer)
    result = authorize(e2e)
    assert (result["AuthorizationStatus"], result["StatusCode"]["Code"]) == ("NotAuthorized", "310")
    assert "as if responding NotAuthorized" in result["StatusCode"]["AdditionalInfo"]
    assert "SessionID" not in result and e2e.state.sessions == {}
    assert validate(result, "eRoamingAuthorizationStart") == []


def test_an_unreachable_emp_gives_not_authorized() -> None:
    forward = Forwarding(emp=Endpoint(f"http://127.0.0.1:{closed_port()}", timeout=2))
    with FakeHub(forward_to=forward) as hub:
        result = authorize(hub)
        assert (result["AuthorizationStatus"], result["StatusCode"]["Code"]) == ("NotAuthorized", "310")
        assert "EMP could not be addressed: no answer" in result["StatusCode"]["AdditionalInfo"]
        assert [(c.direction, c.operation, c.status) for c in hub.calls()] == [
            ("in", "AuthorizeStart.hub", 200),
            ("out", "AuthorizeStart.emp", 0),
        ]
        hub.check()


def test_an_emp_that_answers_too_late_gives_not_authorized(stubs: tuple[Stub, Stub]) -> None:
    _, emp = stubs
    release = threading.Event()

    def late(path: str, body: Any) -> tuple[int, Any]:
        release.wait(5)
        return 200, AUTHORIZED

    emp.reset(late)
    with FakeHub(forward_to=Forwarding(emp=Endpoint(emp.url, timeout=0.3))) as hub:
        try:
            result = authorize(hub)
        finally:
            release.set()
        assert result["AuthorizationStatus"] == "NotAuthorized"
        assert "Timeout" in (hub.calls(direction="out")[0].error or "")


def test_evco_ids_route_by_provider(e2e: FakeHub, stubs: tuple[Stub, Stub]) -> None:
    _, emp = stubs
    emp.reset(echo_session(AUTHORIZED))
    qr = {"QRCodeIdentification": {"EvcoID": "DE-DCB-C12345678-X", "PIN": "1234"}}
    assert authorize(e2e, qr)["AuthorizationStatus"] == "Authorized" and len(emp.received) == 1
    other = {"QRCodeIdentification": {"EvcoID": "NL-ZZZ-C12345678-X", "PIN": "1234"}}
    answer = authorize(e2e, other)  # another provider: no EMP known for it
    assert (answer["AuthorizationStatus"], answer["StatusCode"]["Code"]) == ("NotAuthorized", "300")
    assert len(emp.received) == 1


def test_stop_cdr_and_notification_follow_the_session_to_the_emp(e2e: FakeHub, stubs: tuple[Stub, Stub]) -> None:
    _, emp = stubs
    emp.reset(echo_session({**AUTHORIZED, "EMPPartnerSessionID": "emp-9"}))
    session = authorize(e2e)["SessionID"]
    emp.reset(echo_session({**ACK, "EMPPartnerSessionID": "emp-9"}))
    note = {
        "Type": "Start",
        "SessionID": session,
        "EvseID": EVSE,
        "OperatorID": OP,
        "ChargingStart": "2026-11-25T10:01:00+01:00",
    }
    assert post(e2e, "ChargingNotification.hub", note)["Result"] is True
    assert emp.bodies("/notificationmgmt/v11/charging-notifications") == [note]

    emp.reset(echo_session(AUTHORIZED))
    stop = {
        "SessionID": session,
        "OperatorID": OP,
        "Identification": {"RFIDMifareFamilyIdentification": {"UID": "CAFEBABE"}},
    }
    stopped = post(e2e, "AuthorizeStop.hub", stop, operatorID=OP)  # another card: the EMP decides, and says yes
    assert stopped["AuthorizationStatus"] == "Authorized" and emp.bodies("/authorize/stop") == [stop]
    assert e2e.state.sessions[session].stopped

    emp.reset(echo_session({**ACK, "EMPPartnerSessionID": "emp-9"}))
    record = cdr(session)
    answer = post(e2e, "ChargeDetailRecord.hub", record, operatorID=OP)
    assert emp.bodies("/cdrmgmt/v22/operators/DE*ABC/charge-detail-record") == [record]  # unchanged
    assert answer == {
        "Result": True,
        "StatusCode": {"Code": "000"},
        "SessionID": session,
        "CPOPartnerSessionID": "cpo-1",
        "EMPPartnerSessionID": "emp-9",
    }
    query = {"ProviderID": PROV, "From": "2026-11-25T00:00:00Z", "To": "2026-11-26T00:00:00Z", "CDRForwarded": True}
    pulled = post(e2e, "GetChargeDetailRecords.hub", query, providerID=PROV)
    assert [c["SessionID"] for c in pulled["content"]] == [session]
    assert post(e2e, "GetChargeDetailRecords.hub", {**query, "CDRForwarded": False}, providerID=PROV)["content"] == []
    assert [d for d, _ in legs(e2e)] == ["in", "out"] * 4 + ["in", "in"]  # the pulls are the hub's own
    e2e.check()


def test_a_cdr_is_acknowledged_when_the_emp_is_down(e2e: FakeHub, stubs: tuple[Stub, Stub]) -> None:
    """OICP 2.3: "Hubject will nevertheless return to the requestor a positive result provided that storing
    the CDR was successful"; the EMP can still pull it."""
    _, emp = stubs
    emp.reset(echo_session(AUTHORIZED))
    session = authorize(e2e)["SessionID"]
    emp.reset(lambda path, body: (503, {"message": "down"}))
    answer = post(e2e, "ChargeDetailRecord.hub", cdr(session), operatorID=OP)
    assert (answer["Result"], answer["SessionID"]) == (True, session)
    assert e2e.calls(direction="out")[-1].status == 503
    query = {"ProviderID": PROV, "From": "2026-11-25T00:00:00Z", "To": "2026-11-26T00:00:00Z", "CDRForwarded": False}
    assert [c["SessionID"] for c in post(e2e, "GetChargeDetailRecords.hub", query, providerID=PROV)["content"]] == [
        session
    ]


def test_offline_authorisation_is_not_forwarded(e2e: FakeHub, stubs: tuple[Stub, Stub]) -> None:
    _, emp = stubs
    offline = "DE-OFF"
    push = {
        "ActionType": "fullLoad",
        "ProviderAuthenticationData": {"ProviderID": offline, "AuthenticationDataRecord": [{"Identification": RFID}]},
    }
    assert post(e2e, "PushAuthenticationData.hub", push, providerID=offline)["Result"] is True
    answer = authorize(e2e)
    assert (answer["AuthorizationStatus"], answer["ProviderID"]) == ("Authorized", offline)
    assert post(e2e, "ChargeDetailRecord.hub", cdr(answer["SessionID"]), operatorID=OP)["Result"] is True
    assert emp.received == [] and e2e.calls(direction="out") == []


def test_a_declared_cpo_operator_only_takes_its_own_evses(stubs: tuple[Stub, Stub]) -> None:
    cpo, _ = stubs
    cpo.reset(echo_session(ACK))
    with FakeHub(forward_to=Forwarding(cpo=cpo.url, cpo_operator="FR*XYZ")) as hub:
        assert hub.state.partners.knows_operator("FR*XYZ")
        answer = remote_start(hub)  # DE*ABC's EVSE: not the forwarded CPO's, and unknown to the hub
        assert (answer["Result"], answer["StatusCode"]["Code"]) == (False, "300")
        assert cpo.received == []


# --- command line -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--cpo", "ftp://127.0.0.1/x"], "--cpo 'ftp://127.0.0.1/x': expected an http:// or https:// URL"),
        (["--emp", "http://192.0.2.7:9000"], "forwarding is loopback only"),
        (["--emp", "http://127.0.0.1:99999"], "--emp 'http://127.0.0.1:99999': not a URL"),
        (["--emp", "http://127.0.0.1:9000", "--emp-provider", "nope"], "--emp-provider 'nope': not a ProviderID"),
        (["--cpo", "http://localhost:9000", "--cpo-operator", "x"], "--cpo-operator 'x': not an OperatorID"),
        (["--emp-provider", "DE-XYZ"], "--emp-provider only applies when forwarding"),
        (["--emp", "http://[::1]:9000", "--partner-timeout", "soon"], "--partner-timeout 'soon'"),
        (["--emp", "http://127.0.0.1:9000", "--host", "0.0.0.0"], "listens on loopback only"),
    ],
)
def test_cli_refuses_bad_forwarding_flags_in_one_line(args: list[str], expected: str) -> None:
    done = cli("hub", "--port", "0", *args, timeout=20)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("oicp-conformance: error: ") and expected in lines[0], lines


def test_cli_forwards_to_the_emp(stubs: tuple[Stub, Stub]) -> None:
    _, emp = stubs
    emp.reset(echo_session(AUTHORIZED))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "conformance.cli.main",
            "hub",
            "--port",
            "0",
            "--emp",
            emp.url,
            "--partner-timeout",
            "5",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = re.search(r"listening on (\S+)", proc.stdout.readline()).group(1)  # type: ignore[union-attr]
        proc.stdout.readline()  # type: ignore[union-attr]
        assert proc.stdout.readline().strip() == f"forwarding to EMP DE-DCB at {emp.url}"  # type: ignore[union-attr]
        body = {"OperatorID": OP, "Identification": RFID}
        answer = httpx.post(f"{url}/charging/v21/operators/{OP}/authorize/start", json=body, timeout=10).json()
        assert answer["AuthorizationStatus"] == "Authorized" and len(emp.received) == 1
        out, inbound = proc.stdout.readline(), proc.stdout.readline()  # type: ignore[union-attr]
        assert "#2 out POST http://127.0.0.1:" in out and "-> AuthorizeStart.emp: HTTP 200" in out
        assert "#1 POST /api/oicp/charging/v21/operators/DE*ABC/authorize/start" in inbound
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "stopped after 2 call(s)" in err
