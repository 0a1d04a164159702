"""The reference EMP's own world: its customers' identifications, the sessions it authorised or started,
the CDRs it booked, and what it learned from the hub (EVSEs, statuses, prices, the outcome of each call)."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MODES = ("online", "offline")
# How a trigger makes the EMP call the hub: see README.md ("Trigger modes").
TRIGGER_MODES = ("sync", "forward", "relay", "queue")
# The five options of IdentificationType (OICP 2.3 EMP chapter 3); exactly one is given.
IDENTIFICATION_OPTIONS = (
    "RFIDMifareFamilyIdentification",
    "RFIDIdentification",
    "QRCodeIdentification",
    "PlugAndChargeIdentification",
    "RemoteIdentification",
)
RFID_TYPES = ("mifareCls", "mifareDes", "calypso", "nfc", "mifareFamily")


@dataclass
class Config:
    """How the reference EMP is set up; `defects` switches on planted bugs by name."""

    provider_id: str = "DE-REF"
    hub_url: str = "http://127.0.0.1:8080/api/oicp"
    mode: str = "online"  # one of MODES: online serves Hubject's calls, offline serves nothing
    # Its customers: RFID cards (UID, RFIDType), contracts (EvcoID, PIN or None), Plug&Charge contracts
    # and locked contracts (both EvcoIDs out of `contracts`).
    rfid_cards: tuple[tuple[str, str], ...] = (
        ("AABBCCDD", "mifareCls"),
        ("04A1B2C3D4E5F6", "mifareDes"),
        ("0102030405060708090A", "nfc"),
    )
    contracts: tuple[tuple[str, str | None], ...] = (
        ("DE-REF-C00000001-1", "1234"),  # QR code / EvcoID+PIN
        ("DE-REF-C00000002-2", None),  # Plug&Charge (and remote)
        ("DE-REF-C00000003-3", None),  # app only: remote start
        ("DE-REF-C00000009-9", "9999"),  # locked
    )
    pnc_contracts: tuple[str, ...] = ("DE-REF-C00000002-2",)
    locked_contracts: tuple[str, ...] = ("DE-REF-C00000009-9",)
    hub_timeout: float = 2.0
    max_retries: int = 4
    backoff: float = 0.1
    max_backoff: float = 2.0
    page_size: int = 20  # the spec's default page size for PullEvseData and GetChargeDetailRecords
    max_pages: int = 1000  # a hub that never says `last` cannot keep the EMP paging forever
    cdr_lookback_hours: float = 24.0  # the first GetChargeDetailRecords window, without a `from`
    cdr_window_overlap: float = 0.0  # seconds each CDR window reaches back before the last one ended
    release: str = "2.3"
    defects: frozenset[str] = frozenset()
    custom_urls: bool = False  # serve /oicp/<operation>?operator=ID instead of the official paths
    api_key: str | None = None  # required in X-Api-Key on inbound calls when set
    trigger_mode: str = "sync"  # one of TRIGGER_MODES
    lenient_content_type: bool = False  # take a valid JSON body whatever its Content-Type
    # Mutual TLS (file paths): serve HTTPS with tls_cert/tls_key and present them to the hub; accept clients and
    # trust a hub only with a certificate tls_ca signed. None: plain HTTP, as behind a TLS-terminating proxy.
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_ca: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.trigger_mode not in TRIGGER_MODES:
            raise ValueError(f"trigger_mode must be one of {', '.join(TRIGGER_MODES)}, got {self.trigger_mode!r}")
        if unknown := sorted(t for _, t in self.rfid_cards if t not in RFID_TYPES):
            raise ValueError(f"unknown RFID type(s) {unknown} (known: {', '.join(RFID_TYPES)})")
        evcos = {norm_evco(e) for e, _ in self.contracts}
        if strays := sorted(e for e in (*self.pnc_contracts, *self.locked_contracts) if norm_evco(e) not in evcos):
            raise ValueError(f"pnc/locked contract(s) {strays} are not in contracts")
        self.defects = frozenset(self.defects)


def norm_uid(uid: str) -> str:
    """Hubject "will automatically convert all characters from lower case to upper case" (EMP ch. 3)."""
    return uid.strip().upper()


def norm_evco(evco_id: str) -> str:
    """EvcoIDs compare upper-case and without their optional separators ("-" ISO, "*" or "-" DIN)."""
    return evco_id.strip().upper().replace("-", "").replace("*", "")


def norm_operator(operator_id: str) -> str:
    """OperatorIDs compare upper-case and without the optional "*" separator ("DE*ABC" is "DEABC")."""
    return operator_id.strip().upper().replace("*", "")


def record_key(identification: Any) -> tuple[str, str, str] | None:
    """What an Identification names: ("rfid", UID, "") or ("evco", EvcoID, medium); None for anything else.

    Both RFID options name the card; QR code, Plug&Charge and remote name one medium of a contract."""
    if not isinstance(identification, dict):
        return None
    options = [o for o in IDENTIFICATION_OPTIONS if isinstance(identification.get(o), dict)]
    if len(options) != 1:
        return None
    data = identification[options[0]]
    if options[0].startswith("RFID"):
        return ("rfid", norm_uid(data["UID"]), "") if isinstance(data.get("UID"), str) else None
    if not isinstance(data.get("EvcoID"), str):
        return None
    medium = {"QRCodeIdentification": "qr", "PlugAndChargeIdentification": "pnc"}.get(options[0], "remote")
    return ("evco", norm_evco(data["EvcoID"]), medium)


def identification_key(identification: Any) -> tuple[str, str] | None:
    """The card or contract an Identification names, whatever its medium: ("rfid", UID) or ("evco", EvcoID)."""
    key = record_key(identification)
    return key[:2] if key else None


def canonical(value: Any) -> str:
    """A JSON value as text that ignores key order: two CDRs are the same when these are equal."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def now() -> datetime:
    """Whole seconds: every time the EMP sends is "complete date plus hours, minutes and seconds"."""
    return datetime.now(UTC).replace(microsecond=0)


