"""Timestamps as OICP needs them: RFC 3339 with an explicit offset, comparable across offsets."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone


def parse(value: str) -> datetime:
    """An aware datetime from an RFC 3339 string (raises ValueError when it has no offset)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return parsed


def render(moment: datetime, offset_minutes: int) -> str:
    """RFC 3339 in the given offset, milliseconds precision, `Z` for UTC."""
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    text = local.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def in_order(*values: str) -> bool:
    """Whether the timestamps are non-decreasing in real time (offsets taken into account)."""
    moments = [parse(v) for v in values]
    return all(a <= b for a, b in itertools.pairwise(moments))
