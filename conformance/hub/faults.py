"""Scripted misbehaviour: how the hub answers a given call of a given operation instead of normally."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """One scripted answer. Build with the class methods; `process` says whether the hub still acts on
    the request (a lost acknowledgement: the CDR was stored, the answer never arrived)."""

    kind: str
    code: str = ""
    status: int = 0
    seconds: float = 0.0
    process: bool = False

    @classmethod
    def result_false(cls, code: str) -> Fault:
        """The operation's answer with Result false (NotAuthorized) and this StatusCode."""
        return cls("result-false", code=code)

    @classmethod
    def http(cls, status: int) -> Fault:
        """An HTTP error (500, 502, 503, ...) in Hubject's fault format."""
        return cls("http", status=status)

    @classmethod
    def too_many_requests(cls, retry_after: float = 1.0) -> Fault:
        return cls("429", status=429, seconds=retry_after)

    @classmethod
    def delay(cls, seconds: float, process: bool = True) -> Fault:
        """Answer normally, but only after `seconds` (longer than the caller's timeout: a lost answer)."""
        return cls("delay", seconds=seconds, process=process)

    @classmethod
    def drop(cls, process: bool = True) -> Fault:
        """Close the connection without any answer."""
        return cls("drop", process=process)

    @classmethod
    def malformed(cls) -> Fault:
        """HTTP 200 whose body is not JSON."""
        return cls("malformed", process=True)

    @classmethod
    def empty(cls) -> Fault:
        """HTTP 200 with an empty body."""
        return cls("empty", process=True)

    @classmethod
    def minimal(cls) -> Fault:
        """A correct answer without any optional member (SessionID, partner session IDs, Description)."""
        return cls("minimal", process=True)

    @classmethod
    def maximal(cls) -> Fault:
        """The normal answer with every optional member its schema defines, filled with valid values
        (SessionID, partner session IDs, StatusCode Description and AdditionalInfo, every paging member)."""
        return cls("maximal", process=True)

    @classmethod
    def no_records(cls) -> Fault:
        """The operation's answer holding no records: empty lists, an empty last page (its StatusCode kept;
        an acknowledgement, which holds no records, is unchanged)."""
        return cls("no-records", process=True)

    @property
    def name(self) -> str:
        detail = self.code or (str(self.status) if self.status and self.kind == "http" else "")
        detail = detail or (f"{self.seconds:g}s" if self.seconds else "")
        return f"{self.kind}({detail})" if detail else self.kind


class Script:
    """Faults per operation and call number (1-based); calls beyond the list are answered normally."""

    def __init__(self) -> None:
        self._plans: dict[str, list[Fault | None]] = {}
        self._always: dict[str, Fault] = {}

    def set(self, operation: str, faults: list[Fault | None] | None = None, always: Fault | None = None) -> None:
        if faults is not None:
            self._plans[operation] = list(faults)
        if always is not None:
            self._always[operation] = always

    def fault_for(self, operation: str, call_no: int) -> Fault | None:
        plan = self._plans.get(operation, [])
        if call_no <= len(plan) and plan[call_no - 1] is not None:
            return plan[call_no - 1]
        return self._always.get(operation)

    def clear(self) -> None:
        self._plans.clear()
        self._always.clear()
