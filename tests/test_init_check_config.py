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
