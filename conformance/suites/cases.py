"""Cases as Hubject would send them: fresh IDs for every case, reproducible from the run's seed.

Hubject issues a new SessionID for every session; a suite that reuses one makes a correct SUT refuse
the second case (and be blamed for it). Every case therefore draws its own SessionID and partner
session IDs from a generator seeded by the run's seed and the test's name.
"""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

from conformance.strategies import Case, Pins, draw_many, every_mutation, invalid_cases, valid_cases
from conformance.validation import validate

# On the hub -> partner leg Hubject always fills these, whatever the schema marks optional.
HUB_FILLS = ("SessionID",)


class IdSource:
    """Seeds, SessionIDs and partner session IDs for one test: new ones on every call."""

    def __init__(self, seed: int, test: str) -> None:
        self._rng = random.Random(f"{seed}/{test}")

    def seed(self) -> int:
        return self._rng.randrange(2**31)

    def session_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def partner_session_id(self, prefix: str = "emp") -> str:
        return f"{prefix}-{self._rng.getrandbits(48):012x}"


def as_hub_sends(case: Case, session_id: str, provider_id: str) -> Case:
    """The case with the members Hubject always fills on the hub -> partner leg (unless a mutation broke them)."""
    body = case.body
    raw = case.raw
    if not isinstance(body, dict):
        carried = _object(raw)  # e.g. an oversized body: still a message, with a SessionID of its own
        old = carried.get("SessionID")
        if raw is not None and isinstance(old, str):
            return Case(**{**case.__dict__, "raw": raw.replace(old.encode(), session_id.encode())})
        return case
    old = body.get("SessionID")
    if raw is not None and isinstance(old, str) and old.encode() in raw and case.pointer != "/SessionID":
        raw = raw.replace(old.encode(), session_id.encode())  # e.g. an oversized body: the same fresh ID inside
    fixed: dict[str, Any] = dict(body)
    for member in HUB_FILLS:
        if case.pointer != f"/{member}":
            fixed[member] = session_id if member == "SessionID" else fixed.get(member)
    if "ProviderID" in fixed and case.pointer != "/ProviderID" and case.mutation != "path-id-mismatch":
        fixed["ProviderID"] = provider_id
    return Case(**{**case.__dict__, "body": fixed, "raw": raw})


def _object(raw: bytes | None) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def hub_request(
    ids: IdSource,
    op_id: str,
    release: str,
    pins: Pins,
    session_id: str | None = None,
    message: str | None = None,
    **extra: Any,
) -> Case:
    """A valid request of `op_id` (of `message`, where it takes several) as Hubject sends it, with a fresh
    SessionID unless the flow gives one."""
    sid = session_id or ids.session_id()
    pins = Pins(**{**pins.__dict__, "session_id": sid, "emp_partner_session_id": ids.partner_session_id(), **extra})
    [drawn] = draw_many(valid_cases(op_id, release, pins, message), 1, ids.seed())
    return as_hub_sends(drawn, sid, pins.provider_id or "")


def broken_requests(ids: IdSource, op_id: str, release: str, pins: Pins) -> list[Case]:
    """The operation's request broken each way that applies, each case with a SessionID of its own."""
    pinned = Pins(**{**pins.__dict__, "session_id": ids.session_id()})
    [cases] = draw_many(every_mutation(op_id, release, pinned), 1, ids.seed())
    return [_fresh(c, ids, pins) for c in cases]


def broken_request(ids: IdSource, op_id: str, release: str, pins: Pins, mutation: str) -> Case:
    [drawn] = draw_many(invalid_cases(op_id, release, pins, mutation=mutation), 1, ids.seed())
    return _fresh(drawn, ids, pins)


def breaks_mandatory(case: Case) -> bool:
    """Whether the mutation hit a member the message requires (so the spec's MUST makes the request invalid).

    A wrong type or null in an optional member the SUT ignores breaks no sentence's MUST."""
    if case.mutation == "missing-required" or not case.pointer or not isinstance(case.body, dict):
        return True
    parts = [p.replace("~1", "/").replace("~0", "~") for p in case.pointer.split("/")[1:]]
    trimmed = json.loads(json.dumps(case.body))
    node = trimmed
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        return True  # an array item: its array is there for a reason
    node.pop(parts[-1], None)
    return any(v.keyword == "required" for v in validate(trimmed, case.message, case.release))


def _fresh(case: Case, ids: IdSource, pins: Pins) -> Case:
    return as_hub_sends(case, ids.session_id(), pins.provider_id or "")
