"""`oicp-conformance init`: write a commented `oicp-sut.toml` from a few answers (asked, or given as flags).

It writes a CPO's declaration (`--role cpo`, the default) or an EMP's (`--role emp`): each role has its own
questions, features, triggers and probes, and a flag of the other role is refused rather than ignored.
Each answer is checked as it is given (a port, an http(s) URL, OICP IDs, EVSEs of the operator): on
a terminal a wrong answer is asked again; from a pipe it stops the run, since the next piped line
was meant for the next question. The file is written beside its target and checked by
`conformance.sut.load` before it takes the target's place, so an existing declaration is never
touched without --force and, with it, replaced only by a valid one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import textwrap
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from conformance.cli.errors import UsageError
from conformance.oicp.ids import belongs_to, operator_key, operator_of, provider_key, provider_of_evco
from conformance.sut.declaration import EMP_FEATURES, FEATURES, MODES

RELEASES = ("2.3", "2.2")
# Flags that answer every question that has no sensible default: with all of them, init asks nothing.
CORE_FLAGS = ("base_url", "operator_id", "evse_id", "hub_port")
EMP_CORE_FLAGS = ("base_url", "provider_id", "hub_port")
# Flags that describe one role only (dest -> flag): given with the other role they are refused, not ignored.
CPO_ONLY = {"operator_id": "--operator-id", "evse_id": "--evse-id"}
EMP_ONLY = {
    "provider_id": "--provider-id",
    "mode": "--mode",
    "rfid": "--rfid",
    "evco_pin": "--evco-pin",
    "evco_id": "--evco-id",
    "unknown_rfid": "--unknown-rfid",
    "probe_url": "--probe-url",
}

TEMPLATE = """# oicp-sut.toml for {name}: written by `oicp-conformance init`; see fixtures/oicp-sut.example.toml
# for every key. Check it with `oicp-conformance check-config {output}`.

name = {name_q}
role = "cpo"
release = {release_q}
base_url = {base_url_q}            # where the SUT serves Hubject's calls (official path templates below it)
operator_id = {operator_q}
evse_ids = {evses}
features = {features}              # optional operations: {known_features}
timeout = 10.0

[hub]                              # point the SUT's Hubject URL at http://127.0.0.1:{hub_port}{prefix}
port = {hub_port}
prefix = {prefix_q}

[outbound]
timeout = 2.0                      # the SUT's own timeout for calls to the hub
max_retries = 4
retry_window = 30.0

{triggers}"""

COMMENTED_TRIGGERS = """# Triggers make the SUT call the hub; without them those checks are skipped with the reason.
# [triggers.push_evse_data]
# url = "{base_url}/admin/push-evse-data"
# body = '{"action": "{action}", "evse_ids": {evse_ids}}'
# [triggers.authorize_start]
# url = "{base_url}/admin/authorize"
# body = '{"identification": {identification}, "evse_id": "{evse_id}"}'
# [triggers.end_session]
# command = "my-cli end-session {session_id}"
"""

# Trigger name -> (path below the trigger base URL, body, feature it needs or None).
TRIGGERS: dict[str, tuple[str, str, str | None]] = {
    "push_evse_data": ("push-evse-data", '{"action": "{action}", "evse_ids": {evse_ids}}', None),
    "push_evse_status": ("push-evse-status", '{"action": "{action}", "evse_ids": {evse_ids}}', None),
    "authorize_start": ("authorize-start", '{"identification": {identification}, "evse_id": "{evse_id}"}', None),
    "authorize_stop": ("authorize-stop", '{"session_id": "{session_id}"}', "authorize_stop"),
    "end_session": ("end-session", '{"session_id": "{session_id}"}', None),
    "send_notification": ("notify", '{"session_id": "{session_id}", "type": "{type}"}', "charging_notifications"),
    "push_pricing": ("push-pricing", '{"action": "{action}"}', "dynamic_pricing"),
    "push_evse_pricing": ("push-evse-pricing", '{"action": "{action}", "evse_ids": {evse_ids}}', "dynamic_pricing"),
}

EMP_TEMPLATE = """# oicp-sut.toml for {name}: written by `oicp-conformance init --role emp`; see
# fixtures/oicp-sut.example.toml for the keys both roles share and `oicp-conformance reference emp --print-sut`
# for a complete EMP. Check it with `oicp-conformance check-config {output}`.

