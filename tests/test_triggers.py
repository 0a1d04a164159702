"""Triggers: placeholders filled, `{message}` carries a generated OICP message, failures are configuration errors."""

from __future__ import annotations

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


def test_failing_triggers_are_configuration_errors(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/broken").respond_with_data("nope", status=500)
    sut = sut_with(
        {
            "push_evse_data": {"url": httpserver.url_for("/broken")},
            "end_session": {"command": f"{sys.executable} -c 'import sys; sys.exit(3)'"},
        }
    )
    with pytest.raises(TriggerError, match="answered HTTP 500"):
        fire(sut, "push_evse_data")
    with pytest.raises(TriggerError, match="command exited 3"):
        fire(sut, "end_session")
