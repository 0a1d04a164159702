"""Validate OICP messages against the committed schemas of a release and profile."""

from conformance.validation.detect import detect
from conformance.validation.registry import PROFILES, UnknownMessage, load_schema, resolve
from conformance.validation.validator import is_valid, validate
from conformance.validation.violation import Violation

__all__ = ["PROFILES", "UnknownMessage", "Violation", "detect", "is_valid", "load_schema", "resolve", "validate"]
