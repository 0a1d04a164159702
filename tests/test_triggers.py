"""Triggers: placeholders filled, `{message}` carries a generated OICP message, failures are configuration errors."""

from __future__ import annotations

import dataclasses
import json
import sys

import pytest
from pytest_httpserver import HTTPServer

from conformance.oicp.ids import belongs_to
from conformance.sut import parse
from conformance.sut.messages import message_for
from conformance.sut.triggers import TriggerError, fire
from conformance.validation import validate


def sut_with(triggers: dict) -> object:
    return parse(
        {
            "role": "cpo",
            "base_url": "http://127.0.0.1:9",
            "operator_id": "DE*ABC",
            "evse_ids": ["DE*ABC*E1*1", "DE*ABC*E1*2"],
            "triggers": triggers,
        },
        "sut.toml",
    )


def test_message_placeholder_sends_a_generated_message(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/forward", method="POST").respond_with_json({"ok": True})
    sut = sut_with({"authorize_start": {"url": httpserver.url_for("/forward"), "body": "{message}"}})
    ident = {"RFIDMifareFamilyIdentification": {"UID": "04A2B3C4"}}
    message = message_for(sut, "authorize_start", {"evse_id": "DE*ABC*E1*2", "identification": ident}, seed=1)
    fire(sut, "authorize_start", message=message)
    sent = json.loads(httpserver.log[-1][0].get_data())
    assert validate(sent, "eRoamingAuthorizeStart") == []
    assert sent["OperatorID"] == "DE*ABC" and sent["Identification"] == ident
    assert sent.get("EvseID", "DE*ABC*E1*2") == "DE*ABC*E1*2"


def test_push_message_carries_the_chosen_evses_and_action() -> None:
    sut = sut_with({})
    message = message_for(sut, "push_evse_status", {"action": "update", "evse_ids": '["DE*ABC*E1*2"]'}, seed=2)
    assert validate(message, "eRoamingPushEvseStatus") == [] and message["ActionType"] == "update"
    records = message["OperatorEvseStatus"]["EvseStatusRecord"]
    assert [r["EvseID"] for r in records] == ["DE*ABC*E1*2"]
    assert all(belongs_to(r["EvseID"], "DE*ABC") for r in records)


def test_shell_trigger_gets_the_same_placeholders(tmp_path) -> None:
    out = tmp_path / "out.json"
    script = "import sys, pathlib; pathlib.Path(sys.argv[1]).write_text(sys.argv[2])"
    sut = sut_with({"end_session": {"command": f"{sys.executable} -c '{script}' {out} {{session_id}}"}})
    fire(sut, "end_session", session_id="b2688855-7f00-0002-6d8e-48d883f6abb6")
    assert out.read_text() == "b2688855-7f00-0002-6d8e-48d883f6abb6"


def test_only_triggers_that_never_reach_the_sut_are_configuration_errors(httpserver: HTTPServer) -> None:
    """404/405, nothing listening or a missing command: the declaration's fault. A 5xx or a failing command
    reached the SUT's logic: its own behaviour, returned for the checks to judge with the answer as context."""
    httpserver.expect_request("/broken").respond_with_data("hub said 503", status=503)
    httpserver.expect_request("/gone").respond_with_data("no such route", status=404)
    sut = sut_with(
        {
            "push_evse_data": {"url": httpserver.url_for("/broken")},
            "push_evse_status": {"url": httpserver.url_for("/gone")},
            "end_session": {"command": f"{sys.executable} -c 'import sys; sys.exit(3)'"},
            "authorize_stop": {"command": "no-such-program-anywhere {session_id}"},
        }
    )
    fired = fire(sut, "push_evse_data")
    assert not fired.ok and fired.status == 503 and "answered HTTP 503: hub said 503" in fired.describe()
    with pytest.raises(TriggerError, match="answered HTTP 404"):
        fire(sut, "push_evse_status")
    ran = fire(sut, "end_session")
    assert not ran.ok and "command exited 3" in ran.describe()
    with pytest.raises(TriggerError, match="'no-such-program-anywhere' not found"):
        fire(sut, "authorize_stop", session_id="x")


def test_declared_headers_go_with_every_trigger(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/push", headers={"X-Api-Key": "k1", "X-Extra": "e"}).respond_with_json({"ok": 1})
    sut = sut_with({"push_evse_data": {"url": httpserver.url_for("/push"), "headers": {"X-Extra": "e"}}})
    sut = dataclasses.replace(sut, headers={"X-Api-Key": "k1"})
    assert fire(sut, "push_evse_data").ok