def stamp(moment: datetime) -> str:
    """OICP Date/Time with its offset, e.g. "2024-05-01T10:00:00+00:00" (EMP chapter 1, Time zones)."""
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")


def parse_time(value: Any) -> datetime | None:
    """An OICP Date/Time; None when it is not one or has no time zone offset."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@dataclass
class Contract:
    evco_id: str  # as the EMP issued it
    pin: str | None = None
    pnc: bool = False
    locked: bool = False


@dataclass
class Session:
    """A charging process the EMP knows by the hub's SessionID."""

    session_id: str
    origin: str  # "authorize-start" (it authorised it), "remote-start" (it started it), "cdr" (hub-authorised)
    identification: dict[str, Any]
    evse_id: str | None = None
    operator_id: str | None = None
    cpo_partner_session_id: str | None = None
    emp_partner_session_id: str = field(default_factory=lambda: f"emp-{uuid.uuid4().hex[:12]}")
    started: str = field(default_factory=lambda: stamp(now()))
    stopped: bool = False  # an AuthorizeStop it authorised, or a RemoteStop the hub accepted

    def view(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "SessionID": self.session_id,
            "origin": self.origin,
            "Identification": self.identification,
            "EvseID": self.evse_id,
            "OperatorID": self.operator_id,
            "EMPPartnerSessionID": self.emp_partner_session_id,
            "started": self.started,
            "stopped": self.stopped,
        }
        if self.cpo_partner_session_id:
            out["CPOPartnerSessionID"] = self.cpo_partner_session_id
        return out


@dataclass
class Reservation:
    session_id: str  # the hub's SessionID of the reservation
    evse_id: str
    identification: dict[str, Any]
    ended: bool = False


