"""Compile a committed message schema into a generator: one closure per schema node, built once.

The structure (objects, arrays, required and optional members) follows the schema; string leaves
with patterns or lengths come from hypothesis-jsonschema's `from_schema`; `semantics` (when given)
replaces leaves and blocks by OICP-aware generators keyed by member name (see `semantics.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from hypothesis import strategies as st

from conformance.oicp.time import render
from conformance.strategies.context import Context

Gen = Callable[[st.DrawFn, Context], Any]
OMIT = object()
_LINE_BREAKS = frozenset("\n\r\u2028\u2029")  # a generator returning OMIT leaves its member out
Semantics = Callable[["Compiler", str, dict[str, Any], bool], Gen | None]
_PLAIN_TEXT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -_."


@cache
def _leaf(schema_json: str) -> st.SearchStrategy[Any]:
    # Python's `$` also matches before a final newline and its `.` matches \r, ECMA-262's (JSON Schema's)
    # do not: such strings pass hypothesis-jsonschema and Python's re but fail jsonschema-rs and receivers.
    # Imported here: hypothesis-jsonschema touches Hypothesis' storage on import, which Hypothesis warns
    # about while pytest loads plugins (the suites' plugin imports the strategies).
    from hypothesis_jsonschema import from_schema

    return from_schema(json.loads(schema_json)).filter(lambda s: not (isinstance(s, str) and _LINE_BREAKS & set(s)))


def leaf_strategy(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    """hypothesis-jsonschema for one leaf, cached by the leaf's text (many leaves repeat)."""
    plain = {k: v for k, v in node.items() if k not in ("$comment", "title")}
    return _leaf(json.dumps(plain, sort_keys=True))


class Compiler:
    """Turns one self-contained schema into a `Gen`; `semantics=None` gives the plain structural generator."""

    def __init__(self, schema: dict[str, Any], semantics: Semantics | None = None, max_items: int = 3):
        self.root = schema
        self.semantics = semantics
        self.max_items = max_items

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.root["definitions"][node["$ref"].rsplit("/", 1)[-1]]
        return node

    def compile(self) -> Gen:
        return self.node(self.root, "", False)

    def node(self, node: dict[str, Any], name: str, in_array: bool) -> Gen:
        node = self.resolve(node)
        if self.semantics is not None and (special := self.semantics(self, name, node, in_array)) is not None:
            return special
        kind = node.get("type")
        if isinstance(kind, list):
            kind = next(k for k in kind if k != "null")
        if kind == "object" or "properties" in node:
            return self.object(node)
        if kind == "array":
            return self.array(node, name)
        if kind == "boolean":
            return lambda draw, ctx: draw(st.booleans())
        if kind in ("integer", "number"):
            return self.number(node)
        return self.string(node)

    def object(self, node: dict[str, Any]) -> Gen:
        required = set(node.get("required", []))
        members = [
            (key, key in required, self.node(sub, key, False)) for key, sub in node.get("properties", {}).items()
        ]
        optional = sum(1 for _, needed, _ in members if not needed)
        mask_strategy = st.integers(0, 2**optional - 1)

        def gen(draw: st.DrawFn, ctx: Context) -> dict[str, Any]:
            # One draw decides every optional member (fewer draws: faster); "all"/"none" examples
            # (swarm testing) make deep optional blocks reachable in few examples.
            if ctx.fullness == "all":
                mask = -1
            elif ctx.fullness == "none" or not optional:
                mask = 0
            else:
                mask = draw(mask_strategy)
            out, bit = {}, 0
            for key, needed, member in members:
                if not needed:
                    bit += 1
                    if not mask >> (bit - 1) & 1:
                        continue
                value = member(draw, ctx)
                if value is not OMIT:
                    out[key] = value
            return out

        return gen

    def array(self, node: dict[str, Any], name: str) -> Gen:
        items = self.node(node.get("items", {}), name, True)
        low = node.get("minItems", 0)
        high = min(node.get("maxItems", low + self.max_items), low + self.max_items)
        low = max(low, 1) if high >= 1 else low

        def gen(draw: st.DrawFn, ctx: Context) -> list[Any]:
            return [items(draw, ctx) for _ in range(draw(st.integers(low, high)))]

        return gen

    def number(self, node: dict[str, Any]) -> Gen:
        low, high = node.get("minimum", 0), node.get("maximum", 10_000)
        if node.get("type") == "integer":
            ints = st.integers(int(low), int(min(high, max(low, 0) + 10_000)))
            return lambda draw, ctx: draw(ints)
        floats = st.integers(int(low * 1000), int(min(high, low + 10_000) * 1000)).map(lambda n: n / 1000)
        return lambda draw, ctx: draw(floats)

    def string(self, node: dict[str, Any]) -> Gen:
        if "enum" in node:
            choices = st.sampled_from([v for v in node["enum"] if v is not None])
            return lambda draw, ctx: draw(choices)
        if node.get("format") == "date-time":
            return lambda draw, ctx: draw(timestamps())
        if "pattern" in node:
            leaf = leaf_strategy(node)
            return lambda draw, ctx: draw(leaf)
        text = st.text(_PLAIN_TEXT, min_size=node.get("minLength", 0), max_size=min(node.get("maxLength", 30), 30))
        return lambda draw, ctx: draw(text)


def timestamps() -> st.SearchStrategy[str]:
    """RFC 3339 timestamps with an offset, independent of any context."""
    return st.builds(
        render,
        st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
        st.integers(-12 * 4, 14 * 4).map(lambda quarters: quarters * 15),
    )
