"""Unit tests of the reference EMP, against a pytest-httpserver stub hub on 127.0.0.1 and by direct inbound calls:
online decisions, CDR idempotency, paging and LastCall, ByID chunking, offline push, each shape, and that every
planted defect changes what the EMP does."""

from __future__ import annotations

import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from conformance.paths import schemas_dir
from conformance.reference.emp import DEFECTS, SHAPES, Config, ReferenceEmp
from conformance.reference.emp.model import parse_time
from conformance.reference.emp.service import PATHS

OPERATOR = "DE*ABC"
MIFARE = {"RFIDMifareFamilyIdentification": {"UID": "AABBCCDD"}}
QR = {"QRCodeIdentification": {"EvcoID": "DE-REF-C00000001-1", "PIN": "1234"}}
PNC = {"PlugAndChargeIdentification": {"EvcoID": "DE-REF-C00000002-2"}}
REMOTE = {"RemoteIdentification": {"EvcoID": "DE-REF-C00000003-3"}}
UNKNOWN_UID = {"RFIDMifareFamilyIdentification": {"UID": "11223344"}}
OK = {"Result": True, "StatusCode": {"Code": "000"}}


def sid(n: int = 0) -> str:
    return f"{n:08x}-7f00-0002-6d8e-48d883f6abb6"


def evse(n: int) -> dict[str, Any]:
    return {
        "EvseID": f"DE*ABC*E{n}",
        "OperatorID": OPERATOR,
        "OperatorName": "ABC",
        "lastUpdate": "2024-01-01T00:00:00Z",
    }


# --- the stub hub -----------------------------------------------------------------------------------------------


class StubHub:
    """A hub that answers every OICP call an EMP makes, records each, and lets a test replace any answer."""

    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._handle)
        self.lock = threading.Lock()
        self.reset()
        self.server.start()

    def reset(self) -> None:
        """A fresh hub for the next test (the server itself is shared: stopping one takes half a second)."""
        self.calls: list[dict[str, Any]] = []
        self.handlers: dict[str, Callable[[Request, Any], Any]] = {}
        self.evses = [evse(n) for n in range(3)]
        self.delta: list[dict[str, Any]] = []
        self.cdrs: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return self.server.url_for("/api/oicp")

    def on(self, fragment: str, handler: Callable[[Request, Any], Any]) -> None:
        self.handlers[fragment] = handler

    def to(self, fragment: str) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.calls if fragment in c["path"]]

    def _handle(self, request: Request) -> Response:
        body = json.loads(request.get_data() or b"null")
        with self.lock:
            self.calls.append({"path": request.path, "args": dict(request.args), "json": body, "at": time.monotonic()})
        handler = next((h for f, h in self.handlers.items() if f in request.path), None) or self._default
        answer = handler(request, body)
        if isinstance(answer, Response):
            return answer
        status, payload, *headers = answer if isinstance(answer, tuple) else (200, answer)
        return Response(
            json.dumps(payload), status=status, headers=headers[0] if headers else None, content_type="application/json"
        )

    def _default(self, request: Request, body: Any) -> Any:
        path = request.path
        if path.endswith("/data-records"):
            return paged(self.delta if "LastCall" in body else self.evses, request)
        if path.endswith("/get-charge-detail-records-request"):
            return paged(self.cdrs, request)
        if path.endswith("/status-records-by-id"):
            records = [{"EvseID": e, "EvseStatus": "Available"} for e in body["EvseID"]]
            return {"EVSEStatusRecords": {"EvseStatusRecord": records}, "StatusCode": {"Code": "000"}}
        if "/status-records" in path:
            records = [{"EvseID": e["EvseID"], "EvseStatus": "Occupied"} for e in self.evses]
            return {"EvseStatuses": {"OperatorEvseStatus": [{"OperatorID": OPERATOR, "EvseStatusRecord": records}]}}
        if path.endswith("/pricing-products"):
            return {"PricingProductData": [PRODUCTS], "StatusCode": {"Code": "000"}}
        if path.endswith("/evse-pricing"):
            return {"EVSEPricing": [EVSE_PRICING], "StatusCode": {"Code": "000"}}
        if "/authorize-remote/start" in path or "reservation-start" in path:
            return {**OK, "SessionID": str(uuid.uuid4()), "EMPPartnerSessionID": body.get("EMPPartnerSessionID", "x")}
        if "/authorize-remote/stop" in path or "reservation-stop" in path:
            return {**OK, "SessionID": body.get("SessionID")}
        return OK

    def stop(self) -> None:
        self.server.clear()
        self.server.stop()


