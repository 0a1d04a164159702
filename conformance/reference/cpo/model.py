"""The reference CPO's own world: its EVSEs, its charging sessions and reservations."""

from __future__ import annotations

import hashlib
import threading
import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any


def _local_zone() -> tzinfo:
    """The charge points' zone: Berlin with its summer time (fixed +01:00 only without a time zone database)."""
    try:
        return zoneinfo.ZoneInfo("Europe/Berlin")
    except zoneinfo.ZoneInfoNotFoundError:
        return timezone(timedelta(hours=1))


BERLIN = _local_zone()
# The optional OICP features a CPO may offer; a shape can switch each off (its endpoints then answer 404).
FEATURES = ("authorize_stop", "reservation", "charging_notifications", "dynamic_pricing")
# How a trigger makes the CPO call the hub: see README.md ("Trigger modes").
TRIGGER_MODES = ("sync", "forward", "relay", "queue")


@dataclass
class Evse:
    evse_id: str
    status: str = "Available"  # Available, Occupied, Reserved, OutOfService
    power_kw: int = 22
    reserved_for: str | None = None  # ProviderID holding a reservation


@dataclass
class Session:
    session_id: str  # the hub's SessionID
    evse_id: str
    identification: dict[str, Any]
    provider_id: str | None
    cpo_partner_session_id: str = field(default_factory=lambda: f"ref-{uuid.uuid4().hex[:12]}")
    emp_partner_session_id: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    meter_start: float = 1000.0
    ended: datetime | None = None
    cdr: dict[str, Any] | None = None


@dataclass
class Reservation:
    session_id: str  # the hub's SessionID of the reservation
    evse_id: str
    provider_id: str
    ended: bool = False
    identification: dict[str, Any] = field(default_factory=dict)  # the reservation's RemoteIdentification
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    stopped: datetime | None = None


def operator_of(evse_id: str) -> str:
    """The operator part of an EvseID ("DE*SUB*E2001*1" -> "DE*SUB"): whose pool and station it is."""
    return "*".join(evse_id.split("*")[:2])


@dataclass
class Config:
    """How the reference CPO is set up; `defects` switches on planted bugs by name."""

    operator_id: str = "DE*REF"
    operator_name: str = "Reference CPO"
    evse_ids: tuple[str, ...] = ("DE*REF*E1001*1", "DE*REF*E1001*2", "DE*REF*E1002*1", "DE*REF*E1002*2")
    out_of_service: tuple[str, ...] = ("DE*REF*E1002*2",)
    hub_url: str = "http://127.0.0.1:8080/api/oicp"
    hub_timeout: float = 2.0
    max_retries: int = 4
    backoff: float = 0.1
    max_backoff: float = 2.0
    release: str = "2.3"
    defects: frozenset[str] = frozenset()
    custom_urls: bool = False  # serve /oicp/<operation>?provider=ID instead of the official paths
    api_key: str | None = None  # required in X-Api-Key on inbound calls when set
    trigger_mode: str = "sync"  # one of TRIGGER_MODES
    strict_sessions: bool = False  # refuse a RemoteStart/ReservationStart whose SessionID was seen before
    lenient_content_type: bool = False  # take a valid JSON body whatever its Content-Type
    sub_operator: str | None = None  # e.g. "DE*SUB": this hub operator also runs that sub-operator's EVSEs
    features: frozenset[str] = frozenset(FEATURES)
    # Mutual TLS (file paths): serve HTTPS with tls_cert/tls_key and present them to the hub; accept clients and
    # trust a hub only with a certificate tls_ca signed. None: plain HTTP, as behind a TLS-terminating proxy.
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_ca: str | None = None

    def __post_init__(self) -> None:
        if self.trigger_mode not in TRIGGER_MODES:
            raise ValueError(f"trigger_mode must be one of {', '.join(TRIGGER_MODES)}, got {self.trigger_mode!r}")
        if unknown := sorted(set(self.features) - set(FEATURES)):
            raise ValueError(f"unknown feature(s) {unknown} (known: {', '.join(FEATURES)})")

    @property
    def sub_operator_evse_ids(self) -> tuple[str, ...]:
        """The sub-operator's EVSEs: their IDs carry its OperatorID, every message carries the hub's."""
        if not self.sub_operator:
            return ()
        return (f"{self.sub_operator}*E2001*1", f"{self.sub_operator}*E2001*2")

    @property
    def all_evse_ids(self) -> tuple[str, ...]:
        return self.evse_ids + self.sub_operator_evse_ids


