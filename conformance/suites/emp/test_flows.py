"""Whole sessions with the EMP: the suite plays Hubject and the CPO, the EMP plays itself.

Online: RemoteStart -> Start notification -> CDR; and AuthorizeStart -> AuthorizeStop -> CDR. Offline:
PushAuthenticationData -> Hubject authorises a CPO's charge from it -> the EMP finds the CDR with
GetChargeDetailRecords. Each ends with the CDR booked once (where a cdrs probe is declared)."""

from __future__ import annotations

import shutil
import ssl
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.hub import FakeHub
from conformance.strategies import Pins
from conformance.suites.cases import IdSource, hub_request
from conformance.suites.emp.helpers import (
    AUTH_STOP,
    CDR,
    NOTE,
    authorize_start,
    authorized,
    hub_pins,
    known_identifications,
    online_only,
    seed_evse_data,
)
from conformance.suites.plugin import requirement
from conformance.suites.steps import (
    call_inbound,
    journal_text,
    judge_recorded_once,
    of,
    require_trigger,
    rerun,
    settle,
    trigger,
)
from conformance.suites.steps import wait_for as wait
from conformance.suites.verdicts import NotJudged, Verdict
from conformance.sut import Sut


def _cpo_tls(hub: FakeHub, operator_id: str) -> ssl.SSLContext | bool:
    """How the suite, playing the CPO, calls a hub that serves mutual TLS: with a certificate for that operator,
    issued by the hub's test CA (its folder must hold ca.key, as `oicp-conformance certs` writes it)."""
    if hub.tls is None:
        return True
    from conformance.tls import CertError, client_context, write_certs

    if not (hub.tls / "ca.key").is_file():
        raise NotJudged(
            f"the suite plays the CPO over mutual TLS with a certificate of {hub.tls / 'ca.pem'}: "
            f"it needs that CA's key beside it ({hub.tls / 'ca.key'})",
            declare="[hub] tls",
        )
    with tempfile.TemporaryDirectory() as folder:
        for name in ("ca.pem", "ca.key"):
            shutil.copy(hub.tls / name, Path(folder) / name)
        try:
            made = write_certs(Path(folder), operator=operator_id, name="suite-cpo")
            return client_context(made.ca, made.cert, made.key)
        except CertError as exc:
            raise NotJudged(f"no certificate for the CPO the suite plays: {exc}") from None


def _cdr(sut: Sut, ids: IdSource, session_id: str, identification: dict[str, Any], evse: str) -> Any:
    pins = Pins(**{**hub_pins(sut, identification).__dict__, "evse_ids": (evse,)})
    return hub_request(ids, CDR, sut.release, pins, session_id=session_id)


@pytest.mark.operation("AuthorizeRemoteStart.hub", service="charging")
@requirement("EMP-FLOW-01")
def test_remote_start_notification_cdr(sut: Sut, hub: FakeHub, seed: int, ids: IdSource, verdict: Verdict) -> None:
    online_only(sut)
    require_trigger(sut, "remote_start")
    seed_evse_data(hub, sut, 5, seed)
    evse = sut.evse_ids[0]
    reproduce = rerun(sut, seed, "test_remote_start_notification_cdr")
    trigger(sut, hub, verdict, "remote_start", seed, evse_id=evse)
    calls = wait(hub, lambda cs: any(c.accepted for c in of(cs, "AuthorizeRemoteStart.hub")), sut.retry_window)
    started = [c for c in of(calls, "AuthorizeRemoteStart.hub") if c.accepted]
    if not started:
        raise NotJudged(f"setup failed: no RemoteStart the hub accepted ({journal_text(calls)[:300]})")
    session_id = started[0].response["SessionID"]
    identification = (started[0].body or {}).get("Identification") or {}
    if sut.has("charging_notifications"):
        note = hub_request(
            ids, NOTE, sut.release, Pins(**{**hub_pins(sut, identification).__dict__, "evse_ids": (evse,)}),
            session_id=session_id, message="eRoamingChargingNotificationStart",
        )  # fmt: skip
        answer = call_inbound(sut, NOTE, note)
        verdict.about(
            answer, answer.result is True, "EMP-FLOW-01", "the Start notification of its own session was refused"
        )
    answer = call_inbound(sut, CDR, _cdr(sut, ids, session_id, identification, evse))
    verdict.about(answer, answer.result is True, "EMP-FLOW-01", "the CDR of the session the EMP started was refused")
    settle(hub)
    judge_recorded_once(sut, verdict, "EMP-FLOW-01", session_id, reproduce)
    verdict.conclude()


