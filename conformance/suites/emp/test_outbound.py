"""EMP -> Hubject, through triggers: what the EMP sends, judged on the fake hub (online and offline EMPs)."""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest

from conformance.hub import Call, FakeHub, Fault
from conformance.hub.state import fingerprint
from conformance.oicp.ids import provider_key, provider_of_evco
from conformance.suites.emp.helpers import (
    PULL_DATA,
    change_evse_data,
    known_identifications,
    seed_cdrs,
    seed_evse_data,
)
from conformance.suites.plugin import requirement
from conformance.suites.steps import (
    concurrently,
    journal_text,
    of,
    paging_idle,
    probed,
    require_trigger,
    rerun,
    settle,
    trigger,
    wait_for,
)
from conformance.suites.verdicts import NotJudged, Verdict
from conformance.sut import Sut
from conformance.sut.messages import wants_message

FILTERS = ("SearchCenter", "CountryCodes", "OperatorIds")


def judge_identity(sut: Sut, calls: list[Call], verdict: Verdict, reproduce: str) -> None:
    """Every call on an operation path, with the EMP's own ProviderID in path and body."""
    for call in calls:
        if not verdict.check(
            call.operation is not None,
            "EMP-OUT-01",
            f"{call.method} {call.path}: no OICP {sut.release} operation at this path and version",
            call.summary(),
            reproduce,
        ):
            continue
        ids = [call.params.get("providerID")]
        if isinstance(call.body, dict):
            ids.append(call.body.get("ProviderID"))
        foreign = [i for i in ids if i is not None and provider_key(i) != provider_key(sut.provider_id)]
        verdict.check(
            not foreign,
            "EMP-OUT-02",
            f"{call.operation}: ProviderID {foreign[0] if foreign else ''} is not the EMP's own {sut.provider_id}",
            call.summary(),
            reproduce,
        )
        # 017: the call's ProviderID is not the one the EMP's client certificate names (EMP 1 "Security")
        unauthorized = [p.removeprefix("refused 017: ") for p in call.problems if p.startswith("refused 017: ")]
        verdict.check(
            not unauthorized,
            "EMP-OUT-02",
            f"the hub refused {call.operation.split('.')[0]} with StatusCode 017 ({''.join(unauthorized[:1])})",
            call.summary(),
            reproduce,
        )
        charset = call.content_type.lower().partition("charset=")[2].strip(' ;"')
        verdict.check(
            call.content_type.lower().startswith("application/json") and charset in ("", "utf-8", "utf8"),
            "EMP-OUT-03",
            f"{call.operation}: sent as {call.content_type or 'no content type'}, not UTF-8 JSON",
            call.summary(),
            reproduce,
        )
        # Which sentence a schema violation breaks: an ID off its pattern (OUT-04), a date/time without
        # offset (OUT-05), anything else the message tables and OpenAPI define (OUT-06).
        groups: dict[str, list[str]] = {"EMP-OUT-04": [], "EMP-OUT-05": [], "EMP-OUT-06": []}
        for v in call.violations:
            rid = {"pattern": "EMP-OUT-04", "format": "EMP-OUT-05"}.get(v.keyword, "EMP-OUT-06")
            groups[rid].append(str(v))
        for rid, found in groups.items():
            verdict.check(
                not found,
                rid,
                f"{call.operation}: the request breaks the message's definition",
                "\n".join(found[:10]),
                reproduce,
            )


def _page(call: Call) -> int | None:
    try:
        return int(call.query.get("page", 0))
    except ValueError:
        return None


def _last(call: Call) -> bool:
    return isinstance(call.response, dict) and call.response.get("last") is True