class World:
    """EVSEs, sessions and reservations behind one lock."""

    def __init__(self, config: Config):
        self.config = config
        self.lock = threading.RLock()
        self.evses = {
            e: Evse(e, "OutOfService" if e in config.out_of_service else "Available") for e in config.all_evse_ids
        }
        self.sessions: dict[str, Session] = {}
        self.reservations: dict[str, Reservation] = {}  # by the hub's SessionID of the reservation
        self.cdr_log: list[dict[str, Any]] = []  # every CDR this CPO created, as its billing would keep them
        self.changed = threading.Condition(self.lock)  # notified when a session is recorded

    def seen(self, session_id: str) -> bool:
        """Whether a session or reservation with this SessionID was ever recorded (running or ended)."""
        with self.lock:
            return session_id in self.sessions or session_id in self.reservations

    def add_session(self, session: Session) -> None:
        with self.lock:
            self.sessions[session.session_id] = session
            self.changed.notify_all()

    def wait_session(self, session_id: str, seconds: float) -> Session | None:
        """The session, waiting up to `seconds` for it: a queued AuthorizeStart may record it a moment later."""
        with self.lock:
            self.changed.wait_for(lambda: session_id in self.sessions, timeout=seconds)
            return self.sessions.get(session_id)

    def evse_record(self, evse: Evse) -> dict[str, Any]:
        """The EVSE as OICP 2.3 EvseDataRecord (defects are planted by the service, on the whole message)."""
        station = evse.evse_id.rsplit("*", 1)[0].replace("*E", "*S")
        record: dict[str, Any] = {
            "EvseID": evse.evse_id,
            "ChargingStationID": station,
            "ChargingPoolID": operator_of(evse.evse_id) + "*P1",
            "ChargingStationNames": [{"lang": "en", "value": f"Reference station {station[-4:]}"}],
            "Address": {
                "Country": "DEU",
                "City": "Berlin",
                "Street": "Torstraße",  # non-ASCII text: sent as UTF-8, as OICP wants every message
                "PostalCode": "10119",
                "HouseNum": "1",
                "TimeZone": "UTC+01:00",
            },
            "GeoCoordinates": {"DecimalDegree": {"Latitude": "52.529", "Longitude": "13.401"}},
            "Plugs": ["Type 2 Outlet"],
            "ChargingFacilities": [{"PowerType": "AC_3_PHASE", "Power": evse.power_kw}],
            "RenewableEnergy": True,
            "EnergySource": [{"Energy": "Wind", "Percentage": 60}, {"Energy": "Solar", "Percentage": 40}],
            # Eichrecht meters: the signed readings travel in each CDR's SignedMeteringValues
            "CalibrationLawDataAvailability": "External",
            "AuthenticationModes": ["NFC RFID Classic", "REMOTE"],
            "PaymentOptions": ["Contract"],
            "ValueAddedServices": ["Reservation"] if "reservation" in self.config.features else ["None"],
            "Accessibility": "Free publicly accessible",
            "HotlinePhoneNumber": "+4930123456",
            "IsOpen24Hours": True,
            "IsHubjectCompatible": True,
            "DynamicInfoAvailable": "true",
        }
        if "*E1002*" in evse.evse_id:  # a station in a car park that closes at night
            record["IsOpen24Hours"] = False
            record["OpeningTimes"] = [
                {"Period": [{"begin": "06:00", "end": "22:00"}], "on": "Workdays"},
                {"Period": [{"begin": "08:00", "end": "20:00"}], "on": "Weekend"},
            ]
        return record

    def cdr(self, session: Session) -> dict[str, Any]:
        """The charge detail record of an ended session (built once, re-sent unchanged; defects are planted
        by the service, on built and forwarded CDRs alike)."""
        end = session.ended or datetime.now(UTC)
        energy = round(max(0.001, (end - session.started).total_seconds() / 3600 * 11), 3)

        def stamp(moment: datetime) -> str:
            return moment.astimezone(BERLIN).isoformat(timespec="seconds")

        cdr: dict[str, Any] = {
            "SessionID": session.session_id,
            "EvseID": session.evse_id,
            "Identification": session.identification,
            "SessionStart": stamp(session.started),
            "ChargingStart": stamp(
                session.started + timedelta(seconds=1)
                if end - session.started > timedelta(seconds=2)
                else session.started
            ),
            "ChargingEnd": stamp(end),
            "SessionEnd": stamp(end),
            "ConsumedEnergy": energy,
            "MeterValueStart": session.meter_start,
            "MeterValueEnd": round(session.meter_start + energy, 3),
            "CPOPartnerSessionID": session.cpo_partner_session_id,
            **signed_readings(session.session_id, session.meter_start, round(session.meter_start + energy, 3)),
        }
        if session.emp_partner_session_id:
            cdr["EMPPartnerSessionID"] = session.emp_partner_session_id
        return cdr

    def reservation_cdr(self, reservation: Reservation) -> dict[str, Any]:
        """The CDR of a cancelled reservation (OICP 2.3: after a reservation stop "the CPO MUST provide a CDR"):
        the reserved time, no energy."""
        end = reservation.stopped or datetime.now(UTC)
        start, stop = (m.astimezone(BERLIN).isoformat(timespec="seconds") for m in (reservation.started, end))
        return {
            "SessionID": reservation.session_id,
            "EvseID": reservation.evse_id,
            "Identification": reservation.identification,
            "SessionStart": start,
            "ChargingStart": start,
            "ChargingEnd": stop,
            "SessionEnd": stop,
            "ConsumedEnergy": 0,
            **signed_readings(reservation.session_id, 1000.0, 1000.0),
        }


def signed_readings(session_id: str, start: float, end: float) -> dict[str, Any]:
    """The meter's signed start and end readings (a stand-in for the OCMF records an Eichrecht meter signs)."""
    values = []
    for status, reading in (("Start", start), ("End", end)):
        payload = f"{session_id}|{status}|{reading:.3f}"
        signature = hashlib.sha256(payload.encode()).hexdigest()
        values.append({"SignedMeteringValue": f"OCMF|{payload}|{signature}", "MeteringStatus": status})
    return {
        "SignedMeteringValues": values,
        "CalibrationLawVerificationInfo": {"MeteringSignatureEncodingFormat": "OCMF: V1.0"},
    }
