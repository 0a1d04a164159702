"""`oicp-sut.toml`: what the SUT is, where it listens, and how to make it call the hub.

Every key is checked: an unknown key or a wrong type is a `ConfigError` naming the file and the key.
See `fixtures/oicp-sut.example.toml` for a commented example.
"""

from __future__ import annotations

import os
import re
import ssl
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from conformance.oicp.ids import belongs_to, operator_key, operator_of, provider_key, provider_of_evco

FEATURES = ("authorize_stop", "reservation", "charging_notifications", "dynamic_pricing")
# Inbound operations whose URL a declaration may set (a real CPO registers one URL per operation).
INBOUND = {
    "remote_start": "AuthorizeRemoteStart.cpo",
    "remote_stop": "AuthorizeRemoteStop.cpo",
    "reservation_start": "AuthorizeRemoteReservationStart.cpo",
    "reservation_stop": "AuthorizeRemoteReservationStop.cpo",
}
_ENV = re.compile(r"\$\{(\w+)\}")
TRIGGERS = (
    "push_evse_data",
    "push_evse_status",
    "authorize_start",
    "authorize_stop",
    "end_session",
    "send_notification",
    "push_pricing",
    "push_evse_pricing",
)
# What the suite fills into each trigger's url, body, headers or command. A placeholder outside this
# list would be sent to the SUT literally: the declaration is refused instead.
_COMMON = ("base_url", "operator_id", "provider_id", "message")
PLACEHOLDERS = {
    "push_evse_data": (*_COMMON, "action", "evse_ids", "evse_id"),
    "push_evse_status": (*_COMMON, "action", "evse_ids", "evse_id"),
    "authorize_start": (*_COMMON, "identification", "evse_id"),
    "authorize_stop": (*_COMMON, "session_id", "identification", "evse_id"),
    "end_session": (*_COMMON, "session_id", "evse_id"),
    "send_notification": (*_COMMON, "session_id", "type", "evse_id"),
    "push_pricing": (*_COMMON, "action"),
    "push_evse_pricing": (*_COMMON, "action", "evse_ids", "evse_id"),
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")

# The EMP side: what Hubject calls on an online EMP, what an EMP is made to do, what it can show.
EMP_FEATURES = (
    "authorize_stop",
    "charging_notifications",
    "get_charge_detail_records",  # optional for an online EMP, mandatory offline
    "push_authentication_data",  # optional for an online EMP, mandatory offline
    "pull_evse_status_by_id",
    "reservation",
    "dynamic_pricing",
)
EMP_INBOUND = {
    "authorize_start": "AuthorizeStart.emp",
    "authorize_stop": "AuthorizeStop.emp",
    "charge_detail_record": "ChargeDetailRecord.emp",
    "charging_notification": "ChargingNotification.emp",
}
EMP_PLACEHOLDERS = {
    "pull_evse_data": (*_COMMON, "last_call", "evse_ids"),
    "pull_evse_data_search": _COMMON,  # a PullEvseData with the EMP's search filters (no LastCall may go with them)
    "pull_evse_status": _COMMON,
    "pull_evse_status_by_id": (*_COMMON, "evse_ids"),
    "pull_evse_status_by_operator_id": _COMMON,
    "remote_start": (*_COMMON, "evse_id", "identification"),
    "remote_stop": (*_COMMON, "session_id", "evse_id"),
    "reservation_start": (*_COMMON, "evse_id", "identification"),
    "reservation_stop": (*_COMMON, "session_id", "evse_id"),
    "get_cdrs": (*_COMMON, "from", "to"),
    "get_new_cdrs": _COMMON,  # the EMP's own download: it picks the range (from where its last one ended)
    "push_auth_data": (*_COMMON, "action", "identification"),
    "pull_pricing_products": _COMMON,
    "pull_evse_pricing": (*_COMMON, "evse_ids"),
}
EMP_PROBES = ("authorizations", "sessions", "cdrs", "evses", "notifications", "outcomes")
MODES = ("online", "offline")
# Per role: features, inbound operations a declaration may route, triggers with their placeholders, probes.
ROLES: dict[str, dict[str, Any]] = {
    "cpo": {"features": FEATURES, "inbound": INBOUND, "placeholders": PLACEHOLDERS, "probes": ("sessions", "cdrs")},
    "emp": {"features": EMP_FEATURES, "inbound": EMP_INBOUND, "placeholders": EMP_PLACEHOLDERS, "probes": EMP_PROBES},
}


class ConfigError(Exception):
    """A declaration the suite cannot use; the message names the file and the key."""


@dataclass(frozen=True)
class Trigger:
    """How to make the SUT do one outbound action: an HTTP request or a shell command, with placeholders."""

    name: str
    method: str = "POST"
    url: str = ""
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    command: str = ""
    timeout: float = 30.0


@dataclass(frozen=True)
class Route:
    """Where one inbound operation is served: a full URL ({operatorID}/{providerID} may sit in the query)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sut:
    role: str
    release: str
    base_url: str
    operator_id: str  # a CPO's own; for an EMP, the operator the suite plays
    evse_ids: tuple[str, ...]  # a CPO's own; for an EMP, the EVSEs the suite's hub offers
    provider_id: str = "DE-DCB"  # an EMP's own; for a CPO, the EMP the suite plays
    mode: str = "online"  # EMP: online (serves Hubject's calls) or offline (serves nothing)
    identifications: dict[str, Any] = field(default_factory=dict)  # EMP: the customers it knows
    sub_operators: tuple[str, ...] = ()
    out_of_service_evse: str | None = None
    features: frozenset[str] = frozenset()
    timeout: float = 10.0
    hub_host: str = "127.0.0.1"
    hub_port: int = 0
    hub_prefix: str = "/api/oicp"
    hub_tls: str | None = None  # [hub] tls: a directory of `oicp-conformance certs`; the fake hub serves HTTPS
    tls_verify: bool = True
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    outbound_timeout: float = 2.0
    max_retries: int = 4
    retry_window: float = 30.0
    triggers: dict[str, Trigger] = field(default_factory=dict)
    source: str = "(built-in)"
    name: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # sent with every inbound call
    inbound: dict[str, Route] = field(default_factory=dict)  # operation id -> its own URL and headers
    probes: dict[str, str] = field(default_factory=dict)  # read-only URLs: "sessions", "cdrs"
    redacted: dict[str, str] = field(default_factory=dict)  # secret value -> how reports show it
    rerun: str = ""  # the `oicp-conformance run ...` prefix that repeats this run (set by the suite)
    reference_command: str = ""  # for the bundled reference: how to start the same one by hand
    time_zone: str | None = None  # CPO: IANA zone of its charge points (e.g. "Europe/Berlin")
    # [redact]: JSON members and headers whose values are masked in every report, beyond conformance.redact's own
    redact_fields: frozenset[str] = frozenset()
    redact_headers: frozenset[str] = frozenset()

    def has(self, feature: str) -> bool:
        return feature in self.features

    @property
    def tls(self) -> Any:
        """What httpx takes as `verify`: an SSL context with the CA and client certificate, or a bool."""
        if not (self.tls_ca_file or self.tls_cert_file):
            return self.tls_verify
        context = ssl.create_default_context(cafile=self.tls_ca_file)
        if not self.tls_verify:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        if self.tls_cert_file:
            context.load_cert_chain(self.tls_cert_file, self.tls_key_file)
        return context


_TOP = {
    "role": str,
    "release": str,
    "base_url": str,
    "operator_id": str,
    "evse_ids": list,
    "provider_id": str,
    "sub_operators": list,
    "out_of_service_evse": str,
    "time_zone": str,
    "features": list,
    "timeout": (int, float),
    "name": str,
    "mode": str,
    "identifications": dict,
    "hub": dict,
    "tls": dict,
    "outbound": dict,
    "triggers": dict,
    "headers": dict,
    "inbound": dict,
    "probes": dict,
    "redact": dict,
}
_REDACT = {"fields": list, "headers": list}
_HUB = {"host": str, "port": int, "prefix": str, "tls": str}
_IDENTIFICATIONS = {"rfid": list, "evco_ids": list, "evco_pins": list, "unknown_rfid": str}
# The operator and EVSEs the suite plays towards an EMP when its declaration names none.
EMP_DEFAULT_OPERATOR = "DE*HUB"
EMP_DEFAULT_EVSES = ("DE*HUB*E1000*1", "DE*HUB*E1000*2", "DE*HUB*E2000*1")
_TLS = {"verify": bool, "ca_file": str, "cert_file": str, "key_file": str}
_OUTBOUND = {"timeout": (int, float), "max_retries": int, "retry_window": (int, float)}
_ROUTE = {"url": str, "headers": dict}
_TRIGGER = {"method": str, "url": str, "body": str, "headers": dict, "command": str, "timeout": (int, float)}
_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    list: "an array",
    dict: "a table",
    (int, float): "a number",
}


def _check(source: str, table: dict[str, Any], spec: dict[str, Any], where: str) -> None:
    for key, value in table.items():
        name = f"{where}{key}"
        if key not in spec:
            known = ", ".join(sorted(spec))
            raise ConfigError(f"{source}: unknown key {name!r} (known here: {known})")
        expected = spec[key]
        wrong = isinstance(value, bool) and expected in (int, (int, float))
        if wrong or not isinstance(value, expected):
            raise ConfigError(f"{source}: {name} must be {_TYPE_NAMES[expected]}, got {value!r}")


def parse(data: dict[str, Any], source: str = "(built-in)") -> Sut:
    """A `Sut` from parsed TOML, or ConfigError naming what is wrong."""
    _check(source, data, _TOP, "")
    for section, spec in (("hub", _HUB), ("tls", _TLS), ("outbound", _OUTBOUND), ("redact", _REDACT)):
        _check(source, data.get(section, {}), spec, f"{section}.")
    if "role" not in data:
        raise ConfigError(f'{source}: missing required key \'role\' ("cpo" or "emp")')
    role = data["role"]
    if role not in ROLES:
        raise ConfigError(f'{source}: role must be "cpo" or "emp", got {role!r}')
    spec = ROLES[role]
    if role == "emp":
        data = {"operator_id": EMP_DEFAULT_OPERATOR, "evse_ids": list(EMP_DEFAULT_EVSES), **data}
        for key in ("base_url", "provider_id"):
            if key not in data:
                raise ConfigError(f"{source}: missing required key {key!r}")
        if data.get("mode", "online") not in MODES:
            raise ConfigError(f'{source}: mode must be "online" or "offline", got {data["mode"]!r}')
        _check(source, data.get("identifications", {}), _IDENTIFICATIONS, "identifications.")
    elif "mode" in data or "identifications" in data:
        raise ConfigError(f"{source}: 'mode' and [identifications] describe an EMP; this declaration is role cpo")
    for key in ("base_url", "operator_id", "evse_ids"):
        if key not in data:
            raise ConfigError(f"{source}: missing required key {key!r}")
    url = _urlparse(data["base_url"])
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ConfigError(f"{source}: base_url must be an http(s) URL, got {data['base_url']!r}")
    evses = data["evse_ids"]
    if not evses or not all(isinstance(e, str) for e in evses):
        raise ConfigError(f"{source}: evse_ids must be a non-empty array of EvseIDs")
    _check_ids(source, data)
    features = data.get("features", [])
    if unknown := [f for f in features if f not in spec["features"]]:
        known = ", ".join(spec["features"])
        raise ConfigError(f"{source}: unknown feature(s) {unknown} in features (known for a {role}: {known})")
    placeholders: dict[str, tuple[str, ...]] = spec["placeholders"]
    triggers = {}
    for name, raw in _tables(source, data, "triggers", "trigger", tuple(placeholders), _TRIGGER):
        if bool(raw.get("url")) == bool(raw.get("command")):
            raise ConfigError(f"{source}: triggers.{name} needs exactly one of 'url' or 'command'")
        texts = [raw.get("url", ""), raw.get("body", ""), raw.get("command", ""), *raw.get("headers", {}).values()]
        unknown = sorted({p for text in texts for p in _PLACEHOLDER.findall(str(text))} - set(placeholders[name]))
        if unknown:
            raise ConfigError(
                f"{source}: triggers.{name} uses unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}"
                f" (known for {name}: {', '.join('{' + k + '}' for k in placeholders[name])})"
            )
        triggers[name] = Trigger(name=name, **raw)
    redacted: dict[str, str] = {}
    headers = _headers(source, data.get("headers", {}), "headers", redacted)
    inbound = {}
    routes: dict[str, str] = spec["inbound"]
    if role == "emp" and data.get("mode") == "offline" and data.get("inbound"):
        raise ConfigError(f"{source}: an offline EMP serves nothing: [inbound] has no place in its declaration")
    for name, raw in _tables(source, data, "inbound", "operation", tuple(routes), _ROUTE):
        if not _urlparse(raw.get("url", "")).scheme:
            raise ConfigError(f"{source}: inbound.{name}.url must be a full http(s) URL")
        try:
            raw["url"].format(operatorID="x", providerID="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(
                f"{source}: inbound.{name}.url: only {{operatorID}} and {{providerID}} may stand in braces ({exc})"
            ) from exc
        inbound[routes[name]] = Route(
            raw["url"], _headers(source, raw.get("headers", {}), f"inbound.{name}.headers", redacted)
        )
    _check(source, data.get("probes", {}), dict.fromkeys(spec["probes"], str), "probes.")
    hub, tls, outbound = data.get("hub", {}), data.get("tls", {}), data.get("outbound", {})
    if not 0 <= hub.get("port", 0) <= 65535:
        raise ConfigError(f"{source}: hub.port must be a port number from 1 to 65535, got {hub['port']}")
    tls = {key: _file(source, f"tls.{key}", tls[key]) if key.endswith("_file") else tls[key] for key in tls}
    hub_tls = _cert_dir(source, hub["tls"]) if "tls" in hub else None
    release = data.get("release", "2.3")
    if release not in ("2.2", "2.3"):
        raise ConfigError(f'{source}: release must be "2.3" or "2.2", got {release!r}')
    return Sut(
        role=role,
        mode=data.get("mode", "online"),
        identifications=dict(data.get("identifications", {})),
        release=release,
        base_url=data["base_url"].rstrip("/"),
        operator_id=data["operator_id"],
        evse_ids=tuple(evses),
        provider_id=data.get("provider_id", "DE-DCB"),
        sub_operators=tuple(data.get("sub_operators", ())),
        out_of_service_evse=data.get("out_of_service_evse"),
        time_zone=_time_zone(source, data.get("time_zone")),
        features=frozenset(features),
        timeout=float(data.get("timeout", 10.0)),
        hub_host=hub.get("host", "127.0.0.1"),
        hub_port=hub.get("port", 0),
        hub_prefix=hub.get("prefix", "/api/oicp"),
        hub_tls=hub_tls,
        tls_verify=tls.get("verify", True),
        tls_ca_file=tls.get("ca_file"),
        tls_cert_file=tls.get("cert_file"),
        tls_key_file=tls.get("key_file"),
        outbound_timeout=float(outbound.get("timeout", 2.0)),
        max_retries=outbound.get("max_retries", 4),
        retry_window=float(outbound.get("retry_window", 30.0)),
        triggers=triggers,
        source=source,
        name=data.get("name", source),
        headers=headers,
        inbound=inbound,
        probes=dict(data.get("probes", {})),
        redacted=redacted,
        redact_fields=_names(source, data.get("redact", {}), "fields"),
        redact_headers=_names(source, data.get("redact", {}), "headers"),
    )


def _names(source: str, table: dict[str, Any], key: str) -> frozenset[str]:
    """[redact] fields / headers: names (strings), each masked wherever it appears."""
    names = table.get(key, [])
    if not all(isinstance(n, str) and n.strip() for n in names):
        raise ConfigError(f'{source}: redact.{key} must be an array of names like ["EvcoID"], got {names!r}')
    return frozenset(n.strip() for n in names)


def _relative(source: str, value: str) -> Path:
    """A path of the declaration: relative ones are relative to the declaration file, wherever the run starts."""
    path = Path(value)
    if path.is_absolute() or not _is_file(Path(source)):
        return path
    return Path(source).resolve().parent / path


def _file(source: str, key: str, value: str) -> str:
    path = _relative(source, value)
    if not _is_file(path):
        raise ConfigError(f"{source}: {key} {_shown(value)}: no such file ({_shown(str(path))[1:-1]})")
    return str(path)


def _shown(value: str) -> str:
    """A path as an error shows it: quoted, escaped, and cut short (a line, not a page)."""
    return repr(value) if len(value) <= 120 else repr(value[:120])[:-1] + "...'"


def _is_file(path: Path) -> bool:
    """Whether a file is there; a name the system refuses (too long, ...) is none."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _cert_dir(source: str, value: str) -> str:
    """[hub] tls: a directory holding the hub's certificate and key and the CA its callers' certificates come from."""
    path = _relative(source, value)
    missing = [name for name in ("ca.pem", "hub.pem", "hub.key") if not _is_file(path / name)]
    if missing:
        raise ConfigError(
            f"{source}: hub.tls {_shown(value)}: {', '.join(missing)} missing in {_shown(str(path))[1:-1]} "
            "(write them with: oicp-conformance certs DIR --operator ID or --provider ID)"
        )
    return str(path)


def _urlparse(text: str) -> Any:
    """urlparse, with a URL it cannot split (an unclosed IPv6 bracket) as no URL: the caller's message says why."""
    try:
        return urlparse(text)
    except ValueError:
        return urlparse("")


def _time_zone(source: str, name: str | None) -> str | None:
    """The declared IANA time zone of the charge points, checked against the time zone database."""
    if name is None:
        return None
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f'{source}: time_zone {name!r} is no IANA time zone (like "Europe/Berlin"; without a time zone '
            f"database on this machine, pip install tzdata)"
        ) from exc
    return name


