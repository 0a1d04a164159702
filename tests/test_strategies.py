"""Generated messages: valid ones pass the validator and keep OICP's rules; invalid ones break at their pointer."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conformance.catalog import load_release
from conformance.oicp.ids import belongs_to, provider_key, provider_of_evco
from conformance.oicp.limits import MAX_BODY_BYTES
from conformance.oicp.sessions import cdr_problems
from conformance.strategies import (
    MUTATIONS,
    Pins,
    draw_many,
    invalid_cases,
    structural,
    valid,
    valid_cases,
)
from conformance.strategies.coverage import reachable, reached
from conformance.validation import load_schema, validate

MESSAGES = [(release, name) for release in ("2.3", "2.2") for name in load_release(release).messages]
IDS = [f"{r}-{n}" for r, n in MESSAGES]
FEW = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize(("release", "name"), MESSAGES, ids=IDS)
def test_valid_messages_pass_both_engines(release: str, name: str) -> None:
    @FEW
    @given(valid(name, release))
    def check(message: dict) -> None:
        for key in message:
            event(f"member present: {key}")
        assert validate(message, name, release) == []
        assert validate(message, name, release, engine="python") == []

    check()


@pytest.mark.parametrize("release", ["2.3", "2.2"])
def test_generation_reaches_every_optional_member(release: str) -> None:
    """Every member of every definition shows up in some example; each message's top-level members in its own.

    (Members of a message's own inline sub-objects are not required: where those copy a definition,
    as 2.3's AuthorizationStopIdentifications copies Identification, the definition is.)"""
    messages = load_release(release).messages
    wanted: set[str] = set()
    seen: set[str] = set()
    for name in messages:
        schema = load_schema(name, release)
        members = reachable(schema)
        own = {k for k in members if re.fullmatch(rf"{name}:\.\w+", k)}
        wanted |= {k for k in members if k.split(":")[0] not in messages}
        mine: set[str] = set()
        # up to 200 examples in batches of 25, no more once this message has shown everything it can reach
        for batch in range(8):
            mine |= set().union(*(reached(schema, m) for m in draw_many(valid(name, release), 25, batch)))
            if own <= mine and members & wanted <= seen | mine:
                break
        assert own <= mine, f"{name}: never generated {sorted(own - mine)}"
        seen |= mine
    assert wanted <= seen, f"never generated: {sorted(wanted - seen)}"


@pytest.mark.parametrize(("release", "name"), MESSAGES, ids=IDS)
def test_invalid_messages_fail_exactly_at_their_pointer(release: str, name: str) -> None:
    @FEW
    @given(invalid_cases(name, release))
    def check(case) -> None:
        event(f"mutation: {case.mutation}")
        level = MUTATIONS[case.mutation].level
        if level == "schema":
            assert {v.pointer for v in validate(case.body, name, release)} == {case.pointer}, case.describe()
        elif level == "json":
            with pytest.raises(ValueError):
                json.loads(case.payload())
        elif case.mutation == "wrong-content-type":
            assert case.content_type != "application/json" and validate(case.body, name, release) == []
        else:
            assert case.mutation == "oversized-body" and len(case.payload()) > MAX_BODY_BYTES

    check()


@pytest.mark.parametrize("operation", ["PushEvseData.hub", "AuthorizeStart.hub", "AuthorizeRemoteStart.cpo"])
def test_path_id_mismatch_disagrees_with_the_body(operation: str) -> None:
    for case in draw_many(invalid_cases(operation, mutation="path-id-mismatch"), 5, 1):
        assert validate(case.body, case.message) == []
        node = case.body
        for part in case.pointer.strip("/").split("/"):
            node = node[part]
        param = "operatorID" if case.pointer.endswith("OperatorID") else "providerID"
        assert case.path_params[param] != node


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_every_mutation_applies_somewhere(mutation: str) -> None:
    target = "PushEvseData.hub" if mutation in ("out-of-range", "path-id-mismatch") else "eRoamingChargeDetailRecord"
    if mutation == "path-id-mismatch":
        target = "AuthorizeStart.hub"
    cases = draw_many(invalid_cases(target, mutation=mutation), 3, 0)
    assert cases and all(case.mutation == mutation for case in cases)


# --- OICP semantics: these properties fail on schema-only generation (see the `structural` tests) ---


def _cdr_is_coherent(case) -> bool:
    return not cdr_problems(case.body) and belongs_to(case.body["EvseID"], case.path_params["operatorID"])


def _push_is_coherent(message: dict) -> bool:
    data = message["OperatorEvseData"]
    ids = [r["EvseID"] for r in data["EvseDataRecord"]]
    owned = all(
        belongs_to(r[k], data["OperatorID"])
        for r in data["EvseDataRecord"]
        for k in ("EvseID", "ChargingPoolID", "ChargingStationID")
        if k in r
    )
    return owned and len(ids) == len(set(ids))


def _geo_is_coherent(message: dict) -> bool:
    for record in message["OperatorEvseData"]["EvseDataRecord"]:
        geo = record["GeoCoordinates"]
        if len(geo) != 1:
            return False
        if "DecimalDegree" in geo and not (
            abs(float(geo["DecimalDegree"]["Latitude"])) <= 90 and abs(float(geo["DecimalDegree"]["Longitude"])) <= 180
        ):
            return False
    return True


@settings(max_examples=40, deadline=None)
@given(valid_cases("ChargeDetailRecord.hub"))
def test_generated_cdrs_are_coherent(case) -> None:
    assert _cdr_is_coherent(case), (cdr_problems(case.body), case.body["EvseID"], case.path_params)


@settings(max_examples=25, deadline=None)
@given(valid("eRoamingPushEvseData"))
def test_generated_push_evse_data_is_coherent(message: dict) -> None:
    assert _push_is_coherent(message)
    assert _geo_is_coherent(message)
    for record in message["OperatorEvseData"]["EvseDataRecord"]:
        assert re.fullmatch(r"[A-Z]{3}", record["Address"]["Country"])


@settings(max_examples=25, deadline=None)
@given(valid_cases("AuthorizeRemoteStart.cpo"))
def test_remote_start_identification_names_the_provider(case) -> None:
    ident = case.body["Identification"]
    assert list(ident) == ["RemoteIdentification"]
    assert provider_of_evco(ident["RemoteIdentification"]["EvcoID"]) == provider_key(case.path_params["providerID"])
    assert case.body["ProviderID"] == case.path_params["providerID"]


@settings(max_examples=25, deadline=None)
@given(valid("eRoamingAuthorizeStart"))
def test_authorize_start_qr_code_carries_the_pin_in_clear(message: dict) -> None:
    ident = message["Identification"]
    assert len(ident) == 1 and "RFIDIdentification" not in ident and "RemoteIdentification" not in ident
    if "QRCodeIdentification" in ident:
        assert "PIN" in ident["QRCodeIdentification"] and "HashedPIN" not in ident["QRCodeIdentification"]


def test_schema_only_generation_breaks_the_cdr_rules() -> None:
    """Without the OICP layer, generated CDRs violate the rules above: the semantic tests are not hollow."""
    drawn = draw_many(structural("eRoamingChargeDetailRecord"), 30, 0)
    assert any(cdr_problems(message) for message in drawn)


def test_schema_only_generation_breaks_the_push_rules() -> None:
    drawn = draw_many(structural("eRoamingPushEvseData"), 30, 0)
    assert any(not _push_is_coherent(m) for m in drawn) and any(not _geo_is_coherent(m) for m in drawn)


# --- pins, sizes, determinism ---


def test_pins_thread_one_session_through_a_flow() -> None:
    pins = Pins(
        operator_id="DE*ABC",
        provider_id="DE-DCB",
        evse_ids=("DE*ABC*E1*1",),
        session_id="b2688855-7f00-0002-6d8e-48d883f6abb6",
    )
    start = draw_many(valid_cases("AuthorizeStart.hub", pins=pins), 3, 0)
    cdrs = draw_many(valid_cases("ChargeDetailRecord.hub", pins=pins), 3, 0)
    for case in start:
        assert case.body["OperatorID"] == "DE*ABC" and case.path_params == {"operatorID": "DE*ABC"}
        assert case.body.get("EvseID", "DE*ABC*E1*1") == "DE*ABC*E1*1"
    for case in cdrs:
        assert case.body["SessionID"] == pins.session_id and case.body["EvseID"] == "DE*ABC*E1*1"


def test_push_evse_data_with_a_thousand_evses() -> None:
    [message] = draw_many(valid("eRoamingPushEvseData", size=1000), 1, 3)
    records = message["OperatorEvseData"]["EvseDataRecord"]
    assert len(records) == 1000 and len({r["EvseID"] for r in records}) == 1000
    assert validate(message, "eRoamingPushEvseData") == []
    assert _push_is_coherent(message)


def test_same_seed_same_messages() -> None:
    first = draw_many(valid("eRoamingChargeDetailRecord"), 10, 1234)
    assert first == draw_many(valid("eRoamingChargeDetailRecord"), 10, 1234)
    assert first != draw_many(valid("eRoamingChargeDetailRecord"), 10, 4321)


def test_ci_profile_repeats_the_same_sequence() -> None:
    runs: list[list[dict]] = []
    for _ in range(2):
        runs.append([])

        @settings(settings.get_profile("ci"), max_examples=10)
        @given(valid("eRoamingAuthorizeRemoteStart"))
        def collect(message: dict) -> None:
            runs[-1].append(message)

        collect()
    assert runs[0] == runs[1] and len(runs[0]) >= 5


@given(st.data())
@settings(max_examples=5, deadline=None)
def test_unknown_mutation_is_a_clear_error(data: st.DataObject) -> None:
    with pytest.raises(KeyError, match="unknown mutation 'nope'"):
        data.draw(invalid_cases("eRoamingAcknowledgment", mutation="nope"))


# --- UTC offsets: one per session by default, mixed only when asked ---

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$")
SESSION_MESSAGES = [
    "eRoamingChargeDetailRecord",
    "eRoamingChargeDetailRecords",
    "eRoamingChargingNotificationStart",
    "eRoamingChargingNotificationProgress",
    "eRoamingChargingNotificationEnd",
]


def _offsets(node: object) -> set[str]:
    """The UTC offsets of every timestamp in a message (`Z` counted as its own spelling)."""
    if isinstance(node, dict):
        return set().union(*(_offsets(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_offsets(v) for v in node))
    match = _TIMESTAMP.match(node) if isinstance(node, str) else None
    return {match.group(1)} if match else set()


@pytest.mark.parametrize("name", SESSION_MESSAGES)
def test_a_session_uses_one_utc_offset(name: str) -> None:
    drawn = draw_many(valid(name), 25, 7)
    assert all(len(_offsets(message)) <= 1 for message in drawn), [_offsets(m) for m in drawn]
    assert sum(len(_offsets(message)) == 1 for message in drawn) >= 10  # timestamps were generated at all
    assert len({frozenset(_offsets(m)) for m in drawn}) > 3  # the offset itself varies between sessions


@pytest.mark.parametrize(("release", "name"), MESSAGES, ids=IDS)
def test_every_message_uses_one_utc_offset(release: str, name: str) -> None:
    for message in draw_many(valid(name, release), 5, 11):
        assert len(_offsets(message)) <= 1, (name, _offsets(message))


def test_mixed_offsets_are_an_explicit_variant() -> None:
    drawn = draw_many(valid("eRoamingChargeDetailRecord", pins=Pins(mixed_offsets=True)), 25, 7)
    assert any(len(_offsets(message)) > 1 for message in drawn)
    for message in drawn:  # mixed offsets still keep the session's order in real time, and the schema
        assert not cdr_problems(message) and validate(message, "eRoamingChargeDetailRecord") == []


def test_pinned_offset_threads_through_a_flow() -> None:
    pins = Pins(offset=-210)  # UTC-03:30, as a charge point in Newfoundland writes it
    for name in ("eRoamingAuthorizeStart", "eRoamingChargingNotificationStart", "eRoamingChargeDetailRecord"):
        for message in draw_many(valid(name, pins=pins), 5, 3):
            assert _offsets(message) <= {"-03:30"}
    with pytest.raises(ValueError, match="not a UTC offset"):
        Pins(offset=900)


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_generated_messages_keep_the_validate_rules(data: st.DataObject) -> None:
    """What `validate --rules` checks, valid generated messages keep (the two agree on the OICP rules)."""
    from conformance.validation.rules import check_rules

    for release, name in MESSAGES:
        message = data.draw(valid(name, release))
        assert check_rules(message) == [], (name, [str(v) for v in check_rules(message)])