def paged(items: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    page, size = int(request.args.get("page", 0)), int(request.args.get("size", 20))
    content = items[page * size : (page + 1) * size]
    pages = math.ceil(len(items) / size)
    return {
        "content": content,
        "number": page,
        "size": size,
        "totalElements": len(items),
        "totalPages": pages,
        "first": page == 0,
        "last": page + 1 >= pages,
        "numberOfElements": len(content),
        "StatusCode": {"Code": "000", "Description": "Success", "AdditionalInfo": "ok"},
    }


PRODUCTS = {
    "OperatorID": OPERATOR,
    "OperatorName": "ABC",
    "ProviderID": "*",
    "PricingDefaultPrice": 0.3,
    "PricingDefaultPriceCurrency": "EUR",
    "PricingDefaultReferenceUnit": "KILOWATT_HOUR",
    "PricingProductDataRecords": [{"ProductID": "AC1", "PricePerReferenceUnit": 0.4}],
}
EVSE_PRICING = {
    "OperatorID": OPERATOR,
    "EVSEPricing": [{"EvseID": "DE*ABC*E0", "ProviderID": "DE-REF", "EvseIDProductList": ["AC1"]}],
}


@pytest.fixture(scope="module")
def stub_hub() -> Iterator[StubHub]:
    stub = StubHub()
    yield stub
    stub.stop()


@pytest.fixture
def hub(stub_hub: StubHub) -> StubHub:
    stub_hub.reset()
    return stub_hub


@pytest.fixture
def make_emp(hub: StubHub) -> Iterator[Callable[..., ReferenceEmp]]:
    started: list[ReferenceEmp] = []

    def make(shape: str = "official", **settings: Any) -> ReferenceEmp:
        settings = {"hub_url": hub.url, "hub_timeout": 0.5, "backoff": 0.01, "max_backoff": 0.05, **settings}
        emp = ReferenceEmp(SHAPES[shape].build(**settings))
        emp.start()
        started.append(emp)
        return emp

    yield make
    for emp in started:
        emp.stop()


def trigger(emp: ReferenceEmp, action: str, body: Any = None) -> httpx.Response:
    return httpx.post(f"{emp.url}/_trigger/{action}", json=body if body is not None else {}, timeout=30)


def probe(emp: ReferenceEmp, name: str) -> Any:
    response = httpx.get(f"{emp.url}/_trigger/{name}", timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def inbound(emp: ReferenceEmp, kind: str, body: Any, operator: str = OPERATOR) -> tuple[int, dict[str, Any]]:
    return emp.inbound.handle(kind, operator, json.dumps(body).encode(), "application/json")


def start(identification: dict[str, Any], session_id: str = sid(), **extra: Any) -> dict[str, Any]:
    return {
        "SessionID": session_id,
        "OperatorID": OPERATOR,
        "EvseID": "DE*ABC*E1",
        "Identification": identification,
        **extra,
    }


def cdr(session_id: str = sid(), identification: dict[str, Any] = MIFARE, **changes: Any) -> dict[str, Any]:
    record = {
        "SessionID": session_id,
        "EvseID": "DE*ABC*E1",
        "Identification": identification,
        "SessionStart": "2024-05-01T10:00:00+02:00",
        "ChargingStart": "2024-05-01T10:01:00+02:00",
        "ChargingEnd": "2024-05-01T11:00:00+02:00",
        "SessionEnd": "2024-05-01T11:02:00+02:00",
        "ConsumedEnergy": 10.5,
        "MeterValueStart": 100.0,
        "MeterValueEnd": 110.5,
        "CPOPartnerSessionID": "cpo-1",
    }
    return {**record, **changes}


def notification(kind: str, session_id: str = sid()) -> dict[str, Any]:
    base = {"Type": kind, "SessionID": session_id, "EvseID": "DE*ABC*E1", "OperatorID": OPERATOR}
    extra = {
        "Start": {"ChargingStart": "2024-05-01T10:01:00+02:00"},
        "Progress": {
            "ChargingStart": "2024-05-01T10:01:00+02:00",
            "EventOccurred": "2024-05-01T10:31:00+02:00",
            "ChargingDuration": 1800000,
        },
        "End": {"ChargingEnd": "2024-05-01T11:00:00+02:00", "ConsumedEnergy": 10.5},
        "Error": {"ErrorType": "ConnectorError"},
    }[kind]
    return {**base, **extra}


# --- online decisions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "identification",
    [
        MIFARE,
        {"RFIDMifareFamilyIdentification": {"UID": "04A1B2C3D4E5F6"}},
        {"RFIDMifareFamilyIdentification": {"UID": "0102030405060708090A"}},
        {"RFIDIdentification": {"UID": "AABBCCDD", "RFID": "mifareCls"}},
        QR,
        {"QRCodeIdentification": {"EvcoID": "DEREFC000000011", "PIN": "1234"}},  # without separators
        PNC,
        REMOTE,
    ],
)
def test_known_identification_is_authorized_with_the_hubs_session_id(make_emp, identification):
    emp = make_emp()
    status, answer = inbound(emp, "authorize-start", start(identification, CPOPartnerSessionID="cpo-7"))
    assert status == 200
    assert answer["AuthorizationStatus"] == "Authorized"
    assert answer["SessionID"] == sid()
    assert answer["ProviderID"] == "DE-REF"
    assert answer["StatusCode"]["Code"] == "000"
    assert answer["CPOPartnerSessionID"] == "cpo-7" and answer["EMPPartnerSessionID"]
    assert [a["SessionID"] for a in probe(emp, "state-authorizations")["authorizations"]] == [sid()]


@pytest.mark.parametrize(
    ("identification", "code"),
    [
        (UNKNOWN_UID, "102"),
        ({"QRCodeIdentification": {"EvcoID": "DE-REF-C00000001-1", "PIN": "0000"}}, "101"),
        ({"QRCodeIdentification": {"EvcoID": "DE-REF-C00000001-1"}}, "101"),
        ({"QRCodeIdentification": {"EvcoID": "DE-REF-C00000077-7", "PIN": "1234"}}, "101"),
        ({"QRCodeIdentification": {"EvcoID": "DE-REF-C00000002-2", "PIN": "1234"}}, "101"),  # a contract without PIN
        ({"PlugAndChargeIdentification": {"EvcoID": "DE-REF-C00000077-7"}}, "105"),
        ({"PlugAndChargeIdentification": {"EvcoID": "DE-REF-C00000003-3"}}, "105"),  # no Plug&Charge contract
        ({"QRCodeIdentification": {"EvcoID": "DE-REF-C00000009-9", "PIN": "9999"}}, "200"),  # locked
        ({"RemoteIdentification": {"EvcoID": "DE-XYZ-C00000001-1"}}, "106"),
        ({}, "022"),
        ({**MIFARE, **QR}, "022"),
    ],
)
def test_unknown_identification_is_refused_with_a_fitting_code(make_emp, identification, code):
    emp = make_emp()
    status, answer = inbound(emp, "authorize-start", start(identification))
    assert status == 200
    assert answer["AuthorizationStatus"] == "NotAuthorized"
    assert answer["StatusCode"]["Code"] == code
    assert answer["ProviderID"] == "DE-REF"
    assert probe(emp, "state-authorizations")["authorizations"] == []


def test_authorize_start_for_another_operator_than_the_path_is_refused(make_emp):
    status, answer = inbound(make_emp(), "authorize-start", start(MIFARE), operator="DE*XYZ")
    assert (status, answer["AuthorizationStatus"], answer["StatusCode"]["Code"]) == (200, "NotAuthorized", "017")


def test_authorize_stop(make_emp):
    emp = make_emp()
    inbound(emp, "authorize-start", start(MIFARE))
    stop = {"SessionID": sid(), "OperatorID": OPERATOR, "EvseID": "DE*ABC*E1", "Identification": MIFARE}
    status, answer = inbound(emp, "authorize-stop", {**stop, "Identification": UNKNOWN_UID})
    assert (answer["AuthorizationStatus"], answer["StatusCode"]["Code"]) == ("NotAuthorized", "106")
    status, answer = inbound(emp, "authorize-stop", {**stop, "EvseID": "DE*ABC*E9"})
    assert (answer["AuthorizationStatus"], answer["StatusCode"]["Code"]) == ("NotAuthorized", "018")
    status, answer = inbound(emp, "authorize-stop", stop)
    assert (status, answer["AuthorizationStatus"], answer["SessionID"]) == (200, "Authorized", sid())
    assert answer["ProviderID"] == "DE-REF"
    status, answer = inbound(emp, "authorize-stop", {**stop, "SessionID": sid(9)})
    assert (answer["AuthorizationStatus"], answer["StatusCode"]["Code"]) == ("NotAuthorized", "400")
    assert probe(emp, "state-sessions")["sessions"][0]["stopped"] is True


# --- CDRs ----------------------------------------------------------------------------------------------------


def test_cdr_is_booked_once_and_a_resent_one_acknowledged_again(make_emp):
    emp = make_emp()
    inbound(emp, "authorize-start", start(MIFARE))
    for _ in range(2):
        status, answer = inbound(emp, "cdr", cdr())
        assert (status, answer["Result"], answer["StatusCode"]["Code"], answer["SessionID"]) == (
            200,
            True,
            "000",
            sid(),
        )
    status, answer = inbound(emp, "cdr", cdr(ConsumedEnergy=11.5, MeterValueEnd=111.5))
    assert (status, answer["Result"], answer["StatusCode"]["Code"]) == (200, False, "022")
    booked = probe(emp, "state-cdrs")
    assert [c["SessionID"] for c in booked["cdrs"]] == [sid()]
    assert booked["cdrs"][0]["ConsumedEnergy"] == 10.5


@pytest.mark.parametrize(
    "changes",
    [
        {"SessionEnd": "2024-05-01T09:00:00+02:00"},
        {"ChargingEnd": "2024-05-01T10:00:00+02:00"},
        {"ConsumedEnergy": -1.0, "MeterValueStart": None, "MeterValueEnd": None},
        {"ConsumedEnergy": 3.0},
        {"MeterValueEnd": 90.0, "ConsumedEnergy": 10.0},
        {"SessionStart": "2024-05-01T10:00:00"},
    ],
)
def test_impossible_cdr_is_refused_and_not_booked(make_emp, changes):
    emp = make_emp()
    inbound(emp, "authorize-start", start(MIFARE))
    record = {k: v for k, v in cdr(**changes).items() if v is not None}
    status, answer = inbound(emp, "cdr", record)
    assert (status, answer["Result"], answer["StatusCode"]["Code"]) == (200, False, "022")
    assert probe(emp, "state-cdrs")["cdrs"] == []


def test_cdr_for_a_session_it_never_authorised(make_emp):
    emp = make_emp()
    status, answer = inbound(emp, "cdr", cdr(sid(5), QR))  # its customer, authorised by Hubject offline
    assert (status, answer["Result"]) == (200, True)
    status, answer = inbound(emp, "cdr", cdr(sid(6), UNKNOWN_UID))
    assert (status, answer["Result"], answer["StatusCode"]["Code"]) == (200, False, "210")
    assert [c["SessionID"] for c in probe(emp, "state-cdrs")["cdrs"]] == [sid(5)]
    assert probe(emp, "state-sessions")["sessions"][0]["origin"] == "cdr"


def test_notifications_are_recorded(make_emp):
    emp = make_emp()
    for kind in ("Start", "Progress", "End", "Error"):
        status, answer = inbound(emp, "notification", notification(kind))
        assert (status, answer["Result"], answer["SessionID"]) == (200, True, sid())
    assert [n["Type"] for n in probe(emp, "state-notifications")["notifications"]] == [
        "Start",
        "Progress",
        "End",
        "Error",
    ]
    status, answer = inbound(emp, "notification", {**notification("Start"), "Type": "Paused"})
    assert (status, answer["Result"]) == (400, False)


def test_what_a_client_sends_never_gets_a_5xx(make_emp):
    emp = make_emp()
    url = f"{emp.url}/cdrmgmt/v22/operators/{OPERATOR}/charge-detail-record"
    cases = [
        (b"{not json", "application/json", 400),
        (b"[]", "application/json", 400),
        (json.dumps({"SessionID": "nope"}).encode(), "application/json", 400),
        (json.dumps(cdr()).encode(), "text/plain", 415),
        (b" " * (1024 * 1024 + 10), "application/json", 413),
    ]
    for raw, kind, expected in cases:
        response = httpx.post(url, content=raw, headers={"Content-Type": kind})
        assert response.status_code == expected
        assert response.json()["Result"] is False
    response = httpx.post(
        f"{emp.url}/charging/v21/operators/{OPERATOR}/authorize/start",
        content=b"{}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["AuthorizationStatus"] == "NotAuthorized"
    assert httpx.get(url).status_code == 405


# --- pulls ---------------------------------------------------------------------------------------------------------


def test_pull_evse_data_reads_every_page_then_pulls_the_delta(make_emp, hub):
    emp = make_emp()
    hub.evses = [evse(n) for n in range(45)]
    answer = trigger(emp, "pull-evse-data").json()
    assert (answer["ok"], answer["evses"], answer["pages"]) == (True, 45, 3)
    calls = hub.to("/data-records")
    assert [c["args"]["page"] for c in calls] == ["0", "1", "2"]
    assert all(c["json"]["ProviderID"] == "DE-REF" and "LastCall" not in c["json"] for c in calls)
    assert calls[0]["path"] == "/api/oicp/evsepull/v23/providers/DE-REF/data-records"
    hub.delta = [
        {**evse(1), "deltaType": "update", "ChargingStationID": "new"},
        {**evse(2), "deltaType": "delete"},
        {**evse(99), "deltaType": "insert"},
    ]
    trigger(emp, "pull-evse-data")
    last_call = hub.to("/data-records")[-1]["json"]["LastCall"]
    assert parse_time(last_call) is not None
    held = probe(emp, "state-evses")["evses"]
    assert len(held) == 45 and "DE*ABC*E2" not in held and "DE*ABC*E99" in held
    assert held["DE*ABC*E1"]["data"]["ChargingStationID"] == "new"
    trigger(emp, "pull-evse-data", {"filters": {"CountryCodes": ["DEU"]}})  # no LastCall with a search filter
    assert "LastCall" not in hub.to("/data-records")[-1]["json"]
    assert hub.to("/data-records")[-1]["json"]["CountryCodes"] == ["DEU"]
    trigger(emp, "pull-evse-data", {"full": True})
    assert "LastCall" not in hub.to("/data-records")[-1]["json"]


def test_pull_evse_data_takes_every_answer_shape(make_emp, hub):
    emp = make_emp()
    snippet = {
        **evse(7),
        "deltaType": "insert",
        "HubOperatorID": OPERATOR,
        "OperatorId": OPERATOR,
        "ChargingFacilities": [{"PowerType": "AC_3_PHASE", "Power": 22, "ChargingModes": ["Mode_3"]}],
    }
    hub.on(
        "data-records",
        lambda r, b: {
            "content": [snippet],
            "number": 0,
            "size": 20,
            "totalElements": 1,
            "last": True,
            "totalPages": 1,
            "first": True,
            "numberOfElements": 1,
            "StatusCode": {"Code": "000"},
        },
    )
    assert trigger(emp, "pull-evse-data").json()["evses"] == 1
    hub.on(
        "data-records",
        lambda r, b: {
            "EvseData": {
                "OperatorEvseData": [{"OperatorID": "DE*OLD", "OperatorName": "Old", "EvseDataRecord": [evse(8)]}]
            }
        },
    )  # OICP 2.2
    assert trigger(emp, "pull-evse-data", {"full": True}).json()["evses"] == 1
    hub.on(
        "data-records",
        lambda r, b: {
            "content": [],
            "number": 0,
            "size": 20,
            "totalElements": 0,
            "last": True,
            "totalPages": 0,
            "first": True,
            "numberOfElements": 0,
            "StatusCode": None,
        },
    )
    answer = trigger(emp, "pull-evse-data", {"full": True}).json()
    assert (answer["ok"], answer["evses"], probe(emp, "state-evses")["evses"]) == (True, 0, {})


def test_a_failed_page_keeps_the_old_books(make_emp, hub):
    emp = make_emp()
    trigger(emp, "pull-evse-data")
    hub.evses = [evse(n) for n in range(45)]
    hub.on(
        "data-records",
        lambda r, b: (400, {"StatusCode": {"Code": "022"}}) if r.args["page"] == "1" else paged(hub.evses, r),
    )
    answer = trigger(emp, "pull-evse-data", {"full": True}).json()
    assert (answer["ok"], answer["complete"]) == (False, False)
    assert len(probe(emp, "state-evses")["evses"]) == 3


def test_status_by_id_asks_for_at_most_100_evse_ids(make_emp, hub):
    emp = make_emp()
    ids = [f"DE*ABC*E{n}" for n in range(250)]
    answer = trigger(emp, "pull-evse-status-by-id", {"evse_ids": ids}).json()
    sizes = [len(c["json"]["EvseID"]) for c in hub.to("/status-records-by-id")]
    assert sizes == [100, 100, 50] and answer["statuses"] == 250 and answer["requests"] == 3
    assert probe(emp, "state-evses")["evses"]["DE*ABC*E249"]["status"] == "Available"


def test_status_pulls(make_emp, hub):
    emp = make_emp()
    assert trigger(emp, "pull-evse-status").json()["statuses"] == 3
    assert hub.to("/status-records")[0]["json"] == {"ProviderID": "DE-REF"}
    trigger(emp, "pull-evse-data")
    answer = trigger(emp, "pull-evse-status-by-operator-id").json()
    assert hub.to("/status-records-by-operator-id")[0]["json"] == {"ProviderID": "DE-REF", "OperatorID": [OPERATOR]}
    assert answer["statuses"] == 3
    hub.on("/status-records", lambda r, b: {"EvseStatuses": {"OperatorEvseStatus": []}})
    assert trigger(emp, "pull-evse-status", {"filters": {"EVSEStatus": "Available"}}).json()["ok"] is True
    assert trigger(emp, "pull-evse-status-by-id").json()["statuses"] == 0
    assert trigger(emp, "pull-evse-status", {"filters": {"Color": "red"}}).status_code == 400


def test_remote_start_and_stop(make_emp, hub):
    emp = make_emp()
    answer = trigger(emp, "remote-start", {"evse_id": "DE*ABC*E1"}).json()
    session_id = answer["session_id"]
    body = hub.to("/authorize-remote/start")[0]["json"]
    assert "SessionID" not in body
    assert body["ProviderID"] == "DE-REF" and body["EvseID"] == "DE*ABC*E1"
    assert body["Identification"] == {"RemoteIdentification": {"EvcoID": "DE-REF-C00000001-1"}}
    assert (
        hub.to("/authorize-remote/start")[0]["path"] == "/api/oicp/charging/v21/providers/DE-REF/authorize-remote/start"
    )
    assert trigger(emp, "remote-stop", {"session_id": session_id}).json()["ok"] is True
    stop = hub.to("/authorize-remote/stop")[0]["json"]
    assert (stop["SessionID"], stop["EvseID"], stop["ProviderID"]) == (session_id, "DE*ABC*E1", "DE-REF")
    assert trigger(emp, "remote-stop", {"session_id": sid(3)}).status_code == 404
    assert trigger(emp, "remote-start", {"evse_id": "DE*ABC*E1", "evco_id": "DE-XYZ-C00000001-1"}).status_code == 400
    assert trigger(emp, "remote-start", {"evse_id": "DE*ABC*E1", "evco_id": "DE-REF-C00000009-9"}).status_code == 400
    hub.on("authorize-remote/start", lambda r, b: {"Result": False, "StatusCode": {"Code": "603"}})
    answer = trigger(emp, "remote-start", {"evse_id": "DE*ABC*E404"}).json()
    assert (answer["ok"], answer["session_id"], answer["attempts"]) == (False, None, 1)
    last = probe(emp, "state-last-calls")["last"]["remote-start"]
    assert (last["Result"], last["StatusCode"]["Code"]) == (False, "603")


def test_reservation_start_and_stop(make_emp, hub):
    emp = make_emp()
    answer = trigger(emp, "reservation-start", {"evse_id": "DE*ABC*E1", "duration": 15}).json()
    body = hub.to("reservation-start-request")[0]["json"]
    assert body["Duration"] == 15 and "RemoteIdentification" in body["Identification"]
    trigger(emp, "reservation-stop", {"session_id": answer["session_id"]})
    assert hub.to("reservation-stop-request")[0]["json"]["SessionID"] == answer["session_id"]
    assert probe(emp, "state-reservations")["reservations"][0]["ended"] is True
    assert trigger(emp, "reservation-start", {"evse_id": "DE*ABC*E1", "duration": 200}).status_code == 400


def test_get_cdrs_reads_every_page_of_consecutive_windows(make_emp, hub):
    emp = make_emp(mode="offline")
    hub.cdrs = [cdr(sid(n)) for n in range(45)]
    answer = trigger(
        emp, "get-cdrs", {"from": "2024-05-01T00:00:00+00:00", "to": "2024-05-01T03:00:00+00:00", "window_minutes": 60}
    ).json()
    assert answer["ok"] is True and answer["booked"] == 45 and answer["duplicate"] == 90
    windows = [
        (c["json"]["From"], c["json"]["To"]) for c in hub.to("get-charge-detail-records") if c["args"]["page"] == "0"
    ]
    assert windows == [
        ("2024-05-01T00:00:00+00:00", "2024-05-01T01:00:00+00:00"),
        ("2024-05-01T01:00:00+00:00", "2024-05-01T02:00:00+00:00"),
        ("2024-05-01T02:00:00+00:00", "2024-05-01T03:00:00+00:00"),
    ]
    assert len(hub.to("get-charge-detail-records")) == 9
    assert len(probe(emp, "state-cdrs")["cdrs"]) == 45
    trigger(emp, "get-cdrs", {"to": "2024-05-01T04:00:00+00:00"})  # carries on where the last window ended
    assert hub.to("get-charge-detail-records")[-1]["json"]["From"] == "2024-05-01T03:00:00+00:00"
    hub.on("get-charge-detail-records", lambda r, b: {"eroamingChargeDetailRecords": [cdr(sid(77))]})  # OICP 2.1
    assert trigger(emp, "get-cdrs", {"to": "2024-05-01T05:00:00+00:00"}).json()["booked"] == 1
    assert trigger(emp, "get-cdrs", {"from": "2024-05-01T05:00:00"}).status_code == 400


def test_push_auth_data(make_emp, hub):
    emp = make_emp(mode="offline")
    answer = trigger(emp, "push-auth-data", {"action": "fullLoad"}).json()
    body = hub.to("push-request")[0]
    assert body["path"] == "/api/oicp/authdata/v21/providers/DE-REF/push-request"
    records = [r["Identification"] for r in body["json"]["ProviderAuthenticationData"]["AuthenticationDataRecord"]]
    assert answer["records"] == 5 and body["json"]["ActionType"] == "fullLoad"
    assert {"RFIDIdentification": {"UID": "04A1B2C3D4E5F6", "RFID": "mifareDes"}} in records
    assert {"QRCodeIdentification": {"EvcoID": "DE-REF-C00000001-1", "PIN": "1234"}} in records
    assert {"PlugAndChargeIdentification": {"EvcoID": "DE-REF-C00000002-2"}} in records
    assert not any("DE-REF-C00000009-9" in json.dumps(r) for r in records)  # locked: never uploaded
    new = {"RFIDIdentification": {"UID": "99887766", "RFID": "calypso"}}
    assert trigger(emp, "push-auth-data", {"action": "insert", "identifications": [new]}).json()["ok"] is True
    assert trigger(emp, "push-auth-data", {"action": "insert", "identifications": [new]}).status_code == 400
    changed = {"QRCodeIdentification": {"EvcoID": "DE-REF-C00000001-1", "PIN": "4321"}}
    trigger(emp, "push-auth-data", {"action": "update", "identifications": [changed]})
    trigger(emp, "push-auth-data", {"action": "delete", "ids": ["AABBCCDD"]})
    assert trigger(emp, "push-auth-data", {"action": "delete", "ids": ["FFEEDDCC"]}).status_code == 404
    assert trigger(emp, "push-auth-data", {"action": "merge"}).status_code == 400
    actions = [c["json"]["ActionType"] for c in hub.to("push-request")]
    assert actions == ["fullLoad", "insert", "update", "delete"]
    held = probe(emp, "state-auth-data")["hub"]
    assert changed in held and new in held and len(held) == 5
    assert not any("AABBCCDD" in json.dumps(h) for h in held)


def test_pricing_pulls_use_last_call_the_second_time(make_emp, hub):
    emp = make_emp()
    assert trigger(emp, "pull-pricing-products", {"operator_ids": [OPERATOR]}).json()["operators"] == 1
    trigger(emp, "pull-pricing-products", {"operator_ids": [OPERATOR]})
    first, second = (c["json"] for c in hub.to("/pricing-products"))
    assert first == {"OperatorIDs": [OPERATOR]} and parse_time(second["LastCall"]) is not None
    assert trigger(emp, "pull-evse-pricing", {"operator_ids": [OPERATOR]}).json()["evses"] == 1
    assert hub.to("/evse-pricing")[0]["json"] == {"ProviderID": "DE-REF", "OperatorIDs": [OPERATOR]}
    assert "DE*ABC*E0" in probe(emp, "state-pricing")["evse_pricing"]
    assert trigger(emp, "pull-evse-pricing").status_code == 400  # no operators known yet


def test_paths_are_the_catalogs(make_emp):
    catalog = json.loads((schemas_dir() / "oicp-2.3" / "catalog.json").read_text())
    served = {o["path"] for o in catalog["operations"] if o["served_by"] == "hub" and o["called_by"] == "emp"}
    assert {p.replace("{provider}", "{providerID}") for p in PATHS.values()} == served


# --- the hub client -----------------------------------------------------------------------------------------


def flaky(answers: list[Any]) -> Callable[[Request, Any], Any]:
    """Answers in turn, the last one for ever."""
    state = {"n": 0}

    def handler(request: Request, body: Any) -> Any:
        state["n"] += 1
        return answers[min(state["n"], len(answers)) - 1]

    return handler


@pytest.mark.parametrize(
    ("answers", "attempts", "ok"),
    [
        ([(503, {}), (500, {}), OK], 3, True),
        ([{"Result": False, "StatusCode": {"Code": "009"}}, OK], 2, True),  # Hubject-side trouble: again later
        ([{"Result": False, "StatusCode": {"Code": "019"}}], 1, False),  # definitive
        ([{"Result": False, "StatusCode": {"Code": "017"}}], 1, False),
        ([(400, {"message": "Validation error"})], 1, False),
        ([(503, {})], 5, False),  # bounded: 4 retries
        ([Response("<html>oops</html>", status=200)], 5, False),
    ],
)
def test_retries(make_emp, hub, answers, attempts, ok):
    emp = make_emp(mode="offline")
    hub.on("push-request", flaky(answers))
    answer = trigger(emp, "push-auth-data").json()
    assert (answer["attempts"], answer["ok"]) == (attempts, ok)


def test_timeouts_and_retry_after(make_emp, hub):
    emp = make_emp(mode="offline", hub_timeout=0.2)
    calls: list[int] = []

    def slow_once(request: Request, body: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.4)
        return OK

    hub.on("push-request", slow_once)
    assert trigger(emp, "push-auth-data").json()["attempts"] == 2
    hub.on("push-request", flaky([(429, {}, {"Retry-After": "1"}), OK]))
    began = time.monotonic()
    assert trigger(emp, "push-auth-data").json()["attempts"] == 2
    assert time.monotonic() - began >= 0.95


# --- shapes ---------------------------------------------------------------------------------------------------


def test_custom_urls(make_emp):
    emp = make_emp("custom-urls")
    response = httpx.post(f"{emp.url}/oicp/authorize-start", params={"operator": OPERATOR}, json=start(MIFARE))
    assert response.json()["AuthorizationStatus"] == "Authorized"
    response = httpx.post(f"{emp.url}/oicp/authorize-start", params={"operator": "DE*XYZ"}, json=start(MIFARE))
    assert response.json()["StatusCode"]["Code"] == "017"
    for path, body in (("charge-detail-record", cdr()), ("charging-notifications", notification("End"))):
        assert httpx.post(f"{emp.url}/oicp/{path}", params={"operator": OPERATOR}, json=body).json()["Result"] is True
    assert (
        httpx.post(f"{emp.url}/charging/v21/operators/{OPERATOR}/authorize/start", json=start(MIFARE)).status_code
        == 404
    )


def test_official_paths_over_http(make_emp):
    emp = make_emp("official", api_key="secret")
    url = f"{emp.url}/charging/v21/operators/{OPERATOR}/authorize/start"
    assert httpx.post(url, json=start(MIFARE)).status_code == 401
    answer = httpx.post(url, json=start(MIFARE), headers={"X-Api-Key": "secret"}).json()
    assert answer["AuthorizationStatus"] == "Authorized"
    stop = {"SessionID": sid(), "OperatorID": OPERATOR, "Identification": MIFARE}
    answer = httpx.post(url.replace("start", "stop"), json=stop, headers={"X-Api-Key": "secret"}).json()
    assert answer["AuthorizationStatus"] == "Authorized"
    answer = httpx.post(
        f"{emp.url}/notificationmgmt/v11/charging-notifications",
        json=notification("Start"),
        headers={"X-Api-Key": "secret"},
    ).json()
    assert answer["Result"] is True


def test_forward(make_emp, hub):
    emp = make_emp("forward")
    hub.evses = [evse(n) for n in range(30)]
    message = {"ProviderID": "DE-REF", "GeoCoordinatesResponseFormat": "Google"}
    assert trigger(emp, "pull-evse-data", message).json()["evses"] == 30
    assert [c["json"] for c in hub.to("data-records")] == [message, message]
    ids = [f"DE*ABC*E{n}" for n in range(130)]
    trigger(emp, "pull-evse-status-by-id", {"ProviderID": "DE-REF", "EvseID": ids})
    assert [len(c["json"]["EvseID"]) for c in hub.to("status-records-by-id")] == [100, 30]
    remote = {"ProviderID": "DE-REF", "EvseID": "DE*ABC*E1", "Identification": REMOTE}
    session_id = trigger(emp, "remote-start", remote).json()["session_id"]
    assert hub.to("authorize-remote/start")[0]["json"] == remote
    assert session_id in {s["SessionID"] for s in probe(emp, "state-sessions")["sessions"]}
    assert trigger(emp, "push-auth-data", [1, 2]).status_code == 400


def test_relay(make_emp, hub):
    emp = make_emp("relay")
    hub.on("authorize-remote/start", lambda r, b: {"Result": False, "StatusCode": {"Code": "602"}})
    response = trigger(emp, "remote-start", {"evse_id": "DE*ABC*E1"})
    assert (response.status_code, response.json()["StatusCode"]["Code"]) == (200, "602")
    hub.on("status-records", lambda r, b: (503, {"message": "down"}))
    response = trigger(emp, "pull-evse-status")
    assert (response.status_code, response.json()) == (503, {"message": "down"})


def test_queue(make_emp, hub):
    emp = make_emp("queue")
    response = trigger(emp, "remote-start", {"evse_id": "DE*ABC*E1"})
    assert response.status_code == 202 and response.json()["operation"] == "charging"
    stop = None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not emp.outbox.idle():
        time.sleep(0.02)
    session_id = probe(emp, "state-sessions")["sessions"][0]["SessionID"]
    stop = trigger(emp, "remote-stop", {"session_id": session_id})
    assert stop.status_code == 202
    while time.monotonic() < deadline and not emp.outbox.idle():
        time.sleep(0.02)
    delivered = probe(emp, "state-queue")["delivered"]
    assert [d["action"] for d in delivered] == ["remote-start", "remote-stop"]
    assert all(r["accepted"] for d in delivered for r in d["results"])
    assert trigger(emp, "remote-stop", {"session_id": sid(4)}).status_code == 404
    assert (
        httpx.post(f"{emp.url}/oicp/authorize-start", params={"operator": OPERATOR}, json=start(MIFARE)).json()[
            "AuthorizationStatus"
        ]
        == "Authorized"
    )


def test_offline_serves_nothing(make_emp, hub):
    emp = make_emp("offline")
    for path in (
        "/charging/v21/operators/DE*ABC/authorize/start",
        "/cdrmgmt/v22/operators/DE*ABC/charge-detail-record",
        "/notificationmgmt/v11/charging-notifications",
    ):
        assert httpx.post(emp.url + path, json={}).status_code == 404
    assert trigger(emp, "push-auth-data").json()["ok"] is True
    assert trigger(emp, "get-cdrs").json()["ok"] is True


def test_lenient(make_emp):
    emp = make_emp("lenient")
    response = httpx.post(
        f"{emp.url}/charging/v21/operators/{OPERATOR}/authorize/start",
        content=json.dumps(start(MIFARE)),
        headers={"Content-Type": "text/plain"},
    )
    assert response.json()["AuthorizationStatus"] == "Authorized"


def test_unknown_trigger_and_probe(make_emp):
    emp = make_emp()
    assert trigger(emp, "push-evse-data").status_code == 404
    assert httpx.get(f"{emp.url}/_trigger/state-queue").status_code == 404  # not in queue mode
    assert httpx.get(f"{emp.url}/_trigger/remote-start").status_code == 405
    assert trigger(emp, "remote-stop", {}).status_code == 400


# --- every defect changes behaviour -----------------------------------------------------------------------------


def _pull_status(emp, hub):
    trigger(emp, "pull-evse-status")
    call = hub.to("/status-records")[-1]
    return call["path"], call["json"]


def _two_evse_pulls(emp, hub, second=None):
    trigger(emp, "pull-evse-data")
    trigger(emp, "pull-evse-data", second or {})
    return hub.to("data-records")[-1]["json"]


def _remote_start_body(emp, hub):
    trigger(emp, "remote-start", {"evse_id": "DE*ABC*E1"})
    return hub.to("authorize-remote/start")[-1]["json"]


def _decision(identification):
    def run(emp, hub):
        return inbound(emp, "authorize-start", start(identification))[1]

    return run


def _resent_cdr(emp, hub):
    inbound(emp, "authorize-start", start(MIFARE))
    answers = [inbound(emp, "cdr", cdr())[0] for _ in range(2)]
    return answers, len(probe(emp, "state-cdrs")["cdrs"])


def _windows(emp, hub):
    trigger(
        emp, "get-cdrs", {"from": "2024-05-01T00:00:00+00:00", "to": "2024-05-01T02:00:00+00:00", "window_minutes": 60}
    )
    return [(c["json"]["From"], c["json"]["To"]) for c in hub.to("get-charge-detail-records")]


def _many(emp, hub, action):
    hub.evses = [evse(n) for n in range(45)]
    hub.cdrs = [cdr(sid(n)) for n in range(45)]
    return trigger(emp, action).json()


def _auth_push(action, **extra):
    def run(emp, hub):
        trigger(emp, "push-auth-data", {"action": action, **extra})
        return hub.to("push-request")[-1]["json"]

    return run


def _attempts(answers):
    def run(emp, hub):
        hub.on("push-request", flaky(answers))
        return trigger(emp, "push-auth-data").json()["attempts"]

    return run


def _retry_after(emp, hub):
    hub.on("push-request", flaky([(429, {}, {"Retry-After": "1"}), OK]))
    began = time.monotonic()
    trigger(emp, "push-auth-data")
    return time.monotonic() - began >= 0.95


def _overlap(emp, hub):
    state = {"now": 0, "max": 0}
    lock = threading.Lock()

    def slow(request, body):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.3)
        with lock:
            state["now"] -= 1
        return OK

    hub.on("push-request", slow)
    threads = [threading.Thread(target=trigger, args=(emp, "push-auth-data")) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return state["max"]


def _delta_as_full(emp, hub):
    hub.delta = [{**evse(1), "deltaType": "update"}]
    _two_evse_pulls(emp, hub)
    return sorted(probe(emp, "state-evses")["evses"])


def _remote_stop_id(emp, hub):
    session_id = trigger(emp, "remote-start", {"evse_id": "DE*ABC*E1"}).json()["session_id"]
    trigger(emp, "remote-stop", {"session_id": session_id})
    return hub.to("authorize-remote/stop")[-1]["json"]["SessionID"] == session_id


def _impossible(emp, hub):
    inbound(emp, "authorize-start", start(MIFARE))
    return inbound(emp, "cdr", cdr(SessionEnd="2024-05-01T09:00:00+02:00"))[1]["Result"]


def _stop_unknown(emp, hub):
    stop = {"SessionID": sid(8), "OperatorID": OPERATOR, "Identification": MIFARE}
    return inbound(emp, "authorize-stop", stop)[1]["AuthorizationStatus"]


SCENARIOS: dict[str, tuple[dict[str, Any], Callable[[ReferenceEmp, StubHub], Any]]] = {
    "pull-without-provider-id": ({}, _pull_status),
    "wrong-service-version": ({}, lambda e, h: (trigger(e, "pull-evse-data"), h.to("data-records")[-1]["path"])[1]),
    "timestamp-without-offset": ({}, lambda e, h: parse_time(_two_evse_pulls(e, h)["LastCall"]) is not None),
    "lastcall-with-search": (
        {},
        lambda e, h: "LastCall" in _two_evse_pulls(e, h, {"filters": {"CountryCodes": ["DEU"]}}),
    ),
    "wrong-provider-in-path": ({}, _pull_status),
    "wrong-provider-in-body": ({}, _remote_start_body),
    "foreign-remote-identification": ({}, _remote_start_body),
    "authorize-unknown-uid": ({}, _decision(UNKNOWN_UID)),
    "refuse-known-evco-pin": ({}, _decision(QR)),
    "authorized-without-session-id": ({}, _decision(MIFARE)),
    "refusal-with-code-000": ({}, _decision(UNKNOWN_UID)),
    "stop-unknown-session-authorized": ({}, _stop_unknown),
    "cdr-booked-twice": ({}, _resent_cdr),
    "cdr-duplicate-5xx": ({}, _resent_cdr),
    "accept-impossible-cdr": ({}, _impossible),
    "evse-data-first-page-only": ({}, lambda e, h: _many(e, h, "pull-evse-data")["evses"]),
    "cdrs-first-page-only": ({}, lambda e, h: _many(e, h, "get-cdrs")["booked"]),
    "cdr-window-gap": ({}, _windows),
    "always-full-evse-pull": ({}, lambda e, h: "LastCall" in _two_evse_pulls(e, h)),
    "delta-as-full-load": ({}, _delta_as_full),
    "status-by-id-unchunked": (
        {},
        lambda e, h: (
            trigger(e, "pull-evse-status-by-id", {"evse_ids": [f"DE*ABC*E{n}" for n in range(150)]}),
            [len(c["json"]["EvseID"]) for c in h.to("status-records-by-id")],
        )[1],
    ),
    "remote-start-own-session-id": ({}, lambda e, h: "SessionID" in _remote_start_body(e, h)),
    "remote-stop-without-hub-session-id": ({}, _remote_stop_id),
    "retry-refusals": ({"mode": "offline"}, _attempts([{"Result": False, "StatusCode": {"Code": "019"}}])),
    "no-retry-on-5xx": ({"mode": "offline"}, _attempts([(503, {}), OK])),
    "ignore-retry-after": ({"mode": "offline"}, _retry_after),
    "endless-retries": ({"mode": "offline"}, _attempts([(503, {})])),
    "parallel-pushes": ({"mode": "offline"}, _overlap),
    "full-load-missing-identification": ({"mode": "offline"}, _auth_push("fullLoad")),
    # the stub's acknowledgement is minimal (StatusCode without Description): the trigger's own HTTP status
    "answer-needs-optional-members": ({"mode": "offline"}, lambda e, h: trigger(e, "push-auth-data").status_code),
}


def test_every_defect_has_a_scenario():
    assert set(SCENARIOS) == set(DEFECTS)
    assert len(DEFECTS) >= 18
    assert all(d.area and d.description for d in DEFECTS.values())
    # which check must catch each one is the suite's business (defects.CAUGHT_BY), kept apart from the list


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_defect_changes_behaviour(make_emp, hub, name):
    settings, scenario = SCENARIOS[name]
    correct = scenario(make_emp(**settings), hub)
    hub.reset()
    defective = scenario(make_emp(**settings, defects=frozenset({name})), hub)
    assert correct != defective


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_defects_say_where_they_apply(shape):
    config = SHAPES[shape].build()
    assert isinstance(config, Config)
    for defect in DEFECTS.values():
        reason = defect.why_not(shape)
        assert (reason is None) == defect.applies(config)
    if shape == "offline":
        assert not DEFECTS["authorize-unknown-uid"].applies(shape)
    if shape == "forward":
        assert not DEFECTS["cdr-window-gap"].applies(shape)
