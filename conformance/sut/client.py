"""Calling the SUT's inbound endpoints as Hubject would, with a timeout and a copy-paste reproduction."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from conformance.catalog import Operation
from conformance.strategies import Case
from conformance.sut.declaration import Sut
from conformance.wire import AnswerView, fill, utf8_problem
from conformance.wire import curl as wire_curl


@dataclass
class Answer(AnswerView):
    """The SUT's answer (status None: none came) and how to ask again by hand."""

    status: int | None
    body: Any
    text: str
    elapsed: float
    error: str | None
    curl: str
    encoding: str = ""  # why the answer's body is not UTF-8 (CPO 1 REST), "" when it is or is no JSON answer


def url_for(sut: Sut, op: Operation, params: dict[str, str]) -> str:
    """The declared URL of the operation, else the official path template under base_url."""
    values = {"operatorID": sut.operator_id, "providerID": sut.provider_id, **params}
    route = sut.inbound.get(op.id)
    if route is not None:
        return fill(route.url, values)
    return sut.base_url + op.path.format(**values)


def headers_for(sut: Sut, op: Operation) -> dict[str, str]:
    route = sut.inbound.get(op.id)
    return {**sut.headers, **(route.headers if route else {})}


def curl(url: str, case: Case, headers: dict[str, str] | None = None, redacted: dict[str, str] | None = None) -> str:
    """A copy-paste command for a case; secrets show as their ${VAR} or <redacted>, never as their value."""
    return wire_curl(url, case.payload(), case.content_type, headers, redacted, note=case.describe())


def poke(sut: Sut, op: Operation) -> tuple[str, httpx.Response | None, str | None]:
    """POST `{}` to an inbound endpoint with the declared headers: is it there, and does it let us in?

    Returns the URL, the response (None when none came) and the transport error."""
    url = url_for(sut, op, {})
    try:
        answer = httpx.post(
            url,
            content=b"{}",
            timeout=min(sut.timeout, 10.0),
            verify=sut.tls,
            headers={**headers_for(sut, op), "Content-Type": "application/json"},
        )
    except httpx.HTTPError as exc:
        return url, None, f"{type(exc).__name__}: {exc}"
    return url, answer, None


class ProbeError(Exception):
    """A declared probe did not answer JSON: what it shows cannot be judged."""


def probe_url(sut: Sut, name: str) -> str:
    return sut.probes[name].replace("{base_url}", sut.base_url)


def probe(sut: Sut, name: str) -> list[str] | None:
    """The SessionIDs a declared probe shows; None when no such probe is declared.

    Raises ProbeError when it is declared but does not answer 2xx JSON."""
    data = probe_json(sut, name)
    return None if data is None else _session_ids(data)


def probe_json(sut: Sut, name: str) -> Any:
    """What a declared probe answers, as JSON; None when no such probe is declared (ProbeError: it failed)."""
    if name not in sut.probes:
        return None
    url = probe_url(sut, name)
    try:
        answer = httpx.get(url, headers=sut.headers, timeout=sut.timeout, verify=sut.tls)
    except httpx.HTTPError as exc:
        raise ProbeError(f"probe {name} ({url}) failed: {type(exc).__name__}: {exc}") from exc
    if not answer.is_success:
        raise ProbeError(f"probe {name} ({url}) answered HTTP {answer.status_code}: {answer.text[:200]}")
    try:
        return answer.json()
    except ValueError as exc:
        raise ProbeError(f"probe {name} ({url}) did not answer JSON: {answer.text[:200]}") from exc


def _session_ids(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, list):
        return [sid for item in data for sid in _session_ids(item)]
    if isinstance(data, dict):
        if isinstance(data.get("SessionID"), str):
            return [data["SessionID"]]
        return [sid for value in data.values() for sid in _session_ids(value)]
    return []


# (operation, SessionID) of every request sent in this process, in order: a run's summary lists the
# sessions the suite opened, so a user (and the project's tests) can see that no two cases shared one
# and that a seed repeats them. A mutated SessionID is not a session.
SENT: list[tuple[str, str | None]] = []
# Every SessionID the suite put in a request, mutated ones included: sessions it handed the SUT itself, so
# what the SUT later sends about them (a CDR the fake hub cannot place) is never held against it.
HANDED: set[str] = set()


_CLIENTS: dict[tuple[Any, ...], httpx.Client] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(sut: Sut) -> httpx.Client:
    """One HTTP client per process and TLS setting: building one (its TLS context above all) takes ten times
    as long as a call to a SUT on loopback. Per process, so a forked run never shares a parent's sockets."""
    key = (os.getpid(), sut.tls_verify, sut.tls_ca_file, sut.tls_cert_file, sut.tls_key_file)
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            # Cookies are never kept: each request stands alone, as with a client per call.
            _CLIENTS[key] = httpx.Client(verify=sut.tls, cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])))
        return _CLIENTS[key]


def send(sut: Sut, op: Operation, case: Case, timeout: float | None = None) -> Answer:
    """POST the case to the SUT; never raises for what the SUT does, never waits past `timeout`."""
    body = case.body if isinstance(case.body, dict) else {}
    sid = body.get("SessionID") if isinstance(body.get("SessionID"), str) and case.pointer != "/SessionID" else None
    SENT.append((op.id, sid))
    if isinstance(body.get("SessionID"), str):
        HANDED.add(body["SessionID"])
    url = url_for(sut, op, case.path_params)
    headers = headers_for(sut, op)
    started = time.monotonic()
    reproduce = curl(url, case, headers, sut.redacted)
    if sut.reference_command:
        note = f"# the bundled reference ran on this port; start the same one with:\n#   {sut.reference_command}\n"
        reproduce = note + reproduce
    try:
        response = _client(sut).post(
            url,
            content=case.payload(),
            headers={**headers, "Content-Type": case.content_type},
            timeout=timeout or sut.timeout,
        )
    except httpx.HTTPError as exc:
        return Answer(None, None, "", time.monotonic() - started, f"{type(exc).__name__}: {exc}", reproduce)
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    kind = response.headers.get("Content-Type", "")
    # only an OICP answer is a service message: JSON, or labelled so (an HTML error page is not judged here)
    encoding = utf8_problem(response.content, kind) if body is not None or "json" in kind.lower() else ""
    elapsed = time.monotonic() - started
    return Answer(response.status_code, body, response.text, elapsed, None, reproduce, encoding)