@pytest.mark.operation("AuthorizeStart.emp", service="charging")
@requirement("EMP-FLOW-02")
def test_authorize_stop_cdr(sut: Sut, ids: IdSource, seed: int, verdict: Verdict) -> None:
    online_only(sut)
    known = known_identifications(sut)
    if not known:
        raise NotJudged("the declaration lists no identification the EMP knows", declare="[identifications]")
    what, identification = known[0]
    start, answer = authorize_start(sut, ids, identification)
    if not authorized(answer):
        raise NotJudged(f"setup failed: AuthorizeStart for {what} was not Authorized ({answer.describe()[:200]})")
    session_id = start.body["SessionID"]
    if sut.has("authorize_stop"):
        stop = hub_request(ids, AUTH_STOP, sut.release, hub_pins(sut, identification), session_id=session_id)
        stopped = call_inbound(sut, AUTH_STOP, stop)
        verdict.about(
            stopped, authorized(stopped), "EMP-FLOW-02", "the stop of the session the EMP authorised was refused"
        )
    answer = call_inbound(sut, CDR, _cdr(sut, ids, session_id, identification, start.body["EvseID"]))
    verdict.about(answer, answer.result is True, "EMP-FLOW-02", "the CDR of the session the EMP authorised was refused")
    judge_recorded_once(sut, verdict, "EMP-FLOW-02", session_id, rerun(sut, seed, "test_authorize_stop_cdr"))
    verdict.conclude()


@pytest.mark.operation("GetChargeDetailRecords.hub", service="cdrmgmt")
@requirement("EMP-FLOW-03")
def test_offline_authorisation_and_cdr_pull(sut: Sut, hub: FakeHub, seed: int, ids: IdSource, verdict: Verdict) -> None:
    if sut.mode != "offline":
        raise NotJudged("an online EMP authorises itself: this flow is an offline EMP's", applies=False)
    require_trigger(sut, "push_auth_data")
    require_trigger(sut, "get_cdrs")
    uids = sut.identifications.get("rfid", [])
    if not uids:
        raise NotJudged("the declaration lists no RFID card the EMP pushes", declare="[identifications] rfid")
    reproduce = rerun(sut, seed, "test_offline_authorisation_and_cdr_pull")
    trigger(sut, hub, verdict, "push_auth_data", seed, action="fullLoad")
    pushed = wait(hub, lambda cs: any(c.accepted for c in of(cs, "PushAuthenticationData.hub")), sut.retry_window)
    if not any(c.accepted for c in of(pushed, "PushAuthenticationData.hub")):
        raise NotJudged("setup failed: no PushAuthenticationData the hub accepted (see EMP-PUSH-AUTH-*)")
    card = {"RFIDMifareFamilyIdentification": {"UID": uids[0]}}
    evse = sut.evse_ids[0]
    as_cpo = {"OperatorID": sut.operator_id, "EvseID": evse, "Identification": card}
    verify = _cpo_tls(hub, sut.operator_id)
    url = hub.url_for("AuthorizeStart.hub", operatorID=sut.operator_id)
    answer = httpx.post(url, json=as_cpo, timeout=10, verify=verify)
    body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
    if body.get("AuthorizationStatus") != "Authorized":
        verdict.add("EMP-FLOW-03", f"the hub did not authorise card {uids[0]} from the pushed data", str(body)[:500])
        verdict.conclude()
        return
    session_id = body["SessionID"]
    ended = datetime.now().astimezone().replace(microsecond=0)
    cdr = _cdr(sut, ids, session_id, card, evse).body
    cdr.update(
        SessionStart=(ended - timedelta(minutes=20)).isoformat(),
        ChargingStart=(ended - timedelta(minutes=20)).isoformat(),
        ChargingEnd=ended.isoformat(),
        SessionEnd=ended.isoformat(),
    )
    httpx.post(hub.url_for("ChargeDetailRecord.hub", operatorID=sut.operator_id), json=cdr, timeout=10, verify=verify)
    count = len(hub.calls())
    window = {"from": (ended - timedelta(hours=1)).isoformat(), "to": (ended + timedelta(minutes=5)).isoformat()}
    trigger(sut, hub, verdict, "get_cdrs", seed + 1, **window)
    wait(hub, lambda cs: any(c.accepted for c in of(cs[count:], "GetChargeDetailRecords.hub")), sut.retry_window)
    settle(hub)
    judge_recorded_once(sut, verdict, "EMP-FLOW-03", session_id, reproduce, journal_text(hub.calls()[count:]))
    verdict.conclude()
