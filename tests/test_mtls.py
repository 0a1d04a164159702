"""Mutual TLS as Hubject runs it: `oicp-conformance certs`, the fake hub over HTTPS knowing each caller by its
client certificate (StatusCode 017 on a mismatch, CPO 1 / EMP 1 "Security"), and the hub's own calls presenting
the hub's certificate. Everything on loopback, certificates made at test time, servers started once per module."""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import ssl
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from conformance.checks.journal import judge_journal
from conformance.cli.main import main
from conformance.hub import FakeHub, Forwarding, Partners
from conformance.sut import ConfigError, load
from conformance.sut.default import reference_sut
from conformance.tls import CertFiles, client_context, describe, partner_of, server_context, write_certs

OP, OTHER, PROV = "DE*REF", "DE*XYZ", "DE-DCB"
EVSE = "DE*REF*E1001*1"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CertFiles]:
    """One CA with the reference operator's, another operator's and an EMP's certificates; a stranger CA apart."""
    folder = tmp_path_factory.mktemp("certs")
    return {
        "op": write_certs(folder, operator=OP),
        "other": write_certs(folder, operator=OTHER, name="other"),
        "emp": write_certs(folder, provider=PROV, name="emp"),
        "stranger": write_certs(tmp_path_factory.mktemp("stranger"), operator=OP),
    }


@pytest.fixture(scope="module")
def tls_hub(certs: dict[str, CertFiles]) -> Iterator[FakeHub]:
    with FakeHub(tls=certs["op"].directory, partners=Partners(operators={OP}, providers={PROV})) as hub:
        yield hub


@pytest.fixture
def hub(tls_hub: FakeHub) -> Iterator[FakeHub]:
    with tls_hub.clean() as clean:
        yield clean


def as_partner(files: CertFiles, ca: Path | None = None) -> ssl.SSLContext:
    """A client presenting the partner's certificate, trusting the hub's CA (`ca`, default the partner's own)."""
    return client_context(ca or files.ca, files.cert, files.key)


def status_push(operator: str = OP, body_operator: str | None = None) -> dict[str, Any]:
    owner = body_operator or operator
    return {
        "ActionType": "fullLoad",
        "OperatorEvseStatus": {
            "OperatorID": owner,
            "EvseStatusRecord": [{"EvseID": f"{owner}*E1001*1", "EvseStatus": "Available"}],
        },
    }


def push(hub: FakeHub, verify: Any, operator: str = OP, body_operator: str | None = None) -> httpx.Response:
    url = hub.url_for("PushEvseStatus.hub", operatorID=operator)
    return httpx.post(url, json=status_push(operator, body_operator), verify=verify, timeout=5)


