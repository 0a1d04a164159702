"""A single reason why a message does not conform, precise enough to fix it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


def short(value: Any, limit: int = 80) -> str:
    """A one-line JSON rendering, cut so a 10 000-EVSE array does not flood a report."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TEMPLATES = {
    "pattern": "does not match the pattern {expected_raw}",
    "maxLength": "is longer than {expected} characters",
    "minLength": "is shorter than {expected} characters",
    "maximum": "is greater than {expected}",
    "minimum": "is less than {expected}",
    "exclusiveMaximum": "is not less than {expected}",
    "exclusiveMinimum": "is not greater than {expected}",
    "maxItems": "has more than {expected} items",
    "minItems": "has fewer than {expected} items",
    "type": "is {actual_type}, not of type {expected}",
    "enum": "is not one of {expected}",
    "const": "is not {expected}",
    "format": "is not a valid {expected_raw}",
}
_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    type(None): "null",
    int: "an integer",
    float: "a number",
}


def describe(keyword: str, expected: Any, actual: Any, missing: str | None, fallback: str) -> str:
    """One engine-independent sentence per violation, short whatever the size of the value."""
    if keyword == "required":
        return f"required member {missing!r} is missing"
    if keyword == "format" and expected == "date-time":
        return "is not an RFC 3339 date-time with an offset (e.g. 2026-11-25T10:00:00+01:00)"
    template = _TEMPLATES.get(keyword)
    if template is None:
        return fallback if len(fallback) <= 200 else fallback[:199] + "…"
    return template.format(
        expected=short(expected),
        expected_raw=expected,
        actual_type=_JSON_TYPES.get(type(actual), type(actual).__name__),
    )


UNSET: Any = object()  # a Violation built without its raw values (older callers): as_dict decodes the renderings
PLAIN_LIMIT = 2000  # characters of JSON beyond which as_dict gives the cut rendering instead of the value


def plain(value: Any, rendering: str) -> tuple[Any, bool]:
    """The JSON value itself for machine-readable output, or (cut rendering, True) when it is too big."""
    if value is UNSET:
        try:
            return json.loads(rendering), False
        except ValueError:
            return rendering, rendering.endswith("…")
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) <= PLAIN_LIMIT:
        return json.loads(text), False
    return text[: PLAIN_LIMIT - 1] + "…", True


@dataclass(frozen=True)
class Violation:
    """Where (JSON pointer into the message), which schema keyword (or OICP rule), what was expected and found.

    `expected`/`actual` are one-line renderings for people; `expected_value`/`actual_value` keep the
    values themselves so JSON output carries plain values, not renderings of renderings."""

    pointer: str
    keyword: str
    expected: str
    actual: str
    message: str
    schema_pointer: str = ""
    errata: tuple[str, ...] = field(default=())
    rule: str = ""  # set for OICP rules beyond the schema (keyword "rule"); see conformance.validation.rules
    expected_value: Any = field(default=UNSET, compare=False, repr=False)
    actual_value: Any = field(default=UNSET, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON: pointer, keyword, rule, message, expected, actual, errata, schema_pointer.

        A value longer than PLAIN_LIMIT characters is given cut, as a string, with `expected_truncated`
        or `actual_truncated` set."""
        expected, expected_cut = plain(self.expected_value, self.expected)
        actual, actual_cut = plain(self.actual_value, self.actual)
        out: dict[str, Any] = {
            "pointer": self.pointer,
            "keyword": self.keyword,
            "rule": self.rule or None,
            "message": self.message,
            "expected": expected,
            "actual": actual,
            "errata": list(self.errata),
            "schema_pointer": self.schema_pointer,
        }
        if expected_cut:
            out["expected_truncated"] = True
        if actual_cut:
            out["actual_truncated"] = True
        return out

    def __str__(self) -> str:
        where = self.pointer or "(root)"
        got = "" if self.keyword == "required" else f" (got {self.actual})"
        note = f" [project erratum {', '.join(self.errata)}]" if self.errata else ""
        if self.rule:
            note += f" [OICP rule {self.rule}]"
        return f"{where}: {self.message}{got}{note}"
