#!/usr/bin/env python3
"""Independent OICP 2.3 CPO backend (standard library only).

Written from the OICP 2.3 CPO specification chapters and the CPO OpenAPI files
alone.  It plays a small charge point operator that

* receives AuthorizeRemoteStart / AuthorizeRemoteStop /
  AuthorizeRemoteReservationStart / AuthorizeRemoteReservationStop from the hub
  on its own per-operation URLs (``/hubject/<op>?providerId=...``), and
* sends PushEvseData, PushEvseStatus, AuthorizeStart, AuthorizeStop,
  ChargeDetailRecord and ChargingNotifications to the hub, driven by
  ``POST /admin/<action>`` triggers, one worker thread per operation.

Usage::

    python3 independent_cpo.py --port 9100 --hub http://127.0.0.1:8080/api/oicp \
        [--operator-id DE*IND]

See README.md next to this file for the endpoints and the spec sentences the
non-obvious decisions rest on.
"""

from __future__ import annotations

import argparse
import email.utils
import http.client
import json
import logging
import queue
import re
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = logging.getLogger("independent-cpo")

# --------------------------------------------------------------------------
# Constants taken from the spec / OpenAPI
# --------------------------------------------------------------------------

# Operation paths, relative to the hub base URL, exactly as in
# openapi-2.3-cpo/openapi.yaml.
PATH_PUSH_EVSE_DATA = "/evsepush/v23/operators/{operatorID}/data-records"
PATH_PUSH_EVSE_STATUS = "/evsepush/v21/operators/{operatorID}/status-records"
PATH_AUTHORIZE_START = "/charging/v21/operators/{operatorID}/authorize/start"
PATH_AUTHORIZE_STOP = "/charging/v21/operators/{operatorID}/authorize/stop"
PATH_CDR = "/cdrmgmt/v22/operators/{operatorID}/charge-detail-record"
PATH_NOTIFICATIONS = "/notificationmgmt/v11/charging-notifications"

_A = re.ASCII
RE_SESSION = re.compile(r"^[A-Za-z0-9]{8}(-[A-Za-z0-9]{4}){3}-[A-Za-z0-9]{12}$", _A)
RE_PROVIDER = re.compile(r"^([A-Za-z]{2}\-?[A-Za-z0-9]{3}|[A-Za-z]{2}[\*|-]?[A-Za-z0-9]{3})$", _A)
RE_OPERATOR = re.compile(r"^(([A-Za-z]{2}\*?[A-Za-z0-9]{3})|(\+?[0-9]{1,3}\*[0-9]{3}))$", _A)
RE_EVSE = re.compile(
    r"^(([A-Za-z]{2}\*?[A-Za-z0-9]{3}\*?E[A-Za-z0-9\*]{1,30})|(\+?[0-9]{1,3}\*[0-9]{3}\*[0-9\*]{1,32}))$", _A)
RE_EVCO = re.compile(
    r"^(([A-Za-z]{2}\-?[A-Za-z0-9]{3}\-?C[A-Za-z0-9]{8}\-?[\d|A-Za-z])|"
    r"([A-Za-z]{2}[\*|\-]?[A-Za-z0-9]{3}[\*|\-]?[A-Za-z0-9]{6}[\*|\-]?[\d|X]))$", _A)
RE_UID = re.compile(r"^([0-9A-F]{8,8}|[0-9A-F]{14,14}|[0-9A-F]{20,20})$", _A)
RE_HASH = re.compile(r"^[0-9A-Za-z\\.+/=\\$]{10,100}$", _A)
RE_ISO_EVSE_PARTS = re.compile(r"([A-Za-z]{2})\*?([A-Za-z0-9]{3})\*?(E[A-Za-z0-9\*]{1,30})", _A)

ID_OPTIONS = (
    "RFIDMifareFamilyIdentification",
    "RFIDIdentification",
    "QRCodeIdentification",
    "PlugAndChargeIdentification",
    "RemoteIdentification",
)
RFID_TYPES = ("mifareCls", "mifareDes", "calypso", "nfc", "mifareFamily")
ACTION_TYPES = ("fullLoad", "update", "insert", "delete")
NOTIFICATION_TYPES = ("Start", "Progress", "End", "Error")
ERROR_TYPES = ("ConnectorError", "CriticalError")  # enum of eRoamingChargingNotificationError.yaml

# CodeType (03_CPO_Data_Types.asciidoc).  "In case the optional Description
# field is used, the field should contain only defined values." -> we only
# ever put these texts into Description.
CODES = {
    "000": "Success.",
    "001": "Hubject system error.",
    "002": "Hubject database error.",
    "009": "Data transaction error.",
    "017": "Unauthorized Access.",
    "018": "Inconsistent EvseID.",
    "019": "Inconsistent EvcoID.",
    "021": "System error.",
    "022": "Data error.",
    "101": "QR Code Authentication failed – Invalid Credentials.",
    "102": "RFID Authentication failed – invalid UID.",
    "103": "RFID Authentication failed – card not readable.",
    "105": "PLC Authentication failed - invalid EvcoID.",
    "106": "No positive authentication response.",
    "110": "QR Code App Authentication failed – time out error.",
    "120": "PLC (ISO/ IEC 15118) Authentication failed – invalid underlying EvcoID.",
    "121": "PLC (ISO/ IEC 15118) Authentication failed – invalid certificate.",
    "122": "PLC (ISO/ IEC 15118) Authentication failed – time out error.",
    "200": "EvcoID locked.",
    "210": "No valid contract.",
    "300": "Partner not found.",
    "310": "Partner did not respond.",
    "320": "Service not available.",
    "400": "Session is invalid.",
    "501": "Communication to EVSE failed.",
    "510": "No EV connected to EVSE.",
    "601": "EVSE already reserved.",
    "602": "EVSE already in use/ wrong token.",
    "603": "Unknown EVSE ID.",
    "604": "EVSE ID is not Hubject compatible.",
    "700": "EVSE out of service.",
}

# Hub answers (Result false / NotAuthorized) whose code says the *hub itself*
# failed internally ("Internal system codes" / "System error" in the CodeType
# list).  These may succeed later and are retried; every other code is taken
# as a definitive refusal and not resent.
RETRYABLE_HUB_CODES = frozenset({"001", "002", "009", "021"})

