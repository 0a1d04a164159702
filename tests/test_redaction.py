"""No secret leaks into anything a run writes (issue 13, part 4).

One real EMP run seeds every kind of secret: an API key read from the environment and an Authorization header
(both declared [headers]), a customer's PIN (declared, sent by the suite in AuthorizeStart and pushed by the EMP in
PushAuthenticationData), a declared extra field (`[redact] fields = ["EvcoID"]`), and a private key (the [tls] key
file, and the same key leaked by the SUT into its answers). Every file under the run's folder, the rebuilt
compliance report and the run's output are then searched for each secret, raw, JSON-escaped and URL-encoded.
The controls prove the search means something: the SUT received each secret, and the reports hold the mark
where the secret stood.
"""

from __future__ import annotations

import io
import json
import re
import socket
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import trustme

from conformance.checks.failure import Failure
from conformance.cli.main import main
from conformance.hub.journal import Call
from conformance.redact import MARK, Redactor, activate, for_sut, scrub_tree
from conformance.reference.emp import ReferenceEmp
from conformance.reference.emp.model import Config
from conformance.runner import Outcome, run_suite
from conformance.sut import ConfigError, parse
from conformance.sut.default import reference_emp_declaration
from conformance.wire import curl

API_KEY = "k3y-Redaction-7f3b9c21e4"  # X-Api-Key, read from the environment
TOKEN = "t0ken-Bearer-5d8e2a61"  # Authorization, literal in the declaration
PIN = "8302917465"  # the customer's PIN
EVCO = "DE-REF-C7Q3X9K2W-5"  # the customer's EvcoID, a declared extra field
ENV = "OICP_REDACTION_TEST_KEY"
REQUIREMENTS = ["EMP-IN-AUTH-START-04", "EMP-PUSH-AUTH-02"]  # authorise the customer; push the customer's data


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _forms(secret: str) -> set[str]:
    """Every way a file could hold the secret: raw, JSON-escaped, URL-encoded."""
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}


def leaks(folder: Path, secrets: dict[str, str]) -> list[str]:
    """`file: name` for every seeded secret found in any file under `folder`, in any of its forms."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        for name, secret in secrets.items():
            if any(form.encode() in raw for form in _forms(secret)):
                found.append(f"{path.relative_to(folder)}: {name}")
    return found


def leaks_in(text: str, secrets: dict[str, str]) -> list[str]:
    """The seeded secrets found in a text (the run's output), in any of their forms."""
    return [name for name, secret in secrets.items() if any(form in text for form in _forms(secret))]


class Recorder:
    """Wraps the reference EMP: keeps the raw headers and body of every call it receives, and leaks its private key
    into every answer to AuthorizeStart (a SUT that dumps its configuration into an error answer)."""

    def __init__(self, app: Callable[..., Any], leaked: str) -> None:
        self.app, self.leaked, self.received = app, leaked, []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {k[5:]: v for k, v in environ.items() if k.startswith("HTTP_")}
        self.received.append(json.dumps(headers) + body.decode("utf-8", "replace"))
        said: list[Any] = []
        answer = b"".join(self.app(environ, lambda status, head, *_: said.extend([status, head])))
        if "authorize/start" in environ.get("PATH_INFO", ""):
            data = json.loads(answer)
            data["StatusCode"]["AdditionalInfo"] = f"config dump: {self.leaked}"
            answer = json.dumps(data).encode()
        start_response(said[0], [(k, v) for k, v in said[1] if k.lower() != "content-length"])
        return [answer]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Outcome, Recorder, list[str], dict[str, str]]]:
    """One EMP run with every kind of secret seeded; the reference EMP refuses the customer so a failure (with its
    reproduce command) is written, and pushes the customer's PIN to the fake hub."""
    folder = tmp_path_factory.mktemp("redaction")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(str(folder / "client.pem"))
    cert.private_key_pem.write_to_path(str(folder / "client.key"))
    key = cert.private_key_pem.bytes().decode()
    key_line = next(line for line in key.splitlines() if len(line) >= 60)
    pushed: list[str] = []
    hub_port = _port()
    contracts = (
        (EVCO, PIN),
        ("DE-REF-C00000002-2", None),
        ("DE-REF-C00000003-3", None),
        ("DE-REF-C00000009-9", "9999"),
    )
    emp = ReferenceEmp(
        Config(
            hub_url=f"http://127.0.0.1:{hub_port}/api/oicp",
            api_key=API_KEY,
            contracts=contracts,
            defects=frozenset({"refuse-known-evco-pin"}),
        )
    )
    emp.service.hub.http.event_hooks["request"].append(lambda request: pushed.append(request.read().decode()))
    recorder = Recorder(emp.wsgi, key)
    emp.wsgi = recorder  # type: ignore[method-assign]
    url = emp.start()
    try:
        text = reference_emp_declaration(url, hub_port, "online")
        text = text.replace("DE-REF-C00000001-1", EVCO).replace('pin = "1234"', f'pin = "{PIN}"')
        text = text.replace('features = ["authorize_stop"', 'features = ["push_authentication_data", "authorize_stop"')
        text += f'\n[headers]\nX-Api-Key = "${{{ENV}}}"\nAuthorization = "Bearer {TOKEN}"\n'
        text += f'\n[tls]\ncert_file = "{folder / "client.pem"}"\nkey_file = "{folder / "client.key"}"\n'
        text += '\n[redact]\nfields = ["EvcoID"]\n'
        declaration = folder / "oicp-sut.toml"
        declaration.write_text(text, encoding="utf-8")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(ENV, API_KEY)
            outcome = run_suite(
                "emp", folder / "reports", sut=declaration, seed=7, requirements=REQUIREMENTS, quiet=True, fork=True
            )
            assert outcome.folder is not None and outcome.summary is not None, outcome.output[-3000:]
            assert main(["report", str(outcome.folder)]) == 0  # the compliance report rebuilt as a user would
        secrets = {"API key": API_KEY, "token": TOKEN, "PIN": PIN, "EvcoID": EVCO, "private key": key_line}
        yield outcome, recorder, pushed, secrets
    finally:
        emp.stop()