@pytest.mark.operation(PULL_DATA, service="evsepull")
@requirement(
    "EMP-OUT-01",
    "EMP-OUT-02",
    "EMP-OUT-03",
    "EMP-OUT-04",
    "EMP-OUT-05",
    "EMP-OUT-06",
    "EMP-EVSE-DATA-01",
    "EMP-EVSE-DATA-02",
    "EMP-EVSE-DATA-03",
    "EMP-EVSE-DATA-04",
)
def test_pull_evse_data_reads_every_page_then_asks_for_changes(
    sut: Sut, hub: FakeHub, seed: int, verdict: Verdict
) -> None:
    require_trigger(sut, "pull_evse_data")
    stored = seed_evse_data(hub, sut, 45, seed)  # more than two pages of the spec's default 20
    reproduce = rerun(sut, seed, "test_pull_evse_data_reads_every_page_then_asks_for_changes")
    time.sleep(1.1)  # LastCall has whole seconds: the first pull's must come after the store was filled
    first_started = datetime.now().astimezone().replace(microsecond=0)
    trigger(sut, hub, verdict, "pull_evse_data", seed)
    wait_for(hub, lambda cs: any(_last(c) for c in of(cs, PULL_DATA)), sut.retry_window, paging_idle(sut))
    calls = settle(hub)
    if not calls:
        raise NotJudged("no call reached the hub after the pull_evse_data trigger (see the trigger's answer)")
    judge_identity(sut, calls, verdict, reproduce)  # every call, also those on no operation's path
    first = of(calls, PULL_DATA)
    if not first:
        for rid in ("EMP-EVSE-DATA-01", "EMP-EVSE-DATA-02", "EMP-EVSE-DATA-03", "EMP-EVSE-DATA-04"):
            verdict.not_judged(rid, "no call reached the hub on PullEvseData's path", None)
        verdict.conclude()
        return
    verdict.check(
        all("page" in c.query or "size" in c.query for c in first),
        "EMP-EVSE-DATA-01",
        "a PullEvseData names no page (page/size query parameters)",
        journal_text(first),
        reproduce,
    )
    pages = [_page(c) for c in first if c.accepted]
    expected = list(range(max((p for p in pages if p is not None), default=0) + 1))
    verdict.check(
        bool(pages) and sorted(pages) == expected and _last([c for c in first if c.accepted][-1]),
        "EMP-EVSE-DATA-02",
        f"the EMP read pages {pages} of a store of {len(stored)} EVSEs, not each page once up to the last",
        journal_text(first),
        reproduce,
    )
    first_done = datetime.now().astimezone()
    held = probed(sut, verdict, "evses", "EMP-EVSE-DATA-02", raw=True)
    if held is not None:
        missing = sorted(set(stored) - set(_evse_ids(held)))
        verdict.check(
            not missing,
            "EMP-EVSE-DATA-02",
            f"after the pull the EMP holds {len(set(stored)) - len(missing)} of the hub's {len(stored)} EVSEs",
            f"missing: {missing[:10]}",
            reproduce,
        )
    count, every = len(of(hub.calls(), PULL_DATA)), len(hub.calls())
    time.sleep(1.1)  # LastCall has whole seconds: the change must come after it
    change_evse_data(hub, sut, stored[:3])
    # A SUT that takes LastCall from its trigger (`{last_call}`, or a forwarded message) gets the first pull's start.
    trigger(sut, hub, verdict, "pull_evse_data", seed + 1, last_call=first_started.isoformat())
    wait_for(hub, lambda cs: len(of(cs, PULL_DATA)) > count, sut.retry_window)
    judge_identity(sut, settle(hub)[every:], verdict, reproduce)  # the delta pull's LastCall too
    later = of(hub.calls(), PULL_DATA)[count:]
    if not later:
        for rid in ("EMP-EVSE-DATA-03", "EMP-EVSE-DATA-04"):
            verdict.not_judged(rid, "the second pull trigger made no PullEvseData reach the hub")
        verdict.conclude()
        return
    held = probed(sut, verdict, "evses", "EMP-EVSE-DATA-02", raw=True)
    if held is not None:  # the delta carried 3 EVSEs: the other 42 are still the EMP's
        missing = sorted(set(stored) - set(_evse_ids(held)))
        verdict.check(
            not missing,
            "EMP-EVSE-DATA-02",
            f"after a delta pull the EMP holds {len(set(stored)) - len(missing)} of the hub's {len(stored)} EVSEs "
            "(a delta answer is no full set)",
            f"missing: {missing[:10]}",
            reproduce,
        )
    body = later[0].body if isinstance(later[0].body, dict) else {}
    last_call = body.get("LastCall")
    verdict.check(
        isinstance(last_call, str),
        "EMP-EVSE-DATA-03",
        "the pull after a full pull carries no LastCall (the EMP asks for everything again)",
        later[0].summary(),
        reproduce,
    )
    if isinstance(last_call, str):
        try:
            moment = datetime.fromisoformat(last_call.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        # Not later than the previous pull (a change in between would be missed); 2 s for clock granularity.
        verdict.check(
            moment is not None and moment.tzinfo is not None and moment <= first_done + timedelta(seconds=2),
            "EMP-EVSE-DATA-03",
            f"LastCall {last_call} is no time with offset at or before the previous pull (it ended {first_done})",
            later[0].summary(),
            reproduce,
        )
    if "pull_evse_data_search" in sut.triggers:  # a search after the full pull: no LastCall may go with it
        count = len(hub.calls())
        trigger(sut, hub, verdict, "pull_evse_data_search", seed + 2)
        wait_for(hub, lambda cs: bool(of(cs[count:], PULL_DATA)), sut.retry_window)
        judge_identity(sut, settle(hub)[count:], verdict, reproduce)
        if not of(hub.calls()[count:], PULL_DATA):
            verdict.not_judged(
                "EMP-EVSE-DATA-04", "the pull_evse_data_search trigger made no PullEvseData reach the hub"
            )
    mixed = [
        c
        for c in of(hub.calls(), PULL_DATA)
        if isinstance(c.body, dict) and c.body.get("LastCall") and any(c.body.get(f) for f in FILTERS)
    ]
    verdict.check(
        not mixed,
        "EMP-EVSE-DATA-04",
        "a PullEvseData combines LastCall with "
        + ", ".join(f for f in FILTERS if mixed and isinstance(mixed[0].body, dict) and mixed[0].body.get(f)),
        journal_text(mixed),
        reproduce,
    )
    verdict.conclude()


def _evse_ids(held: Any) -> list[str]:
    """EvseIDs in whatever JSON an evses probe shows: a list of IDs, records with EvseID, or a mapping."""
    if isinstance(held, str):
        return [held]
    if isinstance(held, list):
        return [e for item in held for e in _evse_ids(item)]
    if isinstance(held, dict):
        if isinstance(held.get("EvseID"), str):
            return [held["EvseID"]]
        keys = [k for k in held if "*" in k or (k[:2].isalpha() and k[2:3] in "*E")]
        return keys + [e for v in held.values() for e in _evse_ids(v)]
    return []


STATUS_BY_ID, GET_CDRS, PUSH_AUTH = "PullEvseStatusByID.hub", "GetChargeDetailRecords.hub", "PushAuthenticationData.hub"


def not_chosen_by_a_forwarder(sut: Sut, name: str, what: str) -> None:
    """n/a where the trigger forwards a message the suite writes: `what` is then the suite's choice, not the SUT's."""
    if wants_message(sut, name):
        why = f"trigger {name!r} forwards a message the suite writes: {what} is the suite's choice"
        raise NotJudged(why, applies=False)


@pytest.mark.operation(STATUS_BY_ID, service="evsepull")
@requirement("EMP-EVSE-STATUS-01")
def test_pull_evse_status_by_id_names_at_most_100_evses(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    if not sut.has("pull_evse_status_by_id"):
        raise NotJudged(f"{sut.source} does not declare 'pull_evse_status_by_id'", declare="features")
    require_trigger(sut, "pull_evse_status_by_id")
    not_chosen_by_a_forwarder(sut, "pull_evse_status_by_id", "how many EvseIDs one request names (at most 100)")
    wanted = seed_evse_data(hub, sut, 150, seed)  # more than one request may carry
    trigger(sut, hub, verdict, "pull_evse_status_by_id", seed, evse_ids=wanted)
    wait_for(hub, lambda cs: bool(of(cs, STATUS_BY_ID)), sut.retry_window)
    calls = of(settle(hub), STATUS_BY_ID)
    if not calls:
        raise NotJudged("no PullEvseStatusByID reached the hub after the trigger (see the trigger's answer)")
    sizes = [len((c.body or {}).get("EvseID", [])) if isinstance(c.body, dict) else 0 for c in calls]
    verdict.check(
        max(sizes) <= 100,
        "EMP-EVSE-STATUS-01",
        f"a PullEvseStatusByID names {max(sizes)} EvseIDs (at most 100)",
        journal_text(calls),
        rerun(sut, seed, "test_pull_evse_status_by_id_names_at_most_100_evses"),
    )
    verdict.conclude()


@pytest.mark.operation(GET_CDRS, service="cdrmgmt")
@requirement("EMP-GET-CDR-01", "EMP-GET-CDR-02", "EMP-GET-CDR-03", "EMP-GET-CDR-04", "EMP-GET-CDR-05")
def test_get_charge_detail_records_reads_its_range_page_by_page(
    sut: Sut, hub: FakeHub, seed: int, verdict: Verdict
) -> None:
    if not sut.has("get_charge_detail_records") and sut.mode != "offline":
        raise NotJudged(f"{sut.source} does not declare 'get_charge_detail_records'", declare="features")
    require_trigger(sut, "get_cdrs")
    end = datetime.now().astimezone().replace(microsecond=0)
    start = end - timedelta(hours=2)
    stored = seed_cdrs(hub, sut, 45, seed, start, end - timedelta(minutes=1))
    reproduce = rerun(sut, seed, "test_get_charge_detail_records_reads_its_range_page_by_page")
    trigger(sut, hub, verdict, "get_cdrs", seed, **{"from": start.isoformat(), "to": end.isoformat()})
    wait_for(hub, lambda cs: any(_last(c) for c in of(cs, GET_CDRS)), sut.retry_window, paging_idle(sut))
    calls = of(settle(hub), GET_CDRS)
    if not calls:
        raise NotJudged("no GetChargeDetailRecords reached the hub after the trigger (see the trigger's answer)")
    bodies = [c.body if isinstance(c.body, dict) else {} for c in calls]
    verdict.check(
        all("From" in b and "To" in b for b in bodies),
        "EMP-GET-CDR-01",
        "a GetChargeDetailRecords names no date range (From and To)",
        journal_text(calls),
        reproduce,
    )
    verdict.check(
        all("page" in c.query or "size" in c.query for c in calls),
        "EMP-GET-CDR-02",
        "a GetChargeDetailRecords names no page (page/size query parameters)",
        journal_text(calls),
        reproduce,
    )
    windows: dict[tuple[str, str], list[Call]] = {}
    for call, body in zip(calls, bodies, strict=True):
        windows.setdefault((str(body.get("From")), str(body.get("To"))), []).append(call)
    for (begin, finish), pages in windows.items():
        numbers = sorted(p for p in (_page(c) for c in pages if c.accepted) if p is not None)
        verdict.check(
            numbers == list(range(len(numbers))) and any(_last(c) for c in pages),
            "EMP-GET-CDR-03",
            f"for {begin}..{finish} the EMP read pages {numbers}, not each page once up to the last",
            journal_text(pages),
            reproduce,
        )
    if len(windows) > 1:  # the EMP cut the range into windows itself: they must leave no gap
        judge_gaps(verdict, list(windows), calls, reproduce)
    else:  # judged on the EMP's own successive downloads (test_successive_cdr_downloads_leave_no_gap)
        verdict.not_judged("EMP-GET-CDR-04", "one date range was asked: no gap between ranges to judge", applies=False)
    judge_booked_once(sut, verdict, stored, reproduce)
    verdict.conclude()


def judge_booked_once(sut: Sut, verdict: Verdict, stored: list[str], reproduce: str) -> None:
    """EMP-GET-CDR-05 from the cdrs probe: each CDR the hub holds booked once, however often it was downloaded."""
    booked = probed(sut, verdict, "cdrs", "EMP-GET-CDR-05")
    if booked is not None:
        twice = sorted({s for s in stored if booked.count(s) > 1})
        verdict.check(
            not twice,
            "EMP-GET-CDR-05",
            f"{len(twice)} CDR(s) downloaded were booked more than once",
            f"e.g. {twice[:5]}",
            reproduce,
        )


def judge_gaps(verdict: Verdict, windows: list[tuple[str, str]], calls: list[Call], reproduce: str) -> None:
    """EMP-GET-CDR-04 on successive (From, To) ranges, in the order they were asked; one range judges nothing."""
    for (_, earlier_to), (later_from, _) in itertools.pairwise(windows):
        earlier, later = _moment(earlier_to), _moment(later_from)
        verdict.check(
            earlier is not None and later is not None and later <= earlier,
            "EMP-GET-CDR-04",
            f"the ranges leave a gap: one ends {earlier_to}, the next begins {later_from}",
            journal_text(calls),
            reproduce,
        )


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@pytest.mark.operation(GET_CDRS, service="cdrmgmt")
@requirement("EMP-GET-CDR-04", "EMP-GET-CDR-05")
def test_successive_cdr_downloads_leave_no_gap(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    """The EMP's own downloads (it picks each range): each begins where the previous one ended, or before."""
    if not sut.has("get_charge_detail_records") and sut.mode != "offline":
        raise NotJudged(f"{sut.source} does not declare 'get_charge_detail_records'", declare="features")
    require_trigger(sut, "get_new_cdrs")
    not_chosen_by_a_forwarder(sut, "get_new_cdrs", "the From and To of each download")
    end = datetime.now().astimezone().replace(microsecond=0)
    stored = seed_cdrs(hub, sut, 6, seed, end - timedelta(hours=1), end - timedelta(seconds=30))
    reproduce = rerun(sut, seed, "test_successive_cdr_downloads_leave_no_gap")
    ranges: list[tuple[str, str]] = []
    for index in range(3):
        if index:
            time.sleep(2.1)  # whole-second times: later downloads must have a range of their own to ask for
        count = len(hub.calls())
        trigger(sut, hub, verdict, "get_new_cdrs", seed + index)
        done = lambda cs, n=count: any(_last(c) for c in of(cs[n:], GET_CDRS))  # noqa: E731
        wait_for(hub, done, sut.retry_window, paging_idle(sut))
        for call in of(settle(hub)[count:], GET_CDRS):
            body = call.body if isinstance(call.body, dict) else {}
            window = (str(body.get("From")), str(body.get("To")))
            if call.accepted and window not in ranges:
                ranges.append(window)
    calls = of(hub.calls(), GET_CDRS)
    if len(ranges) < 2:
        raise NotJudged(
            f"{len(ranges)} date range(s) reached the hub after three get_new_cdrs triggers: two are needed "
            "(see the triggers' answers)"
        )
    judge_gaps(verdict, ranges, calls, reproduce)
    judge_booked_once(sut, verdict, stored, reproduce)
    verdict.conclude()


@pytest.mark.operation(PUSH_AUTH, service="authdata")
@requirement(
    "EMP-PUSH-AUTH-01", "EMP-PUSH-AUTH-02", "EMP-PUSH-AUTH-03", "EMP-PUSH-AUTH-04", "EMP-PUSH-AUTH-05", "EMP-OUT-07"
)
def test_push_authentication_data_keeps_the_hub_equal_to_the_emp(
    sut: Sut, hub: FakeHub, seed: int, verdict: Verdict
) -> None:
    if not sut.has("push_authentication_data") and sut.mode != "offline":
        verdict.not_judged("EMP-OUT-07", "the EMP pushes no authentication data", applies=False)  # judged elsewhere
        raise NotJudged(f"{sut.source} does not declare 'push_authentication_data'", declare="features")
    require_trigger(sut, "push_auth_data")
    hub.script(PUSH_AUTH, always=Fault.delay(0.3))  # long enough for a second push to overlap, if the EMP lets it
    concurrently(
        *(partial(trigger, sut, hub, verdict, "push_auth_data", seed + index, action="fullLoad") for index in range(2))
    )
    wait_for(hub, lambda cs: len(of(cs, PUSH_AUTH)) >= 2, sut.retry_window)
    calls = of(settle(hub), PUSH_AUTH)
    reproduce = rerun(sut, seed, "test_push_authentication_data_keeps_the_hub_equal_to_the_emp")
    if not calls:
        raise NotJudged("no PushAuthenticationData reached the hub after the trigger (see the trigger's answer)")
    verdict.check(
        all(isinstance(c.body, dict) and c.body.get("ActionType") for c in calls),
        "EMP-PUSH-AUTH-01",
        "a PushAuthenticationData names no ActionType",
        journal_text(calls),
        reproduce,
    )
    verdict.check(
        all(not c.violations for c in calls),
        "EMP-PUSH-AUTH-02",
        "PushAuthenticationData is not schema-valid",
        "\n".join(str(v) for c in calls for v in c.violations[:5]),
        reproduce,
    )
    if len(calls) < 2:
        verdict.not_judged("EMP-PUSH-AUTH-05", "only one push reached the hub: two are needed to judge overlap")
    else:
        verdict.check(
            not [c for c in calls if c.concurrent],
            "EMP-PUSH-AUTH-05",
            "two PushAuthenticationData requests overlapped (pushes of one operation must be sequential)",
            journal_text(calls),
            reproduce,
        )
    hashed = [
        i["HashedPIN"]
        for c in calls
        if isinstance(c.body, dict)
        for r in (c.body.get("ProviderAuthenticationData") or {}).get("AuthenticationDataRecord", [])
        for i in (r.get("Identification") or {}).values()
        if isinstance(i, dict) and isinstance(i.get("HashedPIN"), dict)
    ]
    if hashed:
        verdict.check(
            all(h.get("Function") for h in hashed),
            "EMP-PUSH-AUTH-03",
            "a pushed HashedPIN does not name the hash function it was made with",
            journal_text(calls),
            reproduce,
        )
    else:
        verdict.not_judged("EMP-PUSH-AUTH-03", "the EMP pushed no HashedPIN", applies=False)
    evcos = [
        str(i.get("EvcoID"))
        for c in calls
        if isinstance(c.body, dict)
        for r in (c.body.get("ProviderAuthenticationData") or {}).get("AuthenticationDataRecord", [])
        for i in (r.get("Identification") or {}).values()
        if isinstance(i, dict) and i.get("EvcoID")
    ]
    foreign = [e for e in evcos if provider_of_evco(e) != provider_key(sut.provider_id)]
    verdict.check(
        not foreign,
        "EMP-OUT-07",
        f"pushed EvcoIDs of another provider than {sut.provider_id}: {foreign[:5]}",
        journal_text(calls),
        reproduce,
    )
    # A card or contract is the same customer whatever option carries it (an RFID card pushed as
    # RFIDIdentification is the UID a CPO reads as RFIDMifareFamilyIdentification): compare UIDs and EvcoIDs.
    declared = {fingerprint(i).split(":", 1)[-1] for _, i in known_identifications(sut)}
    held = {fingerprint(i).split(":", 1)[-1] for i in hub.state.auth_data.get(sut.provider_id, [])}
    missing = sorted(declared - held)
    verdict.check(
        not missing,
        "EMP-PUSH-AUTH-04",
        f"after a fullLoad the hub lacks {len(missing)} identification(s) the EMP declares",
        f"missing: {missing[:5]}",
        reproduce,
    )
    verdict.conclude()


REMOTE_START, REMOTE_STOP = "AuthorizeRemoteStart.hub", "AuthorizeRemoteStop.hub"


@pytest.mark.operation(REMOTE_START, service="charging")
@requirement(
    "EMP-REMOTE-START-01",
    "EMP-REMOTE-START-02",
    "EMP-REMOTE-START-03",
    "EMP-REMOTE-START-04",
    "EMP-REMOTE-STOP-01",
    "EMP-OUT-07",
)
def test_remote_start_and_stop(sut: Sut, hub: FakeHub, seed: int, verdict: Verdict) -> None:
    require_trigger(sut, "remote_start")
    known = set(seed_evse_data(hub, sut, 5, seed))  # the EVSEs the hub knows, the declared ones among them
    evse = sut.evse_ids[0]
    reproduce = rerun(sut, seed, "test_remote_start_and_stop")
    trigger(sut, hub, verdict, "remote_start", seed, evse_id=evse)
    wait_for(hub, lambda cs: bool(of(cs, REMOTE_START)), sut.retry_window)
    calls = settle(hub)
    judge_identity(sut, calls, verdict, reproduce)
    starts = of(calls, REMOTE_START)
    if not starts:
        raise NotJudged("no AuthorizeRemoteStart reached the hub after the trigger (see the trigger's answer)")
    body = starts[0].body if isinstance(starts[0].body, dict) else {}
    missing = [m for m in ("ProviderID", "EvseID", "Identification") if m not in body]
    verdict.check(
        not missing,
        "EMP-REMOTE-START-01",
        f"the RemoteStart lacks {', '.join(missing)}",
        starts[0].summary(),
        reproduce,
    )
    verdict.check(
        "SessionID" not in body,
        "EMP-REMOTE-START-02",
        f"the RemoteStart fills SessionID {body.get('SessionID')} (best practice: leave it to Hubject)",
        starts[0].summary(),
        reproduce,
    )
    kinds = list((body.get("Identification") or {}).keys())
    verdict.check(
        kinds == ["RemoteIdentification"],
        "EMP-REMOTE-START-03",
        f"the RemoteStart identifies the customer with {kinds or 'nothing'}, not RemoteIdentification alone",
        starts[0].summary(),
        reproduce,
    )
    verdict.check(
        body.get("EvseID") in known,
        "EMP-REMOTE-START-04",
        f"the RemoteStart targets EVSE {body.get('EvseID')}, which the hub does not know",
        starts[0].summary(),
        reproduce,
    )
    evco = ((body.get("Identification") or {}).get("RemoteIdentification") or {}).get("EvcoID")
    if evco:
        verdict.check(
            provider_of_evco(str(evco)) == provider_key(sut.provider_id),
            "EMP-OUT-07",
            f"the RemoteStart's EvcoID {evco} is not of provider {sut.provider_id}",
            starts[0].summary(),
            reproduce,
        )
    accepted = [c for c in starts if c.accepted and isinstance(c.response, dict) and c.response.get("SessionID")]
    if not accepted or "remote_stop" not in sut.triggers:
        why = "the hub accepted no RemoteStart" if not accepted else "trigger 'remote_stop' is not declared"
        verdict.not_judged("EMP-REMOTE-STOP-01", why, None if accepted else "[triggers.remote_stop]")
        verdict.conclude()
        return
    session_id = accepted[0].response["SessionID"]
    count = len(hub.calls())
    trigger(sut, hub, verdict, "remote_stop", seed + 1, session_id=session_id, evse_id=evse)
    wait_for(hub, lambda cs: bool(of(cs[count:], REMOTE_STOP)), sut.retry_window)
    stops = of(settle(hub)[count:], REMOTE_STOP)
    if not stops:
        verdict.add("EMP-REMOTE-STOP-01", "no AuthorizeRemoteStop reached the hub", journal_text(hub.calls()[count:]))
    for stop in stops:
        sent = stop.body.get("SessionID") if isinstance(stop.body, dict) else None
        verdict.check(
            sent == session_id,
            "EMP-REMOTE-STOP-01",
            f"the RemoteStop carries SessionID {sent}, the hub's RemoteStart answer gave {session_id}",
            stop.summary(),
            reproduce,
        )
    verdict.conclude()
