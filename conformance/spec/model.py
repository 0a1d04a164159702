"""What a reader extracts from one official document: named definitions and operations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SpecOperation:
    """One path+method of an official document, with the message names it uses."""

    path: str
    method: str
    operation_id: str
    requests: tuple[str, ...]
    responses: tuple[str, ...]
    direction: str  # "send" / "receive" / "" as the document's note says, from its side's view
    implementation: str  # "mandatory" / "optional" / "" as the note says
    source: str


@dataclass
class SpecDocument:
    """Definitions keyed by name; every `$ref` inside them reads `#/definitions/<name>`."""

    name: str  # e.g. "openapi-2.3-cpo" or "swagger-2.2/evse-api-docs-2.2.json"
    release: str
    definitions: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # definition -> file it came from
    operations: list[SpecOperation] = field(default_factory=list)
