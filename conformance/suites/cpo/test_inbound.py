"""Suite -> CPO: remote start/stop and reservations, valid and broken, as Hubject sends them."""

from __future__ import annotations

import pytest

from conformance.hub import FakeHub
from conformance.oicp.limits import REMOTE_START_SECONDS
from conformance.strategies import Pins, draw_many, every_mutation, invalid_cases
from conformance.suites.cpo.helpers import (
    ack_problems,
    available_evses,
    call_inbound,
    case,
    expect_ack,
    rerun,
    unknown_evse,
)
from conformance.suites.plugin import Verdict, requirement
from conformance.sut import Sut
from conformance.sut.client import probe

START, STOP = "AuthorizeRemoteStart.cpo", "AuthorizeRemoteStop.cpo"
RES_START, RES_STOP = "AuthorizeRemoteReservationStart.cpo", "AuthorizeRemoteReservationStop.cpo"


def _pins(sut: Sut, evse: str) -> Pins:
    return Pins(operator_id=sut.operator_id, provider_id=sut.provider_id, evse_ids=(evse,))


def _start(sut: Sut, hub: FakeHub, seed: int, evse: str, timeout: float | None = None):
    drawn = case(sut, START, seed, evse)
    hub.open_session(drawn.body["SessionID"], evse, sut.provider_id, drawn.body["Identification"])
    return drawn, call_inbound(sut, START, drawn, timeout or min(sut.timeout, REMOTE_START_SECONDS) + 1)


def _stop(sut: Sut, seed: int, started, evse: str):
    drawn = case(sut, STOP, seed, evse, session_id=started.body["SessionID"])
    return call_inbound(sut, STOP, drawn)


