"""Turn named OpenAPI/Swagger definitions into one self-contained draft-07 schema per message."""

from __future__ import annotations

import copy
from typing import Any

DRAFT7 = "http://json-schema.org/draft-07/schema#"

# OpenAPI/Swagger annotations with no JSON Schema meaning (or prose): dropped to keep files short.
_DROP = {"description", "example", "examples", "xml", "externalDocs", "discriminator", "title"}
_INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def clean(node: Any) -> Any:
    """Drop prose, turn OpenAPI `nullable` into a JSON Schema type union and int formats into bounds."""
    if isinstance(node, list):
        return [clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:  # draft-07 ignores a $ref's siblings; keep the reference alone
        return {"$ref": node["$ref"]}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP or (key.startswith("x-") and key != "x-nullable"):
            continue
        if key in ("properties", "definitions"):
            out[key] = {name: clean(sub) for name, sub in value.items()}
        else:
            out[key] = clean(value)
    if out.pop("nullable", False) | out.pop("x-nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    fmt = out.get("format")
    if out.get("type") == "integer" and fmt in _INT_BOUNDS:
        low, high = _INT_BOUNDS[out.pop("format")]
        out.setdefault("minimum", low)
        out.setdefault("maximum", high)
    return out


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    return set()


def assemble(defs: dict[str, Any], message: str) -> dict[str, Any]:
    """The message's own definition at the root, everything it reaches under `definitions`."""
    root = clean(copy.deepcopy(defs[message]))
    needed: dict[str, Any] = {}
    todo = sorted(_refs(root))
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        if name not in defs:
            raise KeyError(f"{message} refers to undefined {name}")
        needed[name] = clean(copy.deepcopy(defs[name]))
        todo.extend(sorted(_refs(needed[name]) - needed.keys()))
    schema: dict[str, Any] = {"$schema": DRAFT7, "title": message, **root}
    if needed:
        schema["definitions"] = dict(sorted(needed.items()))
    return schema
