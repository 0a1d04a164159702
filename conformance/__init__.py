"""oicp-conformance: contract tests and conformance checks for OICP (Hubject eRoaming)."""

from conformance.validation import UnknownMessage, Violation, detect, is_valid, validate

__all__ = ["UnknownMessage", "Violation", "detect", "is_valid", "validate"]
__version__ = "0.1.0"
