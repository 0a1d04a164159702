"""Load the errata registry and apply it to the official definitions of one release."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_KINDS = ("pattern", "rule", "add", "rename", "optional")


class ErrataError(Exception):
    """An erratum that does not match the official text any more (or a malformed registry)."""


@dataclass(frozen=True)
class Erratum:
    id: str
    kind: str
    releases: tuple[str, ...]
    title: str
    official: Any
    corrected: Any
    reason: str
    extra: dict[str, Any] = field(default_factory=dict)


def load_errata(path: Path) -> list[Erratum]:
    """Parse `schemas/errata.toml`; the known fields become attributes, the rest `extra`."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = []
    for item in raw.get("erratum", []):
        missing = {"id", "kind", "releases", "title", "official", "corrected", "reason"} - item.keys()
        if missing:
            raise ErrataError(f"{path}: erratum {item.get('id', '?')} lacks {', '.join(sorted(missing))}")
        fixed = {k: item.pop(k) for k in ("id", "kind", "title", "official", "corrected", "reason")}
        entries.append(Erratum(releases=tuple(item.pop("releases")), extra=item, **fixed))
    ids = [e.id for e in entries]
    if len(ids) != len(set(ids)):
        raise ErrataError(f"{path}: duplicate erratum ids")
    return entries


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _nodes(item)


def _mark(node: dict[str, Any], erratum_id: str) -> None:
    """Record on the changed node which erratum changed it, so violations can name it."""
    previous = node.get("$comment")
    node["$comment"] = f"{previous}; erratum {erratum_id}" if previous else f"erratum {erratum_id}"


def _apply_pattern(defs: dict[str, Any], e: Erratum) -> int:
    count = 0
    for node in _nodes(defs):
        if node.get("pattern") == e.official and isinstance(node.get("pattern"), str):
            node["pattern"] = e.corrected
            _mark(node, e.id)
            count += 1
    return count


def _rule_string_length_keywords(defs: dict[str, Any], e: Erratum) -> int:
    count = 0
    for node in _nodes(defs):
        if node.get("type") != "string":
            continue
        changed = False
        for number_kw, string_kw in (("maximum", "maxLength"), ("minimum", "minLength")):
            if number_kw in node:
                node[string_kw] = node.pop(number_kw)
                changed = True
        if changed:
            _mark(node, e.id)
            count += 1
    return count


RULES: dict[str, Callable[[dict[str, Any], Erratum], int]] = {
    "string-length-keywords": _rule_string_length_keywords,
}


def _apply_add(defs: dict[str, Any], e: Erratum) -> int:
    definition = e.extra["definition"]
    if definition not in defs:
        return 0
    *parents, key = e.extra["pointer"].strip("/").split("/")
    node = defs[definition]
    for part in parents:
        node = node[part]
    if key in node:
        raise ErrataError(f"erratum {e.id}: {definition}{e.extra['pointer']} already exists in the official text")
    node[key] = e.corrected
    _mark(node, e.id)
    return 1


def _apply_rename(defs: dict[str, Any], e: Erratum) -> int:
    count = 0
    for definition in e.extra["definitions"]:
        node = defs.get(definition)
        if not node or e.official not in node.get("properties", {}):
            continue
        node["properties"] = {
            (e.corrected if key == e.official else key): value for key, value in node["properties"].items()
        }
        if e.official in node.get("required", []):
            node["required"] = [e.corrected if key == e.official else key for key in node["required"]]
        _mark(node, e.id)
        count += 1
    return count


def _apply_optional(defs: dict[str, Any], e: Erratum) -> int:
    """A member the OpenAPI requires but the text makes optional: dropped from `required`."""
    node = defs.get(e.extra["definition"])
    if not node:
        return 0
    member = e.extra["member"]
    if member not in node.get("required", []):
        raise ErrataError(f"erratum {e.id}: {e.extra['definition']} does not require {member} in the official text")
    node["required"] = [key for key in node["required"] if key != member]
    _mark(node, e.id)
    return 1


def apply_errata(defs: dict[str, Any], errata: list[Erratum], release: str) -> dict[str, int]:
    """Apply the schema errata of `release` in place; return how many places each changed."""
    applied: dict[str, int] = {}
    for e in errata:
        if release not in e.releases or e.kind not in SCHEMA_KINDS:
            continue
        if e.kind == "pattern":
            applied[e.id] = _apply_pattern(defs, e)
        elif e.kind == "rule":
            if e.extra.get("rule") not in RULES:
                raise ErrataError(f"erratum {e.id}: unknown rule {e.extra.get('rule')!r}; known: {sorted(RULES)}")
            applied[e.id] = RULES[e.extra["rule"]](defs, e)
        elif e.kind == "rename":
            applied[e.id] = applied.get(e.id, 0) + _apply_rename(defs, e)
        elif e.kind == "optional":
            applied[e.id] = applied.get(e.id, 0) + _apply_optional(defs, e)
        else:
            applied[e.id] = _apply_add(defs, e)
    return applied
