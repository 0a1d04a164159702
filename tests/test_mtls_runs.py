"""Mutual TLS with the bundled references: they serve HTTPS requiring a client certificate of the test CA and call
the hub presenting theirs; `run --tls DIR` runs reference, fake hub and suite over mTLS, and a certificate made for
another partner is judged through the hub's 017 (issue 13, part 3)."""

from __future__ import annotations

import functools
import json
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from conformance.cli.main import main
from conformance.hub import FakeHub
from conformance.hub.state import Partners
from conformance.tls import write_certs
from tests.helpers import clean_run_problems

CPO_ID, EMP_ID = "DE*REF", "DE-REF"  # the bundled references' own IDs


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> None:
    """`run` in a forked child instead of a new interpreter: the same isolation for a fraction of the CPU."""
    import conformance.runner as runner

    monkeypatch.setattr(runner, "run_suite", functools.partial(runner.run_suite, fork=True))


def _certs(folder: Path, **partner: str) -> Path:
    write_certs(folder, **partner)
    return folder


def _context(folder: Path, name: str | None, issued: Path | None = None) -> ssl.SSLContext:
    """A client trusting the folder's CA, presenting NAME.pem of folder `issued` (default: the same; None: none)."""
    context = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    if name:
        where = issued or folder
        context.load_cert_chain(where / f"{name}.pem", where / f"{name}.key")
    return context


def _tls(folder: Path) -> dict[str, str]:
    return {
        k: str(folder / f) for k, f in (("tls_cert", "client.pem"), ("tls_key", "client.key"), ("tls_ca", "ca.pem"))
    }


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One test CA with the hub's and the reference CPO's certificates, and the EMP's (emp.pem) beside them."""
    folder = _certs(tmp_path_factory.mktemp("pki"), operator=CPO_ID)
    write_certs(folder, provider=EMP_ID, name="emp")
    return folder


@pytest.fixture(scope="module")
def hub(pki: Path) -> Iterator[FakeHub]:
    hub = FakeHub(partners=Partners(operators={CPO_ID}, providers={EMP_ID}), tls=pki)
    hub.start()
    yield hub
    hub.stop()


def _refused(url: str, context: ssl.SSLContext) -> str:
    """Why the reference refused a call (it must), or a failure when it answered."""
    try:
        answer = httpx.get(url, verify=context, timeout=5)
    except httpx.HTTPError as exc:
        return str(exc) or type(exc).__name__
    pytest.fail(f"answered HTTP {answer.status_code} without a certificate of the test CA")


@pytest.mark.parametrize("role", ["cpo", "emp"])
def test_reference_serves_https_only_to_clients_of_the_ca_and_calls_the_hub_with_its_certificate(
    pki: Path, hub: FakeHub, tmp_path: Path, role: str
) -> None:
    if role == "cpo":
        from conformance.reference.cpo import Config, ReferenceCpo

        reference: Any = ReferenceCpo(Config(hub_url=hub.url, **_tls(pki)))
        trigger, operation = "push-evse-status", "PushEvseStatus"
    else:
        from conformance.reference.emp import Config as EmpConfig
        from conformance.reference.emp import ReferenceEmp

        settings = {**_tls(pki), "tls_cert": str(pki / "emp.pem"), "tls_key": str(pki / "emp.key")}
        reference = ReferenceEmp(EmpConfig(hub_url=hub.url, **settings))
        trigger, operation = "pull-evse-status", "PullEvseStatus"
    url = reference.start()
    silent = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))  # connects, never shakes hands
    try:
        assert url.startswith("https://127.0.0.1:")
        started = time.monotonic()
        probe = f"{url}/_trigger/state-sessions"
        assert httpx.get(probe, verify=_context(pki, "hub"), timeout=5).status_code == 200
        assert time.monotonic() - started < 2, "a client that never shook hands held up the next one"
        # the same trust as the call that worked, only the client certificate differs (OpenSSL words it per version)
        assert _refused(probe, _context(pki, None))
        stranger = _certs(tmp_path / "other-ca", operator=CPO_ID)  # the right name, another CA
        assert _refused(probe, _context(pki, "hub", issued=stranger))
        with pytest.raises(httpx.HTTPError):  # plain HTTP on the TLS port gets no answer
            httpx.get(probe.replace("https:", "http:"), timeout=5)
        with hub.clean() as clean:
            answer = httpx.post(f"{url}/_trigger/{trigger}", json={}, verify=_context(pki, "hub"), timeout=30).json()
            assert answer["status"] == 200, answer
            assert [c.operation.split(".")[0] for c in clean.calls(direction="in")] == [operation]
    finally:
        silent.close()
        reference.stop()


