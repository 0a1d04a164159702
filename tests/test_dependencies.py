"""Pinned dependency facts: a bump that breaks schema-driven generation fails here first."""

from __future__ import annotations

import hypothesis
from hypothesis import given, settings
from hypothesis_jsonschema import from_schema

from conformance.validation import load_schema, validate


def test_hypothesis_is_the_pinned_version() -> None:
    # 6.170.10+ breaks hypothesis-jsonschema 0.23.1 ("'many' object has no attribute 'more'").
    assert hypothesis.__version__ == "6.170.9"


@settings(max_examples=15, deadline=None, database=None)
@given(from_schema(load_schema("eRoamingAuthorizeRemoteStop", "2.3")))
def test_hypothesis_jsonschema_generates_valid_messages(message: dict) -> None:
    assert validate(message, "eRoamingAuthorizeRemoteStop") == []
