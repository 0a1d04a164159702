"""Strength follows the spec's words for the EMP suite too: every requirement's quote carries the word its strength
claims and is copied verbatim from the OICP 2.3 EMP chapters (checked where the spec checkout sits beside the
repository); every requirement says for which kind of EMP it holds, and an offline EMP is never judged as a server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.suites.emp_requirements import (
    EMP,
    EMP_INBOUND,
    EMP_MANDATORY,
    EMP_MODES,
    FEATURES,
    MODES,
    OFFLINE,
    ONLINE,
)
from conformance.suites.requirements import Requirement
from tests.test_requirements import MUST_WORDS, SHOULD_WORDS, normalise, sections

SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "oicp-spec" / "spec-2.3" / "emp"
CHAPTERS = ("EMP 1", "EMP 2", "EMP 3")

# The CPO suite's MUST words, plus two verbs of the EMP text that carry the same demand (see the module docstring of
# conformance.suites.emp_requirements): "Each message requires a response ...", "The time needs to be delivered ...".
EMP_MUST_VERBS = re.compile(r"\b(requires|needs to)\b", re.IGNORECASE)

# Sections of the operations Hubject forwards to an EMP (what only an online EMP serves).
INBOUND_SECTIONS = frozenset(
    {
        "eRoamingAuthorizeStart_V2.1",
        "eRoamingAuthorizeStart Message",
        "eRoamingAuthorizationStart",
        "eRoamingAuthorizationStart Message",
        "eRoamingAuthorizeStop_V2.1",
        "eRoamingAuthorizeStop Message",
        "eRoamingAuthorizationStop",
        "eRoamingAuthorizationStop Message",
        "eRoamingChargeDetailRecord_V2.2",
        "eRoamingChargeDetailRecord Message",
    }
    | {f"eRoamingChargingNotifications{kind}" for kind in ("", " Start", " Progress", " End", " Error")}
    | {f"eRoamingChargingNotifications {kind} Message" for kind in ("Start", "Progress", "End", "Error")}
)
INBOUND_FEATURES = frozenset({"authorize_stop", "charging_notifications"})

QUOTED = [r for r in EMP.values() if r.quote]


def says_must(quote: str) -> bool:
    return bool(MUST_WORDS.search(quote) or EMP_MUST_VERBS.search(quote))


@pytest.mark.parametrize("req", [r for r in EMP.values() if r.strength == "MUST"], ids=lambda r: r.id)
def test_every_must_quotes_a_must_sentence(req: Requirement) -> None:
    assert req.quote, f"{req.id} is a MUST without a quoted sentence"
    assert says_must(req.quote), f"{req.id} is a MUST but its quote has no MUST word: {req.quote}"


@pytest.mark.parametrize("req", [r for r in EMP.values() if r.strength == "SHOULD"], ids=lambda r: r.id)
def test_every_should_quotes_a_should_sentence(req: Requirement) -> None:
    assert SHOULD_WORDS.search(req.quote), f"{req.id} is a SHOULD but its quote has no SHOULD word: {req.quote}"
    assert not says_must(req.quote), f"{req.id} quotes a MUST sentence but claims only SHOULD"


@pytest.mark.parametrize("req", [r for r in EMP.values() if r.strength == "PRACTICE"], ids=lambda r: r.id)
def test_every_practice_says_where_it_comes_from(req: Requirement) -> None:
    assert req.basis.strip(), f"{req.id} is a PRACTICE without a basis"
    # A descriptive sentence may anchor a practice; one with a MUST or SHOULD word would set its strength instead.
    assert not says_must(req.quote), f"{req.id} quotes a MUST sentence but claims only PRACTICE"
    assert not SHOULD_WORDS.search(req.quote), f"{req.id} quotes a SHOULD sentence but claims only PRACTICE"


def test_ids_chapters_and_features() -> None:
    assert EMP and all(rid == r.id and rid.startswith("EMP-") for rid, r in EMP.items())
    assert {r.chapter for r in QUOTED} <= set(CHAPTERS)
    assert {r.feature for r in EMP.values()} - {None} <= set(FEATURES)
    for r in EMP.values():
        assert r.fails_verdict is (r.strength == "MUST") and r.blocks(strict=True)
        assert r.source == (f"practice: {r.basis}" if r.strength == "PRACTICE" else r.place)
        if r.quote:
            assert r.place.startswith("OICP 2.3 EMP chapter "), r.id


def test_every_id_has_modes_and_mandatory_modes() -> None:
    assert set(EMP_MODES) == set(EMP) == set(EMP_MANDATORY)
    for rid in EMP:
        assert EMP_MODES[rid] and EMP_MODES[rid] <= MODES, rid
        assert EMP_MANDATORY[rid] <= EMP_MODES[rid], rid


def test_a_feature_is_what_makes_an_operation_optional() -> None:
    for rid, r in EMP.items():
        if r.feature is None:
            assert EMP_MANDATORY[rid] == EMP_MODES[rid], f"{rid} needs no feature but is optional somewhere"
        else:
            assert EMP_MANDATORY[rid] != EMP_MODES[rid], f"{rid} needs {r.feature!r} but is mandatory wherever it holds"


def test_offline_requirements_never_cover_inbound_operations() -> None:
    assert set(EMP) >= EMP_INBOUND
    for rid, r in EMP.items():
        inbound = rid in EMP_INBOUND
        assert inbound == (rid.startswith("EMP-IN-") or rid in ("EMP-FLOW-01", "EMP-FLOW-02")), rid
        if r.section in INBOUND_SECTIONS or r.feature in INBOUND_FEATURES:
            assert inbound, f"{rid} rests on an inbound operation but is not marked inbound"
        if inbound:
            assert EMP_MODES[rid] == {ONLINE}, f"{rid} is inbound: an offline EMP serves nothing"
        if OFFLINE in EMP_MODES[rid]:
            assert not inbound and r.section not in INBOUND_SECTIONS and r.feature not in INBOUND_FEATURES, rid


def test_modes_follow_the_implementation_notes() -> None:
    """The mode facts the text states: what only online EMPs answer, what offline EMPs must call."""
    for rid in ("EMP-IN-AUTH-START-01", "EMP-IN-CDR-01", "EMP-IN-INVALID-01"):
        assert EMP_MODES[rid] == EMP_MANDATORY[rid] == {ONLINE}, rid
    for rid in ("EMP-IN-AUTH-STOP-01", "EMP-IN-NOTIFY-01"):
        assert EMP_MODES[rid] == {ONLINE} and not EMP_MANDATORY[rid], rid
    for rid in [r for r in EMP if r.startswith(("EMP-GET-CDR-", "EMP-PUSH-AUTH-"))] + ["EMP-FLOW-03"]:
        assert EMP_MANDATORY[rid] == {OFFLINE}, rid
    for rid in ("EMP-REMOTE-START-01", "EMP-REMOTE-STOP-01", "EMP-EVSE-DATA-01", "EMP-OUT-02"):
        assert EMP_MANDATORY[rid] == MODES, rid
    assert EMP_MODES["EMP-FLOW-03"] == {OFFLINE}
    assert "only mandatory for offline EMPs" in EMP["EMP-FLOW-03"].quote


def test_known_strengths_follow_the_text() -> None:
    assert EMP["EMP-REMOTE-START-02"].strength == "SHOULD" and "Best Practices" in EMP["EMP-REMOTE-START-02"].quote
    assert EMP["EMP-EVSE-STATUS-01"].strength == "MUST" and "100 EvseIDs" in EMP["EMP-EVSE-STATUS-01"].quote
    assert EMP["EMP-ACK-05"].strength == "PRACTICE" and not EMP["EMP-ACK-05"].quote
    assert EMP["EMP-IN-TIME-01"].strength == "PRACTICE" and "internally defined period" in EMP["EMP-IN-TIME-01"].quote
    assert EMP["EMP-PUSH-AUTH-05"].strength == "MUST" and "sequentially" in EMP["EMP-PUSH-AUTH-05"].quote


@pytest.mark.skipif(not SPEC.is_dir(), reason=f"no OICP spec checkout at {SPEC}: quotes not compared with the text")
@pytest.mark.parametrize("req", QUOTED, ids=lambda r: r.id)
def test_every_quote_is_verbatim_under_its_section(req: Requirement) -> None:
    chapter = sections(req.chapter)
    everywhere = " ".join(chapter.values())
    quote = normalise(req.quote)
    assert quote in everywhere, f"{req.id}: the quote is not in {req.chapter} word for word:\n{req.quote}"
    assert req.section in chapter, f"{req.id}: {req.chapter} has no section {req.section!r}"
    assert quote in chapter[req.section], f"{req.id}: the quote is in {req.chapter} but not under {req.section!r}"


@pytest.mark.skipif(not SPEC.is_dir(), reason=f"no OICP spec checkout at {SPEC}: sections not compared with the text")
def test_inbound_sections_exist() -> None:
    headings = set(sections("EMP 2"))
    assert headings >= INBOUND_SECTIONS, sorted(INBOUND_SECTIONS - headings)
