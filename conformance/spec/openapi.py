"""Read a split OpenAPI 3 document (OICP 2.3) whose files point at each other with relative `$ref`s."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from conformance.spec.model import SpecDocument, SpecOperation
from conformance.spec.yaml12 import load_yaml

_NOTE_DIRECTION = re.compile(r"To\s+`(SEND|RECEIVE)`", re.IGNORECASE)
_NOTE_IMPLEMENTATION = re.compile(r"Implementation:\s*`(MANDATORY|OPTIONAL)`", re.IGNORECASE)


def _schema_name(ref: str) -> str:
    """`../../schemas/EvseID.yaml` and `./EvseID.yaml` both name the definition `EvseID`."""
    return Path(ref.split("#", 1)[0]).stem


def _rewrite_refs(node: Any) -> Any:
    """Turn file references into local `#/definitions/<name>` references."""
    if isinstance(node, dict):
        if "$ref" in node:
            return {**node, "$ref": f"#/definitions/{_schema_name(node['$ref'])}"}
        return {key: _rewrite_refs(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node


def _message_names(schema: dict[str, Any] | None) -> tuple[str, ...]:
    if not schema:
        return ()
    if "$ref" in schema:
        return (_schema_name(schema["$ref"]),)
    return tuple(_schema_name(alt["$ref"]) for alt in schema.get("oneOf", []))


def read_openapi(root: Path, release: str) -> SpecDocument:
    """Collect the schema files and the operations of one OpenAPI tree (e.g. `openapi-2.3-cpo`)."""
    doc = SpecDocument(name=root.name, release=release)
    for path in sorted((root / "schemas").glob("*.yaml")):
        if path.stem.startswith("_"):
            continue
        doc.definitions[path.stem] = _rewrite_refs(load_yaml(path))
        doc.sources[path.stem] = f"{root.name}/schemas/{path.name}"
    top = load_yaml(root / "openapi.yaml")
    for template, ref in top["paths"].items():
        resource_file = (root / ref["$ref"]).resolve()
        resource = load_yaml(resource_file)
        for method, op in resource.items():
            note = op.get("description", "") or ""
            direction = _NOTE_DIRECTION.search(note)
            implementation = _NOTE_IMPLEMENTATION.search(note)
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            ok = op.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
            doc.operations.append(
                SpecOperation(
                    path=template,
                    method=method.upper(),
                    operation_id=op["operationId"],
                    requests=_message_names(body),
                    responses=_message_names(ok.get("schema")),
                    direction=direction.group(1).lower() if direction else "",
                    implementation=implementation.group(1).lower() if implementation else "",
                    source=f"{root.name}/{resource_file.relative_to(root.resolve())}",
                )
            )
    return doc
