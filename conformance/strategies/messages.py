"""Valid and invalid OICP messages and cases, for every message and operation of the catalogue."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from conformance.catalog import Operation, load_release
from conformance.strategies.case import Case
from conformance.strategies.compiler import Compiler, Gen
from conformance.strategies.context import Context, Pins, contexts, evse_id_for
from conformance.strategies.mutations import MUTATIONS, Target
from conformance.strategies.semantics import oicp
from conformance.strategies.shaping import shape
from conformance.validation import load_schema, resolve

# Record lists that `size=` stretches (PushEvseData with 1 000 EVSEs, ...), by message.
RECORD_LISTS = {
    "eRoamingPushEvseData": ("OperatorEvseData", "EvseDataRecord"),
    "eRoamingPushEvseStatus": ("OperatorEvseStatus", "EvseStatusRecord"),
}


@cache
def generator(name: str, release: str, semantic: bool = True) -> Gen:
    """The compiled generator of one message (compiled once per process)."""
    return Compiler(load_schema(name, release), oicp if semantic else None).compile()


def _stretch(msg: dict[str, Any], name: str, size: int, ctx: Context) -> None:
    """Grow a record list to `size` by repeating the drawn records under fresh EvseIDs."""
    parent = msg
    *head, key = RECORD_LISTS[name]
    for part in head:
        parent = parent[part]
    templates = parent[key]
    records = []
    for index in range(size):
        record = copy.deepcopy(templates[index % len(templates)])
        record["EvseID"] = evse_id_for(ctx.operator_id, f"{index // 100:04d}", index % 100)
        records.append(record)
    parent[key] = records


@st.composite
def messages_with_context(
    draw: st.DrawFn,
    name: str,
    release: str = "2.3",
    pins: Pins | None = None,
    size: int | None = None,
    semantic: bool = True,
) -> tuple[dict[str, Any], Context]:
    """A valid message and the context (operator, provider, EVSEs, session) it was built from."""
    name = resolve(name, release)
    ctx = draw(contexts(pins))
    ctx = Context(**{**ctx.__dict__, "message": name})
    msg = generator(name, release, semantic)(draw, ctx)
    if semantic:
        msg = shape(name, msg, ctx, draw)
        if size is not None and name in RECORD_LISTS:
            _stretch(msg, name, size, ctx)
    return msg, ctx


def valid(name: str, release: str = "2.3", pins: Pins | None = None, size: int | None = None) -> st.SearchStrategy:
    """Valid, OICP-coherent messages of `name`; `size` sets the record count of push messages."""
    return messages_with_context(name, release, pins, size).map(lambda pair: pair[0])


def structural(name: str, release: str = "2.3") -> st.SearchStrategy:
    """Schema-valid messages without the OICP layer: what schema fuzzing alone produces."""
    return messages_with_context(name, release, semantic=False).map(lambda pair: pair[0])


def raw(name: str, release: str = "2.3") -> st.SearchStrategy:
    """Plain hypothesis-jsonschema on the whole schema (the benchmark's baseline)."""
    # Imported here: hypothesis-jsonschema touches Hypothesis' storage on import, which Hypothesis warns
    # about when it happens while pytest loads plugins (the suites' plugin imports this module).
    from hypothesis_jsonschema import from_schema

    return from_schema(load_schema(resolve(name, release), release))


def path_params(op: Operation | None, ctx: Context) -> dict[str, str]:
    if op is None:
        return {}
    params = {}
    if "{operatorID}" in op.path:
        params["operatorID"] = ctx.operator_id
    if "{providerID}" in op.path:
        params["providerID"] = ctx.provider_id
    return params


def _operation(op_id: str | None, release: str) -> Operation | None:
    return load_release(release).operation(op_id) if op_id else None


@st.composite
def valid_cases(
    draw: st.DrawFn, operation: str, release: str = "2.3", pins: Pins | None = None, message: str | None = None
) -> Case:
    """A valid request of an operation, with path IDs that agree with its body (of `message`, where the
    operation takes several, e.g. the four charging notifications)."""
    op = _operation(operation, release)
    assert op is not None
    if message is not None and message not in op.request:
        raise KeyError(f"{operation} takes {', '.join(op.request)}, not {message}")
    name = message or draw(st.sampled_from(op.request))
    msg, ctx = draw(messages_with_context(name, release, pins))
    return Case(message=name, release=release, body=msg, path_params=path_params(op, ctx), operation=operation)


def _target(
    draw: st.DrawFn, name_or_operation: str, release: str, pins: Pins | None
) -> tuple[Operation | None, str, Target]:
    op = None
    if "." in name_or_operation:
        op = _operation(name_or_operation, release)
        assert op is not None
        name = draw(st.sampled_from(op.request))
    else:
        name = resolve(name_or_operation, release)
    msg, ctx = draw(messages_with_context(name, release, pins))
    return op, name, Target(msg, load_schema(name, release), path_params(op, ctx))


def _case(op: Operation | None, name: str, release: str, target: Target, spec: Any, applied: Any) -> Case:
    return Case(
        message=name,
        release=release,
        body=applied.body,
        raw=applied.raw,
        content_type=applied.content_type,
        path_params=applied.path_params or target.path_params,
        operation=op.id if op else None,
        mutation=spec.name,
        pointer=applied.pointer,
        expected=spec.expected,
    )


@st.composite
def invalid_cases(
    draw: st.DrawFn, name_or_operation: str, release: str = "2.3", pins: Pins | None = None, mutation: str | None = None
) -> Case:
    """A request broken by one named mutation (any applicable one, or the one asked for)."""
    if mutation and mutation not in MUTATIONS:
        raise KeyError(f"unknown mutation {mutation!r}; known: {', '.join(sorted(MUTATIONS))}")
    op, name, target = _target(draw, name_or_operation, release, pins)
    names = [mutation] if mutation else sorted(MUTATIONS)
    first = names.index(draw(st.sampled_from(names)))
    applied = None
    for chosen in names[first:] + names[:first]:  # the drawn one, else the next that applies
        applied = MUTATIONS[chosen].apply(draw, target)
        if applied is not None:
            break
    assume(applied is not None)
    return _case(op, name, release, target, MUTATIONS[chosen], applied)


@st.composite
def every_mutation(
    draw: st.DrawFn, name_or_operation: str, release: str = "2.3", pins: Pins | None = None
) -> list[Case]:
    """One valid message broken each way that applies to it: one case per applicable mutation."""
    op, name, target = _target(draw, name_or_operation, release, pins)
    cases = []
    for spec in MUTATIONS.values():
        if (applied := spec.apply(draw, target)) is not None:
            cases.append(_case(op, name, release, target, spec, applied))
    return cases
