"""What the fake hub saw: one `Call` per request, in order; the suites assert on it, reports show it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from conformance.validation import Violation


@dataclass
class Call:
    """One request to the hub and how it was judged and answered."""

    seq: int
    at: float
    method: str
    path: str
    operation: str | None = None
    service: str | None = None
    version: str | None = None
    call_no: int = 0  # 1 for the first call of this operation since the last reset
    params: dict[str, str] = field(default_factory=dict)
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

    @property
    def accepted(self) -> bool:
        """Answered 200 with a positive result."""
        if self.status != 200 or not isinstance(self.response, dict):
            return False
        return self.response.get("Result", True) is True and self.response.get("AuthorizationStatus") != "NotAuthorized"

    def summary(self) -> str:
        what = self.operation or "no operation"
        notes = "; ".join([*(str(v) for v in self.violations[:3]), *self.problems])
        code = self.response.get("StatusCode", {}).get("Code") if isinstance(self.response, dict) else None
        answer = f"HTTP {self.status}" + (f" StatusCode {code}" if code else "")
        return f"#{self.seq} {self.method} {self.path} -> {what}: {answer}" + (f" [{notes}]" if notes else "")


class Journal:
    """Thread-safe, append-only list of calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []

    def add(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def next_seq(self) -> int:
        with self._lock:
            return len(self._calls) + 1

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def calls(self, operation: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if operation is None or c.operation == operation]

    def __len__(self) -> int:
        return len(self._calls)
