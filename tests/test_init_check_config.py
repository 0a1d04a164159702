"""`init` writes a declaration `check-config` accepts; `check-config` names every URL that does not answer."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.reference.cpo import Config, ReferenceCpo
from tests.helpers import cli


@pytest.fixture
def reference() -> Iterator[str]:
    cpo = ReferenceCpo(Config(hub_url="http://127.0.0.1:1/api/oicp"))
    yield cpo.start()
    cpo.stop()


def _init(path: Path, base_url: str, *extra: str):
    return cli(
        "init",
        "-o",
        str(path),
        "--base-url",
        base_url,
        "--operator-id",
        "DE*REF",
        "--evse-id",
        "DE*REF*E1001*1",
        "--hub-port",
        "18099",
        *extra,
        stdin="",
    )


def test_init_then_check_config(tmp_path: Path, reference: str) -> None:
    target = tmp_path / "oicp-sut.toml"
    done = _init(target, reference, "--feature", "reservation")
    assert done.returncode == 0, done.stderr
    assert "# oicp-sut.toml for my CPO backend" in target.read_text()
    checked = cli("check-config", str(target))
    assert checked.returncode == 0, checked.stdout
    # the fake hub's port, four inbound operations (reservation declared); the declaration has no triggers yet
    assert checked.stdout.count("ok      ") == 5 and "every declared URL, trigger and probe answers" in checked.stdout
    assert "PROBLEM" not in checked.stdout


def test_init_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "oicp-sut.toml"
    target.write_text("# mine\n")
    done = _init(target, "http://127.0.0.1:9")
    assert done.returncode == 2 and "exists; it stays as it is" in done.stderr
    assert target.read_text() == "# mine\n"


def test_init_refuses_answers_that_make_no_declaration(tmp_path: Path) -> None:
    target = tmp_path / "oicp-sut.toml"
    done = _init(target, "not-a-url")
    assert done.returncode == 2 and "--base-url 'not-a-url': is not an http(s) URL" in done.stderr
    assert not target.exists()


def test_check_config_names_each_unreachable_url(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = tmp_path / "oicp-sut.toml"
    assert _init(target, f"http://127.0.0.1:{port}").returncode == 0
    done = cli("check-config", str(target), timeout=60)
    assert done.returncode == 2
    assert done.stdout.count("PROBLEM") == 2 and "unreachable: ConnectError" in done.stdout
    assert "AuthorizeRemoteStart.cpo" in done.stdout and "AuthorizeRemoteStop.cpo" in done.stdout


def test_check_config_rejects_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('role = "cpo"\n')
    done = cli("check-config", str(bad))
    assert done.returncode == 2 and "missing required key 'base_url'" in done.stderr


# --- init: answers checked one by one, nothing the user wrote lost ----------------------------------


def _parsed(*argv: str):
    from conformance.cli.main import parser

    return parser().parse_args(["init", *argv])


def _scripted(answers: list[str], prompts: list[str]):
    """A terminal user typing `answers` in turn (EOFError when they run out)."""
    from conformance.cli.init import Asker

    def read(prompt: str) -> str:
        prompts.append(prompt)
        if not answers:
            raise EOFError
        return answers.pop(0)

    return Asker(interactive=True, read=read)


def test_evse_ids_comma_separated_and_repeated(tmp_path: Path) -> None:
    from conformance.sut import load

    target = tmp_path / "oicp-sut.toml"
    features = ("--feature", "reservation,authorize_stop")
    done = _init(target, "http://127.0.0.1:9", "--evse-id", "DE*REF*E2*1,DE*REF*E3*1", *features)
    assert done.returncode == 0, done.stderr
    sut = load(target)
    assert sut.evse_ids == ("DE*REF*E1001*1", "DE*REF*E2*1", "DE*REF*E3*1")
    assert sut.features == frozenset({"reservation", "authorize_stop"})


@pytest.mark.parametrize(
    ("flag", "value", "problem"),
    [
        ("--evse-id", "DE*XYZ*E1*1", "'DE*XYZ*E1*1' belongs to operator DE*XYZ, not to DE*REF"),
        ("--evse-id", "DE*REF", "'DE*REF' is not an OICP EvseID (like DE*REF*E1*1)"),
        ("--hub-port", "70000", "--hub-port '70000': is not a port (1-65535)"),
        ("--feature", "teleport", "unknown feature(s) teleport"),
        ("--trigger-url", "ftp://x", "is neither an http(s) URL"),
        ("--prefix", "api oicp", "--prefix 'api oicp': a path starting with /"),
        ("--release", "2.4", "--release '2.4': init writes declarations for OICP 2.3 or 2.2"),
    ],
)
def test_init_flags_are_checked(tmp_path: Path, flag: str, value: str, problem: str) -> None:
    target = tmp_path / "oicp-sut.toml"
    done = _init(target, "http://127.0.0.1:9", flag, value)
    assert done.returncode == 2 and problem in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not target.exists()


def test_operator_id_is_checked(tmp_path: Path) -> None:
    done = cli("init", "-o", str(tmp_path / "s.toml"), "--operator-id", "DE*", "--defaults")
    assert done.returncode == 2 and "--operator-id 'DE*': is not an OICP OperatorID" in done.stderr


def test_force_replaces_only_with_a_valid_declaration(tmp_path: Path) -> None:
    target = tmp_path / "oicp-sut.toml"
    target.write_text("# mine\n")
    refused = _init(target, "not-a-url", "--force")
    assert refused.returncode == 2 and target.read_text() == "# mine\n"
    replaced = _init(target, "http://127.0.0.1:9", "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert target.read_text().startswith("# oicp-sut.toml for my CPO backend")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["oicp-sut.toml"]  # no temporary file left behind


def test_defaults_ask_nothing(tmp_path: Path) -> None:
    from conformance.sut import load

    target = tmp_path / "new" / "oicp-sut.toml"
    done = cli("init", "-o", str(target), "--defaults")
    assert done.returncode == 0, done.stderr
    sut = load(target)
    assert (sut.operator_id, sut.evse_ids, sut.hub_port, sut.triggers) == ("DE*ABC", ("DE*ABC*E1*1",), 8080, {})


def test_piped_answers_end_early(tmp_path: Path) -> None:
    done = cli("init", "-o", str(tmp_path / "s.toml"), stdin="ACME\nhttp://127.0.0.1:9000\n")
    assert done.returncode == 2 and "input ended before 'its OperatorID' was answered" in done.stderr
    assert "pass --operator-id, or use --defaults" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_piped_wrong_answer_stops_instead_of_shifting_the_answers(tmp_path: Path) -> None:
    answers = "ACME\nhttp://127.0.0.1:9000\nDE*ABC\nDE*XYZ*E1\n8080\n"
    done = cli("init", "-o", str(tmp_path / "s.toml"), stdin=answers)
    assert done.returncode == 2 and "'DE*XYZ*E1' belongs to operator DE*XYZ, not to DE*ABC" in done.stderr


def test_interactive_init_asks_again_until_each_answer_is_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conformance.cli.init import run
    from conformance.sut import load

    target = tmp_path / "oicp-sut.toml"
    answers = [
        "ACME",
        "localhost:9000",  # no scheme
        "http://127.0.0.1:9000/",
        "DE*",  # no OperatorID
        "DE*ACM",
        "DE*XYZ*E1*1",  # another operator's EVSE
        "DE*ACM*E1*1, DE*ACM*E1*2",
        "eighty",
        "0",
        "8081",
        "teleport",
        "authorize_stop, charging_notifications",
        "ftp://nope",
        "{base_url}/admin",
    ]
    prompts: list[str] = []
    assert run(_parsed("-o", str(target)), _scripted(answers, prompts)) == 0
    complaints = capsys.readouterr().err.splitlines()
    assert len(complaints) == 7 and all(line.endswith("; try again") for line in complaints)
    assert "'eighty' is not a number (a port is 1-65535)" in complaints[3]
    sut = load(target)
    assert (sut.name, sut.base_url, sut.operator_id, sut.hub_port) == ("ACME", "http://127.0.0.1:9000", "DE*ACM", 8081)
    assert sut.evse_ids == ("DE*ACM*E1*1", "DE*ACM*E1*2")
    assert sut.features == frozenset({"authorize_stop", "charging_notifications"})
    assert set(sut.triggers) == {
        "push_evse_data",
        "push_evse_status",
        "authorize_start",
        "authorize_stop",
        "end_session",
        "send_notification",
    }
    assert sut.triggers["end_session"].url == "{base_url}/admin/end-session"
    assert any("authorize_stop, reservation, charging_notifications, dynamic_pricing" in p for p in prompts)


def test_interactive_eof_and_ctrl_c_end_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from conformance.cli.main import main

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    target = tmp_path / "s.toml"
    monkeypatch.setattr("sys.stdin", Terminal(""))
    assert main(["init", "-o", str(target)]) == 2
    assert "input ended before 'name of the system under test' was answered" in capsys.readouterr().err

    def interrupted(prompt: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", interrupted)
    assert main(["init", "-o", str(target)]) == 130
    assert capsys.readouterr().err == "oicp-conformance: interrupted\n"
    assert not target.exists()


# --- init --role emp ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def reference_emp() -> Iterator[str]:
    from conformance.reference.emp import Config as EmpConfig
    from conformance.reference.emp import ReferenceEmp

    emp = ReferenceEmp(EmpConfig(hub_url="http://127.0.0.1:1/api/oicp"))
    yield emp.start()
    emp.stop()


@pytest.fixture
def admin() -> Iterator[str]:
    """An EMP's admin API as check-config sees it: every trigger (POST) and probe (GET) answers JSON."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Answer(BaseHTTPRequestHandler):
        def _json(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = _json

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


EMP_CORE = ("--role", "emp", "--provider-id", "DE-ABC")


def _init_emp(path: Path, *extra: str, base_url: str = "http://127.0.0.1:9", stdin: str = ""):
    return cli(
        "init", "-o", str(path), *EMP_CORE, "--base-url", base_url, "--hub-port", str(_free_port()), *extra, stdin=stdin
    )


def test_emp_init_with_every_flag_then_check_config(tmp_path: Path, reference_emp: str, admin: str) -> None:
    from conformance.cli.init import emp_triggers_for
    from conformance.sut import load

    target = tmp_path / "oicp-sut.toml"
    features = ["authorize_stop", "charging_notifications", "reservation"]
    done = _init_emp(
        target,
        *("--name", "ACME EMP", "--mode", "online", "--feature", ",".join(features)),
        *("--rfid", "AABBCCDD", "--rfid", "04A1B2C3D4E5F6,0102030405060708090A", "--unknown-rfid", "DEADBEEF"),
        *("--evco-pin", "DE-ABC-C12345678-1:1234", "--evco-id", "DE-ABC-C12345679-2,DEABCC12345670X"),
        *("--trigger-url", f"{admin}/admin", "--probe-url", f"{admin}/state"),
        base_url=reference_emp,
    )
    assert done.returncode == 0, done.stderr
    sut = load(target)
    assert (sut.role, sut.mode, sut.name, sut.provider_id, sut.base_url) == (
        "emp",
        "online",
        "ACME EMP",
        "DE-ABC",
        reference_emp,
    )
    assert sut.identifications == {
        "rfid": ["AABBCCDD", "04A1B2C3D4E5F6", "0102030405060708090A"],
        "evco_pins": [{"evco_id": "DE-ABC-C12345678-1", "pin": "1234"}],
        "evco_ids": ["DE-ABC-C12345679-2", "DEABCC12345670X"],
        "unknown_rfid": "DEADBEEF",
    }
    assert sut.features == frozenset(features)
    assert list(sut.triggers) == emp_triggers_for("online", features)
    assert {"reservation_start", "reservation_stop"} <= set(sut.triggers)
    assert not {"get_cdrs", "push_auth_data", "pull_evse_pricing"} & set(sut.triggers)
    assert sut.triggers["remote_stop"].url == f"{admin}/admin/remote-stop"
    assert sut.probes["authorizations"] == f"{admin}/state/authorizations" and len(sut.probes) == 6
    checked = cli("check-config", str(target))
    assert checked.returncode == 0, checked.stdout
    # the hub, the four operations the reference EMP serves (both optional ones declared), each trigger and probe
    assert checked.stdout.count("ok      ") == 1 + 4 + len(sut.triggers) + 6 and "PROBLEM" not in checked.stdout


def test_emp_offline_init_writes_the_offline_triggers(tmp_path: Path) -> None:
    from conformance.sut import load

    target = tmp_path / "oicp-sut.toml"
    done = _init_emp(target, "--mode", "offline", "--trigger-url", "{base_url}/admin", "--defaults")
    assert done.returncode == 0, done.stderr
    sut = load(target)
    assert sut.mode == "offline" and sut.features == frozenset() and sut.inbound == {}
    assert {"get_cdrs", "get_new_cdrs", "push_auth_data"} <= set(sut.triggers)
    assert not {"reservation_start", "pull_pricing_products", "pull_evse_status_by_id"} & set(sut.triggers)
    assert sut.triggers["get_cdrs"].body == '{"from": "{from}", "to": "{to}"}'
    assert sut.triggers["push_auth_data"].url == "{base_url}/admin/push-auth-data"
    online = tmp_path / "online.toml"
    assert _init_emp(online, "--trigger-url", "{base_url}/admin", "--defaults").returncode == 0
    assert not {"get_cdrs", "get_new_cdrs", "push_auth_data"} & set(load(online).triggers)


def test_emp_triggers_and_probes_match_what_a_declaration_knows() -> None:
    import re

    from conformance.cli.init import EMP_PROBE_PATHS, EMP_TRIGGERS
    from conformance.sut.declaration import EMP_PLACEHOLDERS, EMP_PROBES

    assert set(EMP_TRIGGERS) == set(EMP_PLACEHOLDERS) and tuple(EMP_PROBE_PATHS) == EMP_PROBES
    for name, (_, body, _) in EMP_TRIGGERS.items():
        assert set(re.findall(r"\{(\w+)\}", body)) <= set(EMP_PLACEHOLDERS[name]), name


def test_emp_defaults_with_the_core_flags_ask_nothing(tmp_path: Path) -> None:
    from conformance.sut import load

    for extra in ((), ("--defaults",)):
        target = tmp_path / f"oicp-sut{len(extra)}.toml"
        done = _init_emp(target, *extra, stdin="")
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"wrote {target}; next: oicp-conformance check-config {target}\n"
        sut = load(target)
        assert (sut.mode, sut.identifications, sut.triggers, sut.probes) == ("online", {}, {}, {})
        text = target.read_text()
        assert "# [identifications]" in text and '# evco_pins = [{ evco_id = "DE-ABC-C' in text
        assert "# [probes]" in text and "# [triggers.remote_start]" in text


@pytest.mark.parametrize(
    ("flag", "value", "problem"),
    [
        ("--evco-id", "DE-XYZ-C12345678-1", "'DE-XYZ-C12345678-1' belongs to provider DE-XYZ, not to DE-ABC"),
        ("--evco-pin", "DE-XYZ-C12345678-1:1234", "'DE-XYZ-C12345678-1' belongs to provider DE-XYZ, not to DE-ABC"),
        ("--evco-pin", "DE-ABC-C12345678-1", "is not EVCOID:PIN"),
        ("--evco-id", "DE-ABC", "'DE-ABC' is not an OICP EvcoID"),
        ("--rfid", "aabbccdd", "'aabbccdd' is not an RFID UID"),
        ("--mode", "sometimes", "--mode 'sometimes': is no EMP mode (online or offline)"),
        ("--feature", "dynamic_pricing,push_evse_data", "unknown feature(s) push_evse_data"),
        ("--probe-url", "ftp://x", "is neither an http(s) URL"),
        ("--operator-id", "DE*ABC", "--operator-id describes a CPO; it has no place with --role emp"),
        ("--evse-id", "DE*ABC*E1*1", "--evse-id describes a CPO; it has no place with --role emp"),
    ],
)
def test_emp_init_flags_are_checked(tmp_path: Path, flag: str, value: str, problem: str) -> None:
    target = tmp_path / "oicp-sut.toml"
    done = _init_emp(target, flag, value, "--defaults")
    assert done.returncode == 2 and problem in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not target.exists()


def test_emp_flags_are_refused_for_a_cpo(tmp_path: Path) -> None:
    target = tmp_path / "oicp-sut.toml"
    for flag, value in (("--provider-id", "DE-ABC"), ("--mode", "offline"), ("--rfid", "AABBCCDD")):
        done = _init(target, "http://127.0.0.1:9", flag, value)
        assert done.returncode == 2 and f"{flag} describes an EMP; it has no place with --role cpo" in done.stderr
        assert "add --role emp" in done.stderr and not target.exists()
    done = _init(target, "http://127.0.0.1:9", "--feature", "get_charge_detail_records")
    assert done.returncode == 2 and "unknown feature(s) get_charge_detail_records" in done.stderr


EMP_ANSWERS = [
    "ACME EMP",  # name
    "offline",  # mode
    "http://127.0.0.1:9100",  # base URL
    "DE*ABC",  # ProviderID
    "AABBCCDD, 04A1B2C3D4E5F6",  # RFIDs
    "DE-ABC-C12345678-1:1234",  # contracts with PIN
    "none",  # Plug&Charge
    "DEADBEEF",  # unknown RFID
    "8081",  # hub port
    "pull_evse_status_by_id",  # features
    "{base_url}/admin",  # triggers
    "{base_url}/state",  # probes
]


def test_emp_piped_answers(tmp_path: Path) -> None:
    from conformance.sut import load

    target = tmp_path / "oicp-sut.toml"
    done = cli("init", "--role", "emp", "-o", str(target), stdin="\n".join(EMP_ANSWERS) + "\n")
    assert done.returncode == 0, done.stderr
    assert "does it serve Hubject's calls (online) or none (offline) [online]: offline" in done.stdout
    sut = load(target)
    assert (sut.name, sut.mode, sut.base_url, sut.provider_id, sut.hub_port) == (
        "ACME EMP",
        "offline",
        "http://127.0.0.1:9100",
        "DE*ABC",
        8081,
    )
    assert sut.identifications == {
        "rfid": ["AABBCCDD", "04A1B2C3D4E5F6"],
        "evco_pins": [{"evco_id": "DE-ABC-C12345678-1", "pin": "1234"}],
        "unknown_rfid": "DEADBEEF",
    }
    assert {"pull_evse_status_by_id", "get_cdrs", "push_auth_data"} <= set(sut.triggers)
    assert sut.probes["outcomes"] == "{base_url}/state/outcomes"


def test_emp_piped_wrong_answer_stops(tmp_path: Path) -> None:
    target = tmp_path / "oicp-sut.toml"
    answers = [*EMP_ANSWERS[:5], "DE-XYZ-C12345678-1:1234", *EMP_ANSWERS[6:]]
    done = cli("init", "--role", "emp", "-o", str(target), stdin="\n".join(answers) + "\n")
    assert done.returncode == 2 and "belongs to provider DE-XYZ, not to DE*ABC" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not target.exists()
    ended = cli("init", "--role", "emp", "-o", str(target), stdin="\n".join(EMP_ANSWERS[:4]) + "\n")
    assert ended.returncode == 2 and "pass --rfid, or use --defaults" in ended.stderr


def test_emp_interactive_init_asks_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.cli.init import run
    from conformance.sut import load

    target = tmp_path / "oicp-sut.toml"
    answers = [
        "ACME EMP",
        "sometimes",  # no mode
        "",  # online
        "http://127.0.0.1:9100",
        "DE*",  # no ProviderID
        "DE-ABC",
        "aabbccdd",  # lower case
        "AABBCCDD",
        "DE-XYZ-C12345678-1:1234",  # another provider's contract
        "",  # none
        "DE-ABC-C12345679-2",
        "AABBCCDD",  # a known card as the unknown one
        "",  # none
        "8081",
        "reservation, teleport",
        "authorize_stop",
        "none",
        "none",
    ]
    prompts: list[str] = []
    assert run(_parsed("--role", "emp", "-o", str(target)), _scripted(answers, prompts)) == 0
    complaints = capsys.readouterr().err.splitlines()
    assert len(complaints) == 6 and all(line.endswith("; try again") for line in complaints)
    sut = load(target)
    assert (sut.mode, sut.provider_id, sut.features) == ("online", "DE-ABC", frozenset({"authorize_stop"}))
    assert sut.identifications == {"rfid": ["AABBCCDD"], "evco_ids": ["DE-ABC-C12345679-2"]}
    assert any("get_charge_detail_records, push_authentication_data" in p for p in prompts)
