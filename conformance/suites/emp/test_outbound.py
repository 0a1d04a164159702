"""EMP -> Hubject, through triggers: what the EMP sends, judged on the fake hub (online and offline EMPs)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from conformance.hub import Call, FakeHub
from conformance.oicp.ids import provider_key
from conformance.suites.emp.helpers import PULL_DATA, seed_evse_data
from conformance.suites.plugin import requirement
from conformance.suites.steps import journal_text, of, probed, require_trigger, rerun, settle, trigger, wait_for
from conformance.suites.verdicts import NotJudged, Verdict
from conformance.sut import Sut

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
        verdict.check(
            not call.violations,
            "EMP-OUT-06",
            f"{call.operation}: the request is not schema-valid",
            "\n".join(str(v) for v in call.violations[:10]),
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
    trigger(sut, hub, verdict, "pull_evse_data", seed)
    wait_for(hub, lambda cs: any(_last(c) for c in of(cs, PULL_DATA)), sut.retry_window)
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
    count = len(of(hub.calls(), PULL_DATA))
    trigger(sut, hub, verdict, "pull_evse_data", seed + 1)
    wait_for(hub, lambda cs: len(of(cs, PULL_DATA)) > count, sut.retry_window)
    later = of(settle(hub), PULL_DATA)[count:]
    if not later:
        for rid in ("EMP-EVSE-DATA-03", "EMP-EVSE-DATA-04"):
            verdict.not_judged(rid, "the second pull trigger made no PullEvseData reach the hub")
        verdict.conclude()
        return
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
    used = [f for f in FILTERS if body.get(f)]
    verdict.check(
        not used,
        "EMP-EVSE-DATA-04",
        f"the delta pull combines LastCall with {', '.join(used)}",
        later[0].summary(),
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
