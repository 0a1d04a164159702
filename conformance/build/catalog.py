"""Derive one release's catalogue from its official operations and the project's leg table."""

from __future__ import annotations

from typing import Any

from conformance.catalog.legs import LEGS, PARAMETER_ALIASES, STATUS_BY_REQUEST, Leg
from conformance.spec.model import SpecDocument, SpecOperation

_BY_TAIL = {leg.tail: leg for leg in LEGS}


class CatalogError(Exception):
    """An official operation the project's leg table does not know."""


def _split(path: str) -> tuple[str, str, str]:
    for alias, name in PARAMETER_ALIASES.items():
        path = path.replace(alias, name)
    _, service, version, tail = path.split("/", 3)
    return service, version, tail


def _expand(op: SpecOperation) -> list[tuple[SpecOperation, str]]:
    """One official operation, split where OICP 2.3 packs three status requests onto one path."""
    if len(op.requests) > 1 and set(op.requests) <= STATUS_BY_REQUEST.keys():
        out = []
        for request in op.requests:
            name, response = STATUS_BY_REQUEST[request]
            leg = next(leg for leg in LEGS if leg.name == name)
            base = op.path.rsplit("/", 1)[0]
            path = f"{base}/{leg.tail.rsplit('/', 1)[-1]}"
            out.append(
                (
                    SpecOperation(
                        path,
                        op.method,
                        op.operation_id,
                        (request,),
                        (response,),
                        op.direction,
                        op.implementation,
                        op.source,
                    ),
                    name,
                )
            )
        return out
    tail = _split(op.path)[2]
    if tail not in _BY_TAIL:
        raise CatalogError(f"{op.source}: {op.method} {op.path} is not in conformance/catalog/legs.py")
    return [(op, _BY_TAIL[tail].name)]


def _entry(leg: Leg, op: SpecOperation, served_by: str, called_by: str, need: tuple[str, str, str]) -> dict:
    service, version, tail = _split(op.path)
    return {
        "id": f"{leg.name}.{served_by}",
        "name": leg.name,
        "service": service,
        "version": version,
        "method": op.method,
        "path": f"/{service}/{version}/{tail}",
        "served_by": served_by,
        "called_by": called_by,
        "request": list(op.requests),
        "response": list(op.responses),
        "cpo": need[0],
        "emp_online": need[1],
        "emp_offline": need[2],
        "source": op.source,
    }


def build_catalog(release: str, documents: list[SpecDocument]) -> dict[str, Any]:
    """Operations (hub legs and forwarded legs), message homes, and which documents define each home."""
    legs = {leg.name: leg for leg in LEGS}
    operations: dict[str, dict[str, Any]] = {}
    messages: dict[str, set[str]] = {}
    origins: dict[str, list[str]] = {}
    for doc in documents:
        for official in doc.operations:
            for op, name in _expand(official):
                leg = legs[name]
                hub = _entry(leg, op, "hub", leg.caller, leg.caller_need)
                operations.setdefault(hub["id"], hub)
                if leg.forward_to:
                    fwd = _entry(leg, op, leg.forward_to, "hub", leg.forward_need)
                    operations.setdefault(fwd["id"], fwd)
                home = f"{hub['service']}/{hub['version']}"
                if doc.name not in origins.setdefault(home, []):
                    origins[home].append(doc.name)
                for message in (*op.requests, *op.responses):
                    messages.setdefault(message, set()).add(home)
    order = {leg.name: i for i, leg in enumerate(LEGS)}
    ops = sorted(operations.values(), key=lambda o: (order[o["name"]], o["served_by"] != "hub"))
    return {
        "release": release,
        "operations": ops,
        "messages": {m: sorted(h) for m, h in sorted(messages.items())},
        "origins": origins,
    }