def test_the_seeded_secrets_reached_the_sut(seeded: tuple[Outcome, Recorder, list[str], dict[str, str]]) -> None:
    """The control: without it, an empty report would pass the search below."""
    outcome, recorder, pushed, _ = seeded
    inbound = "\n".join(recorder.received)
    assert API_KEY in inbound and f"Bearer {TOKEN}" in inbound, "the declared headers reached the SUT"
    assert PIN in inbound and EVCO in inbound, "the suite sent the customer's PIN and EvcoID in AuthorizeStart"
    assert any(PIN in body and EVCO in body for body in pushed), "the EMP pushed the customer's PIN to the fake hub"
    rows = {r["id"]: r for r in outcome.summary["requirements"]}  # type: ignore[index]
    refused = rows["EMP-IN-AUTH-START-04"]
    assert refused["status"] in ("fail", "warn") and refused["failures"], "the planted refusal is reported"


def test_no_seeded_secret_is_in_any_file_of_the_run(
    seeded: tuple[Outcome, Recorder, list[str], dict[str, str]],
) -> None:
    outcome, _, _, secrets = seeded
    assert outcome.folder is not None
    files = [p for p in outcome.folder.rglob("*") if p.is_file()]
    assert {"summary.json", "junit.xml", "compliance.json", "compliance.html"} <= {p.name for p in files}
    assert any(p.parent.name == "allure-results" for p in files)
    assert leaks(outcome.folder, secrets) == []
    assert leaks_in(outcome.output, secrets) == [], "the run's output (a CI log) shows no secret either"


