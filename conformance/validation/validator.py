"""The public validation API: a message, its name and release in; violations out."""

from __future__ import annotations

from functools import cache
from typing import Any

from conformance.validation.engines import ENGINES, Engine, default_engine
from conformance.validation.registry import check_profile, load_schema, resolve
from conformance.validation.violation import Violation


@cache
def compiled(name: str, release: str, profile: str, engine: str) -> Engine:
    """One compiled validator per (message, release, profile, engine), built on first use."""
    if engine not in ENGINES:
        raise LookupError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    return ENGINES[engine](load_schema(name, release, profile))


def validate(
    message: Any,
    name: str,
    release: str = "2.3",
    profile: str = "corrected",
    engine: str | None = None,
) -> list[Violation]:
    """Violations of `message` against the named OICP message (empty list: it conforms).

    `name` is the official schema name, case-insensitive (`eRoamingAcknowledgement` is accepted for
    `eRoamingAcknowledgment`). `profile` "corrected" applies the errata registry, "official" does not.
    Raises `UnknownMessage` (a LookupError) for names the release does not have.
    """
    check_profile(profile)
    validator = compiled(resolve(name, release), release, profile, engine or default_engine())
    if validator.is_valid(message):
        return []
    return validator.violations(message)


def is_valid(message: Any, name: str, release: str = "2.3", profile: str = "corrected") -> bool:
    """The verdict alone, on the fast path."""
    return compiled(resolve(name, release), release, profile, default_engine()).is_valid(message)
