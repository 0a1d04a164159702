"""Maximal and minimal variants of a message: every optional member present, or the required members only.

Serialisation bugs live in optional members: a receiver that crashes on a member it never saw, a sender that
drops an object it cannot map, a parser that expects a member the schema leaves out. Random messages reach such
members by chance; these two variants reach all of them (maximal) or none of them (minimal) on purpose.

Both come out of the same compiled generator and shapers as random messages (`Context.fullness` "all" or
"none"), so the OICP rules the generators know hold here too: exactly one identification option, GeoCoordinates
in exactly one format, a QR code identification with a PIN or its hash (never both), ordered timestamps,
consistent energy. Where the schema says "optional" but OICP allows only one of several members, the maximal
variant carries one; where an OICP rule asks for a member the schema calls optional (a Progress notification's
ChargingDuration), the minimal variant keeps it.
`build` draws a variant deterministically from a seed and validates it (schema and OICP rules): a variant the
suite built invalid is the suite's bug (`VariantError`), never the SUT's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

from conformance.catalog import load_release
from conformance.strategies.case import Case
from conformance.strategies.context import Context, Pins, contexts
from conformance.strategies.draw import draw_many
from conformance.strategies.messages import RECORD_LISTS, _stretch, generator, path_params
from conformance.strategies.shaping import shape
from conformance.validation import load_schema, resolve, validate

MAXIMAL, MINIMAL = "maximal", "minimal"
VARIANTS = (MAXIMAL, MINIMAL)
FULLNESS = {MAXIMAL: "all", MINIMAL: "none"}
# Objects that hold exactly one of their members, whatever the schema's "optional" says (OICP rules: one
# identification option; coordinates in one format). Their other members are alternatives, not missing ones.
CHOICES = frozenset(
    {"Identification", "AuthorizationStopIdentifications", "GeoCoordinates", "GeoChargingPointEntrance"}
)
# A QR code identification carries "a PIN field or a HashedPIN field (only one of the two options must be provided)".
QR, SECRETS = "QRCodeIdentification", ("PIN", "HashedPIN")


class VariantError(AssertionError):
    """The suite built a variant that is not a valid message: a bug of the suite, never of the SUT."""


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["definitions"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _alternative(owner: str, key: str, value: dict[str, Any]) -> bool:
    """Whether `key` of an object under member `owner` is an alternative to a member the object already has."""
    if owner in CHOICES:
        return True
    return owner == QR and key in SECRETS and any(s in value for s in SECRETS)


def _walk_missing(schema: dict[str, Any], node: dict[str, Any], value: Any, path: str, owner: str) -> Iterator[str]:
    node = _resolve(schema, node)
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_missing(schema, node.get("items", {}), item, f"{path}/{index}", owner)
        return
    if not isinstance(value, dict):
        return
    required = set(node.get("required", []))
    for key, sub in node.get("properties", {}).items():
        if key in value:
            yield from _walk_missing(schema, sub, value[key], f"{path}/{key}", key)
        elif key not in required and not _alternative(owner, key, value):
            yield f"{path}/{key}"


def missing_optional(message: Any, name: str, release: str = "2.3") -> list[str]:
    """JSON pointers of the optional members `message` could carry but lacks (alternatives of a present choice
    excluded; members below an absent one are not listed: the absent one is)."""
    schema = load_schema(resolve(name, release), release)
    return list(_walk_missing(schema, schema, message, "", ""))


def _walk_present(schema: dict[str, Any], node: dict[str, Any], value: Any, path: str, owner: str) -> Iterator[str]:
    node = _resolve(schema, node)
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_present(schema, node.get("items", {}), item, f"{path}/{index}", owner)
        return
    if not isinstance(value, dict):
        return
    required = set(node.get("required", []))
    for key, sub in node.get("properties", {}).items():
        if key not in value:
            continue
        if key not in required and owner not in CHOICES and not (owner == QR and key in SECRETS):
            yield f"{path}/{key}"
        yield from _walk_present(schema, sub, value[key], f"{path}/{key}", key)


def optional_present(message: Any, name: str, release: str = "2.3") -> list[str]:
    """JSON pointers of the optional members `message` carries (the chosen option of a choice excluded: one of
    them is needed)."""
    schema = load_schema(resolve(name, release), release)
    return list(_walk_present(schema, schema, message, "", ""))


def _fill(schema: dict[str, Any], node: dict[str, Any], value: Any, key: str) -> Any:
    node = _resolve(schema, node)
    if isinstance(value, list):
        return [_fill(schema, node.get("items", {}), item, key) for item in value]
    if isinstance(value, dict):
        props = node.get("properties", {})
        return {k: _fill(schema, props[k], v, k) if k in props else v for k, v in value.items()}
    plain = not ({"enum", "pattern", "format", "const"} & set(node))
    if value == "" and plain and node.get("maxLength", 1) >= 1:
        word = key or "value"
        low, high = max(node.get("minLength", 1), 1), node.get("maxLength", len(word))
        return (word * (low // len(word) + 1))[: max(low, len(word))][:high]
    return value


def fill_blanks(message: Any, name: str, release: str = "2.3") -> Any:
    """Free-text members left empty ("") by the generator filled with their own name: an empty optional string is
    present on the wire but absent to many receivers, and the maximal variant wants it there."""
    schema = load_schema(resolve(name, release), release)
    return _fill(schema, schema, message, "")


def problems(message: Any, name: str, release: str = "2.3", sub_operators: tuple[str, ...] = ()) -> list[str]:
    """Why `message` is no valid `name`: its schema violations, else the OICP rules it breaks (empty: valid)."""
    from conformance.validation.rules import check_rules

    found = [str(v) for v in validate(message, name, release)]
    return found or [str(v) for v in check_rules(message, sub_operators)]


def ensure_valid(message: Any, name: str, kind: str, release: str = "2.3", sub_operators: tuple[str, ...] = ()) -> Any:
    """The variant itself when it is a valid message; raises `VariantError` when it is not (the suite's bug, to be
    fixed in the suite, never blamed on the SUT)."""
    if found := problems(message, resolve(name, release), release, sub_operators):
        raise VariantError(f"the suite built an invalid {kind} {name} (a bug of the suite): " + "; ".join(found[:5]))
    return message


@st.composite
def variant_with_context(
    draw: st.DrawFn,
    name: str,
    kind: str,
    release: str = "2.3",
    pins: Pins | None = None,
    size: int | None = None,
) -> tuple[dict[str, Any], Context]:
    """A `kind` variant of message `name` and the context it was built from (not yet validated: see `ensure_valid`)."""
    if kind not in VARIANTS:
        raise ValueError(f"unknown variant {kind!r}; known: {', '.join(VARIANTS)}")
    name = resolve(name, release)
    ctx = dataclasses.replace(draw(contexts(pins)), message=name, fullness=FULLNESS[kind])
    msg = shape(name, generator(name, release)(draw, ctx), ctx, draw)
    if size is not None and name in RECORD_LISTS:
        _stretch(msg, name, size, ctx)
    if kind == MAXIMAL:
        msg = fill_blanks(msg, name, release)
    return msg, ctx


def variant(
    name: str, kind: str, release: str = "2.3", pins: Pins | None = None, size: int | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """`kind` ("maximal" or "minimal") variants of message `name`."""
    return variant_with_context(name, kind, release, pins, size).map(lambda pair: pair[0])


def maximal(name: str, release: str = "2.3", pins: Pins | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Messages with every optional member, object and list present (one option of each OICP choice)."""
    return variant(name, MAXIMAL, release, pins)


