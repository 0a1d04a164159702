"""Find the committed schema of a message by name, forgivingly but never ambiguously."""

from __future__ import annotations

import difflib
import json
from functools import cache
from typing import Any

from conformance.catalog import load_release, releases
from conformance.paths import schemas_dir

PROFILES = ("corrected", "official")


class UnknownMessage(LookupError):
    """A message name that no schema of the release carries; `suggestions` holds close matches."""

    def __init__(self, name: str, release: str, suggestions: list[str]):
        self.name, self.release, self.suggestions = name, release, suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown message {name!r} in OICP {release}{hint}")


def _key(name: str) -> str:
    """Case-insensitive, and the two official spellings of acknowledg(e)ment are one message."""
    return name.lower().replace("acknowledgement", "acknowledgment")


def check_release(release: str) -> None:
    if release not in releases():
        raise LookupError(f"unknown OICP release {release!r}; known: {', '.join(sorted(releases()))}")


def check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise LookupError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")


def resolve(name: str, release: str) -> str:
    """The official spelling of `name` in `release` (e.g. `eroamingacknowledgement` -> `eRoamingAcknowledgment`)."""
    check_release(release)
    known = load_release(release).messages
    by_key = {_key(m): m for m in known}
    if _key(name) in by_key:
        return by_key[_key(name)]
    close = difflib.get_close_matches(_key(name), list(by_key), n=3, cutoff=0.6)
    raise UnknownMessage(name, release, [by_key[c] for c in close])


@cache
def load_schema(name: str, release: str, profile: str = "corrected") -> dict[str, Any]:
    """The self-contained schema of an official message name (see `resolve`)."""
    check_profile(profile)
    home = load_release(release).messages[name][0]  # identical in every home: tests/test_schemas.py
    prefix = f"oicp-{release}" if profile == "corrected" else f"official/oicp-{release}"
    path = schemas_dir() / prefix / home / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))
