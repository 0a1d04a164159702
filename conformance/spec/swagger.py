"""Read the OICP 2.2 Swagger 2 JSON files (one per service, each with its own definitions)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from conformance.spec.model import SpecDocument, SpecOperation

_API_PREFIX = "/api/oicp"


def message_name(definition: str) -> str:
    """Swagger names messages `ERoamingX` (sometimes `...DTO`); the project names them `eRoamingX`.

    Characters that cannot stand in a `$ref` unescaped (one 2.2 definition name has a space) become `_`.
    """
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", definition.removesuffix("DTO"))
    if name.startswith("ERoaming"):
        name = "e" + name[1:]
    return name


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {key: _rename_refs(value, renames) for key, value in node.items()}
        if "$ref" in node:
            target = node["$ref"].rsplit("/", 1)[-1]
            out["$ref"] = f"#/definitions/{renames.get(target, target)}"
        return out
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node


def read_swagger(path: Path, release: str) -> SpecDocument:
    """Definitions (messages renamed to `eRoaming...`) and operations of one Swagger file."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    renames = {name: message_name(name) for name in raw.get("definitions", {})}
    doc = SpecDocument(name=f"{path.parent.name}/{path.name}", release=release)
    for name, schema in raw.get("definitions", {}).items():
        doc.definitions[renames[name]] = _rename_refs(schema, renames)
        doc.sources[renames[name]] = doc.name
    for template, item in raw["paths"].items():
        for method, op in item.items():
            body = [p for p in op.get("parameters", []) if p.get("in") == "body"]
            ok = op.get("responses", {}).get("200", {}).get("schema", {})
            requests = tuple(renames[p["schema"]["$ref"].rsplit("/", 1)[-1]] for p in body)
            responses = (renames[ok["$ref"].rsplit("/", 1)[-1]],) if "$ref" in ok else ()
            doc.operations.append(
                SpecOperation(
                    path=template.removeprefix(_API_PREFIX),
                    method=method.upper(),
                    operation_id=op.get("operationId", ""),
                    requests=requests,
                    responses=responses,
                    direction="",
                    implementation="",
                    source=doc.name,
                )
            )
    return doc