@pytest.mark.operation(START)
@requirement("CPO-REMOTE-START-01", "CPO-REMOTE-START-03")
def test_remote_start_is_accepted(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    evse = available_evses(sut)[0]
    drawn, answer = _start(sut, hub, seed, evse)
    problems = ack_problems(answer, sut.release)
    verdict.check(
        not problems,
        "CPO-REMOTE-START-01",
        "the RemoteStart answer is no valid acknowledgement",
        "\n".join(problems),
        answer.curl,
    )
    if not problems:
        verdict.about(
            answer,
            answer.result is True and answer.code == "000",
            "CPO-REMOTE-START-01",
            f"a RemoteStart for available EVSE {evse} was not accepted",
        )
        sid = answer.body.get("SessionID")
        verdict.about(
            answer,
            sid in (None, drawn.body["SessionID"]),
            "CPO-REMOTE-START-01",
            "the acknowledgement names another SessionID than the request",
        )
    verdict.about(
        answer,
        answer.status is not None and answer.elapsed <= REMOTE_START_SECONDS,
        "CPO-REMOTE-START-03",
        f"RemoteStart answered after {answer.elapsed:.1f} s (limit {REMOTE_START_SECONDS:g} s)",
    )
    if answer.result is True:
        _stop(sut, seed, drawn, evse)
    verdict.conclude()


@pytest.mark.operation(START)
@requirement("CPO-REMOTE-START-02", "CPO-REMOTE-START-04", "CPO-REMOTE-START-05", "CPO-STATE-01")
def test_remote_start_refusals(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    evse = available_evses(sut)[0]
    situations = [("unknown EVSE", unknown_evse(sut), {"603", "604"})]
    if sut.out_of_service_evse:
        situations.append(("EVSE out of service", sut.out_of_service_evse, {"700", "501"}))
    first, answer = _start(sut, hub, seed, evse)
    if answer.result is True:
        situations.append(("EVSE busy with another session", evse, {"602"}))
    refused_ids = []
    for what, target, fitting in situations:
        drawn, refused = _start(sut, hub, seed + 1, target)
        if refused.result is False:
            refused_ids.append(drawn.body["SessionID"])
        if not expect_ack(
            verdict,
            sut,
            refused,
            False,
            "CPO-REMOTE-START-02",
            f"RemoteStart for {what} ({target}) was not refused with an acknowledgement",
        ):
            continue
        verdict.about(
            refused,
            refused.code != "000",
            "CPO-REMOTE-START-04",
            f"the refusal for {what} carries StatusCode 000 (success)",
        )
        verdict.about(
            refused,
            refused.code in fitting,
            "CPO-REMOTE-START-05",
            f"the refusal for {what} carries StatusCode {refused.code}, expected one of {sorted(fitting)}",
        )
    recorded = probe(sut, "sessions")
    if recorded is not None:
        kept = sorted(set(refused_ids) & set(recorded))
        verdict.check(
            not kept,
            "CPO-STATE-01",
            "the CPO recorded sessions for RemoteStarts it refused",
            f"refused and recorded: {kept} (probe {sut.probes['sessions']})",
            rerun(sut, seed, "test_remote_start_refusals"),
        )
    if answer.result is True:
        _stop(sut, seed, first, evse)
    verdict.conclude()


@pytest.mark.operation(STOP)
@requirement("CPO-REMOTE-STOP-01")
def test_remote_stop(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    evse = available_evses(sut)[-1]
    drawn, started = _start(sut, hub, seed, evse)
    if started.result is not True:
        pytest.skip(f"RemoteStart was not accepted ({started.describe()}); see CPO-REMOTE-START-01")
    stopped = _stop(sut, seed, drawn, evse)
    expect_ack(verdict, sut, stopped, True, "CPO-REMOTE-STOP-01", "RemoteStop of a running session was not accepted")
    unknown = case(sut, STOP, seed + 7, evse)
    answer = call_inbound(sut, STOP, unknown)
    expect_ack(
        verdict,
        sut,
        answer,
        False,
        "CPO-REMOTE-STOP-01",
        "RemoteStop of an unknown session was not refused with an acknowledgement",
    )
    verdict.conclude()


def _inbound_operations(sut: Sut) -> list[str]:
    return [START, STOP] + ([RES_START, RES_STOP] if sut.has("reservation") else [])


@pytest.mark.operation(START)
@requirement("CPO-IN-INVALID-01")
def test_invalid_requests_are_refused(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    pins = _pins(sut, available_evses(sut)[0])  # everything right but the one mutation
    for op_id in _inbound_operations(sut):
        [cases] = draw_many(every_mutation(op_id, sut.release, pins), 1, seed)
        for drawn in cases:
            if drawn.mutation == "path-id-mismatch":
                continue
            answer = call_inbound(sut, op_id, drawn)
            bad = answer.status is None or answer.status >= 500 or answer.result is True
            verdict.check(
                not bad,
                "CPO-IN-INVALID-01",
                f"{op_id}: request with {drawn.describe()} was not refused ({answer.describe()[:200]})",
                f"expected: {drawn.expected}",
                answer.curl,
            )
    verdict.conclude()


@pytest.mark.operation(START)
@requirement("CPO-IN-PATH-01")
def test_path_provider_must_match_body(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    evse = available_evses(sut)[0]
    [drawn] = draw_many(invalid_cases(START, sut.release, _pins(sut, evse), mutation="path-id-mismatch"), 1, seed)
    hub.open_session(drawn.body["SessionID"], evse, sut.provider_id, drawn.body["Identification"])
    answer = call_inbound(sut, START, drawn)
    verdict.about(
        answer,
        answer.status is not None and answer.status < 500 and answer.result is not True,
        "CPO-IN-PATH-01",
        f"RemoteStart with path providerID {drawn.path_params.get('providerID')} and body ProviderID "
        f"{drawn.body.get('ProviderID')} was served",
    )
    if answer.result is True:  # free the EVSE again
        call_inbound(sut, STOP, case(sut, STOP, seed, evse, session_id=drawn.body["SessionID"]))
    verdict.conclude()


@pytest.mark.operation(RES_START)
@requirement("CPO-RESERVATION-01")
def test_reservation_start_and_stop(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    if not sut.has("reservation"):
        pytest.skip(f"{sut.source} does not declare the optional feature 'reservation'")
    evse = available_evses(sut)[0]
    start = case(sut, RES_START, seed, evse)
    answer = call_inbound(sut, RES_START, start)
    expect_ack(
        verdict, sut, answer, True, "CPO-RESERVATION-01", f"reservation of available EVSE {evse} was not accepted"
    )
    stop = case(sut, RES_STOP, seed, evse, session_id=start.body.get("SessionID"))
    answer = call_inbound(sut, RES_STOP, stop)
    expect_ack(verdict, sut, answer, True, "CPO-RESERVATION-01", "cancelling the reservation was not accepted")
    verdict.conclude()
