"""Which optional members generated examples reached: the generator's blind spots, made visible.

A member is named by its owner and path: `Identification.QRCodeIdentification` for a member of a
named definition, `eRoamingAuthorizeStart:.EvseID` for one of the message's own (inline) tree.
"""

from __future__ import annotations

from typing import Any


def _walk(
    schema: dict[str, Any], node: dict[str, Any], owner: str, path: str, value: Any, out: set[str], seen: frozenset[str]
) -> None:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen = seen | {name}
        owner, path, node = name, "", schema["definitions"][name]
    if value is _ANY or isinstance(value, dict):
        for key, sub in node.get("properties", {}).items():
            if value is _ANY or key in value:
                out.add(f"{owner}:{path}.{key}")
                _walk(schema, sub, owner, f"{path}.{key}", _ANY if value is _ANY else value[key], out, seen)
    if "items" in node and (value is _ANY or isinstance(value, list)):
        for item in [_ANY] if value is _ANY else value:
            _walk(schema, node["items"], owner, f"{path}[]", item, out, seen)


_ANY = object()


def reached(schema: dict[str, Any], message: Any) -> set[str]:
    """The members present in `message`, named by owner and path."""
    out: set[str] = set()
    _walk(schema, schema, schema.get("title", ""), "", message, out, frozenset())
    return out


def reachable(schema: dict[str, Any]) -> set[str]:
    """Every member the schema allows, named the same way."""
    out: set[str] = set()
    _walk(schema, schema, schema.get("title", ""), "", _ANY, out, frozenset())
    return out
