"""What the reference EMP sends to Hubject: EVSE data, status and pricing pulls, remote start/stop,
reservations, CDR downloads and authentication data pushes.

Each action builds its OICP message from the EMP's own world, then hands it to one `_send_*` step, which plants
the message defects, picks the operation path, pages or chunks the call and records what the hub's answer means
for the EMP's books. In forward mode the message comes from the trigger instead and goes through the same step
(`forward`), so a forwarding backend mangles, routes, retries, pages and books exactly like one that builds its
own messages."""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from conformance.reference.emp.hubclient import HubClient, Outcome
from conformance.reference.emp.model import (
    IDENTIFICATION_OPTIONS,
    RFID_TYPES,
    Config,
    Contract,
    Reservation,
    Session,
    World,
    norm_evco,
    norm_uid,
    now,
    parse_time,
    record_key,
    stamp,
)

# Every outbound operation, its path (from the OICP 2.3 EMP OpenAPI and the status pulls' code snippets), and
# the OICP message a `forward` trigger's body must be.
PATHS = {
    "pull-evse-data": "/evsepull/v23/providers/{provider}/data-records",
    "pull-evse-status": "/evsepull/v21/providers/{provider}/status-records",
    "pull-evse-status-by-id": "/evsepull/v21/providers/{provider}/status-records-by-id",
    "pull-evse-status-by-operator-id": "/evsepull/v21/providers/{provider}/status-records-by-operator-id",
    "remote-start": "/charging/v21/providers/{provider}/authorize-remote/start",
    "remote-stop": "/charging/v21/providers/{provider}/authorize-remote/stop",
    "reservation-start": "/reservation/v11/providers/{provider}/reservation-start-request",
    "reservation-stop": "/reservation/v11/providers/{provider}/reservation-stop-request",
    "get-cdrs": "/cdrmgmt/v22/providers/{provider}/get-charge-detail-records-request",
    "push-auth-data": "/authdata/v21/providers/{provider}/push-request",
    "pull-pricing-products": "/dynamicpricing/v10/providers/{provider}/pricing-products",
    "pull-evse-pricing": "/dynamicpricing/v10/providers/{provider}/evse-pricing",
}
FORWARDED = {
    "pull-evse-data": "eRoamingPullEvseData",
    "pull-evse-status": "eRoamingPullEvseStatus",
    "pull-evse-status-by-id": "eRoamingPullEvseStatusByID",
    "pull-evse-status-by-operator-id": "eRoamingPullEvseStatusByOperatorID",
    "remote-start": "eRoamingAuthorizeRemoteStart",
    "remote-stop": "eRoamingAuthorizeRemoteStop",
    "reservation-start": "eRoamingAuthorizeRemoteReservationStart",
    "reservation-stop": "eRoamingAuthorizeRemoteReservationStop",
    "get-cdrs": "eRoamingGetChargeDetailRecords",
    "push-auth-data": "eRoamingPushAuthenticationData",
    "pull-pricing-products": "eRoamingPullPricingProductData",
    "pull-evse-pricing": "eRoamingPullEVSEPricing",
}
# PullEvseData: LastCall "Cannot be combined with SearchCenter, CountryCodes, and OperatorIDs" (EMP chapter 2).
SEARCH_FIELDS = ("SearchCenter", "CountryCodes", "OperatorIds")
EVSE_DATA_FILTERS = (
    *SEARCH_FIELDS,
    "AuthenticationModes",
    "Accessibility",
    "CalibrationLawDataAvailability",
    "RenewableEnergy",
    "IsHubjectCompatible",
    "IsOpen24Hours",
)
STATUS_FILTERS = ("SearchCenter", "EVSEStatus")
MAX_EVSE_IDS = 100  # PullEvseStatusByID: "The list MUST not contain more than 100 EvseIDs"
AUTH_ACTIONS = ("fullLoad", "update", "insert", "delete")
FOREIGN_PROVIDER = "DE-XXX"  # the identity defects' stand-in for another provider
FOREIGN_EVCO = "DE-XXX-C99999999-9"
WINDOW_GAP = timedelta(seconds=1)  # cdr-window-gap: the next window starts a second after the last ended
_UID = re.compile(r"^([0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})$")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_TIME_FIELDS = ("LastCall", "From", "To")


class BadTrigger(Exception):
    """A trigger call that cannot run: (HTTP status, reason)."""


@dataclass
class Done:
    """What an action did: every hub call's outcome, and what else its trigger answer tells."""

    outcomes: list[Outcome]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> Outcome:
        """The call that decides: the first that did not succeed, else the last."""
        return next((o for o in self.outcomes if not o.accepted), self.outcomes[-1])


