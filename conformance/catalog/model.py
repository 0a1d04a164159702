"""Operations and releases as read from the committed `schemas/` tree."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from conformance.paths import schemas_dir

ROLES = ("cpo", "emp_online", "emp_offline")


@dataclass(frozen=True)
class Operation:
    """One leg of OICP: a POST that `called_by` sends and `served_by` answers."""

    id: str
    name: str
    service: str
    version: str
    method: str
    path: str
    served_by: str
    called_by: str
    request: tuple[str, ...]
    response: tuple[str, ...]
    cpo: str
    emp_online: str
    emp_offline: str
    source: str

    def need(self, role: str) -> str:
        """How much `role` (cpo, emp, emp_online, emp_offline) needs this operation."""
        if role == "emp":
            needs = {self.emp_online, self.emp_offline}
            return "mandatory" if "mandatory" in needs else "optional" if "optional" in needs else "-"
        return getattr(self, role)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Operation:
        return cls(**{**raw, "request": tuple(raw["request"]), "response": tuple(raw["response"])})


@dataclass(frozen=True)
class Release:
    """An OICP release: its service versions, operations and the schema file of each message."""

    name: str
    services: dict[str, list[str]]
    operations: tuple[Operation, ...]
    messages: dict[str, list[str]]  # message -> ["service/version", ...] that use it

    def operation(self, op_id: str) -> Operation:
        for op in self.operations:
            if op.id == op_id:
                return op
        raise KeyError(op_id)

    def for_role(self, role: str) -> list[Operation]:
        """Operations `role` must or may serve or call (`emp`: either kind of EMP)."""
        return [op for op in self.operations if op.need(role) != "-"]


@cache
def releases() -> dict[str, dict[str, list[str]]]:
    """`schemas/releases.json`: release -> service -> versions."""
    return json.loads((schemas_dir() / "releases.json").read_text(encoding="utf-8"))


@cache
def load_release(name: str) -> Release:
    """Read the catalogue of one release; raises KeyError naming the known releases."""
    if name not in releases():
        raise KeyError(f"unknown OICP release {name!r}; known: {', '.join(sorted(releases()))}")
    raw = json.loads((schemas_dir() / f"oicp-{name}" / "catalog.json").read_text(encoding="utf-8"))
    return Release(
        name=name,
        services=releases()[name],
        operations=tuple(Operation.from_json(op) for op in raw["operations"]),
        messages=raw["messages"],
    )
