"""Checks: plain functions that look at an answer or a journal and return `Failure`s (empty: passed)."""

from conformance.checks.failure import Failure

__all__ = ["Failure"]
