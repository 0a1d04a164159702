"""What the fake hub saw and did: one `Call` per request it received or made, in order of arrival.

The suites assert on it and reports show it; calls the hub made to partners (`direction` "out") sit in
the same journal, so a report tells one story: the CPO asked, the hub asked the EMP, the EMP answered.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field
from typing import Any

from conformance.redact import current
from conformance.validation import Violation


@dataclass
class Call:
    """One request to the hub ("in") or from the hub to a partner ("out"), how it was judged and answered.

    `violations` are always the partner's: of its request for an "in" call, of its answer for an "out" call.
    """

    seq: int
    at: float
    method: str
    path: str
    operation: str | None = None
    service: str | None = None
    version: str | None = None
    call_no: int = 0  # 1 for the first call of this operation since the last reset
    params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)  # "in": the query string (page, size, ...)
    content_type: str = ""
    body: Any = None
    size: int = 0
    violations: list[Violation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # hub-level refusals and findings, in words
    status: int = 0
    response: Any = None
    fault: str | None = None
    concurrent: bool = False  # another push of the same operator was in flight
    duration: float = 0.0
    direction: str = "in"  # "in": a partner called the hub; "out": the hub called a partner
    url: str = ""  # "out": the full URL called
    curl: str = ""  # "out": a copy-paste reproduction, secrets redacted
    error: str | None = None  # "out": why no answer came (timeout, refused connection, ...)
    caused_by: int | None = None  # "out": the seq of the "in" call the hub was forwarding
    # "in": whether the body the hub read is UTF-8 (CPO 1 REST): None when the hub never read it (a scripted answer,
    # too large), "" when it is, else why not (see `conformance.wire.utf8_problem`)
    encoding: str | None = None
    # "in": the hub's session the call's SessionID names, as it began (where the hub knows it): "authorize",
    # "remote" or "reservation", and the identification it began with
    session_origin: str | None = None
    session_identification: dict[str, Any] | None = None

    @property
    def accepted(self) -> bool:
        """Answered 200 with a positive result."""
        if self.status != 200 or not isinstance(self.response, dict):
            return False
        return self.response.get("Result", True) is True and self.response.get("AuthorizationStatus") != "NotAuthorized"

    def summary(self) -> str:
        """One line for logs and failure texts, secrets masked (a violation may quote a PIN it found)."""
        return current().text(self._summary())

    def _summary(self) -> str:
        what = self.operation or "no operation"
        notes = "; ".join([*(str(v) for v in self.violations[:3]), *self.problems])
        code = self.response.get("StatusCode", {}).get("Code") if isinstance(self.response, dict) else None
        answer = f"HTTP {self.status}" + (f" StatusCode {code}" if code else "")
        if self.direction == "out":
            answer = answer if self.error is None else f"no answer ({self.error})"
            return f"#{self.seq} out {self.method} {self.url} -> {what}: {answer}" + (f" [{notes}]" if notes else "")
        return f"#{self.seq} {self.method} {self.path} -> {what}: {answer}" + (f" [{notes}]" if notes else "")


class Journal:
    """Thread-safe list of calls in `seq` order: a call is numbered when it starts and listed when it ends,
    so a forwarded request (numbered first, finished last) still comes before the call it caused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._seq = 0
        self._numbers: dict[tuple[str, str], int] = {}

    def add(self, call: Call) -> None:
        with self._lock:
            bisect.insort(self._calls, call, key=lambda c: c.seq)

    def next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def number(self, operation: str, direction: str) -> int:
        """The next `call_no` of this operation in this direction (1 for the first since the last clear)."""
        with self._lock:
            key = (operation, direction)
            self._numbers[key] = self._numbers.get(key, 0) + 1
            return self._numbers[key]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
            self._seq = 0
            self._numbers.clear()

    def calls(self, operation: str | None = None, direction: str | None = None) -> list[Call]:
        """The calls, optionally of one operation id and one direction ("in" or "out")."""
        with self._lock:
            return [
                c
                for c in self._calls
                if (operation is None or c.operation == operation) and (direction is None or c.direction == direction)
            ]

    def __len__(self) -> int:
        return len(self._calls)
