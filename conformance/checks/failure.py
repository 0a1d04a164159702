"""A `Failure`: which requirement, what went wrong, and how to reproduce it."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.redact import current


@dataclass(frozen=True)
class Failure:
    requirement: str
    title: str
    body: str = ""
    reproduce: str = ""

    def render(self, seed: int | None = None) -> str:
        lines = [f"[{self.requirement}] {self.title}"]
        if self.body:
            lines += ["", self.body]
        if seed is not None:
            lines += ["", f"seed: {seed}"]
        if self.reproduce:
            lines += ["", "reproduce:", self.reproduce]
        return current().text("\n".join(lines))  # what is rendered is read by people: never a secret