def minimal(name: str, release: str = "2.3", pins: Pins | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Messages with their required members only."""
    return variant(name, MINIMAL, release, pins)


@st.composite
def variant_cases(
    draw: st.DrawFn,
    operation: str,
    kind: str,
    release: str = "2.3",
    pins: Pins | None = None,
    message: str | None = None,
) -> Case:
    """A `kind` variant request of an operation, with path IDs that agree with its body."""
    op = load_release(release).operation(operation)
    name = message or draw(st.sampled_from(op.request))
    body, ctx = draw(variant_with_context(name, kind, release, pins))
    return Case(message=name, release=release, body=body, path_params=path_params(op, ctx), operation=operation)


def build(
    name: str,
    kind: str,
    release: str = "2.3",
    pins: Pins | None = None,
    seed: int = 0,
    size: int | None = None,
    sub_operators: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One validated `kind` variant of `name`, the same for the same seed (raises `VariantError` if invalid)."""
    [message] = draw_many(variant(name, kind, release, pins, size), 1, seed)
    return ensure_valid(message, name, kind, release, sub_operators)


def members(message: Any, path: str = "") -> set[str]:
    """Every member of a message as a JSON pointer, with `*` for the items of a list (one name per member)."""
    out: set[str] = set()
    if isinstance(message, dict):
        for key, value in message.items():
            here = f"{path}/{key}"
            out.add(here)
            out |= members(value, here)
    elif isinstance(message, list):
        for value in message:
            out |= members(value, f"{path}/*")
    return out


def differing_members(first: Any, second: Any) -> tuple[list[str], list[str]]:
    """The members only `first` carries and those only `second` carries, outermost ones only (a member below one
    that only one message has is not listed again); list items are named by `*`."""

    def outermost(pointers: set[str]) -> list[str]:
        return sorted(p for p in pointers if not any(p.startswith(q + "/") for q in pointers if q != p))

    ours, theirs = members(first), members(second)
    return outermost(ours - theirs), outermost(theirs - ours)