HTTP_TIMEOUT = 2.0
MAX_RETRIES = 4
BACKOFF_START = 0.2
BACKOFF_MAX = 2.0
RETRY_AFTER_CAP = 60.0  # never wait longer than this for one Retry-After; give up instead
PROGRESS_MIN_INTERVAL = timedelta(minutes=5)  # "should be at least 5 minutes"
SESSION_WAIT = 3.0  # how long a worker waits for a session it was told about to appear

# --------------------------------------------------------------------------
# Time: charge point local time, Europe/Berlin with DST
# --------------------------------------------------------------------------

try:
    from zoneinfo import ZoneInfo

    _BERLIN = ZoneInfo("Europe/Berlin")
except Exception:  # pragma: no cover - tzdata missing
    _BERLIN = None


def _last_sunday(year: int, month: int) -> int:
    # last day of month, then step back to Sunday
    nxt = datetime(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last.day - ((last.weekday() - 6) % 7)


def _berlin_offset(utc_dt: datetime) -> timedelta:
    """EU rule (in force for Germany since 1996): CEST from the last Sunday
    of March 01:00 UTC to the last Sunday of October 01:00 UTC."""
    y = utc_dt.year
    start = datetime(y, 3, _last_sunday(y, 3), 1, tzinfo=timezone.utc)
    end = datetime(y, 10, _last_sunday(y, 10), 1, tzinfo=timezone.utc)
    return timedelta(hours=2) if start <= utc_dt < end else timedelta(hours=1)


def local_now() -> datetime:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    if _BERLIN is not None:
        return now.astimezone(_BERLIN)
    return now.astimezone(timezone(_berlin_offset(now)))


def fmt_dt(dt: datetime) -> str:
    """YYYY-MM-DDThh:mm:ssTZD, e.g. 2014-02-01T15:45:00+02:00."""
    return dt.isoformat(timespec="seconds")


def kwh(wh: int) -> float:
    return round(wh / 1000.0, 3)


# --------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------


class Invalid(Exception):
    def __init__(self, code: str, info: str):
        super().__init__(info)
        self.code = code
        self.info = info


def _present(obj: dict, key: str) -> bool:
    return key in obj and obj[key] is not None


def req_str(obj: dict, key: str, *, pattern=None, maxlen=None, where="") -> str:
    if not _present(obj, key):
        raise Invalid("022", f"{where}{key} is mandatory")
    return opt_str(obj, key, pattern=pattern, maxlen=maxlen, where=where)


def opt_str(obj: dict, key: str, *, pattern=None, maxlen=None, where=""):
    if not _present(obj, key):
        return None
    val = obj[key]
    if not isinstance(val, str):
        raise Invalid("022", f"{where}{key} must be a string")
    if maxlen is not None and len(val) > maxlen:
        raise Invalid("022", f"{where}{key} is longer than {maxlen} characters")
    if pattern is not None and not pattern.fullmatch(val):
        raise Invalid("022", f"{where}{key} does not match its pattern")
    return val


def validate_identification(ident, *, where: str, allowed=None, authorization=False) -> str:
    """IdentificationType: "One of the following five options MUST be provided"."""
    if not isinstance(ident, dict):
        raise Invalid("022", f"{where} must be an object")
    present = [k for k in ID_OPTIONS if ident.get(k) is not None]
    if len(present) != 1:
        raise Invalid("022", f"{where} must contain exactly one identification option, got {len(present)}")
    kind = present[0]
    if allowed is not None and kind not in allowed:
        raise Invalid("022", f"{where}.{kind} is not allowed here (allowed: {', '.join(allowed)})")
    sub = ident[kind]
    w = f"{where}.{kind}."
    if not isinstance(sub, dict):
        raise Invalid("022", f"{where}.{kind} must be an object")
    if kind == "RFIDMifareFamilyIdentification":
        req_str(sub, "UID", pattern=RE_UID, where=w)
    elif kind == "RFIDIdentification":
        req_str(sub, "UID", pattern=RE_UID, where=w)
        rfid = req_str(sub, "RFID", where=w)
        if rfid not in RFID_TYPES:
            raise Invalid("022", f"{w}RFID is not a defined RFID type")
        opt_str(sub, "EvcoID", pattern=RE_EVCO, where=w)
        opt_str(sub, "PrintedNumber", maxlen=150, where=w)
        opt_str(sub, "ExpiryDate", where=w)
    elif kind == "QRCodeIdentification":
        req_str(sub, "EvcoID", pattern=RE_EVCO, where=w)
        pin = opt_str(sub, "PIN", maxlen=20, where=w)
        hashed = sub.get("HashedPIN")
        if hashed is not None:
            if not isinstance(hashed, dict):
                raise Invalid("022", f"{w}HashedPIN must be an object")
            req_str(hashed, "Value", pattern=RE_HASH, where=w + "HashedPIN.")
            if req_str(hashed, "Function", where=w + "HashedPIN.") != "Bcrypt":
                raise Invalid("022", f"{w}HashedPIN.Function must be Bcrypt")
            legacy = hashed.get("LegacyHashData")
            if legacy is not None:
                if not isinstance(legacy, dict) or legacy.get("Function") not in ("MD5", "SHA-1"):
                    raise Invalid("022", f"{w}HashedPIN.LegacyHashData is invalid")
        if authorization:
            if pin is None:
                raise Invalid("022", f"{w}PIN must be provided in clear text in authorization requests")
            if hashed is not None:
                raise Invalid("022", f"{w}HashedPIN must be null in authorization requests")
        elif (pin is None) == (hashed is None):
            raise Invalid("022", f"{w}exactly one of PIN and HashedPIN must be provided")
    else:  # PlugAndChargeIdentification, RemoteIdentification
        req_str(sub, "EvcoID", pattern=RE_EVCO, where=w)
    return kind


def canon_evse(evse_id: str) -> str:
    """Canonical form for look-ups: ISO EvseIDs have optional '*' after the
    country code and after the operator part; alpha characters are compared
    case-insensitively."""
    m = RE_ISO_EVSE_PARTS.fullmatch(evse_id)
    if m:
        return f"{m.group(1)}*{m.group(2)}*{m.group(3)}".upper()
    return evse_id.upper()


def norm_provider(pid: str) -> str:
    """ProviderIDs: "DE8EO", "DE-8EO", "DE*8EO" name the same provider."""
    return re.sub(r"[-*]", "", pid).upper()


def public_identification(ident: dict) -> dict:
    """Identification as forwarded in CDRs / notifications: a QR code PIN is
    never passed on (only the EvcoID is required by QRCodeIdentification)."""
    if "QRCodeIdentification" in ident and isinstance(ident["QRCodeIdentification"], dict):
        return {"QRCodeIdentification": {"EvcoID": ident["QRCodeIdentification"]["EvcoID"]}}
    return {k: v for k, v in ident.items() if k in ID_OPTIONS and v is not None}


# --------------------------------------------------------------------------
# Domain state
# --------------------------------------------------------------------------


class Evse:
    def __init__(self, evse_id: str, station: str, out_of_service: bool, meter_wh: int):
        self.id = evse_id
        self.station = station
        self.out_of_service = out_of_service
        self.meter_wh = meter_wh
        self.product = "AC3" if station == "E100" else "DC"
        self.power_w = 22000 if station == "E100" else 50000


class Session:
    def __init__(self, **kw):
        self.sid: str = kw["sid"]
        self.cpo_psid: str = kw["cpo_psid"]
        self.emp_psid = kw.get("emp_psid")
        self.evse: Evse = kw["evse"]
        self.provider_id = kw.get("provider_id")
        self.identification: dict = kw["identification"]
        self.product = kw.get("product")
        self.origin: str = kw["origin"]  # "remote" | "local"
        self.session_start: datetime = kw["start"]
        self.charging_start: datetime = kw["start"]
        self.meter_start_wh: int = kw["evse"].meter_wh
        self.charging_end = None
        self.meter_end_wh = None
        self.session_end = None
        self.active = True
        self.start_notified = False
        self.last_progress = None
        self.reservation_sid = kw.get("reservation_sid")

    def meter_now(self, at: datetime) -> int:
        """Simulated meter: a fixed 0.5 kWh plus the EVSE power over the elapsed time."""
        if self.meter_end_wh is not None:
            return self.meter_end_wh
        elapsed = max(0.0, (at - self.charging_start).total_seconds())
        return self.meter_start_wh + 500 + int(elapsed * self.evse.power_w / 3600.0)

    def to_probe(self) -> dict:
        d = {
            "SessionID": self.sid,
            "Kind": "charging",
            "CPOPartnerSessionID": self.cpo_psid,
            "EvseID": self.evse.id,
            "ProviderID": self.provider_id,
            "Origin": self.origin,
            "Active": self.active,
            "SessionStart": fmt_dt(self.session_start),
            "SessionEnd": fmt_dt(self.session_end) if self.session_end else None,
        }
        if self.emp_psid is not None:
            d["EMPPartnerSessionID"] = self.emp_psid
        return d


class Reservation:
    def __init__(self, **kw):
        self.sid: str = kw["sid"]
        self.cpo_psid: str = kw["cpo_psid"]
        self.emp_psid = kw.get("emp_psid")
        self.evse: Evse = kw["evse"]
        self.provider_id: str = kw["provider_id"]
        self.identification: dict = kw["identification"]
        self.product = kw.get("product")
        self.start: datetime = kw["start"]
        self.expires = kw.get("expires")
        self.end = None
        self.state = "active"  # active | consumed | stopped

    def blocks(self, at: datetime) -> bool:
        return self.state == "active" and (self.expires is None or at < self.expires)

    def to_probe(self) -> dict:
        d = {
            "SessionID": self.sid,
            "Kind": "reservation",
            "CPOPartnerSessionID": self.cpo_psid,
            "EvseID": self.evse.id,
            "ProviderID": self.provider_id,
            "State": self.state,
            "Active": self.state == "active",
            "SessionStart": fmt_dt(self.start),
            "SessionEnd": fmt_dt(self.end) if self.end else None,
        }
        if self.emp_psid is not None:
            d["EMPPartnerSessionID"] = self.emp_psid
        return d


class Cdr:
    def __init__(self, sid: str, body: dict):
        self.sid = sid
        self.body = body
        # Frozen once: every (re)send of this CDR is byte-identical.
        self.raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.status = "pending"  # pending | sending | acknowledged | refused | failed
        self.sends = 0


# --------------------------------------------------------------------------
# Outbound HTTP with bounded retries
# --------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401
        return None


def _parse_retry_after(value):
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    except Exception:
        return None


def classify_ack(parsed):
    if not isinstance(parsed, dict) or not isinstance(parsed.get("Result"), bool) \
            or not isinstance(parsed.get("StatusCode"), dict):
        return "retry", "malformed eRoamingAcknowledgement"
    if parsed["Result"]:
        return "ok", "Result true"
    code = str(parsed["StatusCode"].get("Code"))
    if code in RETRYABLE_HUB_CODES:
        return "retry", f"Result false, hub-side error {code}"
    return "refused", f"Result false, code {code}"


def classify_authorization(parsed):
    if not isinstance(parsed, dict) or parsed.get("AuthorizationStatus") not in ("Authorized", "NotAuthorized") \
            or not isinstance(parsed.get("StatusCode"), dict):
        return "retry", "malformed eRoamingAuthorization response"
    if parsed["AuthorizationStatus"] == "Authorized":
        return "ok", "Authorized"
    code = str(parsed["StatusCode"].get("Code"))
    if code in RETRYABLE_HUB_CODES:
        return "retry", f"NotAuthorized, hub-side error {code}"
    return "refused", f"NotAuthorized, code {code}"


class HubClient:
    def __init__(self, base_url: str, operator_id: str):
        self.base = base_url.rstrip("/")
        self.operator_id = operator_id
        # No proxies (loopback only), no redirects (a POST must not turn into a GET).
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
        self.log = []  # (time, operation, attempt, outcome, detail)
        self.log_lock = threading.Lock()

    def url(self, template: str) -> str:
        op = urllib.parse.quote(self.operator_id, safe="*+")
        return self.base + template.replace("{operatorID}", op)

    def _once(self, url: str, raw: bytes, classify):
        req = urllib.request.Request(
            url, data=raw, method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"})
        try:
            with self.opener.open(req, timeout=HTTP_TIMEOUT) as resp:
                status = resp.status
                data = resp.read()
        except urllib.error.HTTPError as e:
            try:
                e.read()
            except Exception:
                pass
            if e.code == 429:
                return "retry", "HTTP 429", None, _parse_retry_after(e.headers.get("Retry-After") if e.headers else None)
            if e.code >= 500 or e.code == 408:
                return "retry", f"HTTP {e.code}", None, None
            return "refused", f"HTTP {e.code}", None, None
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError,
                http.client.HTTPException, OSError) as e:
            return "retry", f"transport error: {e}", None, None
        if not 200 <= status < 300:
            return "refused", f"HTTP {status}", None, None
        try:
            parsed = json.loads(data.decode("utf-8"))
        except Exception:
            return "retry", f"HTTP {status} with unreadable body", None, None
        outcome, detail = classify(parsed)
        return outcome, detail, parsed, None

    def send(self, operation: str, template: str, raw: bytes, classify):
        """POST raw (unchanged on every attempt).  Returns (outcome, parsed)
        with outcome in ok | refused | failed."""
        url = self.url(template)
        delay = BACKOFF_START
        parsed = None
        for attempt in range(MAX_RETRIES + 1):
            outcome, detail, parsed, retry_after = self._once(url, raw, classify)
            with self.log_lock:
                self.log.append({"time": fmt_dt(local_now()), "operation": operation,
                                 "attempt": attempt + 1, "outcome": outcome, "detail": detail})
            LOG.info("%s attempt %d -> %s (%s)", operation, attempt + 1, outcome, detail)
            if outcome in ("ok", "refused"):
                return outcome, parsed
            if attempt == MAX_RETRIES:
                break
            wait = retry_after if retry_after is not None else delay
            if wait > RETRY_AFTER_CAP:
                LOG.warning("%s: Retry-After %.0fs exceeds cap, giving up", operation, wait)
                break
            time.sleep(wait)
            delay = min(delay * 2, BACKOFF_MAX)
        return "failed", parsed


# --------------------------------------------------------------------------
# Workers: one queue / thread per outbound operation
# --------------------------------------------------------------------------


class Worker:
    def __init__(self, name: str, handler):
        self.name = name
        self.q: queue.Queue = queue.Queue()
        self.handler = handler
        self.thread = threading.Thread(target=self._run, name=f"worker-{name}", daemon=True)
        self.thread.start()

    def put(self, job: dict):
        self.q.put(job)

    def _run(self):
        while True:
            job = self.q.get()
            try:
                self.handler(job)
            except Exception:
                LOG.exception("worker %s: job %r failed", self.name, job)
            finally:
                self.q.task_done()


# --------------------------------------------------------------------------
# The CPO
# --------------------------------------------------------------------------


class Cpo:
    def __init__(self, hub_url: str, operator_id: str):
        if not RE_OPERATOR.fullmatch(operator_id):
            raise SystemExit(f"invalid OperatorID {operator_id!r}")
        self.operator_id = operator_id
        self.operator_name = "Independent CPO"
        self.lock = threading.RLock()
        self.evses: dict[str, Evse] = {}
        for n, (station, idx, oos) in enumerate(
                [("E100", 1, False), ("E100", 2, False), ("E200", 1, False), ("E200", 2, True)]):
            eid = f"{operator_id}*{station}*{idx}"
            self.evses[canon_evse(eid)] = Evse(eid, station, oos, 1_000_000 * (n + 1))
        self.sessions: dict[str, Session] = {}  # key: lower-case SessionID
        self.reservations: dict[str, Reservation] = {}
        self.cdrs: dict[str, Cdr] = {}
        self.session_order: list = []  # probe order (sessions + reservations)
        self.hub = HubClient(hub_url, operator_id)
        self.workers = {
            "push-evse-data": Worker("push-evse-data", self._job_push_evse_data),
            "push-evse-status": Worker("push-evse-status", self._job_push_evse_status),
            "authorize-start": Worker("authorize-start", self._job_authorize_start),
            "authorize-stop": Worker("authorize-stop", self._job_authorize_stop),
            "cdr": Worker("cdr", self._job_cdr),
            "notify": Worker("notify", self._job_notify),
        }

    # ---------------------------------------------------------------- state
    def evse(self, evse_id: str):
        return self.evses.get(canon_evse(evse_id))

    def seen(self, sid: str) -> bool:
        k = sid.lower()
        return k in self.sessions or k in self.reservations

    def active_session_on(self, evse: Evse):
        for s in self.sessions.values():
            if s.active and s.evse is evse:
                return s
        return None

    def blocking_reservation(self, evse: Evse, at: datetime):
        for r in self.reservations.values():
            if r.evse is evse and r.blocks(at):
                return r
        return None

    def evse_status(self, evse: Evse) -> str:
        if evse.out_of_service:
            return "OutOfService"
        if self.active_session_on(evse):
            return "Occupied"
        if self.blocking_reservation(evse, local_now()):
            return "Reserved"
        return "Available"

    def wait_session(self, sid: str):
        deadline = time.monotonic() + SESSION_WAIT
        while True:
            with self.lock:
                s = self.sessions.get(sid.lower())
            if s is not None or time.monotonic() >= deadline:
                return s
            time.sleep(0.05)

    def _new_session(self, **kw) -> Session:
        s = Session(**kw)
        self.sessions[s.sid.lower()] = s
        self.session_order.append(s)
        return s

    def _end_session(self, s: Session, at: datetime):
        """Ends a charging session and creates its one CDR (under lock)."""
        if not s.active:
            return self.cdrs.get(s.sid.lower())
        if s.charging_end is None:
            s.meter_end_wh = s.meter_now(at)
            s.charging_end = at
        s.session_end = at
        s.active = False
        s.evse.meter_wh = s.meter_end_wh
        return self._make_cdr(s.sid, self._session_cdr_body(s))

    def _make_cdr(self, sid: str, body: dict) -> Cdr:
        key = sid.lower()
        if key not in self.cdrs:  # exactly one CDR per SessionID
            self.cdrs[key] = Cdr(sid, body)
        return self.cdrs[key]

    def _session_cdr_body(self, s: Session) -> dict:
        body = {"SessionID": s.sid, "CPOPartnerSessionID": s.cpo_psid}
        if s.emp_psid is not None:
            body["EMPPartnerSessionID"] = s.emp_psid
        body.update({
            "PartnerProductID": s.product or s.evse.product,
            "EvseID": s.evse.id,
            "Identification": public_identification(s.identification),
            "ChargingStart": fmt_dt(s.charging_start),
            "ChargingEnd": fmt_dt(s.charging_end),
            "SessionStart": fmt_dt(s.session_start),
            "SessionEnd": fmt_dt(s.session_end),
            "MeterValueStart": kwh(s.meter_start_wh),
            "MeterValueEnd": kwh(s.meter_end_wh),
            "ConsumedEnergy": kwh(s.meter_end_wh - s.meter_start_wh),
        })
        return body

    def _reservation_cdr_body(self, r: Reservation) -> dict:
        body = {"SessionID": r.sid, "CPOPartnerSessionID": r.cpo_psid}
        if r.emp_psid is not None:
            body["EMPPartnerSessionID"] = r.emp_psid
        if r.product is not None:
            body["PartnerProductID"] = r.product
        body.update({
            "EvseID": r.evse.id,
            "Identification": public_identification(r.identification),
            # A reservation transfers no energy; its time span is reported as
            # session and (zero-energy) charging period.
            "ChargingStart": fmt_dt(r.start),
            "ChargingEnd": fmt_dt(r.end),
            "SessionStart": fmt_dt(r.start),
            "SessionEnd": fmt_dt(r.end),
            "ConsumedEnergy": 0.0,
        })
        return body

    # -------------------------------------------------------------- inbound
    @staticmethod
    def _parse_body(raw: bytes) -> dict:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Invalid("022", "request body is not UTF-8")
        try:
            body = json.loads(text)
        except ValueError:
            raise Invalid("022", "request body is not JSON")
        if not isinstance(body, dict):
            raise Invalid("022", "request body must be a JSON object")
        return body

    @staticmethod
    def _check_query_provider(query: dict, body_pid: str):
        vals = [v for k, vs in query.items() if k.lower() == "providerid" for v in vs]
        if not vals:
            raise Invalid("022", "providerId query parameter is missing")
        if len({norm_provider(v) for v in vals}) != 1:
            raise Invalid("022", "providerId query parameter is ambiguous")
        if norm_provider(vals[0]) != norm_provider(body_pid):
            raise Invalid("017", f"ProviderID {body_pid!r} does not match the providerId {vals[0]!r} of this URL")

    @staticmethod
    def _ack(result: bool, code: str, info=None, sid=None, cpo_psid=None, emp_psid=None) -> dict:
        sc = {"Code": code, "Description": CODES[code]}
        if info:
            sc["AdditionalInfo"] = info[:1000]
        d = {"Result": result, "StatusCode": sc}
        if sid is not None:
            d["SessionID"] = sid
        if cpo_psid is not None:
            d["CPOPartnerSessionID"] = cpo_psid
        if emp_psid is not None:
            d["EMPPartnerSessionID"] = emp_psid
        return d

    def handle_inbound(self, op: str, query: dict, raw: bytes):
        """Returns (acknowledgement, post_action or None)."""
        body = None
        try:
            body = self._parse_body(raw)
            return getattr(self, "_in_" + op.replace("-", "_"))(query, body)
        except Invalid as e:
            echo = {}
            if isinstance(body, dict):
                if isinstance(body.get("SessionID"), str) and RE_SESSION.fullmatch(body["SessionID"]):
                    echo["sid"] = body["SessionID"]
                emp = body.get("EMPPartnerSessionID")
                if isinstance(emp, str) and len(emp) <= 250:
                    echo["emp_psid"] = emp
            LOG.info("inbound %s refused: %s %s", op, e.code, e.info)
            return self._ack(False, e.code, e.info, **echo), None

    def _common_fields(self, q: dict, b: dict, *, sid_required=True):
        sid = (req_str if sid_required else opt_str)(b, "SessionID", pattern=RE_SESSION)
        opt_str(b, "CPOPartnerSessionID", maxlen=250)
        emp = opt_str(b, "EMPPartnerSessionID", maxlen=250)
        pid = req_str(b, "ProviderID", pattern=RE_PROVIDER)
        evse_id = req_str(b, "EvseID", pattern=RE_EVSE)
        return sid, emp, pid, evse_id

    def _in_remote_start(self, q: dict, b: dict):
        sid, emp, pid, evse_id = self._common_fields(q, b)
        if not _present(b, "Identification"):
            raise Invalid("022", "Identification is mandatory")
        validate_identification(b["Identification"], where="Identification", allowed=("RemoteIdentification",))
        product = opt_str(b, "PartnerProductID", maxlen=50)
        self._check_query_provider(q, pid)
        now = local_now()
        with self.lock:
            if self.seen(sid):
                raise Invalid("400", "SessionID is already used by another session or reservation")
            evse = self.evse(evse_id)
            if evse is None:
                raise Invalid("603", f"{evse_id} is not an EVSE of {self.operator_id}")
            if evse.out_of_service:
                raise Invalid("700", f"{evse.id} is out of service")
            if self.active_session_on(evse):
                raise Invalid("602", f"{evse.id} is in use")
            res = self.blocking_reservation(evse, now)
            if res is not None and norm_provider(res.provider_id) != norm_provider(pid):
                raise Invalid("601", f"{evse.id} is reserved")
            s = self._new_session(sid=sid, cpo_psid=str(uuid.uuid4()), emp_psid=emp, evse=evse, provider_id=pid,
                                  identification=b["Identification"], product=product, origin="remote", start=now,
                                  reservation_sid=res.sid if res else None)
            if res is not None:
                res.state, res.end = "consumed", now
            LOG.info("remote start accepted: session %s on %s", sid, evse.id)
            return self._ack(True, "000", sid=sid, cpo_psid=s.cpo_psid, emp_psid=emp), None

    def _in_remote_stop(self, q: dict, b: dict):
        sid, emp, pid, evse_id = self._common_fields(q, b)
        self._check_query_provider(q, pid)
        now = local_now()
        with self.lock:
            s = self.sessions.get(sid.lower())
            if s is None:
                raise Invalid("400", "unknown charging session")
            if not s.active:
                raise Invalid("400", "charging session has already ended")
            evse = self.evse(evse_id)
            if evse is None:
                raise Invalid("603", f"{evse_id} is not an EVSE of {self.operator_id}")
            if evse is not s.evse:
                raise Invalid("400", f"session {sid} does not run on {evse_id}")
            if s.provider_id is not None and norm_provider(s.provider_id) != norm_provider(pid):
                raise Invalid("017", "session belongs to another provider")
            cdr = self._end_session(s, now)
            LOG.info("remote stop accepted: session %s", sid)
            ack = self._ack(True, "000", sid=s.sid, cpo_psid=s.cpo_psid,
                            emp_psid=emp if emp is not None else s.emp_psid)
        return ack, (lambda: self.workers["cdr"].put({"kind": "send", "sid": cdr.sid}))

    def _in_reservation_start(self, q: dict, b: dict):
        sid, emp, pid, evse_id = self._common_fields(q, b)
        if not _present(b, "Identification"):
            raise Invalid("022", "Identification is mandatory")
        validate_identification(b["Identification"], where="Identification", allowed=("RemoteIdentification",))
        product = opt_str(b, "PartnerProductID", maxlen=50)
        duration = b.get("Duration")
        if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int)
                                     or not 1 <= duration <= 99):
            raise Invalid("022", "Duration must be an integer number of minutes between 1 and 99")
        self._check_query_provider(q, pid)
        now = local_now()
        with self.lock:
            if self.seen(sid):
                raise Invalid("400", "SessionID is already used by another session or reservation")
            evse = self.evse(evse_id)
            if evse is None:
                raise Invalid("603", f"{evse_id} is not an EVSE of {self.operator_id}")
            if evse.out_of_service:
                raise Invalid("700", f"{evse.id} is out of service")
            if self.active_session_on(evse):
                raise Invalid("602", f"{evse.id} is in use")
            if self.blocking_reservation(evse, now):
                raise Invalid("601", f"{evse.id} is already reserved")
            r = Reservation(sid=sid, cpo_psid=str(uuid.uuid4()), emp_psid=emp, evse=evse, provider_id=pid,
                            identification=b["Identification"], product=product, start=now,
                            expires=now + timedelta(minutes=duration) if duration else None)
            self.reservations[sid.lower()] = r
            self.session_order.append(r)
            LOG.info("reservation accepted: %s on %s", sid, evse.id)
            return self._ack(True, "000", sid=sid, cpo_psid=r.cpo_psid, emp_psid=emp), None

    def _in_reservation_stop(self, q: dict, b: dict):
        sid, emp, pid, evse_id = self._common_fields(q, b)
        self._check_query_provider(q, pid)
        now = local_now()
        with self.lock:
            r = self.reservations.get(sid.lower())
            if r is None:
                raise Invalid("400", "unknown reservation")
            if r.state == "stopped":
                raise Invalid("400", "reservation has already been stopped")
            evse = self.evse(evse_id)
            if evse is None:
                raise Invalid("603", f"{evse_id} is not an EVSE of {self.operator_id}")
            if evse is not r.evse:
                raise Invalid("400", f"reservation {sid} is not for {evse_id}")
            if norm_provider(r.provider_id) != norm_provider(pid):
                raise Invalid("017", "reservation belongs to another provider")
            if r.end is None:  # not consumed by a charging start before
                r.end = min(now, r.expires) if r.expires else now
            r.state = "stopped"
            # "After the eRoamingAuthorizeRemoteReservationStop the CPO MUST provide a CDR."
            cdr = self._make_cdr(r.sid, self._reservation_cdr_body(r))
            ack = self._ack(True, "000", sid=r.sid, cpo_psid=r.cpo_psid,
                            emp_psid=emp if emp is not None else r.emp_psid)
        return ack, (lambda: self.workers["cdr"].put({"kind": "send", "sid": cdr.sid}))

    # ---------------------------------------------------------- admin input
    def handle_trigger(self, action: str, raw: bytes):
        """Validates a trigger body and queues it.  Returns (http_status, body)."""
        try:
            body = json.loads(raw.decode("utf-8") or "null")
        except Exception:
            return 400, {"error": "body must be JSON"}
        if not isinstance(body, dict):
            return 400, {"error": "body must be a JSON object"}
        try:
            job, worker = self._trigger_job(action, body)
        except Invalid as e:
            return 400, {"error": e.info}
        except KeyError:
            return 404, {"error": f"unknown action {action!r}"}
        self.workers[worker].put(job)
        return 202, {"accepted": True, "action": action, "queue": worker}

    def _trigger_job(self, action: str, b: dict):
        if action in ("push-evse-data", "push-evse-status"):
            at = b.get("action")
            if at not in ACTION_TYPES:
                raise Invalid("022", f"action must be one of {ACTION_TYPES}")
            ids = b.get("evse_ids")
            if ids is None:
                ids = []
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise Invalid("022", "evse_ids must be a list of strings")
            unknown = [i for i in ids if self.evse(i) is None]
            if unknown:
                raise Invalid("022", f"unknown EVSEs: {unknown}")
            if not ids and at != "fullLoad":
                raise Invalid("022", f"{at} needs at least one EVSE in evse_ids")
            return {"action": at, "evse_ids": ids}, action
        if action == "authorize-start":
            evse_id = b.get("evse_id")
            if not isinstance(evse_id, str) or self.evse(evse_id) is None:
                raise Invalid("022", "evse_id must name one of this CPO's EVSEs")
            ident = b.get("identification")
            validate_identification(ident, where="identification", authorization=True,
                                    allowed=tuple(o for o in ID_OPTIONS if o != "RFIDIdentification"))
            return {"evse_id": evse_id, "identification": ident}, action
        if action in ("authorize-stop", "end-session", "notify"):
            sid = b.get("session_id")
            if not isinstance(sid, str) or not sid:
                raise Invalid("022", "session_id is mandatory")
            job = {"sid": sid}
            if action == "authorize-stop":
                if b.get("identification") is not None:
                    validate_identification(b["identification"], where="identification",
                                            allowed=tuple(o for o in ID_OPTIONS if o != "RFIDIdentification"))
                    job["identification"] = b["identification"]
                return job, "authorize-stop"
            if action == "end-session":
                job["kind"] = "end-session"
                return job, "cdr"
            typ = b.get("type")
            if typ not in NOTIFICATION_TYPES:
                raise Invalid("022", f"type must be one of {NOTIFICATION_TYPES}")
            job["type"] = typ
            et = b.get("error_type", "ConnectorError")
            if typ == "Error" and et not in ERROR_TYPES:
                raise Invalid("022", f"error_type must be one of {ERROR_TYPES}")
            job["error_type"] = et
            info = b.get("error_info")
            if info is not None and (not isinstance(info, str) or len(info) > 250):
                raise Invalid("022", "error_info must be a string of at most 250 characters")
            job["error_info"] = info
            return job, "notify"
        raise KeyError(action)

    # --------------------------------------------------------------- probes
    def probe(self, what: str):
        with self.lock:
            if what == "sessions":
                return {"sessions": [x.to_probe() for x in self.session_order]}
            if what == "cdrs":
                return {"cdrs": [dict(c.body, _status=c.status, _sends=c.sends) for c in self.cdrs.values()]}
            if what == "evses":
                return {"evses": [{"EvseID": e.id, "EvseStatus": self.evse_status(e)} for e in self.evses.values()]}
            if what == "outbound":
                with self.hub.log_lock:
                    return {"outbound": list(self.hub.log)}
        return None

    # ----------------------------------------------------------- outbound jobs
    def _records(self, ids):
        if ids:
            return [self.evse(i) for i in ids]
        return list(self.evses.values())

    def _evse_data_record(self, e: Evse) -> dict:
        ac = e.station == "E100"
        return {
            "EvseID": e.id,
            "ChargingStationNames": [
                {"lang": "en", "value": f"Independent CPO charging station {e.station}"},
                {"lang": "de", "value": f"Unabhängige Ladestation {e.station}"},
            ],
            "Address": {"Country": "DEU", "City": "Berlin", "Street": "Invalidenstraße",
                        "PostalCode": "10115", "HouseNum": "100" if ac else "200"},
            "GeoCoordinates": {"DecimalDegree": {"Longitude": "13.377704", "Latitude": "52.530644"}},
            "Plugs": ["Type 2 Outlet"] if ac else ["CCS Combo 2 Plug (Cable Attached)"],
            "ChargingFacilities": [
                {"PowerType": "AC_3_PHASE", "Voltage": 230, "Amperage": 32, "Power": 22, "ChargingModes": ["Mode_3"]}
                if ac else {"PowerType": "DC", "Power": 50, "ChargingModes": ["Mode_4"]}
            ],
            "RenewableEnergy": True,
            "CalibrationLawDataAvailability": "Local",
            "AuthenticationModes": ["NFC RFID Classic", "REMOTE"],
            "PaymentOptions": ["Contract"],
            "ValueAddedServices": ["Reservation"],
            "Accessibility": "Free publicly accessible",
            "HotlinePhoneNumber": "+4930123456789",
            "IsOpen24Hours": True,
            "IsHubjectCompatible": True,
            "DynamicInfoAvailable": "true",
        }

    @staticmethod
    def _raw(body: dict) -> bytes:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def _job_push_evse_data(self, job):
        with self.lock:
            records = [self._evse_data_record(e) for e in self._records(job["evse_ids"])]
        body = {"ActionType": job["action"],
                "OperatorEvseData": {"OperatorID": self.operator_id, "OperatorName": self.operator_name,
                                     "EvseDataRecord": records}}
        self.hub.send("PushEvseData", PATH_PUSH_EVSE_DATA, self._raw(body), classify_ack)

    def _job_push_evse_status(self, job):
        with self.lock:
            records = [{"EvseID": e.id, "EvseStatus": self.evse_status(e)} for e in self._records(job["evse_ids"])]
        body = {"ActionType": job["action"],
                "OperatorEvseStatus": {"OperatorID": self.operator_id, "OperatorName": self.operator_name,
                                       "EvseStatusRecord": records}}
        self.hub.send("PushEvseStatus", PATH_PUSH_EVSE_STATUS, self._raw(body), classify_ack)

    def _job_authorize_start(self, job):
        now = local_now()
        with self.lock:
            evse = self.evse(job["evse_id"])
            if evse.out_of_service or self.active_session_on(evse):
                LOG.warning("authorize-start: %s is %s, not asking the hub", evse.id, self.evse_status(evse))
                return
        cpo_psid = str(uuid.uuid4())
        ident = job["identification"]
        body = {"CPOPartnerSessionID": cpo_psid, "OperatorID": self.operator_id, "EvseID": evse.id,
                "Identification": ident}
        outcome, resp = self.hub.send("AuthorizeStart", PATH_AUTHORIZE_START, self._raw(body),
                                      classify_authorization)
        if outcome != "ok":
            LOG.info("authorize-start on %s: not authorized (%s)", evse.id, outcome)
            return
        sid = resp.get("SessionID")
        if not isinstance(sid, str) or not RE_SESSION.fullmatch(sid):
            LOG.warning("authorize-start: Authorized without a valid SessionID, session not started")
            return
        pid = resp.get("ProviderID") if isinstance(resp.get("ProviderID"), str) else None
        emp = resp.get("EMPPartnerSessionID") if isinstance(resp.get("EMPPartnerSessionID"), str) else None
        with self.lock:
            if self.seen(sid):
                LOG.warning("authorize-start: hub SessionID %s is already in use, session not started", sid)
                return
            if evse.out_of_service or self.active_session_on(evse):
                LOG.warning("authorize-start: %s became unavailable meanwhile", evse.id)
                return
            res = self.blocking_reservation(evse, now)
            if res is not None and (pid is None or norm_provider(pid) != norm_provider(res.provider_id)):
                LOG.warning("authorize-start: %s is reserved for another provider, session not started", evse.id)
                return
            if res is not None:
                res.state, res.end = "consumed", now
            self._new_session(sid=sid, cpo_psid=cpo_psid, emp_psid=emp, evse=evse, provider_id=pid,
                              identification=ident, product=None, origin="local", start=now,
                              reservation_sid=res.sid if res else None)
            LOG.info("local session %s started on %s", sid, evse.id)

    def _job_authorize_stop(self, job):
        s = self.wait_session(job["sid"])
        with self.lock:
            if s is None or not s.active:
                LOG.warning("authorize-stop: no active session %s", job["sid"])
                return
            body = {"SessionID": s.sid, "CPOPartnerSessionID": s.cpo_psid}
            if s.emp_psid is not None:
                body["EMPPartnerSessionID"] = s.emp_psid
            body.update({"OperatorID": self.operator_id, "EvseID": s.evse.id,
                         "Identification": job.get("identification") or s.identification})
        outcome, _ = self.hub.send("AuthorizeStop", PATH_AUTHORIZE_STOP, self._raw(body), classify_authorization)
        if outcome != "ok":
            LOG.info("authorize-stop for %s: not authorized (%s), charging continues", s.sid, outcome)
            return
        with self.lock:
            cdr = self._end_session(s, local_now())
        # The CDR goes through the CDR queue so that CDR pushes stay sequential.
        self.workers["cdr"].put({"kind": "send", "sid": cdr.sid})

    def _job_cdr(self, job):
        if job["kind"] == "end-session":
            with self.lock:
                is_reservation = job["sid"].lower() in self.reservations
            s = None if is_reservation else self.wait_session(job["sid"])
            with self.lock:
                if s is None:
                    # e.g. a stopped reservation whose CDR is to be resent
                    cdr = self.cdrs.get(job["sid"].lower())
                    if cdr is None:
                        LOG.warning("end-session: no session or CDR %s", job["sid"])
                        return
                else:
                    cdr = self._end_session(s, local_now())
        else:
            with self.lock:
                cdr = self.cdrs.get(job["sid"].lower())
        if cdr is not None:
            self._send_cdr(cdr)

    def _send_cdr(self, cdr: Cdr):
        with self.lock:
            if cdr.status in ("acknowledged", "refused", "sending"):
                LOG.info("CDR %s already %s, not sent again", cdr.sid, cdr.status)
                return
            cdr.status = "sending"
            cdr.sends += 1
        outcome, _ = self.hub.send("ChargeDetailRecord", PATH_CDR, cdr.raw, classify_ack)
        with self.lock:
            cdr.status = {"ok": "acknowledged", "refused": "refused"}.get(outcome, "failed")

    def _job_notify(self, job):
        s = self.wait_session(job["sid"])
        typ = job["type"]
        now = local_now()
        with self.lock:
            if s is None:
                LOG.warning("notify %s: unknown session %s", typ, job["sid"])
                return
            if typ != "Error" and (not s.active or (typ != "Start" and s.charging_end is not None)):
                LOG.warning("notify %s: session %s is not charging any more", typ, s.sid)
                return
            if typ == "Start" and s.start_notified:
                LOG.warning("notify Start: already sent for %s", s.sid)
                return
            if typ == "Progress" and s.last_progress is not None and now - s.last_progress < PROGRESS_MIN_INTERVAL:
                LOG.warning("notify Progress: last progress for %s was less than 5 minutes ago, skipped", s.sid)
                return
            body = {"Type": typ, "SessionID": s.sid, "CPOPartnerSessionID": s.cpo_psid}
            if s.emp_psid is not None:
                body["EMPPartnerSessionID"] = s.emp_psid
            body["Identification"] = public_identification(s.identification)
            body["EvseID"] = s.evse.id
            if typ == "Start":
                body.update({"ChargingStart": fmt_dt(s.charging_start), "SessionStart": fmt_dt(s.session_start),
                             "MeterValueStart": kwh(s.meter_start_wh)})
                s.start_notified = True
            elif typ == "Progress":
                wh = s.meter_now(now)
                body.update({"ChargingStart": fmt_dt(s.charging_start), "EventOccurred": fmt_dt(now),
                             "ChargingDuration": int((now - s.charging_start).total_seconds() * 1000),
                             "SessionStart": fmt_dt(s.session_start),
                             "ConsumedEnergyProgress": kwh(wh - s.meter_start_wh),
                             "MeterValueStart": kwh(s.meter_start_wh)})
                s.last_progress = now
            elif typ == "End":
                s.meter_end_wh = s.meter_now(now)
                s.charging_end = now
                body.update({"ChargingStart": fmt_dt(s.charging_start), "ChargingEnd": fmt_dt(now),
                             "SessionStart": fmt_dt(s.session_start),
                             "ConsumedEnergy": kwh(s.meter_end_wh - s.meter_start_wh),
                             "MeterValueStart": kwh(s.meter_start_wh), "MeterValueEnd": kwh(s.meter_end_wh)})
            else:
                body["ErrorType"] = job["error_type"]
                if job.get("error_info"):
                    body["ErrorAdditionalInfo"] = job["error_info"]
            body["OperatorID"] = self.operator_id
            if typ != "Error":
                body["PartnerProductID"] = s.product or s.evse.product
        self.hub.send(f"ChargingNotification{typ}", PATH_NOTIFICATIONS, self._raw(body), classify_ack)


