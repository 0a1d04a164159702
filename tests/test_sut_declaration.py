"""`oicp-sut.toml`: the example loads; every kind of mistake is named with its key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from conformance.sut import ConfigError, load, parse
from tests.helpers import FIXTURES

EXAMPLE = FIXTURES / "oicp-sut.example.toml"


def base() -> dict:
    data = tomllib.loads(EXAMPLE.read_text())
    data.pop("headers")  # its ${ACME_API_KEY} would need the environment
    return data


def test_example_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", "k")
    sut = load(EXAMPLE)
    assert sut.headers == {"X-Api-Key": "k"} and sut.redacted["k"] == "${ACME_API_KEY}"
    assert sut.inbound["AuthorizeRemoteStop.cpo"].headers == {"X-Tenant": "acme"}
    assert (sut.operator_id, sut.hub_port, sut.release) == ("DE*ACM", 8080, "2.3")
    assert sut.has("reservation") and not sut.has("dynamic_pricing")
    assert sut.triggers["push_evse_status"].command.startswith("acme-cli")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(colour="red"), "unknown key 'colour'"),
        (lambda d: d["hub"].update(porty=1), "unknown key 'hub.porty'"),
        (lambda d: d["hub"].update(port="8080"), "hub.port must be an integer, got '8080'"),
        (lambda d: d.update(timeout=True), "timeout must be a number, got True"),
        (lambda d: d.pop("operator_id"), "missing required key 'operator_id'"),
        (lambda d: d.update(role="csms"), 'role must be "cpo" or "emp", got \'csms\''),
        (lambda d: d.update(mode="online"), "'mode' and [identifications] describe an EMP"),
        (lambda d: d.update(base_url="localhost:9000"), "base_url must be an http(s) URL"),
        (lambda d: d.update(evse_ids=[]), "evse_ids must be a non-empty array"),
        (lambda d: d.update(features=["teleport"]), "unknown feature(s) ['teleport']"),
        (lambda d: d["triggers"].update(launch={"url": "x"}), "unknown trigger 'triggers.launch'"),
        (lambda d: d["triggers"]["end_session"].update(command="x"), "needs exactly one of 'url' or 'command'"),
        (lambda d: d["triggers"]["end_session"].update(verb="GET"), "unknown key 'triggers.end_session.verb'"),
        (lambda d: d.update(release="3.0"), 'release must be "2.3" or "2.2"'),
    ],
)
def test_mistakes_name_the_key(change, message: str) -> None:
    data = base()
    change(data)
    with pytest.raises(ConfigError) as error:
        parse(data, "my.toml")
    assert str(error.value).startswith("my.toml: ") and message in str(error.value)


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    broken = tmp_path / "sut.toml"
    broken.write_text('role = "cpo"\nbase_url = \n')
    with pytest.raises(ConfigError, match=r"sut.toml: not valid TOML: .*line 2"):
        load(broken)
    with pytest.raises(ConfigError, match="no such file"):
        load(tmp_path / "absent.toml")


def test_a_din_operator_in_a_declared_query_keeps_its_plus() -> None:
    """The suite's inbound client fills a declared URL as the hub's client does (conformance.wire.fill)."""
    from conformance.catalog import load_release
    from conformance.sut import parse
    from conformance.sut.client import url_for

    sut = parse(
        {
            "role": "cpo",
            "base_url": "http://127.0.0.1:1",
            "operator_id": "+49*536",
            "evse_ids": ["+49*536*1*1"],
            "inbound": {"remote_start": {"url": "http://127.0.0.1:1/start?op={operatorID}&p={providerID}"}},
        }
    )
    url = url_for(sut, load_release("2.3").operation("AuthorizeRemoteStart.cpo"), {})
    assert url == "http://127.0.0.1:1/start?op=%2B49*536&p=DE-DCB"


EMP_BASE = {"role": "emp", "base_url": "http://127.0.0.1:9", "provider_id": "DE-ABC"}


@pytest.mark.parametrize(
    ("identifications", "message"),
    [
        ({"evco_ids": ["DE-XYZ-C12345678-1"]}, "evco_ids: 'DE-XYZ-C12345678-1' is an EvcoID of another provider"),
        ({"evco_ids": ["garbage"]}, "'garbage' is no OICP EvcoID"),
        ({"evco_pins": [{"evco_id": "DE-XYZ-C12345678-1", "pin": "1"}]}, r"evco_pins\[0\]: .* another provider"),
        ({"evco_pins": ["DE-ABC-C12345678-1"]}, r"evco_pins\[0\] must be a table"),
        ({"rfid": ["XYZ"]}, "RFID UID 'XYZ' is not 8, 14 or 20 hex digits"),
        ({"unknown_rfid": "12"}, "RFID UID '12'"),
    ],
)
def test_an_emp_declares_only_customers_of_its_own_in_oicp_forms(identifications: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse({**EMP_BASE, "identifications": identifications}, "emp.toml")


def test_an_emp_declaration_with_its_own_customers_loads() -> None:
    declared = {"rfid": ["AABBCCDD"], "evco_ids": ["DE-ABC-C12345678-1"], "unknown_rfid": "DEADBEEF"}
    sut = parse({**EMP_BASE, "identifications": declared}, "emp.toml")
    assert sut.identifications["evco_ids"] == ["DE-ABC-C12345678-1"]
