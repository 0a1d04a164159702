"""Guess which OICP message a JSON object is from its top-level keys, exactly or by the closest fit.

Users paste real messages, and a real message may lack a required member or carry one the schema
does not name: the closest message is then a better answer than "fits nothing", as long as the
keys point at one message and not at several equally.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from typing import Any

from conformance.catalog import load_release
from conformance.validation.registry import load_schema

NOTIFICATION = "eRoamingChargingNotification"  # + Start/Progress/End/Error: the `Type` member names which


@cache
def _shapes(release: str) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    shapes = {}
    for name in load_release(release).messages:
        schema = load_schema(name, release)
        shapes[name] = (frozenset(schema.get("required", [])), frozenset(schema.get("properties", {})))
    return shapes


def _exact(keys: set[str], shapes: dict[str, tuple[frozenset[str], frozenset[str]]]) -> list[str]:
    fits = [(len(required), name) for name, (required, known) in shapes.items() if required <= keys <= known]
    if not fits:
        return []
    best = max(n for n, _ in fits)
    return sorted(name for n, name in fits if n == best)


def detect(message: Any, release: str) -> list[str]:
    """Messages whose required keys are all present and that know every key; best fits first.

    One name back means the message is identified; several mean the keys cannot tell them apart
    (e.g. AuthorizeRemoteStop and AuthorizeRemoteReservationStop); none, that no message fits.
    """
    if not isinstance(message, dict):
        return []
    return _exact(set(message), _shapes(release))


@dataclass(frozen=True)
class Match:
    """How an object's top-level keys fit the best message(s) of a release.

    `names`: one when identified, several when tied (ambiguous), none when nothing is close.
    `shared` of `of`: of the object's keys plus the required ones it lacks, how many the message
    knows and the object has ("7 of 8 keys" for a CDR without its ConsumedEnergy).
    `missing`/`unknown` describe the first name: required members absent, members it does not know.
    """

    names: tuple[str, ...]
    exact: bool
    shared: int
    of: int
    missing: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


def _candidates(message: dict[str, Any], release: str) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """All messages, or only the charging notification the `Type` member names (the hub dispatches on it)."""
    shapes = _shapes(release)
    kind = message.get("Type")
    if isinstance(kind, str) and f"{NOTIFICATION}{kind}" in shapes:
        return {f"{NOTIFICATION}{kind}": shapes[f"{NOTIFICATION}{kind}"]}
    return shapes


def closest(message: Any, release: str) -> Match:
    """The exact fit when there is one; else the message sharing most keys, then lacking fewest required.

    A candidate must agree on at least half of the keys (`2 * shared >= of`): `{"Foo": 1}` or a lone
    `SessionID` names no message. Ties are returned as ties; the caller decides (they stay ambiguous).
    """
    if not isinstance(message, dict):
        return Match((), False, 0, 0)
    keys = set(message)
    shapes = _candidates(message, release)
    exact = _exact(keys, shapes)
    if exact:
        return Match(tuple(exact), True, len(keys), len(keys))
    scored = []
    for name, (required, known) in shapes.items():
        shared, of = len(keys & known), len(keys | required)
        if shared and 2 * shared >= of:
            scored.append(((-shared, len(required - keys)), name))
    if not scored:
        return Match((), False, 0, len(keys))
    best = min(score for score, _ in scored)
    names = tuple(sorted(name for score, name in scored if score == best))
    required, known = shapes[names[0]]
    return Match(
        names,
        False,
        -best[0],
        len(keys | required),
        tuple(sorted(required - keys)),
        tuple(sorted(keys - known)),
    )


def unknown_members(message: dict[str, Any], name: str, release: str) -> dict[str, str | None]:
    """Top-level members `name` does not define, each with the member it most likely means (or None).

    OICP schemas let unknown members pass; a typo in an optional member's name would go unnoticed."""
    shapes = _shapes(release)
    if name not in shapes:
        return {}
    known = shapes[name][1]
    out: dict[str, str | None] = {}
    for key in sorted(set(message) - known):
        same_case = [k for k in known if k.lower() == key.lower()]
        close = same_case or difflib.get_close_matches(key, sorted(known - set(message)), n=1, cutoff=0.75)
        out[key] = close[0] if close else None
    return out