{top}
timeout = 10.0
# operator_id and evse_ids: the CPO the suite plays towards the EMP (default: DE*HUB and three of its EVSEs)

{identifications}
[hub]                              # point the EMP's Hubject URL at http://127.0.0.1:{hub_port}{prefix}
port = {hub_port}
prefix = {prefix_q}

[outbound]
timeout = 2.0                      # the EMP's own timeout for calls to the hub
max_retries = 4
retry_window = 30.0

{probes}
{triggers}"""
COMMENT_COLUMN = 35  # where the comments of the written file start, as in the CPO template

# Probe -> (path below the probe base URL, what it shows). Each answers read-only JSON of what the EMP holds.
EMP_PROBE_PATHS: dict[str, tuple[str, str]] = {
    "authorizations": ("authorizations", "the AuthorizeStart/Stop it granted and refused"),
    "sessions": ("sessions", "its charging sessions (every SessionID counts)"),
    "cdrs": ("cdrs", "the CDRs it booked (a resent CDR must count once)"),
    "evses": ("evses", "the EVSE data and status it pulled, and its LastCall"),
    "notifications": ("notifications", "the charging notifications it received"),
    "outcomes": ("outcomes", "the hub's answer to each of its own calls (result, StatusCode)"),
}

# EMP trigger -> (path below the trigger base URL, body, feature it needs or None). Bodies use only placeholders
# the suite fills for that trigger; OFFLINE_TRIGGERS are needed offline whatever the features say.
EMP_TRIGGERS: dict[str, tuple[str, str, str | None]] = {
    "pull_evse_data": ("pull-evse-data", "{}", None),
    "pull_evse_data_search": ("pull-evse-data-search", '{"filters": {"OperatorIds": ["{operator_id}"]}}', None),
    "pull_evse_status": ("pull-evse-status", "{}", None),
    "pull_evse_status_by_id": ("pull-evse-status-by-id", '{"evse_ids": {evse_ids}}', "pull_evse_status_by_id"),
    "pull_evse_status_by_operator_id": ("pull-evse-status-by-operator-id", '{"operator_ids": ["{operator_id}"]}', None),
    "remote_start": ("remote-start", '{"evse_id": "{evse_id}"}', None),
    "remote_stop": ("remote-stop", '{"session_id": "{session_id}", "evse_id": "{evse_id}"}', None),
    "reservation_start": ("reservation-start", '{"evse_id": "{evse_id}"}', "reservation"),
    "reservation_stop": ("reservation-stop", '{"session_id": "{session_id}", "evse_id": "{evse_id}"}', "reservation"),
    "get_cdrs": ("get-cdrs", '{"from": "{from}", "to": "{to}"}', "get_charge_detail_records"),
    "get_new_cdrs": ("get-new-cdrs", "{}", "get_charge_detail_records"),
    "push_auth_data": ("push-auth-data", '{"action": "{action}"}', "push_authentication_data"),
    "pull_pricing_products": ("pull-pricing-products", '{"operator_ids": ["{operator_id}"]}', "dynamic_pricing"),
    "pull_evse_pricing": ("pull-evse-pricing", '{"operator_ids": ["{operator_id}"]}', "dynamic_pricing"),
}
OFFLINE_TRIGGERS = ("get_cdrs", "get_new_cdrs", "push_auth_data")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init",
        help="write a commented oicp-sut.toml (asks, or takes flags)",
        description="Write an oicp-sut.toml for a CPO (--role cpo) or an EMP (--role emp). Asks for what no flag "
        "gives; with --base-url and --hub-port, plus --operator-id and --evse-id (cpo) or --provider-id (emp), it asks "
        "nothing (CI), and --defaults takes the default for the rest.",
    )
    p.add_argument("--role", choices=("cpo", "emp"), default="cpo", help="the SUT's role: cpo or emp (default: cpo)")
    p.add_argument(
        "--output", "-o", type=Path, default=Path("oicp-sut.toml"), help="where to write (default: oicp-sut.toml)"
    )
    p.add_argument("--name", help="name of the system under test, shown in reports (asked when missing)")
    p.add_argument("--base-url", help="base URL of the SUT's OICP endpoints (asked when missing)")
    p.add_argument("--operator-id", help="cpo: the CPO's OperatorID, e.g. DE*ABC (asked when missing)")
    p.add_argument("--evse-id", action="append", default=[], help="cpo: an EvseID; repeat it or separate with commas")
    p.add_argument("--provider-id", help="emp: the EMP's ProviderID, e.g. DE-ABC (asked when missing)")
    p.add_argument(
        "--mode", help="emp: online (serves Hubject's calls) or offline (asked when missing; default: online)"
    )
    p.add_argument("--rfid", action="append", default=[], help="emp: a known RFID UID; repeat or comma-separate")
    p.add_argument(
        "--evco-pin", action="append", default=[], help="emp: a known contract as EVCOID:PIN; repeat or comma-separate"
    )
    p.add_argument(
        "--evco-id", action="append", default=[], help="emp: a known Plug&Charge EvcoID; repeat or comma-separate"
    )
    p.add_argument("--unknown-rfid", help="emp: an RFID UID the EMP must refuse")
    p.add_argument(
        "--feature",
        action="append",
        default=[],
        help=f"optional feature; repeat or comma-separate. cpo: {', '.join(FEATURES)}; emp: {', '.join(EMP_FEATURES)}",
    )
    p.add_argument("--hub-port", help="port of the fake hub the SUT calls (1-65535)")
    p.add_argument("--trigger-url", help="base URL of the SUT's trigger (admin) endpoints, or 'none'")
    p.add_argument("--probe-url", help="emp: base URL of its read-only probe endpoints, or 'none'")
    p.add_argument(
        "--prefix",
        default="/api/oicp",
        help="path prefix of the SUT's Hubject URL on the fake hub (default: /api/oicp)",
    )
    p.add_argument("--release", default="2.3", help="OICP release the SUT speaks: 2.3 or 2.2 (default: 2.3)")
    p.add_argument("--defaults", action="store_true", help="ask nothing: the default for every value no flag gives")
    p.add_argument("--force", action="store_true", help="replace an existing file (only with a valid declaration)")
    p.set_defaults(run=run)


# --- checking one answer: (value, None) or (None, what is wrong) ------------------------------------

Checked = tuple[Any, str | None]


def _one_line(text: str) -> Checked:
    if not text.strip():
        return None, "is empty"
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        return None, "must be one line of printable text"
    return text.strip(), None


def _http_url(text: str) -> Checked:
    url = urlparse(text)
    if url.scheme not in ("http", "https") or not url.netloc or any(ch.isspace() for ch in text):
        return None, "is not an http(s) URL (like http://127.0.0.1:9000)"
    return text.rstrip("/"), None


def _operator(text: str) -> Checked:
    if operator_key(text) is None:
        return None, "is not an OICP OperatorID (ISO like DE*ABC or DEABC, DIN like +49*536)"
    return text, None


def example_evse(operator_id: str) -> str:
    """An EvseID of the operator in its own spelling: `DE*ABC*E1*1`, `DEABCE1*1`, `+49*536*1*1`."""
    if operator_id.startswith("+") or operator_id[:1].isdigit():
        return f"{operator_id}*1*1"
    return f"{operator_id}*E1*1" if "*" in operator_id else f"{operator_id}E1*1"


def _spelled(key: str) -> str:
    return key if key.startswith("+") or len(key) != 5 else f"{key[:2]}*{key[2:]}"


def _evses(operator_id: str) -> Callable[[str], Checked]:
    def check(text: str) -> Checked:
        evses = [e.strip() for e in text.split(",") if e.strip()]
        if not evses:
            return None, "names no EvseID"
        for evse in evses:
            owner = operator_of(evse)
            if owner is None:
                return None, f"{evse!r} is not an OICP EvseID (like {example_evse(operator_id)})"
            if not belongs_to(evse, operator_id):
                return None, f"{evse!r} belongs to operator {_spelled(owner)}, not to {operator_id}"
            if evses.count(evse) > 1:
                return None, f"{evse!r} is listed twice"
        return evses, None

    return check


def _port(text: str) -> Checked:
    try:
        port = int(text)
    except ValueError:
        return None, "is not a number (a port is 1-65535)"
    if not 1 <= port <= 65535:
        return None, "is not a port (1-65535)"
    return port, None


def _features_of(known: tuple[str, ...]) -> Callable[[str], Checked]:
    """A check of features against one role's list: a CPO feature is no EMP feature, and the other way round."""

    def check(text: str) -> Checked:
        if text.strip().lower() in ("", "none"):
            return [], None
        if text.strip().lower() == "all":
            return list(known), None
        chosen = [f.strip() for f in text.split(",") if f.strip()]
        if unknown := [f for f in chosen if f not in known]:
            return None, f"names unknown feature(s) {', '.join(unknown)} (known: {', '.join(known)}; or all, or none)"
        return list(dict.fromkeys(chosen)), None

    return check


