"""The inbound property tests (conformance/suites/cpo/test_properties.py): a defect that shows only for some inputs
is found, shrunk to the smallest request that shows it, kept in the example database and replayed first.

Each run narrows the suite to the RemoteStart property (`-k`), so the three runs here take a few seconds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from conformance.cli.main import parser
from conformance.cli.run import properties_line
from conformance.runner import run_suite
from conformance.suites.cpo.test_properties import _shown
from conformance.suites.plugin import DEFAULT_EXAMPLES

DEFECT = "remote-start-crash-on-partner-product"
PROPERTY = "test_remote_start_property"
# What a RemoteStart from Hubject always carries: the required members and the SessionID the hub fills in.
REQUIRED = {"ProviderID", "EvseID", "Identification", "SessionID"}


def _run(reports: Path, seed: int, examples: int) -> dict[str, Any]:
    outcome = run_suite(
        "cpo", reports, seed=seed, defects=[DEFECT], keyword=PROPERTY, examples=examples, quiet=True, allure=False,
        fork=True,
    )  # fmt: skip
    assert outcome.summary is not None, outcome.output[-3000:]
    return outcome.summary


def _failure(summary: dict[str, Any]) -> dict[str, Any]:
    [row] = [r for r in summary["requirements"] if r["id"] == "CPO-REMOTE-START-01"]
    assert row["status"] == "fail", row
    [failure] = row["failures"]
    return failure


def _shrunk(failure: dict[str, Any]) -> dict[str, Any]:
    """The smallest failing request, as the failure's body shows it."""
    text = failure["body"].split("The smallest request that still fails", 1)[1]
    start = text.index("{")
    message, _ = json.JSONDecoder().raw_decode(text[start:])
    return message


def _operation(summary: dict[str, Any]) -> dict[str, Any]:
    [run] = summary["properties"]["operations"]
    assert run["operation"] == "AuthorizeRemoteStart.cpo"
    return run


def test_a_defect_for_some_inputs_is_shrunk_and_replayed_first(tmp_path: Path) -> None:
    first = _run(tmp_path, seed=7, examples=200)
    failure = _failure(first)
    shrunk = _shrunk(failure)
    assert set(shrunk) == REQUIRED | {"PartnerProductID"}, shrunk  # the member that shows it, and nothing optional
    assert "HTTP 500" in failure["body"]
    assert "curl" in failure["reproduce"] and '"PartnerProductID"' in failure["reproduce"]
    assert "--examples 200" in failure["reproduce"]
    assert f"{tmp_path / 'cpo' / 'hypothesis'}" in failure["body"]  # where the example database is kept
    run = _operation(first)
    assert run["failed_at_case"] > 1  # the simplest request (required members only) passes: it was searched for
    assert first["properties"]["cases"] == run["cases"] > 0 and first["properties"]["cases_per_second"] > 0
    line = properties_line(first)
    assert line is not None and f"{run['cases']} generated requests" in line and "per second" in line
    assert any((tmp_path / "cpo" / "hypothesis").iterdir())

    again = _run(tmp_path, seed=8, examples=200)  # another seed: only the database can make case 1 fail
    assert _operation(again)["failed_at_case"] == 1
    assert set(_shrunk(_failure(again))) == REQUIRED | {"PartnerProductID"}


def test_every_optional_member_is_tried_even_with_one_example(tmp_path: Path) -> None:
    """One random case is the simplest request; the member the defect needs comes from the focused search."""
    summary = _run(tmp_path, seed=7, examples=1)
    assert set(_shrunk(_failure(summary))) == REQUIRED | {"PartnerProductID"}


def test_the_example_database_is_named_where_it_stays_and_the_help_names_the_default() -> None:
    assert _shown("/r/.cpo-running-123/hypothesis") == Path("/r/cpo/hypothesis")
    assert _shown("/somewhere/db") == Path("/somewhere/db")
    [sub] = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    [examples] = [a for a in sub.choices["run"]._actions if "--examples" in a.option_strings]
    assert f"(default: {DEFAULT_EXAMPLES})" in str(examples.help)
