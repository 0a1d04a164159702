"""Configuration caught before the first test: every declared URL, trigger, probe and the fake hub's port.

Each finding is one line. A run with any of them exits 2 before a test runs, so a wrong declaration
is never reported as a protocol failure of the SUT. Nothing here makes the SUT act: inbound endpoints
get `{}` (no valid request), triggers get the JSON body `null` (no action can be read from it),
probes a GET.
"""

from __future__ import annotations

import re
import shlex
import shutil
import socket
from dataclasses import dataclass
from urllib.parse import urlparse

from conformance.bounded import PROBE_LIMIT, NoAnswer
from conformance.catalog import load_release
from conformance.redact import for_sut
from conformance.sut.client import call, headers_for, hide, poke, probe_url
from conformance.sut.declaration import Sut

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_FIXED = {"base_url", "operator_id", "provider_id"}


@dataclass(frozen=True)
class Finding:
    what: str  # "inbound AuthorizeRemoteStart.cpo", "trigger push_evse_data", "probe sessions", "hub"
    where: str
    problem: str | None  # None: fine

    def line(self) -> str:
        return f"{self.what} ({self.where}): {self.problem}" if self.problem else f"{self.what} ({self.where}): ok"


# Inbound operations that only a SUT declaring the optional feature serves.
FEATURE_OF = {
    "AuthorizeRemoteReservationStart.cpo": "reservation",
    "AuthorizeRemoteReservationStop.cpo": "reservation",
    "ChargingNotification.emp": "charging_notifications",
    "AuthorizeStop.emp": "authorize_stop",
}


def serves(sut: Sut, op_id: str, served_by: str) -> bool:
    """Whether the SUT must answer this inbound operation: its role's, its mode's, a declared feature's."""
    if served_by != sut.role or (sut.role == "emp" and sut.mode == "offline"):
        return False
    feature = FEATURE_OF.get(op_id)
    return feature is None or sut.has(feature)


def inbound(sut: Sut) -> list[Finding]:
    """Each inbound operation the SUT must serve (optional ones when declared) answers, and lets us in."""
    out = []
    for op in load_release(sut.release).operations:
        if not serves(sut, op.id, op.served_by):
            continue
        url, answer, error = poke(sut, op)
        if answer is None:
            problem = f"unreachable: {error}"
        elif answer.status_code in (404, 405):
            problem = f"answered HTTP {answer.status_code}: nothing is served there (check base_url or [inbound])"
        elif 300 <= answer.status_code < 400:
            problem = f"answered {answer.note}; declare the URL it points to (check base_url or [inbound])"
        elif answer.status_code in (401, 403):
            names = ", ".join(headers_for(sut, op)) or "none"
            problem = (
                f"authorisation problem: HTTP {answer.status_code} to the declared headers ({names}); "
                "check [headers] and [inbound.*.headers] (values written as ${VAR} are read from the environment)"
            )
        else:
            problem = None
        out.append(Finding(f"inbound {op.id}", url, problem))
    return out


def triggers(sut: Sut) -> list[Finding]:
    """Each trigger's command exists, or its URL is listened on and routed (not 404/405)."""
    out = []
    for name, trigger in sorted(sut.triggers.items()):
        values = {"base_url": sut.base_url, "operator_id": sut.operator_id, "provider_id": sut.provider_id}
        if trigger.command:
            program = shlex.split(trigger.command)[0] if trigger.command.strip() else ""
            problem = None if shutil.which(program) else f"command {program!r} not found"
            out.append(Finding(f"trigger {name}", f"command: {trigger.command}", problem))
            continue
        url = trigger.url
        for key, value in values.items():
            url = url.replace("{" + key + "}", value)
        out.append(Finding(f"trigger {name}", url, _route_problem(sut, trigger.method, url, trigger)))
    return out


def _route_problem(sut: Sut, method: str, url: str, trigger: object) -> str | None:
    path_placeholders = set(_PLACEHOLDER.findall(urlparse(url).path)) - _FIXED
    target = url.split("?")[0] if not path_placeholders else url
    headers = {**sut.headers, **getattr(trigger, "headers", {}), "Content-Type": "application/json"}
    headers = {k: v for k, v in headers.items() if "{" not in v}
    try:
        answer = call(sut, method, target, content=b"null", headers=headers, timeout=10.0)
    except NoAnswer as exc:
        return f"unreachable: {exc.error}"
    if answer.status_code in (404, 405) and not path_placeholders:
        return f"answered HTTP {answer.status_code}: the trigger URL or method is not served"
    if answer.status_code in (401, 403):
        return f"authorisation problem: HTTP {answer.status_code}"
    return None


def probes(sut: Sut) -> list[Finding]:
    out = []
    for name in sorted(sut.probes):
        url = probe_url(sut, name)
        try:
            answer = call(sut, "GET", url, headers=sut.headers, timeout=10.0, limit=PROBE_LIMIT)
            if not answer.is_success or answer.note:
                problem: str | None = answer.note or f"answered HTTP {answer.status_code}"
            else:
                answer.json()
                problem = None
        except NoAnswer as exc:
            problem = f"unreachable: {exc.error}"
        except ValueError:
            problem = "does not answer JSON"
        out.append(Finding(f"probe {name}", url, problem))
    return out


def hub_port(sut: Sut) -> list[Finding]:
    """The fake hub can listen where the SUT's Hubject URL points."""
    where = f"{sut.hub_host}:{sut.hub_port}"
    if sut.hub_port == 0:
        return [Finding("hub", where, None)]
    family = socket.AF_INET6 if ":" in sut.hub_host else socket.AF_INET
    try:
        with socket.socket(family) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((sut.hub_host, sut.hub_port))
    except OSError as exc:
        reason = "is taken by another program" if exc.errno == 98 else f"cannot be used ({exc.strerror or exc})"
        return [Finding("hub", where, f"the fake hub's address {where} {reason}")]
    return [Finding("hub", where, None)]


def findings(sut: Sut) -> list[Finding]:
    """Every check, its URL and problem masked (one redactor for all): a URL may carry a token, a problem may quote
    an answer that echoes a key, a token or a PIN."""
    found = [*hub_port(sut), *inbound(sut), *triggers(sut), *probes(sut)]
    redactor = for_sut(sut)
    return [
        Finding(f.what, redactor.text(hide(f.where, sut)), redactor.text(f.problem) if f.problem else None)
        for f in found
    ]


def problems(sut: Sut) -> list[str]:
    """One line per configuration problem; empty when the declaration can be used."""
    return [f.line() for f in findings(sut) if f.problem]