def _check_ids(source: str, data: dict[str, Any]) -> None:
    """OperatorID, ProviderID and EvseIDs in OICP's forms, each EVSE the operator's or a sub-operator's.

    Caught here, a typo costs one line; caught by the suite, it would fail the SUT for the declaration's mistake."""
    operator = data["operator_id"]
    if operator_key(operator) is None:
        raise ConfigError(
            f"{source}: operator_id {operator!r} is no OICP OperatorID (ISO like DE*ABC or DEABC, DIN like +49*536)"
        )
    provider = data.get("provider_id", "DE-DCB")
    if provider_key(provider) is None:
        raise ConfigError(f"{source}: provider_id {provider!r} is no OICP ProviderID (like DE-DCB, DE*DCB or DEDCB)")
    subs = data.get("sub_operators", [])
    for sub in subs:
        if not isinstance(sub, str) or operator_key(sub) is None:
            raise ConfigError(f"{source}: sub_operators entry {sub!r} is no OICP OperatorID")
    owners = [operator, *subs]
    oos = data.get("out_of_service_evse")
    for where, evse in [*((f"evse_ids[{i}]", e) for i, e in enumerate(data["evse_ids"])), ("out_of_service_evse", oos)]:
        if evse is None:
            continue
        if operator_of(evse) is None:
            raise ConfigError(f"{source}: {where} {evse!r} is no OICP EvseID (like {_example_evse(operator)})")
        if not any(belongs_to(evse, owner) for owner in owners):
            raise ConfigError(
                f"{source}: {where} {evse!r} belongs to neither operator {operator} nor a declared sub-operator "
                f"(add its operator to sub_operators if {operator} pushes it as hub operator)"
            )
    if data.get("role") == "emp":
        _check_customers(source, provider, data.get("identifications", {}))