_features = _features_of(FEATURES)


def _trigger_base(text: str) -> Checked:
    if text.strip().lower() == "none":
        return None, None
    if text.startswith("{base_url}") and not any(ch.isspace() for ch in text):
        return text.rstrip("/"), None
    value, problem = _http_url(text)
    if problem:
        return None, "is neither an http(s) URL (or {base_url}/...) nor none"
    return value, None


# EMP answers. OICP's own patterns (schemas/oicp-2.3): an RFID UID and an EvcoID as the hub accepts them.
_UID = re.compile(r"^([0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})$")
_EVCO_ID = re.compile(
    r"^(([A-Za-z]{2}-?[A-Za-z0-9]{3}-?C[A-Za-z0-9]{8}-?[0-9A-Za-z])"
    r"|([A-Za-z]{2}[*-]?[A-Za-z0-9]{3}[*-]?[A-Za-z0-9]{6}[*-]?[0-9X]))$"
)
_PIN_MAX = 20  # OICP's PIN is a string of at most 20 characters


def _provider(text: str) -> Checked:
    if provider_key(text) is None:
        return None, "is not an OICP ProviderID (like DE-ABC, DE*ABC or DEABC)"
    return text, None


def _mode(text: str) -> Checked:
    if text.strip().lower() not in MODES:
        return None, "is no EMP mode (online or offline)"
    return text.strip().lower(), None


