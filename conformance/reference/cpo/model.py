"""The reference CPO's own world: its EVSEs, its charging sessions and reservations."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

BERLIN = timezone(timedelta(hours=1))


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


class World:
    """EVSEs and sessions behind one lock."""

    def __init__(self, config: Config):
        self.config = config
        self.lock = threading.RLock()
        self.evses = {
            e: Evse(e, "OutOfService" if e in config.out_of_service else "Available") for e in config.evse_ids
        }
        self.sessions: dict[str, Session] = {}
        self.cdr_log: list[dict[str, Any]] = []  # every CDR this CPO created, as its billing would keep them

    def evse_record(self, evse: Evse) -> dict[str, Any]:
        """The EVSE as OICP 2.3 EvseDataRecord."""
        station = evse.evse_id.rsplit("*", 1)[0].replace("*E", "*S")
        record: dict[str, Any] = {
            "EvseID": evse.evse_id,
            "ChargingStationID": station,
            "ChargingPoolID": self.config.operator_id + "*P1",
            "ChargingStationNames": [{"lang": "en", "value": f"Reference station {station[-4:]}"}],
            "Address": {
                "Country": "DEU",
                "City": "Berlin",
                "Street": "Torstrasse",
                "PostalCode": "10119",
                "HouseNum": "1",
                "TimeZone": "UTC+01:00",
            },
            "GeoCoordinates": {"DecimalDegree": {"Latitude": "52.529", "Longitude": "13.401"}},
            "Plugs": ["Type 2 Outlet"],
            "ChargingFacilities": [{"PowerType": "AC_3_PHASE", "Power": evse.power_kw}],
            "RenewableEnergy": True,
            "CalibrationLawDataAvailability": "Not Available",
            "AuthenticationModes": ["NFC RFID Classic", "REMOTE"],
            "PaymentOptions": ["Contract"],
            "ValueAddedServices": ["Reservation"],
            "Accessibility": "Free publicly accessible",
            "HotlinePhoneNumber": "+4930123456",
            "IsOpen24Hours": True,
            "IsHubjectCompatible": True,
            "DynamicInfoAvailable": "true",
        }
        if "evse-data-missing-required" in self.config.defects:
            del record["Accessibility"]
        return record

    def cdr(self, session: Session) -> dict[str, Any]:
        """The charge detail record of an ended session (built once, re-sent unchanged)."""
        end = session.ended or datetime.now(UTC)
        energy = round(max(0.001, (end - session.started).total_seconds() / 3600 * 11), 3)

        def stamp(moment: datetime) -> str:
            if "cdr-timestamp-without-offset" in self.config.defects:
                return moment.astimezone(BERLIN).replace(tzinfo=None).isoformat(timespec="seconds")
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
        }
        if session.emp_partner_session_id:
            cdr["EMPPartnerSessionID"] = session.emp_partner_session_id
        if "own-session-id-in-cdr" in self.config.defects:
            cdr["SessionID"] = str(uuid.uuid4())
        if "drop-partner-session-id" in self.config.defects:
            cdr.pop("CPOPartnerSessionID")
        return cdr