# OICP 2.3's EvcoIDType (ISO 15118 and DIN 91286 forms).
_EVCO_ID = re.compile(
    r"^(([A-Za-z]{2}\-?[A-Za-z0-9]{3}\-?C[A-Za-z0-9]{8}\-?[\d|A-Za-z])"
    r"|([A-Za-z]{2}[\*|\-]?[A-Za-z0-9]{3}[\*|\-]?[A-Za-z0-9]{6}[\*|\-]?[\d|X]))$"
)
_UID = re.compile(r"^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20})$")  # 4, 7 or 10 bytes, as OICP's UID type


def _check_customers(source: str, provider: str, declared: dict[str, Any]) -> None:
    """The EMP's customers: UIDs in OICP's form, EvcoIDs of its own ProviderID (the suite would otherwise judge
    the EMP on an EvcoID only the declaration made up), each PIN beside its EvcoID."""
    rfids = [*declared.get("rfid", []), *([declared["unknown_rfid"]] if "unknown_rfid" in declared else [])]
    for uid in rfids:
        if not isinstance(uid, str) or not _UID.match(uid):
            raise ConfigError(f"{source}: identifications: RFID UID {uid!r} is not 8, 14 or 20 hex digits")
    evcos = [("identifications.evco_ids", e) for e in declared.get("evco_ids", [])]
    for index, pair in enumerate(declared.get("evco_pins", [])):
        where = f"identifications.evco_pins[{index}]"
        if not isinstance(pair, dict) or not {"evco_id", "pin"} <= set(pair):
            raise ConfigError(
                f'{source}: {where} must be a table like {{ evco_id = "DE-ABC-C12345678-1", pin = "1234" }}'
            )
        evcos.append((where, pair["evco_id"]))
    for where, evco in evcos:
        owner = provider_of_evco(evco) if isinstance(evco, str) and _EVCO_ID.match(evco) else None
        if owner is None:
            raise ConfigError(f"{source}: {where}: {evco!r} is no OICP EvcoID (like {provider}-C12345678-1)")
        if owner != provider_key(provider):
            raise ConfigError(f"{source}: {where}: {evco!r} is an EvcoID of another provider than {provider}")


