"""Hypothesis strategies for OICP: valid messages shaped by OICP rules, and named invalid ones."""

from conformance.profiles import CI, DEV, default_profile
from conformance.strategies.case import Case
from conformance.strategies.context import Context, Pins, contexts
from conformance.strategies.draw import draw_many
from conformance.strategies.messages import (
    every_mutation,
    invalid_cases,
    messages_with_context,
    raw,
    structural,
    valid,
    valid_cases,
)
from conformance.strategies.mutations import MUTATIONS, Mutation

__all__ = [
    "CI",
    "DEV",
    "MUTATIONS",
    "Case",
    "Context",
    "Mutation",
    "Pins",
    "contexts",
    "default_profile",
    "draw_many",
    "every_mutation",
    "invalid_cases",
    "messages_with_context",
    "raw",
    "structural",
    "valid",
    "valid_cases",
]