def _provider_spelled(key: str) -> str:
    return f"{key[:2]}-{key[2:]}"


def example_evco(provider_id: str, number: int = 1) -> str:
    """An EvcoID of the provider, as an example: `DE-ABC-C12345678-1`."""
    key = provider_key(provider_id) or "DEABC"
    return f"{_provider_spelled(key)}-C1234567{number}-{number}"


def _items(text: str) -> list[str] | None:
    """The comma-separated items of an answer; None for `none` (or nothing)."""
    if text.strip().lower() in ("", "none"):
        return None
    return [item.strip() for item in text.split(",") if item.strip()]


def _uids(text: str) -> Checked:
    uids = _items(text) or []
    for uid in uids:
        if not _UID.match(uid):
            return None, f"{uid!r} is not an RFID UID (8, 14 or 20 upper-case hex digits, like AABBCCDD)"
        if uids.count(uid) > 1:
            return None, f"{uid!r} is listed twice"
    return uids, None


def _unknown_uid(known: list[str]) -> Callable[[str], Checked]:
    def check(text: str) -> Checked:
        if _items(text) is None:
            return None, None
        uid = text.strip()
        if not _UID.match(uid):
            return None, "is not an RFID UID (8, 14 or 20 upper-case hex digits, like DEADBEEF)"
        if uid in known:
            return None, "is one of the RFIDs the EMP knows; the unknown one must be another"
        return uid, None

    return check


def _evco_problem(evco: str, provider_id: str) -> str | None:
    """What is wrong with an EvcoID of this provider: its form, or whose it is (Hubject routes by its prefix)."""
    if not _EVCO_ID.match(evco):
        return f"{evco!r} is not an OICP EvcoID (like {example_evco(provider_id)})"
    owner = provider_of_evco(evco)
    if owner != provider_key(provider_id):
        return f"{evco!r} belongs to provider {_provider_spelled(owner or '?')}, not to {provider_id}"
    return None


def _evcos(provider_id: str) -> Callable[[str], Checked]:
    def check(text: str) -> Checked:
        evcos = _items(text) or []
        for evco in evcos:
            if problem := _evco_problem(evco, provider_id):
                return None, problem
            if evcos.count(evco) > 1:
                return None, f"{evco!r} is listed twice"
        return evcos, None

    return check