class EmpService:
    def __init__(self, config: Config, world: World):
        self.config = config
        self.world = world
        self.hub = HubClient(config)

    def _has(self, defect: str) -> bool:
        return defect in self.config.defects

    # --- shared steps ---------------------------------------------------------------------------------

    def _path(self, action: str, provider: Any = None) -> str:
        path = PATHS[action]
        if action == "pull-evse-data" and self._has("wrong-service-version"):
            path = path.replace("/v23/", "/v22/")
        if self._has("wrong-provider-in-path"):
            provider = FOREIGN_PROVIDER
        return path.format(provider=provider if isinstance(provider, str) and provider else self.config.provider_id)

    def _plant(self, body: dict[str, Any], *, pull: bool = False) -> dict[str, Any]:
        """The message as sent: a copy, with the message and identity defects planted."""
        body = copy.deepcopy(body)
        if self._has("wrong-provider-in-body") and isinstance(body.get("ProviderID"), str):
            body["ProviderID"] = FOREIGN_PROVIDER
        if pull and self._has("pull-without-provider-id"):
            body.pop("ProviderID", None)
        if self._has("timestamp-without-offset"):
            for key in _TIME_FIELDS:
                if isinstance(body.get(key), str):
                    body[key] = _OFFSET.sub("", body[key])
        return body

    def _done(self, action: str, outcomes: list[Outcome], /, **extra: Any) -> Done:
        """Keep the latest run of each action for the state-last-calls probe, refusals included."""
        done = Done(outcomes, extra)
        if self._has("answer-needs-optional-members"):  # logs the hub's message, as if every answer had one
            for outcome in (o for o in outcomes if o.accepted):
                extra["hub_says"] = outcome.body.get("StatusCode", {}).get("Description").strip()
        with self.world.lock:
            self.world.last_calls[action] = {
                "at": stamp(now()),
                "ok": all(o.accepted for o in outcomes),
                **done.final.summary(),
                "calls": [o.summary() for o in outcomes],
                **extra,
            }
        return done

    def _pages(
        self, path: str, body: dict[str, Any], size: int | None, extract: Callable[[dict[str, Any]], list[Any]]
    ) -> tuple[bool, list[Any], list[Outcome]]:
        """Read every page of a paged pull (`?page=N&size=S`): (complete, items, outcomes).

        A page that fails ends the pull incomplete: the caller keeps its old books instead of half new ones."""
        size = size or self.config.page_size
        first_only = self._has("evse-data-first-page-only" if "data-records" in path else "cdrs-first-page-only")
        items: list[Any] = []
        outcomes: list[Outcome] = []
        for page in range(self.config.max_pages):
            outcome = self.hub.post(path, body, params={"page": page, "size": size})
            outcomes.append(outcome)
            if not outcome.accepted:
                return False, items, outcomes
            found = extract(outcome.body)
            items.extend(found)
            if first_only or _last_page(outcome.body, page, found):
                return True, items, outcomes
        return False, items, outcomes  # max_pages without `last`: something is wrong at the hub

    # --- EVSE data ----------------------------------------------------------------------------------

    def pull_evse_data(
        self, filters: dict[str, Any] | None = None, full: bool = False, size: int | None = None
    ) -> Done:
        """PullEvseData: a full load the first time, then the delta since the last complete pull (LastCall).

        A filtered pull is a full load of what the filters select: LastCall "cannot be combined" with the
        search filters, and a filtered answer says nothing of the EVSEs it leaves out."""
        filters = dict(filters or {})
        if unknown := sorted(set(filters) - {*EVSE_DATA_FILTERS, "GeoCoordinatesResponseFormat"}):
            raise BadTrigger(400, f"unknown PullEvseData filter(s) {unknown}")
        body: dict[str, Any] = {
            "ProviderID": self.config.provider_id,
            "GeoCoordinatesResponseFormat": filters.pop("GeoCoordinatesResponseFormat", "DecimalDegree"),
            **filters,
        }
        with self.world.lock:
            baseline = self.world.last_call
        searched = any(k in filters for k in SEARCH_FIELDS)
        delta_allowed = not filters or (searched and self._has("lastcall-with-search"))
        if baseline is not None and not full and delta_allowed and not self._has("always-full-evse-pull"):
            body["LastCall"] = stamp(baseline)
        return self._send_evse_data(body, size)

    def _send_evse_data(self, body: dict[str, Any], size: int | None = None) -> Done:
        started = now()
        sent = self._plant(body, pull=True)
        if self._has("always-full-evse-pull"):
            sent.pop("LastCall", None)
        delta = "LastCall" in sent
        filtered = any(k in sent for k in EVSE_DATA_FILTERS)
        complete, records, outcomes = self._pages(
            self._path("pull-evse-data", body.get("ProviderID")), sent, size, _evse_records
        )
        if not complete:
            return self._done("pull-evse-data", outcomes, complete=False, evses=len(records), delta=delta)
        with self.world.lock:
            evses = self.world.evses
            if self._has("delta-as-full-load") or not (delta or filtered):  # a full load replaces the books
                old, evses = evses, {}
                for record in records:
                    evses[record["EvseID"]] = {"data": record, "status": old.get(record["EvseID"], {}).get("status")}
                self.world.evses = evses
            else:
                for record in records:
                    if delta and record.get("deltaType") == "delete":
                        evses.pop(record["EvseID"], None)
                    else:
                        evses.setdefault(record["EvseID"], {"data": None, "status": None})["data"] = record
            if not filtered:  # only a pull of everything is a baseline for the next delta
                self.world.last_call = started
            held = len(self.world.evses)
        return self._done(
            "pull-evse-data", outcomes, complete=True, evses=len(records), delta=delta, pages=len(outcomes), held=held
        )

    # --- EVSE status --------------------------------------------------------------------------------

    def pull_evse_status(self, filters: dict[str, Any] | None = None) -> Done:
        filters = dict(filters or {})
        if unknown := sorted(set(filters) - set(STATUS_FILTERS)):
            raise BadTrigger(400, f"unknown PullEvseStatus filter(s) {unknown}")
        return self._send_evse_status({"ProviderID": self.config.provider_id, **filters})

    def _send_evse_status(self, body: dict[str, Any]) -> Done:
        outcome = self.hub.post(self._path("pull-evse-status", body.get("ProviderID")), self._plant(body, pull=True))
        return self._done("pull-evse-status", [outcome], statuses=self._store_statuses([outcome]))

    def pull_evse_status_by_id(self, evse_ids: list[str] | None = None) -> Done:
        if evse_ids is None:
            with self.world.lock:
                evse_ids = list(self.world.evses)
        if not evse_ids:
            raise BadTrigger(400, "no EvseIDs: name them in evse_ids, or pull EVSE data first")
        return self._send_status_by_id({"ProviderID": self.config.provider_id, "EvseID": evse_ids})

    def _send_status_by_id(self, body: dict[str, Any]) -> Done:
        """At most 100 EvseIDs per request, as the spec limits: a longer list goes out in several requests."""
        evse_ids = list(dict.fromkeys(_required_list(body, "EvseID", FORWARDED["pull-evse-status-by-id"])))
        step = (len(evse_ids) or 1) if self._has("status-by-id-unchunked") else MAX_EVSE_IDS
        path = self._path("pull-evse-status-by-id", body.get("ProviderID"))
        outcomes = [
            self.hub.post(path, self._plant({**body, "EvseID": evse_ids[i : i + step]}, pull=True))
            for i in range(0, max(len(evse_ids), 1), step)
        ]
        return self._done(
            "pull-evse-status-by-id", outcomes, requests=len(outcomes), statuses=self._store_statuses(outcomes)
        )

    def pull_evse_status_by_operator_id(self, operator_ids: list[str] | None = None) -> Done:
        operator_ids = operator_ids or self.world.operator_ids()
        if not operator_ids:
            raise BadTrigger(400, "no OperatorIDs: name them in operator_ids, or pull EVSE data first")
        return self._send_status_by_operator({"ProviderID": self.config.provider_id, "OperatorID": operator_ids})

    def _send_status_by_operator(self, body: dict[str, Any]) -> Done:
        path = self._path("pull-evse-status-by-operator-id", body.get("ProviderID"))
        outcome = self.hub.post(path, self._plant(body, pull=True))
        return self._done("pull-evse-status-by-operator-id", [outcome], statuses=self._store_statuses([outcome]))

    def _store_statuses(self, outcomes: list[Outcome]) -> int:
        found = [r for o in outcomes if o.accepted for r in _status_records(o.body)]
        for evse_id, status in found:
            self.world.set_status(evse_id, status)
        return len(found)

    # --- remote start/stop and reservations ------------------------------------------------------------

    def _evse_for_start(self, evse_id: Any) -> str:
        """The EvseID of a start: the trigger's, else the first pulled EVSE that is Available (else any)."""
        if isinstance(evse_id, str) and evse_id:
            return evse_id
        with self.world.lock:
            known = list(self.world.evses.items())
        for evse, entry in known:
            if entry.get("status") in (None, "Available"):
                return evse
        if known:
            return known[0][0]
        raise BadTrigger(400, "no evse_id: name one, or pull EVSE data first")

    def remote_identification(self, evco_id: Any) -> dict[str, Any]:
        """RemoteIdentification of one of the EMP's own, unlocked contracts ("For the Remote Authorization
        process, only the option RemoteIdentification MUST be used", EMP chapter 3)."""
        if evco_id is None:
            evco_id = self.world.remote_evco_id()
            if evco_id is None:
                raise BadTrigger(400, "this EMP has no usable contract")
        elif not isinstance(evco_id, str) or self.world.own_contract(evco_id) is None:
            raise BadTrigger(400, f"{evco_id!r} is not an unlocked contract of this EMP")
        return {"RemoteIdentification": {"EvcoID": evco_id}}

    def remote_start(self, evse_id: Any = None, evco_id: Any = None, product_id: Any = None) -> Done:
        """AuthorizeRemoteStart without a SessionID: "The SessionID should not be filled in by the EMP in the
        initial AuthorizationRemoteStart request" (EMP chapter 2); the hub's answer carries the one it made."""
        body: dict[str, Any] = {
            "ProviderID": self.config.provider_id,
            "EvseID": self._evse_for_start(evse_id),
            "Identification": self.remote_identification(evco_id),
            "EMPPartnerSessionID": f"emp-{uuid.uuid4().hex[:12]}",
        }
        if product_id is not None:
            body["PartnerProductID"] = product_id
        return self._send_remote_start(body)

    def _send_remote_start(self, body: dict[str, Any]) -> Done:
        sent = self._plant(body)
        if self._has("remote-start-own-session-id"):
            sent["SessionID"] = str(uuid.uuid4())
        if self._has("foreign-remote-identification"):
            sent["Identification"] = {"RemoteIdentification": {"EvcoID": FOREIGN_EVCO}}
        outcome = self.hub.post(self._path("remote-start", body.get("ProviderID")), sent)
        session_id = outcome.body.get("SessionID") if outcome.accepted else None
        if isinstance(session_id, str) and session_id:
            partner = body.get("EMPPartnerSessionID")
            self.world.add_session(
                Session(
                    session_id,
                    "remote-start",
                    body.get("Identification") or {},
                    evse_id=body.get("EvseID"),
                    **({"emp_partner_session_id": partner} if isinstance(partner, str) else {}),
                )
            )
        else:
            session_id = None
        return self._done("remote-start", [outcome], session_id=session_id)

    def remote_stop(self, session_id: str, evse_id: Any = None) -> Done:
        """AuthorizeRemoteStop with the hub's SessionID ("The request MUST contain the SessionID that was created
        by Hubject after the initial eRoamingAuthorizeRemoteStart request")."""
        with self.world.lock:
            session = self.world.sessions.get(session_id)
        if session is None and not evse_id:
            raise KeyError(session_id)
        evse = evse_id or (session.evse_id if session else None)
        if not evse:
            raise BadTrigger(400, f"session {session_id} has no EvseID: name it in evse_id")
        body: dict[str, Any] = {"ProviderID": self.config.provider_id, "SessionID": session_id, "EvseID": evse}
        if session is not None:
            body["EMPPartnerSessionID"] = session.emp_partner_session_id
        return self._send_remote_stop(body)

    def _send_remote_stop(self, body: dict[str, Any]) -> Done:
        sent = self._plant(body)
        if self._has("remote-stop-without-hub-session-id"):  # an ID of its own instead of the hub's
            sent["SessionID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, str(body.get("EMPPartnerSessionID", body))))
        outcome = self.hub.post(self._path("remote-stop", body.get("ProviderID")), sent)
        if outcome.accepted:
            with self.world.lock:
                session = self.world.sessions.get(str(body.get("SessionID")))
                if session is not None:
                    session.stopped = True
        return self._done("remote-stop", [outcome], session_id=body.get("SessionID"))

    def reservation_start(
        self, evse_id: Any = None, evco_id: Any = None, duration: Any = None, product_id: Any = None
    ) -> Done:
        body: dict[str, Any] = {
            "ProviderID": self.config.provider_id,
            "EvseID": self._evse_for_start(evse_id),
            "Identification": self.remote_identification(evco_id),
            "EMPPartnerSessionID": f"emp-{uuid.uuid4().hex[:12]}",
        }
        if duration is not None:
            if not isinstance(duration, int) or isinstance(duration, bool) or not 1 <= duration <= 99:
                raise BadTrigger(400, "duration is whole minutes, 1 to 99 (two digits, EMP chapter 2)")
            body["Duration"] = duration
        if product_id is not None:
            body["PartnerProductID"] = product_id
        return self._send_reservation_start(body)

    def _send_reservation_start(self, body: dict[str, Any]) -> Done:
        sent = self._plant(body)
        if self._has("foreign-remote-identification"):
            sent["Identification"] = {"RemoteIdentification": {"EvcoID": FOREIGN_EVCO}}
        outcome = self.hub.post(self._path("reservation-start", body.get("ProviderID")), sent)
        session_id = outcome.body.get("SessionID") if outcome.accepted else None
        if isinstance(session_id, str) and session_id:
            self.world.add_reservation(
                Reservation(session_id, str(body.get("EvseID")), body.get("Identification") or {})
            )
        else:
            session_id = None
        return self._done("reservation-start", [outcome], session_id=session_id)

    def reservation_stop(self, session_id: str, evse_id: Any = None) -> Done:
        with self.world.lock:
            reservation = self.world.reservations.get(session_id)
        if reservation is None and not evse_id:
            raise KeyError(session_id)
        evse = evse_id or (reservation.evse_id if reservation else None)
        body = {"ProviderID": self.config.provider_id, "SessionID": session_id, "EvseID": evse}
        return self._send_reservation_stop(body)

    def _send_reservation_stop(self, body: dict[str, Any]) -> Done:
        sent = self._plant(body)
        if self._has("remote-stop-without-hub-session-id"):
            sent["SessionID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, str(body)))
        outcome = self.hub.post(self._path("reservation-stop", body.get("ProviderID")), sent)
        if outcome.accepted:
            with self.world.lock:
                reservation = self.world.reservations.get(str(body.get("SessionID")))
                if reservation is not None:
                    reservation.ended = True
        return self._done("reservation-stop", [outcome], session_id=body.get("SessionID"))

    # --- charge detail records --------------------------------------------------------------------------

    def get_cdrs(
        self,
        start: Any = None,
        end: Any = None,
        window_minutes: Any = None,
        filters: dict[str, Any] | None = None,
        size: int | None = None,
    ) -> Done:
        """GetChargeDetailRecords for [start, end], in consecutive windows, every page of each.

        Without `start` the EMP carries on where its last complete window ended, so that successive downloads
        leave no gap and read nothing twice; the first download reaches `cdr_lookback_hours` back."""
        until = _time_arg(end, "to") or now()
        with self.world.lock:
            cursor = self.world.cdr_cursor
        since = _time_arg(start, "from")
        if since is None:
            since = (
                cursor + self._window_shift()
                if cursor is not None
                else until - timedelta(hours=self.config.cdr_lookback_hours)
            )
        if since >= until:
            raise BadTrigger(400, f"empty time range: from {stamp(since)} is not before to {stamp(until)}")
        if window_minutes is not None and (not isinstance(window_minutes, int | float) or window_minutes <= 0):
            raise BadTrigger(400, "window_minutes must be a positive number")
        step = timedelta(minutes=window_minutes) if window_minutes else None
        outcomes: list[Outcome] = []
        counts = {"booked": 0, "duplicate": 0, "conflict": 0, "refused": 0}
        windows: list[list[str]] = []
        moment, complete = since, False
        while True:
            window_end = min(until, moment + step) if step else until
            body = {"ProviderID": self.config.provider_id, "From": stamp(moment), "To": stamp(window_end)}
            complete, found, calls = self._read_cdrs({**body, **(filters or {})}, size)
            outcomes.extend(calls)
            _add(counts, found)
            if not complete:
                break
            windows.append([body["From"], body["To"]])
            with self.world.lock:
                self.world.cdr_cursor = window_end
            if window_end >= until:
                break
            moment = max(window_end + self._window_shift(), moment + timedelta(seconds=1))
        return self._done("get-cdrs", outcomes, complete=complete, windows=windows, **counts)

    def _window_shift(self) -> timedelta:
        if self._has("cdr-window-gap"):
            return WINDOW_GAP
        return -timedelta(seconds=self.config.cdr_window_overlap)

    def _read_cdrs(self, body: dict[str, Any], size: int | None) -> tuple[bool, dict[str, int], list[Outcome]]:
        """One window, every page; each CDR booked once per SessionID (across pages and windows alike)."""
        path = self._path("get-cdrs", body.get("ProviderID"))
        complete, cdrs, outcomes = self._pages(path, self._plant(body, pull=True), size, _cdr_records)
        counts = {"booked": 0, "duplicate": 0, "conflict": 0, "refused": 0}
        for cdr in cdrs:
            problem = None if self._has("accept-impossible-cdr") else cdr_problem(cdr)
            if problem:
                with self.world.lock:
                    self.world.cdr_refusals.append({"source": "get-cdrs", "reason": problem, "cdr": cdr})
                counts["refused"] += 1
                continue
            counts[self.world.book_cdr(cdr, self._has("cdr-booked-twice"))] += 1
        return complete, counts, outcomes

    def _send_get_cdrs(self, body: dict[str, Any]) -> Done:
        complete, counts, outcomes = self._read_cdrs(body, None)
        until = parse_time(body.get("To"))
        if complete and until is not None:
            with self.world.lock:
                self.world.cdr_cursor = until
        return self._done("get-cdrs", outcomes, complete=complete, **counts)

    # --- authentication data ---------------------------------------------------------------------------

    def push_auth_data(self, action: str = "fullLoad", ids: Any = None, identifications: Any = None) -> Done:
        """PushAuthenticationData. The EMP changes its own customer data first (a new card, a new PIN, a
        cancelled contract), then tells the hub; fullLoad sends everything Hubject may authorise."""
        if action not in AUTH_ACTIONS:
            raise BadTrigger(400, f"action must be one of {', '.join(AUTH_ACTIONS)}")
        with self.world.lock:
            if action == "fullLoad":
                records = list(self.world.auth_records().values())
            elif action == "insert":
                records = self._insert_customers(_identifications(identifications, required=True))
            elif action == "update":
                records = self._update_customers(ids, _identifications(identifications))
            else:
                records = self._delete_customers(ids, _identifications(identifications))
        body = {
            "ActionType": action,
            "ProviderAuthenticationData": {
                "ProviderID": self.config.provider_id,
                "AuthenticationDataRecord": [{"Identification": r} for r in records],
            },
        }
        return self._send_auth_data(body)

    def _insert_customers(self, identifications: list[dict[str, Any]]) -> list[dict[str, Any]]:
        parsed = [_customer(i) for i in identifications]
        for kind, key, _ in parsed:
            if (kind == "rfid" and key in self.world.cards) or (kind == "evco" and key in self.world.contracts):
                raise BadTrigger(400, f"{key} is a customer already: insert adds new ones (use update)")
        for kind, key, change in parsed:
            if kind == "rfid":
                self.world.cards[key] = change["RFID"]
            else:
                contract = self.world.contracts.setdefault(key, Contract(change["EvcoID"]))
                contract.pin = change.get("PIN", contract.pin)
                contract.pnc = contract.pnc or change.get("pnc", False)
        return self._records_of({(kind, key) for kind, key, _ in parsed})

    def _update_customers(self, ids: Any, identifications: list[dict[str, Any]]) -> list[dict[str, Any]]:
        parsed = [_customer(i) for i in identifications]
        keys = {(kind, key) for kind, key, _ in parsed} | self._known_keys(ids)
        for kind, key in keys:
            if key not in (self.world.cards if kind == "rfid" else self.world.contracts):
                raise KeyError(key)
        for kind, key, change in parsed:
            if kind == "rfid":
                self.world.cards[key] = change["RFID"]
            else:
                contract = self.world.contracts[key]
                contract.pin = change.get("PIN", contract.pin)
                contract.pnc = contract.pnc or change.get("pnc", False)
        return self._records_of(keys)

    def _delete_customers(self, ids: Any, identifications: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Cancelled cards and contracts: removed here, and their records deleted at the hub."""
        keys: set[tuple[str, str]] = set()
        for identification in identifications:
            kind, key, _ = _customer(identification, loose=True)
            if key not in (self.world.cards if kind == "rfid" else self.world.contracts):
                raise KeyError(record_key(identification) or identification)  # what the EMP does not know
            keys.add((kind, key))
        for value in _id_list(ids):
            key = self._key_of(value)
            if key is None:
                raise KeyError(value)
            keys.add(key)
        records = self._records_of(keys)
        for kind, key in keys:
            (self.world.cards if kind == "rfid" else self.world.contracts).pop(key, None)
        if not records:
            raise BadTrigger(400, "none of these was ever uploaded (locked or app-only contracts are not)")
        return records

    def _known_keys(self, ids: Any) -> set[tuple[str, str]]:
        keys = set()
        for value in _id_list(ids):
            key = self._key_of(value)
            if key is None:
                raise KeyError(value)
            keys.add(key)
        return keys

    def _key_of(self, value: str) -> tuple[str, str] | None:
        """A trigger's id: a UID of one of its cards or an EvcoID of one of its contracts."""
        if norm_uid(value) in self.world.cards:
            return ("rfid", norm_uid(value))
        if norm_evco(value) in self.world.contracts:
            return ("evco", norm_evco(value))
        return None

    def _records_of(self, keys: set[tuple[str, str]]) -> list[dict[str, Any]]:
        return [r for k, r in self.world.auth_records().items() if k[:2] in keys]

    def _send_auth_data(self, body: dict[str, Any]) -> Done:
        data = _table(body, "ProviderAuthenticationData")
        sent = copy.deepcopy(body)
        sent_data = sent["ProviderAuthenticationData"]
        records = sent_data.get("AuthenticationDataRecord")
        missing_one = self._has("full-load-missing-identification") and sent.get("ActionType") == "fullLoad"
        if isinstance(records, list) and records and missing_one:
            records.pop()
        if self._has("wrong-provider-in-body") and isinstance(sent_data.get("ProviderID"), str):
            sent_data["ProviderID"] = FOREIGN_PROVIDER
        outcome = self.hub.post(self._path("push-auth-data", data.get("ProviderID")), sent, push="auth-data")
        if outcome.accepted:
            self._hub_now_holds(str(sent.get("ActionType")), records if isinstance(records, list) else [])
        return self._done(
            "push-auth-data",
            [outcome],
            action=sent.get("ActionType"),
            records=len(records) if isinstance(records, list) else 0,
        )

    def _hub_now_holds(self, action: str, records: list[Any]) -> None:
        """The hub's copy of the authentication data, as the EMP's acknowledged pushes made it."""
        pairs = [
            (key, r["Identification"])
            for r in records
            if isinstance(r, dict) and (key := record_key(r.get("Identification"))) is not None
        ]
        with self.world.lock:
            held = self.world.hub_auth_data
            if action == "fullLoad":
                held.clear()
            for key, identification in pairs:
                if action == "delete":
                    held.pop(key, None)
                else:
                    held[key] = identification

    # --- dynamic pricing ---------------------------------------------------------------------------------

    def _operators(self, operator_ids: Any) -> list[str]:
        if operator_ids is None:
            operator_ids = self.world.operator_ids()
        if not isinstance(operator_ids, list) or not operator_ids:
            raise BadTrigger(400, "no OperatorIDs: name them in operator_ids, or pull EVSE data first")
        return operator_ids

    def pull_pricing_products(self, operator_ids: Any = None, full: bool = False) -> Done:
        """PullPricingProductData (its message has no ProviderID: the path names the EMP), with LastCall after
        a complete pull of the same operators."""
        body: dict[str, Any] = {"OperatorIDs": self._operators(operator_ids)}
        with self.world.lock:
            baseline = self.world.pricing_last_call.get(("products", tuple(sorted(body["OperatorIDs"]))))
        if baseline is not None and not full:
            body["LastCall"] = stamp(baseline)
        return self._send_pricing_products(body)

    def _send_pricing_products(self, body: dict[str, Any]) -> Done:
        started = now()
        operators = [o for o in body.get("OperatorIDs") or [] if isinstance(o, str)]
        outcome = self.hub.post(self._path("pull-pricing-products"), self._plant(body, pull=True))
        blocks = [b for b in _list(outcome.body, "PricingProductData") if isinstance(b.get("OperatorID"), str)]
        if outcome.accepted:
            with self.world.lock:
                held = self.world.pricing_products
                if "LastCall" not in body:
                    for operator in operators:
                        held.pop(operator, None)
                for block in blocks:
                    old = held.get(block["OperatorID"])
                    if "LastCall" in body and old is not None:
                        block = _merge_products(old, block)
                    held[block["OperatorID"]] = block
                self.world.pricing_last_call[("products", tuple(sorted(operators)))] = started
        return self._done("pull-pricing-products", [outcome], operators=len(blocks))

    def pull_evse_pricing(self, operator_ids: Any = None, full: bool = False) -> Done:
        body: dict[str, Any] = {"ProviderID": self.config.provider_id, "OperatorIDs": self._operators(operator_ids)}
        with self.world.lock:
            baseline = self.world.pricing_last_call.get(("evse", tuple(sorted(body["OperatorIDs"]))))
        if baseline is not None and not full:
            body["LastCall"] = stamp(baseline)
        return self._send_evse_pricing(body)

    def _send_evse_pricing(self, body: dict[str, Any]) -> Done:
        started = now()
        operators = [o for o in body.get("OperatorIDs") or [] if isinstance(o, str)]
        outcome = self.hub.post(self._path("pull-evse-pricing", body.get("ProviderID")), self._plant(body, pull=True))
        found = 0
        if outcome.accepted:
            with self.world.lock:
                held = self.world.evse_pricing
                if "LastCall" not in body:
                    for evse_id in [e for e, p in held.items() if p.get("OperatorID") in operators]:
                        del held[evse_id]
                for block in _list(outcome.body, "EVSEPricing"):
                    for pricing in block.get("EVSEPricing") or []:
                        if isinstance(pricing, dict) and isinstance(pricing.get("EvseID"), str):
                            held[pricing["EvseID"]] = {**pricing, "OperatorID": block.get("OperatorID")}
                            found += 1
                self.world.pricing_last_call[("evse", tuple(sorted(operators)))] = started
        return self._done("pull-evse-pricing", [outcome], evses=found)

    # --- forward mode -----------------------------------------------------------------------------------

    def forward(self, action: str, message: Any) -> Done:
        """Send a message made elsewhere on the operation's path, paged, chunked and booked like the EMP's own."""
        if not isinstance(message, dict):
            raise BadTrigger(400, f"the {action} trigger's body must be a {FORWARDED[action]} message (a JSON object)")
        send: Callable[[dict[str, Any]], Done] = {
            "pull-evse-data": self._send_evse_data,
            "pull-evse-status": self._send_evse_status,
            "pull-evse-status-by-id": self._send_status_by_id,
            "pull-evse-status-by-operator-id": self._send_status_by_operator,
            "remote-start": self._send_remote_start,
            "remote-stop": self._send_remote_stop,
            "reservation-start": self._send_reservation_start,
            "reservation-stop": self._send_reservation_stop,
            "get-cdrs": self._send_get_cdrs,
            "push-auth-data": self._send_auth_data,
            "pull-pricing-products": self._send_pricing_products,
            "pull-evse-pricing": self._send_evse_pricing,
        }[action]
        return send(message)


# --- reading the hub's answers (2.3 shapes, and the 2.2 shapes where they differ) ----------------------------


def _last_page(answer: dict[str, Any], page: int, found: list[Any]) -> bool:
    if answer.get("last") is True or not found:
        return True
    total = answer.get("totalPages")
    if isinstance(total, int) and not isinstance(total, bool) and page + 1 >= total:
        return True
    return "last" not in answer and "totalPages" not in answer  # an unpaged (OICP 2.2) answer is one page


def _evse_records(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """2.3: `content` of PullEvseDataRecords; 2.2: EvseData.OperatorEvseData[].EvseDataRecord[]."""
    if isinstance(answer.get("content"), list):
        return [r for r in answer["content"] if isinstance(r, dict) and isinstance(r.get("EvseID"), str)]
    records = []
    evse_data = answer.get("EvseData")
    for block in (evse_data.get("OperatorEvseData") if isinstance(evse_data, dict) else None) or []:
        if not isinstance(block, dict):
            continue
        for record in block.get("EvseDataRecord") or []:
            if isinstance(record, dict) and isinstance(record.get("EvseID"), str):
                operator = {k: block[k] for k in ("OperatorID", "OperatorName") if isinstance(block.get(k), str)}
                records.append({**operator, **record})
    return records


def _status_records(answer: Any) -> list[tuple[str, str]]:
    """(EvseID, EvseStatus) from EvseStatuses.OperatorEvseStatus[] or EVSEStatusRecords (ByID)."""
    if not isinstance(answer, dict):
        return []
    records: list[Any] = []
    statuses = answer.get("EvseStatuses")
    for block in (statuses.get("OperatorEvseStatus") if isinstance(statuses, dict) else None) or []:
        if isinstance(block, dict):
            records.extend(block.get("EvseStatusRecord") or [])
    by_id = answer.get("EVSEStatusRecords")
    if isinstance(by_id, dict):
        records.extend(by_id.get("EvseStatusRecord") or [])
    return [
        (r["EvseID"], r["EvseStatus"])
        for r in records
        if isinstance(r, dict) and isinstance(r.get("EvseID"), str) and isinstance(r.get("EvseStatus"), str)
    ]


def _cdr_records(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """2.3: `content`; 2.1/2.2: `eroamingChargeDetailRecords` (unpaged). CDRs without a SessionID are skipped."""
    for key in ("content", "eroamingChargeDetailRecords", "ChargeDetailRecords"):
        if isinstance(answer.get(key), list):
            return [c for c in answer[key] if isinstance(c, dict) and isinstance(c.get("SessionID"), str)]
    return []


def _list(answer: Any, key: str) -> list[dict[str, Any]]:
    value = answer.get(key) if isinstance(answer, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _merge_products(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A delta's pricing block: its products replace those with the same ProductID, the rest stay."""
    products = {p.get("ProductID"): p for p in old.get("PricingProductDataRecords") or [] if isinstance(p, dict)}
    for product in new.get("PricingProductDataRecords") or []:
        if isinstance(product, dict):
            products[product.get("ProductID")] = product
    return {**old, **new, "PricingProductDataRecords": list(products.values())}


# --- checking what comes in ------------------------------------------------------------------------------------

ENERGY_TOLERANCE = 0.002  # kWh: three decimals each for start, end and energy may round apart by this much


def cdr_problem(cdr: dict[str, Any]) -> str | None:
    """Why a CDR cannot be true (None when it can): times without offset or out of order, impossible energy."""
    times = {}
    for key in ("SessionStart", "ChargingStart", "ChargingEnd", "SessionEnd"):
        moment = parse_time(cdr.get(key))
        if moment is None:
            return f"{key} is not a date/time with a time zone offset (EMP chapter 1, Time zones)"
        times[key] = moment
    if times["SessionEnd"] < times["SessionStart"]:
        return "SessionEnd is before SessionStart"
    if times["ChargingEnd"] < times["ChargingStart"]:
        return "ChargingEnd is before ChargingStart"
    energy = cdr.get("ConsumedEnergy")
    if not _number(energy) or energy < 0:
        return "ConsumedEnergy is missing or negative"
    start, end = cdr.get("MeterValueStart"), cdr.get("MeterValueEnd")
    if _number(start) and _number(end):
        if end < start:
            return "MeterValueEnd is below MeterValueStart"
        if abs((end - start) - energy) > ENERGY_TOLERANCE:
            return f"ConsumedEnergy {energy} is not MeterValueEnd - MeterValueStart ({round(end - start, 3)})"
    return None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _add(counts: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        counts[key] = counts.get(key, 0) + value


def _time_arg(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    moment = parse_time(value)
    if moment is None:
        raise BadTrigger(400, f"{name} must be a date/time with a time zone offset, e.g. 2024-05-01T10:00:00+02:00")
    return moment


def _id_list(ids: Any) -> list[str]:
    if ids is None:
        return []
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadTrigger(400, "ids must be a list of UIDs and EvcoIDs")
    return ids


def _identifications(value: Any, required: bool = False) -> list[dict[str, Any]]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or not value or not all(isinstance(i, dict) for i in value):
        raise BadTrigger(400, "identifications must be a non-empty list of OICP Identification objects")
    return value


def _customer(identification: dict[str, Any], loose: bool = False) -> tuple[str, str, dict[str, Any]]:
    """A trigger's Identification as a change to the EMP's customers: (kind, key, what it says)."""
    options = [o for o in IDENTIFICATION_OPTIONS if isinstance(identification.get(o), dict)]
    if len(options) != 1:
        raise BadTrigger(400, f"an Identification has exactly one of {', '.join(IDENTIFICATION_OPTIONS)}")
    option, data = options[0], identification[options[0]]
    if option.startswith("RFID"):
        uid = data.get("UID")
        if not isinstance(uid, str) or not _UID.match(norm_uid(uid)):
            raise BadTrigger(400, f"{option} needs a UID of 8, 14 or 20 hex digits")
        kind = data.get("RFID", "mifareFamily")
        if kind not in RFID_TYPES:
            raise BadTrigger(400, f"RFID must be one of {', '.join(RFID_TYPES)}")
        return "rfid", norm_uid(uid), {"RFID": kind}
    evco_id = data.get("EvcoID")
    if not isinstance(evco_id, str) or not evco_id:
        raise BadTrigger(400, f"{option} needs an EvcoID")
    change: dict[str, Any] = {"EvcoID": evco_id}
    if option == "QRCodeIdentification":
        if not isinstance(data.get("PIN"), str) and not loose:
            raise BadTrigger(400, "QRCodeIdentification needs the customer's PIN (this EMP keeps PINs itself)")
        if isinstance(data.get("PIN"), str):
            change["PIN"] = data["PIN"]
    elif option == "PlugAndChargeIdentification":
        change["pnc"] = True
    return "evco", norm_evco(evco_id), change


def _table(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if not isinstance(value, dict):
        raise BadTrigger(400, f"the message has no {key} object")
    return value


def _required_list(body: dict[str, Any], key: str, where: str) -> list[Any]:
    value = body.get(key)
    if not isinstance(value, list):
        raise BadTrigger(400, f"{where} has no {key} list")
    return value
