"""OICP rules beyond the JSON schema, judged on the messages a CPO sends to the hub.

Interface (shared by the suite's journal-wide judgement and the rule checks themselves):
`judge_calls(sut, calls)` takes the hub journal of one test (the SUT's calls to the hub) and returns, per
requirement ID it could judge, the problems found (an empty list: judged and passed). A requirement that
does not apply to any of the calls is absent from the result, so it stays "not judged" for that test.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.hub import Call
    from conformance.sut import Sut

# Requirement IDs these rules report under (filled in as the rules land).
RULE_REQUIREMENTS: tuple[str, ...] = ()


def judge_calls(sut: Sut, calls: Sequence[Call]) -> dict[str, list[str]]:
    """Per requirement ID, the rule breaches in the SUT's calls (see the module docstring)."""
    return {}