def _evco_pins(provider_id: str) -> Callable[[str], Checked]:
    def check(text: str) -> Checked:
        pairs: list[dict[str, str]] = []
        for item in _items(text) or []:
            evco, colon, pin = item.partition(":")
            evco, pin = evco.strip(), pin.strip()
            if not colon or not pin:
                return None, f"{item!r} is not EVCOID:PIN (like {example_evco(provider_id)}:1234)"
            if problem := _evco_problem(evco, provider_id):
                return None, problem
            if len(pin) > _PIN_MAX or any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in pin):
                return None, f"the PIN of {evco} is not {_PIN_MAX} printable characters at most without spaces"
            if any(p["evco_id"] == evco for p in pairs):
                return None, f"{evco!r} is listed twice"
            pairs.append({"evco_id": evco, "pin": pin})
        return pairs, None

    return check


# --- asking ---------------------------------------------------------------------------------------


@dataclass
class Asker:
    """Asks on stdin. On a terminal a wrong answer is asked again; from a pipe it ends the run (exit 2)."""

    interactive: bool
    read: Callable[[str], str] | None = None

    def _line(self, prompt: str) -> str:
        if self.read is not None:
            return self.read(prompt)
        if self.interactive:
            return input(prompt)
        sys.stdout.write(prompt)
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        print(line.rstrip("\r\n"))  # a transcript: which piped line answered which question
        return line

    def ask(self, question: str, default: str, check: Callable[[str], Checked], flag: str) -> Any:
        while True:
            try:
                answer = self._line(f"{question} [{default}]: ").strip() or default
            except EOFError:
                if self.interactive:
                    print()
                raise UsageError(
                    f"input ended before {question!r} was answered; answer it, pass {flag}, or use --defaults"
                ) from None
            except UnicodeDecodeError:  # piped bytes in another encoding: Python's stdin decodes UTF-8 strictly
                raise UsageError(f"the answer to {question!r} is not UTF-8 text; answer it, or pass {flag}") from None
            except KeyboardInterrupt:
                if self.interactive:
                    print()  # the interruption notice starts on its own line, not after the prompt
                raise
            value, problem = check(answer)
            if problem is None:
                return value
            if not self.interactive:
                raise UsageError(f"{question}: {answer!r} {problem}")
            print(f"  {answer!r} {problem}; try again", file=sys.stderr)


@dataclass
class Answers:
    name: str
    base_url: str
    operator_id: str
    evse_ids: list[str]
    hub_port: int
    features: list[str]
    trigger_base: str | None


def _from_flag(flag: str, value: str, check: Callable[[str], Checked]) -> Any:
    checked, problem = check(value)
    if problem:
        raise UsageError(f"{flag} {value!r}: {problem}")
    return checked


def _answer(
    asker: Asker | None, flag: str, given: str | None, question: str, default: str, check: Callable[[str], Checked]
) -> Any:
    """One value from its flag (checked), else asked (when `asker`), else its default."""
    if given is not None:
        return _from_flag(flag, given, check)
    if asker is not None:
        return asker.ask(question, default, check, flag)
    return check(default)[0]


def _joined(values: list[str]) -> str | None:
    """A repeatable flag as one comma-separated answer; None when it was not given."""
    return ",".join(values) if values else None


def collect(args: argparse.Namespace, asker: Asker | None) -> Answers:
    """Each value from its flag (checked), else asked (when `asker`), else its default."""

    def value(flag: str, given: str | None, question: str, default: str, check: Callable[[str], Checked]) -> Any:
        return _answer(asker, flag, given, question, default, check)

    name = value("--name", args.name, "name of the system under test", "my CPO backend", _one_line)
    base_url = value("--base-url", args.base_url, "base URL of its OICP endpoints", "http://127.0.0.1:9000", _http_url)
    operator = value("--operator-id", args.operator_id, "its OperatorID", "DE*ABC", _operator)
    evse_flag = ",".join(args.evse_id) if args.evse_id else None
    evses = value("--evse-id", evse_flag, "its EvseIDs (comma-separated)", example_evse(operator), _evses(operator))
    hub_port = value("--hub-port", args.hub_port, "port for the fake hub the SUT will call", "8080", _port)
    feature_flag = ",".join(args.feature) if args.feature else None
    features = value(
        "--feature",
        feature_flag,
        f"optional features it implements (comma-separated: {', '.join(FEATURES)}; all; none)",
        "none",
        _features,
    )
    trigger_base = value(
        "--trigger-url",
        args.trigger_url,
        "base URL of its trigger (admin) endpoints that make it call the hub, or none",
        "none",
        _trigger_base,
    )
    return Answers(name, base_url, operator, evses, hub_port, features, trigger_base)