def test_the_reports_hold_the_mark_where_each_secret_stood(
    seeded: tuple[Outcome, Recorder, list[str], dict[str, str]],
) -> None:
    """Masking keeps the structure: a JSON member keeps its name, a header its name, a key its BEGIN/END lines."""
    outcome, _, _, _ = seeded
    assert outcome.folder is not None
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in outcome.folder.rglob("*") if p.is_file())
    assert f'"PIN": "{MARK}"' in text or f'\\"PIN\\": \\"{MARK}\\"' in text
    assert f'"EvcoID": "{MARK}"' in text or f'\\"EvcoID\\": \\"{MARK}\\"' in text
    assert f"X-Api-Key: ${{{ENV}}}" in text, "a header read from the environment shows as its variable"
    assert f"Authorization: {MARK}" in text
    assert re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(\\n|\n)<redacted>(\\n|\n)-----END", text)
    failure = outcome.summary["requirements"]  # type: ignore[index]
    reproduce = next(f["reproduce"] for r in failure if r["id"] == "EMP-IN-AUTH-START-04" for f in r["failures"])
    assert reproduce.startswith("# <redacted> stands for secrets") and "PIN" in reproduce.splitlines()[0]


# --- the search itself, and the redactor's rules (no run) -----------------------------------------------------


def test_the_search_finds_a_secret_in_every_form(tmp_path: Path) -> None:
    """The walk above can fail: a secret written raw, JSON-escaped or URL-encoded is found."""
    secret = 'a"b c/d'
    (tmp_path / "raw.txt").write_text(f"x {secret} y")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "escaped.json").write_text(json.dumps({"v": secret}))
    (tmp_path / "url.txt").write_text(f"https://h/?q={quote_plus(secret)}")
    (tmp_path / "clean.txt").write_text("nothing")
    assert leaks(tmp_path, {"s": secret}) == ["raw.txt: s", "sub/escaped.json: s", "url.txt: s"]


MESSAGE = {
    "Identification": {
        "QRCodeIdentification": {
            "EvcoID": "DE-ABC-C12345678-1",
            "PIN": "5551234",
            "HashedPIN": {
                "Value": "$2a$10$abcdefghijklmnopqrstuv",
                "Function": "Bcrypt",
                "LegacyHashData": {"Function": "MD5", "Salt": "pepper-99", "Value": "0123abcd"},
            },
        }
    }
}


def test_pins_and_hashes_are_masked_in_structures_and_in_text() -> None:
    redactor = Redactor()
    masked = redactor.json(MESSAGE)["Identification"]["QRCodeIdentification"]
    assert masked["PIN"] == MARK and masked["EvcoID"] == "DE-ABC-C12345678-1"
    assert masked["HashedPIN"] == {
        "Value": MARK,
        "Function": "Bcrypt",
        "LegacyHashData": {"Function": "MD5", "Salt": MARK, "Value": MARK},
    }
    for text in (json.dumps(MESSAGE), json.dumps(json.dumps(MESSAGE)), repr(MESSAGE)):
        shown = redactor.text(text)
        assert not {"5551234", "abcdefghijklmnop", "pepper-99", "0123abcd"} & set(_words(shown)), shown
        assert "Bcrypt" in shown and "DE-ABC-C12345678-1" in shown
    assert MESSAGE["Identification"]["QRCodeIdentification"]["PIN"] == "5551234", "the judged value is untouched"


def _words(text: str) -> list[str]:
    return re.findall(r"[\w$.-]+", text.replace("$2a$10$", ""))


def test_credentials_keys_and_declared_values_are_masked_in_text() -> None:
    key = trustme.CA().issue_cert("x").private_key_pem.bytes().decode()
    redactor = Redactor(secrets={"s3cret-api-key-value": "${API_KEY}", "4711": MARK})
    text = redactor.text(
        f"Authorization: Bearer abc.def.ghi\nsent s3cret-api-key-value and s3cret-api-key-value in "
        f"?k=s3cret-api-key-value, EVSE DE*ABC*E4711*1, PIN *4711*\n{key}\nend"
    )
    assert "abc.def.ghi" not in text and "Authorization: <redacted>" in text
    assert "s3cret" not in text and text.count("${API_KEY}") == 3
    assert "DE*ABC*E4711*1" in text and "*4711*" not in text, "a short secret is masked as a whole token only"
    assert "PRIVATE KEY-----\n<redacted>\n-----END" in text and key.splitlines()[1] not in text and text.endswith("end")
    assert redactor.text(text) == text, "masking twice changes nothing (reports are rebuilt from masked files)"


