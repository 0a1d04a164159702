"""Start a bundled reference implementation for a suite run, in a given deployment shape."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass

from conformance.sut import Sut, parse


@dataclass
class Started:
    sut: Sut
    stop: Callable[[], None]
    command: str  # how a user starts the same reference by hand (for reproduce commands)


def start_reference_emp(
    hub_port: int, mode: str = "online", defects: tuple[str, ...] = (), shape: str = "official"
) -> Started:
    """The reference EMP on loopback in `mode` and `shape`, with `defects` planted, and its declaration."""
    from conformance.reference.emp import ReferenceEmp
    from conformance.reference.emp.shapes import SHAPES
    from conformance.sut.default import reference_emp_declaration

    hub_url = f"http://127.0.0.1:{hub_port}/api/oicp"
    settings = {"hub_url": hub_url, "defects": frozenset(defects)}
    mode = SHAPES[shape].config.get("mode", mode)  # a shape that names its mode (offline, cautious) keeps it
    settings["mode"] = mode
    emp = ReferenceEmp(SHAPES[shape].build(**settings))
    url = emp.start()
    text = reference_emp_declaration(url, hub_port, mode, shape=shape)
    port = url.rsplit(":", 1)[1]
    command = f"oicp-conformance reference emp --port {port} --hub {hub_url} --mode {mode}"
    command += f" --shape {shape}" if shape != "official" else ""
    command += "".join(f" --defect {d}" for d in defects)
    return Started(parse(tomllib.loads(text), f"(bundled reference EMP, {mode})"), emp.stop, command)


def start_reference(hub_port: int, shape: str = "official", defects: tuple[str, ...] = ()) -> Started:
    """The reference CPO on loopback in `shape`, with `defects` planted, and the declaration describing it."""
    from conformance.reference.cpo import Config, ReferenceCpo
    from conformance.reference.cpo.shapes import SHAPES
    from conformance.sut.default import reference_declaration

    hub_url = f"http://127.0.0.1:{hub_port}/api/oicp"
    overrides = SHAPES[shape].config if shape in SHAPES else {}
    cpo = ReferenceCpo(Config(hub_url=hub_url, defects=frozenset(defects), **overrides))
    url = cpo.start()
    text = reference_declaration(url, hub_port, shape=shape)
    port = url.rsplit(":", 1)[1]
    command = f"oicp-conformance reference cpo --port {port} --hub {hub_url}" + (
        f" --shape {shape}" if shape != "official" else ""
    )
    command += "".join(f" --defect {d}" for d in defects)
    return Started(parse(tomllib.loads(text), f"(bundled reference CPO, shape {shape})"), cpo.stop, command)