@dataclass
class EmpAnswers:
    name: str
    mode: str
    base_url: str
    provider_id: str
    rfid: list[str]
    evco_pins: list[dict[str, str]]
    evco_ids: list[str]
    unknown_rfid: str | None
    hub_port: int
    features: list[str]
    trigger_base: str | None
    probe_base: str | None


def collect_emp(args: argparse.Namespace, asker: Asker | None) -> EmpAnswers:
    """An EMP's answers, in an order where each question knows what it depends on (mode, ProviderID)."""

    def value(flag: str, given: str | None, question: str, default: str, check: Callable[[str], Checked]) -> Any:
        return _answer(asker, flag, given, question, default, check)

    name = value("--name", args.name, "name of the system under test", "my EMP backend", _one_line)
    mode = value("--mode", args.mode, "does it serve Hubject's calls (online) or none (offline)", "online", _mode)
    where = "its OICP endpoints" if mode == "online" else "its own endpoints (it serves Hubject nothing)"
    base_url = value("--base-url", args.base_url, f"base URL of {where}", "http://127.0.0.1:9000", _http_url)
    provider = value("--provider-id", args.provider_id, "its ProviderID", "DE-ABC", _provider)
    rfid = value("--rfid", _joined(args.rfid), "RFID UIDs it knows (comma-separated, or none)", "none", _uids)
    evco_pins = value(
        "--evco-pin",
        _joined(args.evco_pin),
        "contracts it knows with PIN, as EVCOID:PIN (comma-separated, or none)",
        "none",
        _evco_pins(provider),
    )
    evco_ids = value(
        "--evco-id",
        _joined(args.evco_id),
        "Plug&Charge EvcoIDs it knows (comma-separated, or none)",
        "none",
        _evcos(provider),
    )
    unknown = value(
        "--unknown-rfid", args.unknown_rfid, "an RFID UID it must refuse, or none", "none", _unknown_uid(rfid)
    )
    hub_port = value("--hub-port", args.hub_port, "port for the fake hub the SUT will call", "8080", _port)
    features = value(
        "--feature",
        _joined(args.feature),
        f"optional features it implements (comma-separated: {', '.join(EMP_FEATURES)}; all; none)",
        "none",
        _features_of(EMP_FEATURES),
    )
    trigger_base = value(
        "--trigger-url",
        args.trigger_url,
        "base URL of its trigger (admin) endpoints that make it call the hub, or none",
        "none",
        _trigger_base,
    )
    probe_base = value(
        "--probe-url",
        args.probe_url,
        "base URL of its read-only probes (JSON of what it holds), or none",
        "none",
        _trigger_base,
    )
    return EmpAnswers(
        name, mode, base_url, provider, rfid, evco_pins, evco_ids, unknown, hub_port, features, trigger_base, probe_base
    )


# --- writing --------------------------------------------------------------------------------------


def _triggers(base: str | None, features: list[str]) -> str:
    if base is None:
        return COMMENTED_TRIGGERS
    lines = [
        "# Triggers make the SUT call the hub. These URLs and bodies are a starting point: adapt each",
        "# to the SUT's admin API (placeholders: fixtures/oicp-sut.example.toml); check-config probes them.",
    ]
    for name, (path, body, feature) in TRIGGERS.items():
        if feature is None or feature in features:
            lines += ["", f"[triggers.{name}]", f"url = {json.dumps(f'{base}/{path}')}", f"body = '{body}'"]
    return "\n".join(lines) + "\n"


def render(answers: Answers, release: str, prefix: str, output: Path) -> str:
    return TEMPLATE.format(
        name=answers.name,
        name_q=json.dumps(answers.name, ensure_ascii=False),
        release_q=json.dumps(release),
        base_url_q=json.dumps(answers.base_url),
        operator_q=json.dumps(answers.operator_id),
        evses=json.dumps(answers.evse_ids),
        features=json.dumps(answers.features),
        known_features=", ".join(FEATURES),
        hub_port=answers.hub_port,
        prefix=prefix,
        prefix_q=json.dumps(prefix),
        output=output,
        triggers=_triggers(answers.trigger_base, answers.features),
    )


def _toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _noted(line: str, note: str, column: int = COMMENT_COLUMN) -> str:
    """`line` with `note` as a comment from `column` on (or one space after a longer line)."""
    return f"{line.ljust(column - 1)} # {note}"


