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
    assert checked.stdout.count("ok      ") == 4 and "all declared URLs answer" in checked.stdout


def test_init_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "oicp-sut.toml"
    target.write_text("# mine\n")
    done = _init(target, "http://127.0.0.1:9")
    assert done.returncode == 2 and "exists; it stays as it is" in done.stderr
    assert target.read_text() == "# mine\n"


def test_init_refuses_answers_that_make_no_declaration(tmp_path: Path) -> None:
    target = tmp_path / "oicp-sut.toml"
    done = _init(target, "not-a-url")
    assert done.returncode == 2 and "base_url must be an http(s) URL" in done.stderr
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