# --------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------

INBOUND_PATHS = {
    "/hubject/remote-start": "remote-start",
    "/hubject/remote-stop": "remote-stop",
    "/hubject/reservation-start": "reservation-start",
    "/hubject/reservation-stop": "reservation-stop",
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "IndependentCPO/1.0"
    cpo: Cpo = None  # set in main

    def log_message(self, fmt, *args):
        LOG.debug("http: " + fmt, *args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(self, status: int, body: dict):
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def do_POST(self):
        parsed = urllib.parse.urlsplit(self.path)
        try:
            raw = self._read_body()
        except Exception:
            self._send_json(400, {"error": "unreadable body"})
            return
        if parsed.path in INBOUND_PATHS:
            query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
            ack, post = self.cpo.handle_inbound(INBOUND_PATHS[parsed.path], query, raw)
            self._send_json(200, ack)
            if post is not None:  # e.g. queue the CDR only once the acknowledgement is out
                post()
            return
        if parsed.path.startswith("/admin/"):
            status, body = self.cpo.handle_trigger(parsed.path[len("/admin/"):], raw)
            self._send_json(status, body)
            return
        self._send_json(404, {"error": "not found"})

    def do_GET(self):
        parsed = urllib.parse.urlsplit(self.path)
        if parsed.path.startswith("/admin/"):
            body = self.cpo.probe(parsed.path[len("/admin/"):])
            if body is not None:
                self._send_json(200, body)
                return
        if parsed.path in INBOUND_PATHS:
            self._send_json(405, {"error": "use POST"})
            return
        self._send_json(404, {"error": "not found"})


def main(argv=None):
    ap = argparse.ArgumentParser(description="Independent OICP 2.3 CPO backend")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--hub", required=True, help="Hubject base URL, e.g. http://127.0.0.1:8080/api/oicp")
    ap.add_argument("--operator-id", default="DE*IND")
    ap.add_argument("--log-level", default="INFO")
    args = ap.parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper(), logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(threadName)s %(message)s")
    Handler.cpo = Cpo(args.hub, args.operator_id)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True

    def _stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    LOG.info("independent CPO %s listening on http://127.0.0.1:%d, hub %s",
             args.operator_id, server.server_address[1], args.hub)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