def _comment(text: str) -> str:
    """A comment of the written file, wrapped so that it stays readable."""
    return textwrap.fill(text, width=110, initial_indent="# ", subsequent_indent="#   ", break_on_hyphens=False)


def _identifications(answers: EmpAnswers) -> str:
    """The customers the EMP knows; none given: a commented example rather than invented customers."""
    lines = []
    if answers.rfid:
        lines.append(_noted(f"rfid = {json.dumps(answers.rfid)}", "RFID cards (UIDs)"))
    if answers.evco_pins:
        pairs = [f"{{ evco_id = {_toml_str(p['evco_id'])}, pin = {_toml_str(p['pin'])} }}" for p in answers.evco_pins]
        lines.append(_noted(f"evco_pins = [{', '.join(pairs)}]", "contracts with PIN"))
    if answers.evco_ids:
        lines.append(_noted(f"evco_ids = {json.dumps(answers.evco_ids)}", "Plug&Charge contracts"))
    if answers.unknown_rfid:
        lines.append(_noted(f"unknown_rfid = {json.dumps(answers.unknown_rfid)}", "a card the EMP must refuse"))
    head = "# Customers the EMP knows: the suite presents them and expects them authorised."
    if lines:
        return "\n".join([head, "[identifications]", *lines]) + "\n"
    pin, pnc = example_evco(answers.provider_id, 1), example_evco(answers.provider_id, 2)
    example = [
        '# Without any, the checks that need one are reported "not judged". Use test customers of the EMP.',
        "# [identifications]",
        _noted('# rfid = ["AABBCCDD"]', "RFID UIDs: 8, 14 or 20 upper-case hex digits"),
        _noted(f'# evco_pins = [{{ evco_id = "{pin}", pin = "1234" }}]', "contracts with PIN"),
        _noted(f'# evco_ids = ["{pnc}"]', "Plug&Charge contracts; EvcoIDs start with the ProviderID"),
        _noted('# unknown_rfid = "DEADBEEF"', "a card the EMP must refuse"),
    ]
    return "\n".join([head, *example]) + "\n"


def _probes(base: str | None) -> str:
    """The EMP's probes below `base`; without one, the same commented, each saying what it shows."""
    lines = [
        "# Probes: read-only URLs where the EMP shows what it holds, as JSON. Checks that need one are",
        '# reported "not judged" without it.',
        "[probes]" if base else "# [probes]",
    ]
    for name, (path, shows) in EMP_PROBE_PATHS.items():
        line = f"{name} = {json.dumps(f'{base}/{path}')}" if base else f'# {name} = "{{base_url}}/admin/{path}"'
        lines.append(_noted(line, shows, 56))
    return "\n".join(lines) + "\n"


def emp_triggers_for(mode: str, features: list[str]) -> list[str]:
    """The EMP triggers this mode and these features make relevant: offline EMPs download CDRs and push their
    authentication data whatever the features say; reservation and pricing triggers only with those features."""
    return [
        name
        for name, (_, _, feature) in EMP_TRIGGERS.items()
        if feature is None or feature in features or (mode == "offline" and name in OFFLINE_TRIGGERS)
    ]


def _emp_triggers(base: str | None, mode: str, features: list[str]) -> str:
    relevant = emp_triggers_for(mode, features)
    if base is None:
        lines = [
            "# Triggers make the EMP call the hub; without them those checks are skipped with the reason.",
            _comment(f"This EMP's: {', '.join(relevant)}. For example:"),
        ]
        for name in ("pull_evse_data", "remote_start", "get_cdrs"):
            path, body, _ = EMP_TRIGGERS[name]
            lines += [f"# [triggers.{name}]", f'# url = "{{base_url}}/admin/{path}"', f"# body = '{body}'"]
        return "\n".join(lines) + "\n"
    lines = [
        "# Triggers make the EMP call the hub. These URLs and bodies are a starting point: adapt each",
        "# to the EMP's admin API (placeholders: EMP_PLACEHOLDERS in conformance/sut/declaration.py);",
        "# check-config probes them.",
    ]
    for name in relevant:
        path, body, _ = EMP_TRIGGERS[name]
        lines += ["", f"[triggers.{name}]", f"url = {json.dumps(f'{base}/{path}')}", f"body = '{body}'"]
    return "\n".join(lines) + "\n"


