"""Format assertions OICP relies on: timestamps are RFC 3339 date-times *with* an offset."""

from __future__ import annotations

import re
from datetime import datetime

from jsonschema import FormatChecker

_RFC3339 = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


def is_datetime(value: object) -> bool:
    """RFC 3339 `date-time`: a real calendar time and a mandatory `Z` or `±hh:mm` offset."""
    if not isinstance(value, str):
        return True  # format only constrains strings; the type keyword judges the rest
    if not _RFC3339.match(value):
        return False
    text = value.upper().replace("Z", "+00:00")
    if "." in text:  # Python 3.11 accepts at most 6 fraction digits; RFC 3339 has no limit
        head, rest = text.split(".", 1)
        digits = len(rest) - 6
        text = f"{head}.{rest[: min(6, digits)].ljust(6, '0')}{rest[digits:]}"
    if text[17:19] == "60":  # leap second: valid in RFC 3339, unknown to datetime
        text = text[:17] + "59" + text[19:]
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


FORMAT_CHECKER = FormatChecker(formats=())
FORMAT_CHECKER.checks("date-time")(is_datetime)