def test_reference_refuses_a_hub_whose_certificate_another_ca_signed(pki: Path, hub: FakeHub, tmp_path: Path) -> None:
    """The reference's hub client trusts only its CA: a hub of another CA gets no request (status 0, no call).
    Both times it presents the certificate the hub takes; only the CA it trusts differs."""
    from conformance.reference.cpo import Config
    from conformance.reference.cpo.hubclient import HubClient

    stranger = _certs(tmp_path / "other-ca", operator=CPO_ID)
    body = {"ActionType": "fullLoad", "OperatorEvseStatus": {"OperatorID": CPO_ID, "EvseStatusRecord": []}}
    path = f"/evsepush/v21/operators/{CPO_ID}/status-records"
    for trusted, reached in ((pki, True), (stranger, False)):
        settings = {**_tls(pki), "tls_ca": str(trusted / "ca.pem")}
        client = HubClient(Config(hub_url=hub.url, **settings, max_retries=0))
        try:
            with hub.clean() as clean:
                outcome = client.post(path, body)
                assert (outcome.status == 200, bool(clean.calls(direction="in"))) == (reached, reached), outcome
        finally:
            client.close()


def _run(tmp_path: Path, role: str, certs: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    reports = tmp_path / "reports"
    code = main(["run", "--role", role, "--tls", str(certs), "--reports", str(reports), "--seed", "5", *extra])
    return code, json.loads((reports / role / "summary.json").read_text(encoding="utf-8"))


def _failures(summary: dict[str, Any], rid: str) -> str:
    row = next(r for r in summary["requirements"] if r["id"] == rid)
    return row["status"] + ": " + " | ".join(f["title"] for f in row["failures"])


# Offline, the requirements only an offline EMP has: its pushes, its CDR downloads, and the flow where the suite,
# playing a CPO, calls the hub with a certificate of the same CA (the rest is the online run's).
OFFLINE = ("EMP-PUSH-AUTH-01", "EMP-PUSH-AUTH-04", "EMP-GET-CDR-01", "EMP-GET-CDR-03", "EMP-FLOW-03")


@pytest.mark.parametrize("mode", ["online", "offline"])
def test_clean_reference_emp_passes_over_mutual_tls(
    tmp_path: Path, forked: None, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    certs = tmp_path / "certs"
    assert main(["certs", str(certs), "--provider", EMP_ID]) == 0
    narrow = [arg for rid in OFFLINE for arg in ("--requirement", rid)] if mode == "offline" else []
    code, summary = _run(tmp_path, "emp", certs, "--mode", mode, *narrow)
    assert summary["sut"]["base_url"].startswith("https://127.0.0.1:")
    if mode == "offline":
        rows = {r["id"]: r["status"] for r in summary["requirements"]}
        assert {rid: rows.get(rid) for rid in OFFLINE} == dict.fromkeys(OFFLINE, "pass")
    assert clean_run_problems(summary) == [], capsys.readouterr().out[-3000:]
    assert (summary["verdict"], code) == ("pass", 0)


def test_clean_reference_cpo_passes_over_mutual_tls(
    tmp_path: Path, forked: None, capsys: pytest.CaptureFixture[str]
) -> None:
    certs = tmp_path / "certs"
    assert main(["certs", str(certs), "--operator", CPO_ID]) == 0
    code, summary = _run(tmp_path, "cpo", certs)
    assert summary["sut"]["base_url"].startswith("https://127.0.0.1:")
    rows = {r["id"]: r["status"] for r in summary["requirements"]}
    assert set(rows.values()) == {"pass"}, clean_run_problems(summary)
    assert (summary["verdict"], code) == ("pass", 0), capsys.readouterr().out[-3000:]


@pytest.mark.parametrize(
    ("role", "partner", "rid", "own"),
    [
        ("cpo", {"operator": "DE*OTH"}, "CPO-OUT-02", "operatorID DE*REF"),
        ("emp", {"provider": "DE-OTH"}, "EMP-OUT-02", "providerID DE-REF"),
    ],
)
def test_a_certificate_of_another_partner_is_judged_through_the_hubs_017(
    tmp_path: Path, forked: None, role: str, partner: dict[str, str], rid: str, own: str
) -> None:
    certs = _certs(tmp_path / "certs", **partner)
    code, summary = _run(tmp_path, role, certs, "--requirement", rid)
    found = _failures(summary, rid)
    other = next(iter(partner.values()))
    assert found.startswith("fail: ") and "StatusCode 017" in found, found
    assert f"client certificate of {'OperatorID' if role == 'cpo' else 'ProviderID'} {other}" in found, found
    assert f"path {own}" in found, found
    assert (summary["verdict"], code) == ("fail", 1)


def test_reproduce_curl_for_an_mtls_sut_carries_the_tls_files_and_works(pki: Path, hub: FakeHub) -> None:
    """The curl of a call to an https SUT names --cacert/--cert/--key (paths, never a key's contents); as printed it
    reaches the reference, and without those options it does not."""
    import tomllib

    from conformance.catalog import load_release
    from conformance.reference.cpo import Config, ReferenceCpo
    from conformance.strategies import Case
    from conformance.sut import parse
    from conformance.sut.client import send
    from conformance.sut.default import reference_declaration

    reference = ReferenceCpo(Config(hub_url=hub.url, **_tls(pki)))
    url = reference.start()
    try:
        sut = parse(tomllib.loads(reference_declaration(url, hub.port, tls=str(pki))))
        op = next(o for o in load_release("2.3").operations if o.id.startswith("AuthorizeRemoteStop"))
        body = {"SessionID": "b2688855-7f00-0002-6d8e-48d498008ba9", "ProviderID": "DE-DCB", "EvseID": "DE*REF*E1001*1"}
        case = Case("eRoamingAuthorizeRemoteStop", "2.3", body, {"providerID": "DE-DCB"}, op.id)
        answer = send(sut, op, case)
        assert answer.status == 200, answer.describe()
        command = answer.curl.split("\n", 3)[-1] if answer.curl.startswith("#") else answer.curl
        for option, name in (("--cacert", "ca.pem"), ("--cert", "hub.pem"), ("--key", "hub.key")):
            assert f"{option} {pki / name}" in command, command
        assert (pki / "hub.key").read_text().splitlines()[1] not in answer.curl
        if shutil.which("curl") is None:
            pytest.skip("no curl on this machine to run the command")
        ran = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=20, check=False)
        assert ran.returncode == 0 and '"Result"' in ran.stdout, (ran.returncode, ran.stdout, ran.stderr)
        bare = command.replace(f" --cert {pki / 'hub.pem'} --key {pki / 'hub.key'}", "")
        ran = subprocess.run(["bash", "-c", bare], capture_output=True, text=True, timeout=20, check=False)
        assert ran.returncode != 0 and '"Result"' not in ran.stdout, (ran.returncode, ran.stdout)
    finally:
        reference.stop()


def test_tls_folder_is_checked_before_anything_runs(
    pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One line and exit 2 for a folder without the files, an http hub with --tls, --tls beside --sut."""
    empty = tmp_path / "empty"
    empty.mkdir()
    mismatch = Path(shutil.copytree(pki, tmp_path / "mismatch"))  # client.pem beside the hub's key
    shutil.copy(pki / "hub.key", mismatch / "client.key")
    sut = tmp_path / "sut.toml"
    sut.write_text(
        'role = "cpo"\nbase_url = "http://127.0.0.1:9"\noperator_id = "DE*REF"\nevse_ids = ["DE*REF*E1*1"]\n'
    )
    cases = [
        (["reference", "cpo", "--tls", str(tmp_path / "none")], "no such folder"),
        (["reference", "emp", "--tls", str(empty)], "no client.pem, client.key, ca.pem there"),
        (["reference", "cpo", "--tls", str(pki), "--hub", "http://127.0.0.1:8080/api/oicp"], "give an https:// URL"),
        (["run", "--role", "cpo", "--tls", str(empty), "--reports", str(tmp_path)], "no ca.pem, hub.pem, hub.key"),
        (["run", "--role", "cpo", "--tls", str(pki), "--sut", str(sut)], "--tls sets up the bundled reference"),
        (["run", "--role", "cpo", "--tls", str(mismatch), "--reports", str(tmp_path)], "client.key: not a readable"),
        (["reference", "cpo", "--tls", str(mismatch)], "cannot use client.pem, client.key and ca.pem"),
    ]
    for argv, expected in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert expected in err and err.count("\n") == 1, (argv, err)


@pytest.mark.parametrize("role", ["cpo", "emp"])
def test_print_sut_with_tls_describes_the_mtls_reference(
    pki: Path, capsys: pytest.CaptureFixture[str], role: str
) -> None:
    import tomllib

    from conformance.sut import parse

    assert main(["reference", role, "--port", "9000", "--tls", str(pki), "--print-sut"]) == 0
    sut = parse(tomllib.loads(capsys.readouterr().out), "(printed)")
    assert sut.base_url == "https://127.0.0.1:9000" and sut.hub_tls == str(pki)
    assert (sut.tls_ca_file, sut.tls_cert_file, sut.tls_key_file) == tuple(
        str(pki / f) for f in ("ca.pem", "hub.pem", "hub.key")
    )
    assert main(["reference", role, "--port", "9000", "--print-sut"]) == 0
    plain = parse(tomllib.loads(capsys.readouterr().out), "(printed)")
    assert plain.base_url.startswith("http://") and plain.hub_tls is None and plain.tls_cert_file is None


def test_the_references_speak_tls_on_their_own() -> None:
    """Written like an independent team's code: the references' TLS uses ssl/httpx/werkzeug, never the tool's
    conformance.tls (nor the suite, the hub or the checks); only the schemas' location is shared."""
    import ast

    root = Path(__file__).resolve().parent.parent / "conformance" / "reference"
    for role in ("cpo", "emp"):
        for module in sorted((root / role).glob("*.py")):
            for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                foreign = [
                    n
                    for n in names
                    if n.startswith("conformance") and n.split(".")[:3] != ["conformance", "reference", role]
                ]
                assert foreign in ([], ["conformance.paths"]), (module.name, foreign)


def test_what_the_hub_refused_for_the_certificate_is_not_failed_a_second_time(tmp_path: Path, forked: None) -> None:
    """Another operator's certificate: the full-load push is refused with 017. CPO-OUT-02 fails naming both IDs;
    CPO-EVSE-DATA-01 ("the hub accepts and stores them") is not judged pointing at CPO-OUT-02 and holds no failure;
    the test fails on the 017, and the JUnit report per requirement says the same."""
    from conformance.runner import run_suite

    certs = _certs(tmp_path / "certs", operator="DE*OTH")
    reports = tmp_path / "reports"
    outcome = run_suite("cpo", reports, tls=certs, keyword="test_full_load_push", seed=5, quiet=True, fork=True)
    code, summary = outcome.exit_code, outcome.summary
    assert summary is not None
    # the test's own failure is the 017, not its consequence
    assert "[CPO-OUT-02]" in outcome.output and "[CPO-EVSE-DATA-01]" not in outcome.output, outcome.output[-3000:]
    assert "not judged in this test, the hub having performed none of it: CPO-EVSE-DATA-01" in outcome.output
    rows = {r["id"]: r for r in summary["requirements"]}
    assert rows["CPO-OUT-02"]["status"] == "fail" and "StatusCode 017" in rows["CPO-OUT-02"]["reason"]
    data = rows["CPO-EVSE-DATA-01"]
    assert data["status"] == "not judged" and "see CPO-OUT-02" in data["reason"], data
    assert data["failures"] == []
    junit = ElementTree.parse(reports / "cpo" / "junit.xml")
    cases = {case.get("name", "").split()[0]: [c.tag for c in case] for case in junit.iter("testcase")}
    assert (cases["CPO-OUT-02"], cases["CPO-EVSE-DATA-01"]) == (["failure"], ["skipped"]), cases
    assert (summary["verdict"], code) == ("fail", 1)