class World:
    """Everything the EMP holds, behind one lock."""

    def __init__(self, config: Config):
        self.config = config
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)  # notified when a session or reservation is recorded
        self.cards: dict[str, str] = {norm_uid(uid): kind for uid, kind in config.rfid_cards}  # UID -> RFIDType
        pnc = {norm_evco(e) for e in config.pnc_contracts}
        locked = {norm_evco(e) for e in config.locked_contracts}
        self.contracts: dict[str, Contract] = {
            norm_evco(e): Contract(e, pin, norm_evco(e) in pnc, norm_evco(e) in locked) for e, pin in config.contracts
        }
        self.sessions: dict[str, Session] = {}
        self.refusals: list[dict[str, Any]] = []  # every NotAuthorized it answered
        self.reservations: dict[str, Reservation] = {}
        self.cdrs: dict[str, dict[str, Any]] = {}  # SessionID -> the CDR booked for it
        self.cdr_log: list[dict[str, Any]] = []  # the billing ledger: one entry per booking
        self.cdr_refusals: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.evses: dict[str, dict[str, Any]] = {}  # EvseID -> {"data": record or None, "status": str or None}
        self.last_call: datetime | None = None  # start of the last complete unfiltered EVSE data pull
        self.cdr_cursor: datetime | None = None  # end of the last CDR window read completely
        self.pricing_last_call: dict[tuple[str, tuple[str, ...]], datetime] = {}
        self.pricing_products: dict[str, dict[str, Any]] = {}  # OperatorID -> PricingProductData block
        self.evse_pricing: dict[str, dict[str, Any]] = {}  # EvseID -> EVSEPricing record (+ OperatorID)
        self.hub_auth_data: dict[tuple[str, str, str], dict[str, Any]] = {}  # what the hub holds, per acked push
        self.last_calls: dict[str, dict[str, Any]] = {}  # trigger action -> how its latest run went

    # --- customers ---------------------------------------------------------------------------------

    def auth_records(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        """The authentication data an offline EMP uploads: one record per card and per usable contract medium.

        Locked contracts are left out (Hubject must not authorise them); an app-only contract (no PIN, no
        Plug&Charge) has nothing Hubject could check at a charging point, so it is not uploaded either."""
        records: dict[tuple[str, str, str], dict[str, Any]] = {}
        for uid, kind in self.cards.items():
            records[("rfid", uid, "")] = {"RFIDIdentification": {"UID": uid, "RFID": kind}}
        for key, contract in self.contracts.items():
            if contract.locked:
                continue
            if contract.pin is not None:
                records[("evco", key, "qr")] = {
                    "QRCodeIdentification": {"EvcoID": contract.evco_id, "PIN": contract.pin}
                }
            if contract.pnc:
                records[("evco", key, "pnc")] = {"PlugAndChargeIdentification": {"EvcoID": contract.evco_id}}
        return records

    def book_cdr(self, cdr: dict[str, Any], book_again: bool = False) -> str:
        """Book a CDR once per SessionID: "booked", "duplicate" (the same CDR again) or "conflict" (another one).

        `book_again` is the double-booking defect: a resent identical CDR goes into the ledger a second time."""
        with self.lock:
            session_id = cdr["SessionID"]
            booked = self.cdrs.get(session_id)
            if booked is None:
                self.cdrs[session_id] = cdr
                self.cdr_log.append(cdr)
                return "booked"
            if canonical(booked) != canonical(cdr):
                return "conflict"
            if book_again:
                self.cdr_log.append(cdr)
            return "duplicate"

    def remote_evco_id(self) -> str | None:
        """The contract a remote start or reservation uses when the trigger names none."""
        return next((c.evco_id for c in self.contracts.values() if not c.locked), None)

    def own_contract(self, evco_id: str) -> Contract | None:
        contract = self.contracts.get(norm_evco(evco_id))
        return contract if contract is not None and not contract.locked else None

    # --- sessions -----------------------------------------------------------------------------------

    def add_session(self, session: Session) -> Session:
        """Record a session once: a repeated AuthorizeStart (a lost answer) keeps the first record."""
        with self.lock:
            kept = self.sessions.setdefault(session.session_id, session)
            self.changed.notify_all()
            return kept

    def add_reservation(self, reservation: Reservation) -> None:
        with self.lock:
            self.reservations[reservation.session_id] = reservation
            self.changed.notify_all()

    def wait_for(self, table: str, session_id: str, seconds: float) -> Any:
        """The session or reservation, waiting up to `seconds`: a queued start may record it a moment later."""
        with self.lock:
            items = getattr(self, table)
            self.changed.wait_for(lambda: session_id in items, timeout=seconds)
            return items.get(session_id)

    # --- EVSEs --------------------------------------------------------------------------------------

    def set_status(self, evse_id: str, status: str) -> None:
        with self.lock:
            self.evses.setdefault(evse_id, {"data": None, "status": None})["status"] = status

    def operator_ids(self) -> list[str]:
        """Operators whose EVSEs the EMP pulled (the record's OperatorID, else the EvseID's prefix)."""
        with self.lock:
            found: dict[str, None] = {}
            for evse_id, entry in self.evses.items():
                data = entry.get("data") or {}
                operator = data.get("OperatorID") or data.get("OperatorId")
                if not isinstance(operator, str):
                    operator = "*".join(evse_id.split("*")[:2]) if "*" in evse_id else None
                if operator:
                    found[operator] = None
            return list(found)
