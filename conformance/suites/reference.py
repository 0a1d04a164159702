"""Start a bundled reference implementation for a suite run, in a given deployment shape."""

from __future__ import annotations

import shlex
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.sut import Sut, parse


@dataclass
class Started:
    sut: Sut
    stop: Callable[[], None]
    command: str  # how a user starts the same reference by hand (for reproduce commands)


def tls_config(directory: Path | None) -> dict[str, str]:
    """A reference's Config fields for mutual TLS with the certificates `oicp-conformance certs DIR` wrote:
    it serves and calls the hub with DIR/client.pem and trusts only DIR/ca.pem. None: plain HTTP."""
    if directory is None:
        return {}
    return {
        "tls_cert": str(directory / "client.pem"),
        "tls_key": str(directory / "client.key"),
        "tls_ca": str(directory / "ca.pem"),
    }


def start_reference_emp(
    hub_port: int,
    mode: str = "online",
    defects: tuple[str, ...] = (),
    shape: str = "official",
    tls: Path | None = None,
) -> Started:
    """The reference EMP on loopback in `mode` and `shape`, with `defects` planted, and its declaration;
    over mutual TLS with the certificates of folder `tls` when given."""
    from conformance.reference.emp import ReferenceEmp
    from conformance.reference.emp.shapes import SHAPES
    from conformance.sut.default import reference_emp_declaration

    tls = tls.resolve() if tls else None
    hub_url = f"{'https' if tls else 'http'}://127.0.0.1:{hub_port}/api/oicp"
    settings: dict[str, Any] = {"hub_url": hub_url, "defects": frozenset(defects), **tls_config(tls)}
    mode = SHAPES[shape].config.get("mode", mode)  # a shape that names its mode (offline, cautious) keeps it
    settings["mode"] = mode
    emp = ReferenceEmp(SHAPES[shape].build(**settings))
    url = emp.start()
    text = reference_emp_declaration(url, hub_port, mode, shape=shape, tls=str(tls) if tls else None)
    port = url.rsplit(":", 1)[1]
    command = f"oicp-conformance reference emp --port {port} --hub {hub_url} --mode {mode}"
    command += f" --shape {shape}" if shape != "official" else ""
    command += f" --tls {shlex.quote(str(tls))}" if tls else ""
    command += "".join(f" --defect {d}" for d in defects)
    return Started(parse(tomllib.loads(text), f"(bundled reference EMP, {mode})"), emp.stop, command)


def start_reference(
    hub_port: int, shape: str = "official", defects: tuple[str, ...] = (), tls: Path | None = None
) -> Started:
    """The reference CPO on loopback in `shape`, with `defects` planted, and the declaration describing it;
    over mutual TLS with the certificates of folder `tls` when given."""
    from conformance.reference.cpo import Config, ReferenceCpo
    from conformance.reference.cpo.shapes import SHAPES
    from conformance.sut.default import reference_declaration

    tls = tls.resolve() if tls else None
    hub_url = f"{'https' if tls else 'http'}://127.0.0.1:{hub_port}/api/oicp"
    overrides = SHAPES[shape].config if shape in SHAPES else {}
    cpo = ReferenceCpo(Config(hub_url=hub_url, defects=frozenset(defects), **overrides, **tls_config(tls)))
    url = cpo.start()
    text = reference_declaration(url, hub_port, shape=shape, tls=str(tls) if tls else None)
    port = url.rsplit(":", 1)[1]
    command = f"oicp-conformance reference cpo --port {port} --hub {hub_url}" + (
        f" --shape {shape}" if shape != "official" else ""
    )
    command += "".join(f" --defect {d}" for d in defects)
    command += f" --tls {shlex.quote(str(tls))}" if tls else ""
    return Started(parse(tomllib.loads(text), f"(bundled reference CPO, shape {shape})"), cpo.stop, command)
