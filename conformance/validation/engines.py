"""Two validation engines with one output: jsonschema-rs (fast) and jsonschema (reference).

Both report the same `Violation`s: the `required` keyword points at the missing member, the
expected value is read from the schema node itself, and errata named in the node's `$comment`
are attached so a user sees where the project deviates from the published text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

import jsonschema

from conformance.validation.formats import FORMAT_CHECKER
from conformance.validation.violation import Violation, describe, short

try:
    import jsonschema_rs
except ImportError:  # pragma: no cover - the package depends on it; tolerate a stripped install
    jsonschema_rs = None

_ERRATUM = re.compile(r"erratum (E-[A-Z][0-9]+)")


def pointer(parts: Iterable[Any]) -> str:
    """RFC 6901 JSON pointer from path segments."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _trail(schema: dict[str, Any], parts: list[Any]) -> list[Any]:
    """Every schema node from the root to `parts`, following `$ref`s on the way."""
    node: Any = schema
    trail = [node]
    for part in parts:
        node = node[part]
        if isinstance(node, dict) and "$ref" in node:
            node = _resolve(schema, node["$ref"])
        trail.append(node)
    return trail


def _node(schema: dict[str, Any], parts: list[Any]) -> Any:
    return _trail(schema, parts)[-1]


def _resolve(schema: dict[str, Any], ref: str) -> Any:
    return _node(schema, [p for p in ref.removeprefix("#").split("/") if p])


def _violation(
    schema: dict[str, Any],
    instance_path: list[Any],
    schema_path: list[Any],
    instance: Any,
    message: str,
    missing: str | None = None,
) -> Violation:
    keyword = str(schema_path[-1]) if schema_path else ""
    parent = schema_path[:-1]
    trail = _trail(schema, parent)
    owner = trail[-1]
    expected = owner.get(keyword) if isinstance(owner, dict) else None
    comment = " ".join(n.get("$comment", "") for n in trail if isinstance(n, dict))
    where = [*instance_path, missing] if missing is not None else instance_path
    return Violation(
        pointer=pointer(where),
        keyword=keyword,
        expected=short(expected) if keyword != "required" else short(missing),
        actual="missing" if missing is not None else short(instance),
        message=describe(keyword, expected, instance, missing, message),
        schema_pointer=pointer(schema_path),
        errata=tuple(dict.fromkeys(_ERRATUM.findall(comment))),
        expected_value=missing if keyword == "required" else expected,
        actual_value=None if missing is not None else instance,
    )


class Engine(Protocol):
    def is_valid(self, instance: Any) -> bool: ...

    def violations(self, instance: Any) -> list[Violation]: ...


class PythonEngine:
    """jsonschema's Draft7Validator: the reference; its regexes are Python's `re`."""

    name = "jsonschema"

    def __init__(self, schema: dict[str, Any]):
        self.schema = schema
        self._validator = jsonschema.Draft7Validator(schema, format_checker=FORMAT_CHECKER)

    def is_valid(self, instance: Any) -> bool:
        return self._validator.is_valid(instance)

    def violations(self, instance: Any) -> list[Violation]:
        out = []
        for error in self._validator.iter_errors(instance):
            for leaf in _leaves(error):
                schema_path = list(leaf.absolute_schema_path)
                missing = None
                if leaf.validator == "required":
                    missing = next((m for m in leaf.validator_value if m not in leaf.instance), None)
                out.append(
                    _violation(
                        self.schema,
                        list(leaf.absolute_path),
                        _with_refs(schema_path),
                        leaf.instance,
                        leaf.message,
                        missing,
                    )
                )
        return sorted(out, key=lambda v: (v.pointer, v.keyword))


def _leaves(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """anyOf/oneOf errors carry their causes in `context`; report the deepest ones."""
    if not error.context:
        return [error]
    best = jsonschema.exceptions.best_match(error.context)
    return _leaves(best) if best is not None else [error]


def _with_refs(schema_path: list[Any]) -> list[Any]:
    """jsonschema lists `$ref` hops in the path; `_node` follows references itself."""
    return [part for part in schema_path if part != "$ref"]


class RustEngine:
    """jsonschema-rs: ~100x faster on large pushes; regexes follow ECMA-262 like JSON Schema intends."""

    name = "jsonschema-rs"

    def __init__(self, schema: dict[str, Any]):
        if jsonschema_rs is None:
            raise RuntimeError("jsonschema-rs is not installed; `pip install jsonschema-rs` or use engine='python'")
        self.schema = schema
        self._validator = jsonschema_rs.Draft7Validator(schema, validate_formats=True)

    def is_valid(self, instance: Any) -> bool:
        return self._validator.is_valid(instance)

    def violations(self, instance: Any) -> list[Violation]:
        out = []
        for error in self._validator.iter_errors(instance):
            schema_path = list(error.schema_path)
            missing = None
            if schema_path and schema_path[-1] == "required":
                match = re.match(r'^"(.*)" is a required property', error.message)
                missing = match.group(1) if match else None
            out.append(
                _violation(self.schema, list(error.instance_path), schema_path, error.instance, error.message, missing)
            )
        return sorted(out, key=lambda v: (v.pointer, v.keyword))


ENGINES = {"python": PythonEngine, "rust": RustEngine}


def default_engine() -> str:
    return "rust" if jsonschema_rs is not None else "python"
