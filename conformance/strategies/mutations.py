"""Named ways to break a valid message, each a small function in one registry.

A mutation receives the valid message and its schema and returns the broken request and the JSON
pointer it breaks (or None when the message has nothing it could break). Levels: `schema` (the
body still parses; the validator must fail exactly at the pointer), `json` (the body does not parse
or is not an object), `http` (the request is wrong around a valid body), `path` (a path ID
disagrees with the body at the pointer).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from conformance.oicp.limits import MAX_BODY_BYTES

REFUSED = "refused: HTTP 400 (Hubject validation error) or Result false; never 5xx, never Result true"


@dataclass(frozen=True)
class Target:
    """What a mutation may break: the message, its schema, and every member with its schema node."""

    message: dict[str, Any]
    schema: dict[str, Any]
    path_params: dict[str, str]

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.schema["definitions"][node["$ref"].rsplit("/", 1)[-1]]
        return node

    def members(self) -> Iterator[tuple[tuple[Any, ...], Any, dict[str, Any], dict[str, Any]]]:
        """(path, value, schema node, parent node) of every member below the root."""
        stack = [((), self.message, self.resolve(self.schema))]
        while stack:
            path, value, node = stack.pop()
            if isinstance(value, dict):
                for key, sub in value.items():
                    child = self.resolve(node.get("properties", {}).get(key, {}))
                    yield (*path, key), sub, child, node
                    stack.append(((*path, key), sub, child))
            elif isinstance(value, list):
                items = self.resolve(node.get("items", {}))
                for index, sub in enumerate(value):
                    yield (*path, index), sub, items, node
                    stack.append(((*path, index), sub, items))


@dataclass(frozen=True)
class Mutated:
    pointer: str
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    path_params: dict[str, str] | None = None


Apply = Callable[[st.DrawFn, Target], Mutated | None]


@dataclass(frozen=True)
class Mutation:
    name: str
    level: str
    description: str
    expected: str
    apply: Apply


MUTATIONS: dict[str, Mutation] = {}


def mutation(name: str, level: str, description: str, expected: str = REFUSED) -> Callable[[Apply], Apply]:
    """Register a mutation; adding one is writing one decorated function."""

    def register(fn: Apply) -> Apply:
        MUTATIONS[name] = Mutation(name, level, description, expected, fn)
        return fn

    return register


def pointer(path: tuple[Any, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def replaced(message: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of `message` with the member at `path` set to `value` (or removed for _DELETE)."""
    copy = json.loads(json.dumps(message))
    if not path:
        return value
    node = copy
    for part in path[:-1]:
        node = node[part]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return copy


_DELETE = object()


def _pick(draw: st.DrawFn, options: list[Any]) -> Any | None:
    return draw(st.sampled_from(options)) if options else None


def _type_of(node: dict[str, Any]) -> str | None:
    kind = node.get("type")
    return kind if isinstance(kind, str) else None


@mutation("missing-required", "schema", "a required member is left out")
def missing_required(draw: st.DrawFn, t: Target) -> Mutated | None:
    options = [
        (path, key)
        for path, value, node, _ in [((), t.message, t.resolve(t.schema), None), *t.members()]
        if isinstance(value, dict)
        for key in node.get("required", [])
        if key in value
    ]
    if not (choice := _pick(draw, options)):
        return None
    path, key = choice
    return Mutated(pointer((*path, key)), body=replaced(t.message, (*path, key), _DELETE))


_WRONG = {
    "string": 12345,
    "number": "12.5",
    "integer": "12",
    "boolean": "true",
    "object": "an object",
    "array": {"not": "an array"},
}


@mutation("wrong-type", "schema", "a member has another JSON type than the schema's")
def wrong_type(draw: st.DrawFn, t: Target) -> Mutated | None:
    options = [(path, _type_of(node)) for path, _, node, _ in t.members() if _type_of(node) in _WRONG]
    if not (choice := _pick(draw, options)):
        return None
    path, kind = choice
    return Mutated(pointer(path), body=replaced(t.message, path, _WRONG[kind]))


@mutation("explicit-null", "schema", "a member that is not nullable is sent as null")
def explicit_null(draw: st.DrawFn, t: Target) -> Mutated | None:
    options = [path for path, _, node, _ in t.members() if _type_of(node) and node.get("type") != "null"]
    if (path := _pick(draw, options)) is None:
        return None
    return Mutated(pointer(path), body=replaced(t.message, path, None))


