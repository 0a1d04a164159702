"""Servers listen on loopback unless told otherwise, and another address is said in one warning line.

Every listening socket here is on 127.0.0.1; 0.0.0.0 is only ever bound by the commands' own bind probe, which
closes at once: the server's start is replaced before it can listen.
"""

from __future__ import annotations

import argparse
import socket
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from conformance.cli.exposure import is_loopback
from conformance.cli.main import main, parser
from conformance.hub import FakeHub
from conformance.reference.cpo.app import ReferenceCpo
from conformance.reference.emp.app import ReferenceEmp


class _Stop(Exception):
    """Raised instead of serving until Ctrl-C, once the address is known."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _address(server: Any) -> str:
    """The address the listening socket is bound to, as the kernel reports it."""
    return server.socket.getsockname()[0]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.10", False),
        ("example.org", False),
    ],
)
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_libraries_bind_loopback_by_default() -> None:
    """The fake hub and both references, started the way the suite starts them."""
    with FakeHub() as hub:
        assert _address(hub._server.server) == "127.0.0.1"
    for reference in (ReferenceCpo(), ReferenceEmp()):
        url = reference.start()
        try:
            assert _address(reference._server) == "127.0.0.1" and url.startswith("http://127.0.0.1:")
        finally:
            reference.stop()


def _bound_then_stop(cls: type, seen: list[str]) -> Any:
    """A start() that really listens, notes the socket's address, stops and ends the command."""
    real = cls.start

    def start(self: Any, *args: Any, **kwargs: Any) -> Any:
        real(self, *args, **kwargs)
        server = self._server.server if isinstance(self, FakeHub) else self._server
        seen.append(_address(server))
        self.stop()
        raise _Stop

    return start


@pytest.mark.parametrize(
    ("argv", "cls"),
    [
        (["hub", "--port", "0"], FakeHub),
        (["reference", "cpo", "--shape", "queue"], ReferenceCpo),
        (["reference", "emp"], ReferenceEmp),
    ],
    ids=["hub", "reference-cpo", "reference-emp"],
)
def test_the_commands_listen_on_loopback_and_say_nothing(
    argv: list[str], cls: type, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[str] = []
    port = [] if cls is FakeHub else ["--port", str(_free_port())]
    with mock.patch.object(cls, "start", _bound_then_stop(cls, seen)), pytest.raises(_Stop):
        main([*argv, *port])
    assert seen == ["127.0.0.1"]
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "cls", "what", "guard"),
    [
        (["hub", "--port", "0"], FakeHub, "the fake hub", "it has no authentication unless --tls"),
        (["reference", "cpo"], ReferenceCpo, "the reference CPO", "it has no authentication unless --tls"),
        (["reference", "cpo", "--api-key", "k"], ReferenceCpo, "the reference CPO", "only calls with the --api-key"),
        (["reference", "emp"], ReferenceEmp, "the reference EMP", "it has no authentication unless --tls"),
    ],
    ids=["hub", "reference-cpo", "reference-cpo-api-key", "reference-emp"],
)
def test_another_address_warns_in_one_line(
    argv: list[str], cls: type, what: str, guard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """0.0.0.0 is only bound by the command's own probe (bind, close); the server's start never runs."""
    port = [] if cls is FakeHub else ["--port", str(_free_port())]
    with mock.patch.object(cls, "start", side_effect=_Stop), pytest.raises(_Stop):
        main([*argv, *port, "--host", "0.0.0.0"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"warning: {what} accepts calls from other machines on 0.0.0.0"), lines[0]
    assert guard in lines[0], lines[0]


def test_an_unusable_host_is_one_line_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    with mock.patch.object(ReferenceCpo, "start", side_effect=AssertionError("must not start")):
        code = main(["reference", "cpo", "--port", str(_free_port()), "--host", "a" * 80])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("oicp-conformance: error: --host 'aaaa"), err


def _declaration(tmp_path: Path, host: str) -> Path:
    from conformance.sut.default import reference_declaration

    text = reference_declaration("http://127.0.0.1:9", 8080).replace("[hub]\n", f'[hub]\nhost = "{host}"\n', 1)
    path = tmp_path / f"sut-{host.replace(':', '_')}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("host", "warns"), [("0.0.0.0", True), ("127.0.0.1", False)])
def test_a_declared_hub_host_off_loopback_warns_before_the_run(
    host: str, warns: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conformance.cli.run import check_arguments

    args: argparse.Namespace = parser().parse_args(["run", "--role", "cpo", "--sut", str(_declaration(tmp_path, host))])
    with mock.patch("conformance.cli.run._preflight"):  # no probe of the declared URLs
        check_arguments(args)
    err = capsys.readouterr().err
    assert ("the fake hub accepts calls from other machines on 0.0.0.0:8080" in err) is warns, err


@pytest.mark.parametrize(("host", "warns"), [("0.0.0.0", True), ("127.0.0.1", False)])
def test_check_config_warns_of_a_declared_hub_host_off_loopback_too(
    host: str, warns: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock.patch("conformance.sut.preflight.findings", return_value=[]):  # no probe of the declared URLs
        assert main(["check-config", str(_declaration(tmp_path, host))]) == 0
    err = capsys.readouterr().err
    assert ("the fake hub accepts calls from other machines on 0.0.0.0:8080" in err) is warns, err
