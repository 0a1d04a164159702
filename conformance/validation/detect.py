"""Guess which OICP message a JSON object is from its top-level keys."""

from __future__ import annotations

from functools import cache
from typing import Any

from conformance.catalog import load_release
from conformance.validation.registry import load_schema


@cache
def _shapes(release: str) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    shapes = {}
    for name in load_release(release).messages:
        schema = load_schema(name, release)
        shapes[name] = (frozenset(schema.get("required", [])), frozenset(schema.get("properties", {})))
    return shapes


def detect(message: Any, release: str) -> list[str]:
    """Messages whose required keys are all present and that know every key; best fits first.

    One name back means the message is identified; several mean the keys cannot tell them apart
    (e.g. AuthorizeRemoteStop and AuthorizeRemoteReservationStop); none, that no message fits.
    """
    if not isinstance(message, dict):
        return []
    keys = set(message)
    fits = [
        (len(required), name)
        for name, (required, known) in _shapes(release).items()
        if required <= keys and keys <= known
    ]
    if not fits:
        return []
    best = max(n for n, _ in fits)
    return sorted(name for n, name in fits if n == best)
