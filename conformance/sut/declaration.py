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

from conformance.oicp.ids import belongs_to, operator_key, operator_of, provider_key

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
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


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
    operator_id: str
    evse_ids: tuple[str, ...]
    provider_id: str = "DE-DCB"
    sub_operators: tuple[str, ...] = ()
    out_of_service_evse: str | None = None
    features: frozenset[str] = frozenset()
    timeout: float = 10.0
    hub_host: str = "127.0.0.1"
    hub_port: int = 0
    hub_prefix: str = "/api/oicp"
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
    "features": list,
    "timeout": (int, float),
    "name": str,
    "hub": dict,
    "tls": dict,
    "outbound": dict,
    "triggers": dict,
    "headers": dict,
    "inbound": dict,
    "probes": dict,
}
_HUB = {"host": str, "port": int, "prefix": str}
_PROBES = {"sessions": str, "cdrs": str}
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
    for section, spec in (("hub", _HUB), ("tls", _TLS), ("outbound", _OUTBOUND)):
        _check(source, data.get(section, {}), spec, f"{section}.")
    for key in ("role", "base_url", "operator_id", "evse_ids"):
        if key not in data:
            raise ConfigError(f"{source}: missing required key {key!r}")
    if data["role"] != "cpo":
        raise ConfigError(f'{source}: role must be "cpo" (the EMP suite does not exist yet), got {data["role"]!r}')
    url = urlparse(data["base_url"])
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ConfigError(f"{source}: base_url must be an http(s) URL, got {data['base_url']!r}")
    evses = data["evse_ids"]
    if not evses or not all(isinstance(e, str) for e in evses):
        raise ConfigError(f"{source}: evse_ids must be a non-empty array of EvseIDs")
    _check_ids(source, data)
    features = data.get("features", [])
    if unknown := [f for f in features if f not in FEATURES]:
        raise ConfigError(f"{source}: unknown feature(s) {unknown} in features (known: {', '.join(FEATURES)})")
    triggers = {}
    for name, raw in _tables(source, data, "triggers", "trigger", TRIGGERS, _TRIGGER):
        if bool(raw.get("url")) == bool(raw.get("command")):
            raise ConfigError(f"{source}: triggers.{name} needs exactly one of 'url' or 'command'")
        texts = [raw.get("url", ""), raw.get("body", ""), raw.get("command", ""), *raw.get("headers", {}).values()]
        unknown = sorted({p for text in texts for p in _PLACEHOLDER.findall(str(text))} - set(PLACEHOLDERS[name]))
        if unknown:
            raise ConfigError(
                f"{source}: triggers.{name} uses unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}"
                f" (known for {name}: {', '.join('{' + k + '}' for k in PLACEHOLDERS[name])})"
            )
        triggers[name] = Trigger(name=name, **raw)
    redacted: dict[str, str] = {}
    headers = _headers(source, data.get("headers", {}), "headers", redacted)
    inbound = {}
    for name, raw in _tables(source, data, "inbound", "operation", tuple(INBOUND), _ROUTE):
        if not urlparse(raw.get("url", "")).scheme:
            raise ConfigError(f"{source}: inbound.{name}.url must be a full http(s) URL")
        try:
            raw["url"].format(operatorID="x", providerID="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(
                f"{source}: inbound.{name}.url: only {{operatorID}} and {{providerID}} may stand in braces ({exc})"
            ) from exc
        inbound[INBOUND[name]] = Route(
            raw["url"], _headers(source, raw.get("headers", {}), f"inbound.{name}.headers", redacted)
        )
    _check(source, data.get("probes", {}), _PROBES, "probes.")
    hub, tls, outbound = data.get("hub", {}), data.get("tls", {}), data.get("outbound", {})
    if not 0 <= hub.get("port", 0) <= 65535:
        raise ConfigError(f"{source}: hub.port must be a port number from 1 to 65535, got {hub['port']}")
    release = data.get("release", "2.3")
    if release not in ("2.2", "2.3"):
        raise ConfigError(f'{source}: release must be "2.3" or "2.2", got {release!r}')
    return Sut(
        role="cpo",
        release=release,
        base_url=data["base_url"].rstrip("/"),
        operator_id=data["operator_id"],
        evse_ids=tuple(evses),
        provider_id=data.get("provider_id", "DE-DCB"),
        sub_operators=tuple(data.get("sub_operators", ())),
        out_of_service_evse=data.get("out_of_service_evse"),
        features=frozenset(features),
        timeout=float(data.get("timeout", 10.0)),
        hub_host=hub.get("host", "127.0.0.1"),
        hub_port=hub.get("port", 0),
        hub_prefix=hub.get("prefix", "/api/oicp"),
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
    )


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


def load(path: Path) -> Sut:
    """Read and check a declaration file."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such file (write one with the example in fixtures/oicp-sut.example.toml)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse(data, str(path))