def _breaks_pattern(node: dict[str, Any]) -> str | None:
    size = max(node.get("minLength", 1), 1)
    if size > node.get("maxLength", math.inf):
        return None
    for candidate in ("#" * size, "\u00e9" * size, " " * size):
        if not re.search(node["pattern"], candidate):
            return candidate
    return None


@mutation("pattern-violation", "schema", "a string does not match its pattern")
def pattern_violation(draw: st.DrawFn, t: Target) -> Mutated | None:
    options = [
        (path, bad)
        for path, value, node, _ in t.members()
        if isinstance(value, str)
        and "pattern" in node
        and (bad := _breaks_pattern(node)) is not None
        and "enum" not in node
    ]
    if not (choice := _pick(draw, options)):
        return None
    path, bad = choice
    return Mutated(pointer(path), body=replaced(t.message, path, bad))


@mutation("too-long", "schema", "a string is longer than its maxLength")
def too_long(draw: st.DrawFn, t: Target) -> Mutated | None:
    options = [
        (path, node["maxLength"])
        for path, value, node, _ in t.members()
        if isinstance(value, str) and "maxLength" in node
    ]
    if not (choice := _pick(draw, options)):
        return None
    path, limit = choice
    return Mutated(pointer(path), body=replaced(t.message, path, "X" * (limit + 1)))


@mutation("out-of-range", "schema", "a number lies outside its minimum/maximum")
def out_of_range(draw: st.DrawFn, t: Target) -> Mutated | None:
    options = []
    for path, value, node, _ in t.members():
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "maximum" in node:
                options.append((path, node["maximum"] + 1))
            if "minimum" in node:
                options.append((path, node["minimum"] - 1))
    if not (choice := _pick(draw, options)):
        return None
    path, bad = choice
    return Mutated(pointer(path), body=replaced(t.message, path, bad))


@mutation("unknown-enum", "schema", "a value outside the member's list of allowed values")
def unknown_enum(draw: st.DrawFn, t: Target) -> Mutated | None:
    options = [path for path, value, node, _ in t.members() if "enum" in node and isinstance(value, str)]
    if (path := _pick(draw, options)) is None:
        return None
    return Mutated(pointer(path), body=replaced(t.message, path, "NotAnOicpValue"))


@mutation("timestamp-without-offset", "schema", "a timestamp lacks its UTC offset")
def timestamp_without_offset(draw: st.DrawFn, t: Target) -> Mutated | None:
    options = [
        (path, value)
        for path, value, node, _ in t.members()
        if node.get("format") == "date-time" and isinstance(value, str)
    ]
    if not (choice := _pick(draw, options)):
        return None
    path, value = choice
    local = re.sub(r"([Zz]|[+-][0-9]{2}:[0-9]{2})$", "", value)
    return Mutated(pointer(path), body=replaced(t.message, path, local))


@mutation(
    "path-id-mismatch",
    "path",
    "the OperatorID/ProviderID in the path is not the one in the body",
    "refused: StatusCode 017 (unauthorised) or HTTP 400; never Result true",
)
def path_id_mismatch(draw: st.DrawFn, t: Target) -> Mutated | None:
    for param, member, other in (("operatorID", "OperatorID", "ZZ*ZZZ"), ("providerID", "ProviderID", "ZZ-ZZZ")):
        if param not in t.path_params:
            continue
        found = sorted(
            (len(path), path) for path, value, _, _ in t.members() if path[-1] == member and isinstance(value, str)
        )
        if found:
            return Mutated(pointer(found[0][1]), body=t.message, path_params={**t.path_params, param: other})
    return None


@mutation("not-json", "json", "the body is cut off mid-document")
def not_json(draw: st.DrawFn, t: Target) -> Mutated | None:
    text = json.dumps(t.message).encode()
    cut = draw(st.integers(1, max(1, len(text) - 1)))
    return Mutated("", raw=text[:cut])


@mutation("empty-body", "json", "the body is empty")
def empty_body(draw: st.DrawFn, t: Target) -> Mutated | None:
    return Mutated("", raw=b"")


@mutation("wrong-content-type", "http", "a valid body labelled text/plain", REFUSED + " (or 415)")
def wrong_content_type(draw: st.DrawFn, t: Target) -> Mutated | None:
    return Mutated("", body=t.message, content_type="text/plain")


@mutation("oversized-body", "http", f"a body over {MAX_BODY_BYTES // 2**20} MiB", REFUSED + " (or 413)")
def oversized_body(draw: st.DrawFn, t: Target) -> Mutated | None:
    text = json.dumps(t.message)[:-1] + ', "Padding": "' + "x" * MAX_BODY_BYTES + '"}'
    return Mutated("", raw=text.encode())
