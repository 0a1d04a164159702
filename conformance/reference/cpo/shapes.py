"""The shapes real CPO backends come in, as named bundles of `Config` flags: the suite must pass each.

`oicp-conformance reference cpo --shape NAME` runs one; `conformance.sut.default.reference_declaration(...,
shape=NAME)` describes it to the suite."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.reference.cpo.model import FEATURES, Config


@dataclass(frozen=True)
class Shape:
    name: str
    description: str
    config: dict[str, Any] = field(default_factory=dict)  # the Config fields that differ from the default

    def build(self, **settings: Any) -> Config:
        """The shape's Config; `settings` (hub_url, defects, api_key, ...) add to or override its flags."""
        return Config(**{**self.config, **settings})


SHAPES: dict[str, Shape] = {
    s.name: s
    for s in (
        Shape("official", "official OICP path templates, synchronous triggers, every optional feature"),
        Shape("custom-urls", "one URL per operation with ProviderID in the query", {"custom_urls": True}),
        Shape(
            "forward",
            "triggers carry the OICP message and the CPO forwards it to the hub",
            {"trigger_mode": "forward"},
        ),
        Shape("relay", "a trigger answers with the hub's own final HTTP status and body", {"trigger_mode": "relay"}),
        Shape(
            "queue",
            "triggers answer 202, one worker per operation delivers; custom URLs, strict SessionIDs",
            {"trigger_mode": "queue", "custom_urls": True, "strict_sessions": True},
        ),
        Shape(
            "strict",
            "refuses a RemoteStart/ReservationStart reusing a SessionID, a ReservationStop for an unknown one",
            {"strict_sessions": True},
        ),
        Shape("lenient", "takes a valid JSON body whatever its Content-Type", {"lenient_content_type": True}),
        Shape(
            "sub-operator",
            "hub operator DE*REF also runs sub-operator DE*SUB's EVSEs, pushed under DE*REF",
            {"sub_operator": "DE*SUB"},
        ),
        Shape(
            "minimal",
            f"no optional feature ({', '.join(FEATURES)}): their endpoints and triggers answer 404",
            {"features": frozenset()},
        ),
    )
}


def describe() -> str:
    """One line per shape, for --help."""
    return "; ".join(f"{s.name}: {s.description}" for s in SHAPES.values())