def test_a_reproduce_command_says_what_it_masked() -> None:
    activate(Redactor())
    try:
        body = json.dumps(MESSAGE).encode()
        command = curl("http://127.0.0.1:1/x", body, headers={"X-Api-Key": "v4lue-of-the-key"}, redacted={})
        first, rest = command.split("\n", 1)
        assert first.startswith("# <redacted> stands for secrets") and "PIN" in first and "header X-Api-Key" in first
        assert "v4lue-of-the-key" not in command and "5551234" not in command and "-H 'X-Api-Key: <redacted>'" in rest
        plain = curl("http://127.0.0.1:1/x", b"{}", headers={"X-Api-Key": "v"}, redacted={"v": "${K}"})
        assert plain.startswith("curl ") and '-H "X-Api-Key: ${K}"' in plain, "nothing masked: no note"
    finally:
        activate(None)


def test_journal_lines_and_failure_texts_are_masked() -> None:
    call = Call(seq=1, at=0.0, method="POST", path="/x", problems=[f"unknown customer {json.dumps(MESSAGE)}"])
    assert "5551234" not in call.summary() and '"PIN": "<redacted>"' in call.summary()
    failure = Failure("REQ-1", "refused", body=f"sent {MESSAGE!r}", reproduce="curl -H 'Authorization: Basic Zm9v'")
    rendered = failure.render(3)
    assert "5551234" not in rendered and "Zm9v" not in rendered and "'PIN': '<redacted>'" in rendered


def test_scrub_tree_masks_written_files(tmp_path: Path) -> None:
    (tmp_path / "r-result.json").write_text(json.dumps({"trace": json.dumps(MESSAGE), "PIN": 1234}))
    (tmp_path / "a-attachment.txt").write_text("PIN sent: " + json.dumps(MESSAGE))
    (tmp_path / "db").write_bytes(b"\xff\x00 binary 5551234")
    assert scrub_tree(tmp_path, Redactor()) == 2
    assert "5551234" not in (tmp_path / "r-result.json").read_text()
    assert json.loads((tmp_path / "r-result.json").read_text())["PIN"] == MARK
    assert "5551234" not in (tmp_path / "a-attachment.txt").read_text()
    assert scrub_tree(tmp_path, Redactor()) == 0, "a clean tree is left as it is"


def test_the_declaration_names_extra_fields_and_headers(tmp_path: Path) -> None:
    base = tomllib.loads(reference_emp_declaration("http://127.0.0.1:1", 1, "online"))
    sut = parse({**base, "redact": {"fields": ["EvcoID"], "headers": ["X-Tenant"]}}, "t.toml")
    redactor = for_sut(sut)
    assert "DE-REF-C00000001-1" in redactor.secrets and "1234" in redactor.secrets, "declared customers are secrets"
    masked = redactor.json({"EvcoID": "DE-X", "x-tenant": "acme", "Other": "kept"})
    assert masked == {"EvcoID": MARK, "x-tenant": MARK, "Other": "kept"}
    assert "X-Tenant: <redacted>" in redactor.text("X-Tenant: acme-corp")
    for bad in ({"fields": "EvcoID"}, {"fields": [""]}, {"colour": ["x"]}):
        with pytest.raises(ConfigError, match="redact"):
            parse({**base, "redact": bad}, "t.toml")


def test_configuration_problems_print_no_secret() -> None:
    """`run` and `check-config` print preflight problems on the terminal: a token in a trigger URL is masked there,
    the URL itself still shown."""
    from conformance.sut.preflight import problems

    base = tomllib.loads(reference_emp_declaration(f"http://127.0.0.1:{_port()}", 0, "online"))
    url = f"http://127.0.0.1:{_port()}/t?token=s3cr3t-tok3n-value"  # nothing listens: refused at once
    sut = parse({**base, "probes": {}, "triggers": {"pull_evse_data": {"url": url, "body": "{}"}}}, "t.toml")
    found = problems(sut)
    lines = [line for line in found if line.startswith("trigger pull_evse_data")]
    assert lines and "/t?token=<redacted>" in lines[0] and "s3cr3t" not in "\n".join(found)
