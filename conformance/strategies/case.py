"""A `Case`: one request the suite sends (or expects), with what a correct receiver must answer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Case:
    """A message for an operation: valid, or broken by one named mutation at one pointer."""

    message: str
    release: str
    body: Any
    path_params: dict[str, str] = field(default_factory=dict)
    operation: str | None = None
    mutation: str | None = None
    pointer: str | None = None
    expected: str = "accepted"
    raw: bytes | None = None  # exact bytes to send when the body is not (valid) JSON
    content_type: str = "application/json"

    @property
    def valid(self) -> bool:
        return self.mutation is None

    def payload(self) -> bytes:
        """The bytes on the wire."""
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")

    def describe(self) -> str:
        what = f"{self.mutation} at {self.pointer or '(body)'}" if self.mutation else "valid"
        return f"{self.message} (OICP {self.release}): {what}"