# --- oicp-conformance certs -----------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_certs_writes_a_ca_the_hub_and_a_partner_and_keeps_what_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "certs"
    assert main(["certs", str(folder), "--operator", OP]) == 0
    out = capsys.readouterr().out
    names = ("ca.pem", "ca.key", "hub.pem", "hub.key", "client.pem", "client.key")
    assert all(f"wrote {folder / name}" in out for name in names), out
    assert f'tls = "{folder}"' in out and f'cert_file = "{folder / "hub.pem"}"' in out
    assert {name: mode(folder / name) for name in names if name.endswith(".key")} == dict.fromkeys(
        ("ca.key", "hub.key", "client.key"), 0o600
    )
    assert partner_of((folder / "client.pem").read_bytes()) == ("OperatorID", OP)
    assert partner_of((folder / "hub.pem").read_bytes()) is None  # the hub is nobody's partner
    ca, hub, client = ((folder / n).read_bytes() for n in ("ca.pem", "hub.pem", "client.pem"))

    # a second partner: same CA and hub certificate, kept as they were
    assert main(["certs", str(folder), "--provider", PROV, "--name", "emp"]) == 0
    out = capsys.readouterr().out
    assert f"kept  {folder / 'ca.pem'}" in out and f"wrote {folder / 'emp.pem'}" in out
    assert ((folder / "ca.pem").read_bytes(), (folder / "hub.pem").read_bytes()) == (ca, hub)
    assert partner_of((folder / "emp.pem").read_bytes()) == ("ProviderID", PROV)
    client_context(folder / "ca.pem", folder / "emp.pem", folder / "emp.key")  # a pair, of that CA's chain

    # never overwritten without --force; replaced (atomically, still 0600) with it
    assert main(["certs", str(folder), "--operator", OTHER]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"{folder / 'client.pem'}: exists already" in err and "--force" in err
    assert (folder / "client.pem").read_bytes() == client
    assert main(["certs", str(folder), "--operator", OTHER, "--force"]) == 0
    capsys.readouterr()
    assert partner_of((folder / "client.pem").read_bytes()) == ("OperatorID", OTHER)
    assert mode(folder / "client.key") == 0o600 and (folder / "ca.pem").read_bytes() == ca
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file left behind


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--operator", "DEABCD"], "--operator 'DEABCD': not an OICP OperatorID"),
        (["--provider", "DE*AB"], "--provider 'DE*AB': not an OICP ProviderID"),
        (["--operator", OP, "--provider", PROV], "give exactly one of --operator ID"),
        ([], "give exactly one of --operator ID"),
        (["--operator", OP, "--name", "../x"], "--name '../x': expected a plain file name"),
        (["--operator", OP, "--name", "hub"], "--name 'hub'"),
    ],
    ids=["bad-operator", "bad-provider", "both", "neither", "path-as-name", "hub-as-name"],
)
def test_certs_refuses_bad_input_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    assert main(["certs", str(tmp_path / "c"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and expected in err, err
    assert not (tmp_path / "c" / "ca.key").exists()  # nothing written for a refused request


def test_certs_into_an_unwritable_place_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["certs", str(blocker / "certs"), "--operator", OP]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{blocker / 'certs'}: cannot create the directory" in err, err


def test_hub_tls_without_certificates_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hub", "--port", "0", "--tls", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "ca.pem, hub.pem, hub.key missing" in err and "oicp-conformance certs" in err


# --- the fake hub over HTTPS -------------------------------------------------------------------------------------


def test_a_call_with_the_partners_own_certificate_is_taken(hub: FakeHub, certs: dict[str, CertFiles]) -> None:
    assert hub.url.startswith("https://127.0.0.1:")
    answer = push(hub, as_partner(certs["op"])).json()
    assert answer["Result"] is True and answer["StatusCode"]["Code"] == "000", answer
    assert [c.problems for c in hub.calls()] == [[]]


@pytest.mark.parametrize(
    ("who", "operator", "body_operator", "named"),
    [
        ("other", OP, None, f"client certificate of OperatorID {OTHER} but path operatorID {OP}"),
        ("op", OP, OTHER, f"client certificate of OperatorID {OP} but body OperatorID {OTHER}"),
        ("emp", OP, None, f"client certificate of ProviderID {PROV} but path operatorID {OP}"),
    ],
    ids=["another-operators-certificate", "body-names-another", "an-emps-certificate"],
)
def test_an_id_that_is_not_the_certificates_gets_017_naming_both(
    hub: FakeHub, certs: dict[str, CertFiles], who: str, operator: str, body_operator: str | None, named: str
) -> None:
    answer = push(hub, as_partner(certs[who], certs["op"].ca), operator, body_operator).json()
    assert answer["Result"] is False and answer["StatusCode"]["Code"] == "017", answer
    assert named in answer["StatusCode"]["AdditionalInfo"]
    assert any(p.startswith(f"refused 017: {named}") for p in hub.calls()[0].problems), hub.calls()[0].problems


def test_the_journal_check_fails_cpo_out_02_with_both_ids(hub: FakeHub, certs: dict[str, CertFiles]) -> None:
    """The declared operator in path and body, but another operator's certificate: Hubject's 017, the CPO's fault."""
    sut = reference_sut("http://127.0.0.1:1", hub.port)
    push(hub, as_partner(certs["op"]))
    clean = judge_journal(sut, hub.calls(), reproduce="r")
    assert "CPO-OUT-02" in clean.judged and not clean.failures
    push(hub, as_partner(certs["other"], certs["op"].ca))
    judgement = judge_journal(sut, hub.calls(), reproduce="r", after=hub.calls()[0].seq)
    titles = [f.title for f in judgement.failures if f.requirement == "CPO-OUT-02"]
    assert len(titles) == 1 and OTHER in titles[0] and OP in titles[0] and "StatusCode 017" in titles[0], titles


def test_with_no_operator_declared_every_certified_operator_is_a_partner(certs: dict[str, CertFiles]) -> None:
    """`hub --tls DIR` alone: two CPOs with certificates of the CA both push; a declared partner list still rules."""
    with FakeHub(tls=certs["op"].directory) as open_hub:
        for who, operator in (("op", OP), ("other", OTHER)):
            answer = push(open_hub, as_partner(certs[who]), operator).json()
            assert answer["StatusCode"]["Code"] == "000", answer
    with FakeHub(tls=certs["op"].directory, partners=Partners(operators={OP})) as declared:
        answer = push(declared, as_partner(certs["other"]), OTHER).json()
        assert answer["StatusCode"]["Code"] == "017" and "not the partner the hub knows" in str(answer), answer


@pytest.mark.parametrize("who", ["none", "stranger"], ids=["no-certificate", "certificate-of-another-ca"])
def test_a_client_without_a_certificate_of_the_ca_is_refused_in_the_handshake(
    hub: FakeHub, certs: dict[str, CertFiles], who: str
) -> None:
    verify = client_context(certs["op"].ca) if who == "none" else as_partner(certs["stranger"], certs["op"].ca)
    with pytest.raises(httpx.TransportError) as refused:
        push(hub, verify)
    assert "alert" in str(refused.value).lower() or "certificate" in str(refused.value).lower(), refused.value
    assert hub.calls() == []
    assert push(hub, as_partner(certs["op"])).json()["Result"] is True  # and the hub serves on


def test_a_client_that_never_says_hello_stalls_nobody(hub: FakeHub, certs: dict[str, CertFiles]) -> None:
    """The handshake runs in the thread serving the connection, not in the one that accepts them all."""
    with socket.create_connection(("127.0.0.1", hub.port), timeout=5):
        assert push(hub, as_partner(certs["op"])).json()["Result"] is True


def test_an_accepting_thread_handshake_would_stall(certs: dict[str, CertFiles]) -> None:
    """The other side of the test above: with the handshake in accept(), one silent client blocks every call."""
    files = certs["op"]
    plain = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    plain.verify_mode = ssl.CERT_REQUIRED
    plain.load_verify_locations(files.ca)
    plain.load_cert_chain(files.hub, files.hub_key)
    server = HTTPServer("127.0.0.1", 0, ssl_context=plain, threaded=True)
    server.expect_request("/").respond_with_data("ok")
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5), pytest.raises(httpx.TimeoutException):
            httpx.get(f"https://127.0.0.1:{server.port}/", verify=as_partner(files), timeout=0.3)
    finally:
        server.stop()


def test_declaration_hub_tls_and_tls_files_are_relative_to_the_declaration(
    tmp_path: Path, certs: dict[str, CertFiles]
) -> None:
    source = certs["op"].directory
    folder = tmp_path / "team" / "certs"
    folder.mkdir(parents=True)
    for name in ("ca.pem", "hub.pem", "hub.key"):
        (folder / name).write_bytes((source / name).read_bytes())
    declaration = tmp_path / "team" / "oicp-sut.toml"
    text = f"""role = "cpo"
base_url = "https://127.0.0.1:9"
operator_id = "{OP}"
evse_ids = ["{EVSE}"]
[hub]
tls = "certs"
[tls]
ca_file = "certs/ca.pem"
cert_file = "certs/hub.pem"
key_file = "certs/hub.key"
"""
    declaration.write_text(text)
    sut = load(declaration)
    assert sut.hub_tls == str(folder) and sut.tls_cert_file == str(folder / "hub.pem")
    assert isinstance(sut.tls, ssl.SSLContext)
    declaration.write_text(text.replace('tls = "certs"', 'tls = "nowhere"'))
    with pytest.raises(ConfigError, match=r"hub\.tls 'nowhere': ca\.pem, hub\.pem, hub\.key missing"):
        load(declaration)
    declaration.write_text(text.replace('ca_file = "certs/ca.pem"', 'ca_file = "certs/none.pem"'))
    with pytest.raises(ConfigError, match=r"tls\.ca_file 'certs/none\.pem': no such file"):
        load(declaration)


def test_the_suites_hub_fixture_serves_https_when_declared(certs: dict[str, CertFiles]) -> None:
    from conformance.suites.plugin import hub_server

    sut = reference_sut("http://127.0.0.1:1", 0)
    fixture = hub_server.__wrapped__(dataclasses.replace(sut, hub_tls=str(certs["op"].directory)))
    served = next(fixture)
    try:
        assert served.url.startswith("https://")
        assert push(served, as_partner(certs["op"])).json()["StatusCode"]["Code"] == "000"
    finally:
        next(fixture, None)
    plain = hub_server.__wrapped__(sut)
    try:
        assert next(plain).url.startswith("http://")
    finally:
        next(plain, None)


# --- the hub's own calls ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mtls_sut(certs: dict[str, CertFiles]) -> Iterator[tuple[HTTPServer, list[str | None]]]:
    """A partner backend over mutual TLS that notes the certificate of every caller."""
    files = certs["op"]
    seen: list[str | None] = []

    def answer(request: Request) -> Response:
        seen.append(request.environ.get("SSL_CLIENT_CERT"))
        return Response(json.dumps({"Result": True, "StatusCode": {"Code": "000"}}), content_type="application/json")

    server = HTTPServer("127.0.0.1", 0, ssl_context=server_context(files.cert, files.key, files.ca), threaded=True)
    server.expect_request(re.compile(".*"), method="POST").respond_with_handler(answer)
    server.start()
    yield server, seen
    server.stop()


REMOTE_START = {
    "ProviderID": PROV,
    "EvseID": EVSE,
    "Identification": {"RFIDMifareFamilyIdentification": {"UID": "04A2B3C4"}},
}


def test_the_hubs_calls_present_the_hubs_certificate(
    tls_hub: FakeHub, certs: dict[str, CertFiles], mtls_sut: tuple[HTTPServer, list[str | None]]
) -> None:
    server, seen = mtls_sut
    seen.clear()
    url = f"https://127.0.0.1:{server.port}/"
    routes = {"AuthorizeRemoteStart.cpo": url}
    exchange = tls_hub.client(f"https://127.0.0.1:{server.port}", routes=routes, timeout=5).call(
        "AuthorizeRemoteStart.cpo", REMOTE_START, {"providerID": PROV}, record=False
    )
    assert exchange.status == 200, exchange.error
    forwarding = FakeHub(tls=certs["op"].directory, forward_to=Forwarding(cpo=url))
    assert forwarding.forwarder is not None and forwarding.forwarder.cpo is not None
    forwarded = forwarding.forwarder.cpo.call("AuthorizeRemoteStart.cpo", REMOTE_START, {"providerID": PROV})
    assert forwarded.status == 200, forwarded.error
    assert [describe(c) for c in seen] == [describe(certs["op"].hub.read_bytes())] * 2
    assert "OU=hub" in describe(seen[0])

    # the other side: without the hub's certificate the backend refuses, and a backend of a strange CA is refused
    bare = (
        FakeHub()
        .client(url, timeout=5, verify=client_context(certs["op"].ca))
        .call("AuthorizeRemoteStart.cpo", REMOTE_START, {"providerID": PROV}, record=False)
    )
    assert bare.status is None and bare.error
    stranger = FakeHub(tls=certs["stranger"].directory).client(url, timeout=5)
    refused = stranger.call("AuthorizeRemoteStart.cpo", REMOTE_START, {"providerID": PROV}, record=False)
    assert refused.status is None and "CERTIFICATE_VERIFY_FAILED" in (refused.error or "")
    assert len(seen) == 2
