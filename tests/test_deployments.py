"""Suites against CPOs as they are deployed: own URL per operation with IDs in the query, an API key
header read from the environment (and redacted), and a hub URL with a prefix of the SUT's choosing."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.reference.cpo import Config, ReferenceCpo
from conformance.suites.requirements import CPO
from conformance.sut import ConfigError, parse
from conformance.sut.default import reference_declaration
from tests.helpers import cli

KEY = "s3cret-api-key"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def deployed(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Path, ReferenceCpo]]:
    """A reference CPO on custom URLs behind an API key, whose hub URL is fixed to a prefixed address."""
    hub_port = _port()
    defects = frozenset(getattr(request, "param", ()))
    cpo = ReferenceCpo(
        Config(hub_url=f"http://127.0.0.1:{hub_port}/custom/prefix", custom_urls=True, api_key=KEY, defects=defects)
    )
    url = cpo.start()
    declaration = tmp_path / "oicp-sut.toml"
    declaration.write_text(reference_declaration(url, hub_port, hub_prefix="/custom/prefix", custom_urls=True))
    yield declaration, cpo
    cpo.stop()


def test_custom_urls_header_and_prefix_pass_the_suite(
    deployed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    declaration, _ = deployed
    monkeypatch.setenv("OICP_REFERENCE_API_KEY", KEY)
    done = cli("run", "--role", "cpo", "--sut", str(declaration), "--reports", str(tmp_path / "r"), timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"{len(CPO)} requirements: {len(CPO)} pass" in done.stdout


@pytest.mark.parametrize("deployed", [("accept-invalid-requests",)], indirect=True)
def test_failures_show_the_header_redacted(deployed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    declaration, _ = deployed
    monkeypatch.setenv("OICP_REFERENCE_API_KEY", KEY)
    done = cli(
        "run",
        "--role",
        "cpo",
        "--sut",
        str(declaration),
        "--requirement",
        "CPO-IN-INVALID-01",
        "--reports",
        str(tmp_path / "r"),
        timeout=300,
    )
    assert done.returncode == 1
    assert "/oicp/remote-start?provider=DE-DCB" in done.stdout
    assert '-H "X-Api-Key: ${OICP_REFERENCE_API_KEY}"' in done.stdout  # double quotes: the shell fills it in
    assert KEY not in done.stdout + done.stderr
    assert KEY not in "".join(p.read_text() for p in (tmp_path / "r").rglob("*") if p.is_file())


def test_wrong_header_is_an_authorisation_problem(deployed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    declaration, _ = deployed
    monkeypatch.setenv("OICP_REFERENCE_API_KEY", "wrong")
    done = cli("run", "--role", "cpo", "--sut", str(declaration), "--reports", str(tmp_path / "r"), timeout=60)
    assert done.returncode == 2
    assert "authorisation problem" in done.stderr and "HTTP 401" in done.stderr and "X-Api-Key" in done.stderr
    assert "wrong" not in done.stderr.split("headers")[1][:40]  # names the header, not its value


def test_missing_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OICP_REFERENCE_API_KEY", raising=False)
    import tomllib

    data = tomllib.loads(reference_declaration("http://127.0.0.1:1", 1, custom_urls=True))
    with pytest.raises(
        ConfigError, match=re.escape("headers.X-Api-Key reads environment variable OICP_REFERENCE_API_KEY")
    ):
        parse(data, "sut.toml")


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ({"url": "/relative"}, "must be a full http(s) URL"),
        ({"url": "http://x/{evseID}"}, "only {operatorID} and {providerID}"),
        ({"url": "http://x/a", "method": "GET"}, "unknown key 'inbound.remote_start.method'"),
    ],
)
def test_inbound_routes_are_checked(route: dict, message: str) -> None:
    data = {
        "role": "cpo",
        "base_url": "http://x",
        "operator_id": "DE*ABC",
        "evse_ids": ["DE*ABC*E1"],
        "inbound": {"remote_start": route},
    }
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse(data, "sut.toml")