def render_emp(answers: EmpAnswers, release: str, prefix: str, output: Path) -> str:
    offline = answers.mode == "offline"
    features = f"optional operations: {', '.join(EMP_FEATURES)}"
    if offline:
        features += " (offline, it must download CDRs and push authentication data anyway)"
    top = [
        f"name = {_toml_str(answers.name)}",
        'role = "emp"',
        f"release = {json.dumps(release)}",
        _noted(
            f"mode = {json.dumps(answers.mode)}",
            "offline: serves nothing; pushes its customers, downloads its CDRs"
            if offline
            else "online: serves Hubject's calls (AuthorizeStart, CDRs, ...)",
        ),
        _noted(
            f"base_url = {json.dumps(answers.base_url)}",
            "serves Hubject nothing: where its trigger and probe endpoints live"
            if offline
            else "where it serves Hubject's calls (official path templates below it)",
        ),
        _noted(
            f"provider_id = {json.dumps(answers.provider_id)}", "its ProviderID: its customers' EvcoIDs start with it"
        ),
        _comment(features),
        f"features = {json.dumps(answers.features)}",
    ]
    return EMP_TEMPLATE.format(
        name=answers.name,
        output=output,
        top="\n".join(top),
        identifications=_identifications(answers),
        hub_port=answers.hub_port,
        prefix=prefix,
        prefix_q=json.dumps(prefix),
        probes=_probes(answers.probe_base),
        triggers=_emp_triggers(answers.trigger_base, answers.mode, answers.features),
    )


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _exists(target: Path) -> str:
    return f"{target} exists; it stays as it is (use --force to replace it, or --output)"


def write_checked(target: Path, text: str, force: bool) -> None:
    """Write beside `target`, check with `conformance.sut.load`, then move into place.

    With `force` the move replaces the target (atomically); without it the target must not exist,
    even if it appeared while the questions were asked."""
    from conformance.sut import ConfigError, load

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"{target}: cannot write here: {exc.strerror or exc}") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, _file_mode())
        try:
            load(tmp)
        except ConfigError as exc:
            problem = str(exc).replace(str(tmp), str(target))
            raise UsageError(f"the answers do not make a valid declaration: {problem}") from exc
        if force:
            os.replace(tmp, target)
            return
        try:
            os.link(tmp, target)  # fails when the target exists: never clobbers
        except FileExistsError as exc:
            raise UsageError(_exists(target)) from exc
        except OSError:  # no hard links on this file system: exclusive creation instead
            try:
                with target.open("x", encoding="utf-8") as handle:
                    handle.write(text)
            except FileExistsError as exc:
                raise UsageError(_exists(target)) from exc
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _check_fixed(args: argparse.Namespace) -> None:
    if args.release not in RELEASES:
        raise UsageError(f"--release {args.release!r}: init writes declarations for OICP {' or '.join(RELEASES)}")
    prefix = args.prefix
    if not prefix.startswith("/") or any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in prefix):
        raise UsageError(f"--prefix {prefix!r}: a path starting with / (like /api/oicp, or / for none)")
    if args.output.is_dir():
        raise UsageError(f"{args.output}: is a directory; name the file to write with --output")
    other, foreign = ("an EMP", EMP_ONLY) if args.role == "cpo" else ("a CPO", CPO_ONLY)
    hint = " (for an EMP's declaration, add --role emp)" if args.role == "cpo" else ""
    for dest, flag in foreign.items():
        if getattr(args, dest) not in (None, []):
            raise UsageError(f"{flag} describes {other}; it has no place with --role {args.role}{hint}")


def run(args: argparse.Namespace, asker: Asker | None = None) -> int:
    if args.output.exists() and not args.force:
        raise UsageError(_exists(args.output))
    _check_fixed(args)
    core = CORE_FLAGS if args.role == "cpo" else EMP_CORE_FLAGS
    if asker is None and not args.defaults and not all(getattr(args, f) for f in core):
        asker = Asker(interactive=sys.stdin is not None and sys.stdin.isatty())
    if args.role == "emp":
        text = render_emp(collect_emp(args, None if args.defaults else asker), args.release, args.prefix, args.output)
    else:
        text = render(collect(args, None if args.defaults else asker), args.release, args.prefix, args.output)
    write_checked(args.output, text, args.force)
    print(f"wrote {args.output}; next: oicp-conformance check-config {args.output}")
    return 0
