"""The shapes real EMP backends come in, as named bundles of `Config` flags: the suite must pass each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.reference.emp.model import Config


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
        Shape("official", "online EMP on the official OICP path templates, synchronous triggers"),
        Shape("custom-urls", "one URL per operation with OperatorID in the query", {"custom_urls": True}),
        Shape(
            "forward",
            "triggers carry the OICP message and the EMP forwards it to the hub",
            {"trigger_mode": "forward"},
        ),
        Shape("relay", "a trigger answers with the hub's own final HTTP status and body", {"trigger_mode": "relay"}),
        Shape(
            "queue",
            "triggers answer 202, one worker per operation delivers; custom URLs",
            {"trigger_mode": "queue", "custom_urls": True},
        ),
        Shape(
            "offline",
            "offline EMP: serves nothing, uploads its authentication data and downloads its CDRs",
            {"mode": "offline"},
        ),
        Shape("lenient", "takes a valid JSON body whatever its Content-Type", {"lenient_content_type": True}),
        Shape(
            "cautious",
            "offline EMP whose CDR downloads reach a minute back into the previous range (booked once)",
            {"mode": "offline", "cdr_window_overlap": 60.0},
        ),
    )
}


def describe() -> str:
    """One line per shape, for --help."""
    return "; ".join(f"{s.name}: {s.description}" for s in SHAPES.values())
