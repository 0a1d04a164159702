"""Verdict bookkeeping and cases as Hubject sends them: the pieces that keep the suite honest about other systems."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from conformance.checks.failure import Failure
from conformance.strategies import Pins
from conformance.suites.cases import IdSource, as_hub_sends, breaks_mandatory, broken_requests, hub_request
from conformance.suites.requirements import CPO
from conformance.suites.verdicts import (
    ERROR,
    FAIL,
    NOT_APPLICABLE,
    NOT_JUDGED,
    PASS,
    WARN,
    NotJudged,
    Outcome,
    Verdict,
    combine,
    run_verdict,
)
from conformance.sut.default import reference_sut
from conformance.sut.messages import message_for

MUST = next(r.id for r in CPO.values() if r.strength == "MUST" and r.feature is None)
SOFT = next(r.id for r in CPO.values() if r.strength != "MUST")
PINS = Pins(operator_id="DE*REF", provider_id="DE-DCB", evse_ids=("DE*REF*E1001*1",))


def _verdict(strict: bool = False) -> Verdict:
    return Verdict(SimpleNamespace(name="t"), 1, CPO, strict=strict)


def test_a_requirement_passes_only_where_its_check_ran() -> None:
    v = _verdict()
    v.check(True, MUST, "fine")
    out = v.outcomes((MUST, SOFT), None, None)
    assert out[MUST].status == PASS
    assert out[SOFT].status == NOT_JUDGED and "did not run" in out[SOFT].reason


def test_a_stopped_test_leaves_its_requirements_not_judged_with_the_reason() -> None:
    v = _verdict()
    stop = NotJudged("trigger 'x' is not declared", declare="[triggers.x]")
    out = v.outcomes((MUST,), None, stop)
    assert out[MUST] == Outcome(NOT_JUDGED, "trigger 'x' is not declared", "[triggers.x]")
    assert v.outcomes((MUST,), None, NotJudged("no such URL part", applies=False))[MUST].status == NOT_APPLICABLE


def test_failures_before_a_stop_or_a_crash_are_kept() -> None:
    v = _verdict()
    v.add(MUST, "broken")
    assert v.outcomes((MUST, SOFT), "the check broke: boom", None) == {
        MUST: Outcome(FAIL, "broken"),
        SOFT: Outcome(ERROR, "the check broke: boom"),
    }


def test_strength_decides_fail_or_warn_and_strict_makes_every_failure_fail() -> None:
    v = _verdict()
    v.add(SOFT, "meh")
    assert v.outcomes((SOFT,), None, None)[SOFT].status == WARN and not v.blocking()
    strict = _verdict(strict=True)
    strict.add(SOFT, "meh")
    assert strict.outcomes((SOFT,), None, None)[SOFT].status == FAIL and strict.blocking()


def test_trigger_answers_are_kept_as_context_of_later_failures() -> None:
    v = _verdict()
    v.note("context: trigger push_evse_status answered HTTP 503")
    v.add(MUST, "no push reached the hub")
    assert "answered HTTP 503" in v.failures[0].body


def test_combined_status_is_the_worst_and_partial_judgement_is_not_a_pass() -> None:
    assert combine([Outcome(PASS), Outcome(NOT_APPLICABLE, "no OOS EVSE")]).status == PASS
    assert combine([Outcome(PASS), Outcome(NOT_JUDGED, "setup failed")]) == Outcome(NOT_JUDGED, "setup failed")
    assert combine([Outcome(WARN, "w"), Outcome(FAIL, "f")]).status == FAIL
    assert combine([Outcome(NOT_APPLICABLE, "a"), Outcome(NOT_APPLICABLE, "b")]) == Outcome(NOT_APPLICABLE, "a; b")


JUDGED = {"status": PASS, "strength": "MUST", "expected": True}


@pytest.mark.parametrize(
    ("rows", "problems", "verdict"),
    [
        ([{"status": PASS, "strength": "MUST", "expected": True}], [], "pass"),
        ([{"status": WARN, "strength": "SHOULD", "expected": True}], [], "pass"),
        ([{"status": NOT_JUDGED, "strength": "MUST", "expected": True}], [], "incomplete"),
        ([JUDGED, {"status": NOT_JUDGED, "strength": "MUST", "expected": False}], [], "pass"),  # an undeclared option
        ([JUDGED, {"status": NOT_JUDGED, "strength": "SHOULD", "expected": True}], [], "pass"),
        ([{"status": ERROR, "strength": "SHOULD", "expected": True}], [], "incomplete"),
        ([{"status": FAIL, "strength": "MUST", "expected": True}], [], "fail"),
        ([{"status": PASS, "strength": "MUST", "expected": True}], ["trigger x: 404"], "configuration problem"),
    ],
)
def test_run_verdict(rows: list, problems: list, verdict: str) -> None:
    assert run_verdict(rows, problems, interrupted=False) == verdict
    assert run_verdict(rows, problems, interrupted=True) == "interrupted"


def test_every_case_has_its_own_session_id_reproducible_from_the_seed() -> None:
    def session_ids(seed: int, test: str) -> list[str]:
        ids = IdSource(seed, test)
        cases = [hub_request(ids, "AuthorizeRemoteStart.cpo", "2.3", PINS) for _ in range(3)]
        cases += broken_requests(ids, "AuthorizeRemoteStart.cpo", "2.3", PINS)
        return [c.body["SessionID"] for c in cases if isinstance(c.body, dict) and "SessionID" in c.body]

    first = session_ids(7, "test_a")
    assert len(first) == len(set(first)) > 5
    assert session_ids(7, "test_a") == first
    assert not set(session_ids(8, "test_a")) & set(first)
    assert not set(session_ids(7, "test_b")) & set(first)


@pytest.mark.parametrize("op_id", ["AuthorizeRemoteReservationStart.cpo", "AuthorizeRemoteStart.cpo"])
def test_hub_requests_always_carry_a_session_id_and_the_providers_id(op_id: str) -> None:
    ids = IdSource(3, "t")
    for _ in range(10):  # the schema leaves SessionID optional here; Hubject always sends one
        drawn = hub_request(ids, op_id, "2.3", PINS)
        assert drawn.body["SessionID"] and drawn.body["ProviderID"] == "DE-DCB"


def test_a_mutation_of_the_session_id_is_kept() -> None:
    ids = IdSource(3, "t")
    drawn = hub_request(ids, "AuthorizeRemoteStart.cpo", "2.3", PINS)
    broken = as_hub_sends(
        type(drawn)(
            **{
                **drawn.__dict__,
                "body": {**drawn.body, "SessionID": 5},
                "mutation": "wrong-type",
                "pointer": "/SessionID",
            }
        ),
        "fresh",
        "DE-DCB",
    )
    assert broken.body["SessionID"] == 5


def test_only_mutations_of_mandatory_members_demand_a_refusal() -> None:
    ids = IdSource(3, "t")
    drawn = hub_request(ids, "AuthorizeRemoteStart.cpo", "2.3", PINS)
    body = {**drawn.body, "EvseID": None, "PartnerProductID": None}
    mandatory = type(drawn)(**{**drawn.__dict__, "body": body, "mutation": "explicit-null", "pointer": "/EvseID"})
    optional = type(drawn)(
        **{**drawn.__dict__, "body": body, "mutation": "explicit-null", "pointer": "/PartnerProductID"}
    )
    assert breaks_mandatory(mandatory) and not breaks_mandatory(optional)


def test_flow_messages_carry_the_flows_state() -> None:
    """An AuthorizeStop or CDR the suite generates for a forwarding SUT belongs to the session it started."""
    sut = reference_sut("http://127.0.0.1:1", 1)
    started = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    flow = {
        "session_id": "6f1a4f64-5717-4562-b3fc-2c963f66afa6",
        "evse_id": "DE*REF*E1001*1",
        "identification": {"RFIDMifareFamilyIdentification": {"UID": "04A2B3C4"}},
        "cpo_partner_session_id": "ref-abc",
        "emp_partner_session_id": None,
        "started_at": started,
    }
    for seed in range(5):
        stop = message_for(sut, "authorize_stop", dict(flow), seed)
        cdr = message_for(sut, "end_session", dict(flow), seed)
        for message in (stop, cdr):
            assert message["SessionID"] == flow["session_id"]
            assert message.get("EvseID", flow["evse_id"]) == flow["evse_id"]
            assert message["Identification"] == flow["identification"]
            assert message.get("CPOPartnerSessionID") == "ref-abc" and "EMPPartnerSessionID" not in message
        stamps = [datetime.fromisoformat(cdr[k]) for k in ("SessionStart", "ChargingStart", "SessionEnd")]
        assert min(stamps) >= started and max(stamps) < started + timedelta(days=2)


def test_a_flow_keeps_one_utc_offset() -> None:
    sut = reference_sut("http://127.0.0.1:1", 1)
    flow = {"session_id": "6f1a4f64-5717-4562-b3fc-2c963f66afa6", "evse_id": "DE*REF*E1001*1"}
    offsets = set()
    for trigger, seed in (("authorize_stop", 1), ("end_session", 2), ("end_session", 3)):
        message = message_for(sut, trigger, dict(flow), seed)
        stamps = [v for k, v in message.items() if isinstance(v, str) and k.endswith(("Start", "End"))]
        offsets |= {datetime.fromisoformat(v.replace("Z", "+00:00")).utcoffset() for v in stamps}
    assert len(offsets) == 1, offsets


def test_what_the_hub_refused_for_the_callers_identity_is_not_judged_under_other_requirements() -> None:
    """CPO 1 Security: on a 017 "Hubject will not perform the operation": a push it never stored says nothing more
    of the SUT than the 017 itself, which its own requirement judges."""
    refused = "call #1 PushEvseStatus.hub: the hub refused PushEvseStatus with StatusCode 017 (certificate of DE*OTH)"
    other = next(r.id for r in CPO.values() if r.strength == "MUST" and r.id not in (MUST, "CPO-OUT-02"))
    v = _verdict()
    v.add(other, "the push was never delivered")
    assert v.outcomes((other,), None, None)[other] == Outcome(FAIL, "the push was never delivered")
    v.record_journal({"CPO-OUT-02"}, [Failure("CPO-OUT-02", refused)], [])
    out = v.outcomes((other,), None, None)
    assert out[other].status == NOT_JUDGED
    assert "StatusCode 017" in out[other].reason and "CPO-OUT-02" in out[other].reason
    assert out["CPO-OUT-02"] == Outcome(FAIL, refused)