def _example_evse(operator: str) -> str:
    return f"{operator}*1234*1" if operator.startswith("+") else f"{operator}*E1234*1"


def _tables(
    source: str, data: dict[str, Any], section: str, noun: str, known: tuple[str, ...], spec: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """The named sub-tables of `section` (triggers.X, inbound.X), each name known and each key checked."""
    out = []
    for name, raw in data.get(section, {}).items():
        if name not in known:
            raise ConfigError(f"{source}: unknown {noun} '{section}.{name}' (known: {', '.join(known)})")
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: {section}.{name} must be a table")
        _check(source, raw, spec, f"{section}.{name}.")
        out.append((name, raw))
    return out


def _headers(source: str, table: dict[str, Any], where: str, redacted: dict[str, str]) -> dict[str, str]:
    """Header values with `${VAR}` read from the environment; every value is recorded for redaction."""
    out = {}
    for name, template in table.items():
        if not isinstance(template, str):
            raise ConfigError(f"{source}: {where}.{name} must be a string, got {template!r}")
        missing = [var for var in _ENV.findall(template) if var not in os.environ]
        if missing:
            raise ConfigError(f"{source}: {where}.{name} reads environment variable {missing[0]}, which is not set")
        value = _ENV.sub(lambda m: os.environ[m.group(1)], template)
        redacted[value] = template if _ENV.search(template) else "<redacted>"
        out[name] = value
    return out


MAX_DECLARATION_BYTES = 1024 * 1024  # a declaration is a few kB: anything this big is the wrong file


def load(path: Path) -> Sut:
    """Read and check a declaration file; every way the file itself can be wrong is a one-line ConfigError."""
    try:
        if path.is_dir():
            raise ConfigError(f"{path}: is a folder; name the declaration file (oicp-sut.toml) inside it")
        if not path.is_file():
            raise ConfigError(f"{path}: no such file (write one with the example in fixtures/oicp-sut.example.toml)")
        if (size := path.stat().st_size) > MAX_DECLARATION_BYTES:
            raise ConfigError(f"{path}: {size} bytes; a declaration is at most {MAX_DECLARATION_BYTES} (wrong file?)")
        raw = path.read_bytes()
    except OSError as exc:  # a name too long, a loop of links, no permission
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n"))  # as read_text did
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from exc
    return parse(data, str(path))
