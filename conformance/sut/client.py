"""Calling the SUT's inbound endpoints as Hubject would, with a timeout and a copy-paste reproduction.

Every call here ends within its stated time in total (not per read: a SUT that answers a byte a second is cut at
the deadline) and reads at most a size cap of the answer; redirects are not followed (a 3xx is the SUT's answer).
See `conformance.bounded`."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from conformance.bounded import ANSWER_LIMIT, PROBE_LIMIT, NoAnswer, Received, exchange, new_client
from conformance.catalog import Operation
from conformance.strategies import Case
from conformance.sut.declaration import Sut
from conformance.wire import AnswerView, fill, tls_options, utf8_problem
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


def curl(
    url: str,
    case: Case,
    headers: dict[str, str] | None = None,
    redacted: dict[str, str] | None = None,
    tls: tuple[str, ...] = (),
) -> str:
    """A copy-paste command for a case; secrets show as their ${VAR} or <redacted>, never as their value."""
    return wire_curl(url, case.payload(), case.content_type, headers, redacted, note=case.describe(), tls=tls)


def curl_tls(sut: Sut, url: str) -> tuple[str, ...]:
    """curl's options for a call to `url` with the declared [tls]: CA, client certificate and key as paths."""
    if not url.startswith("https:"):
        return ()
    return tls_options(sut.tls_ca_file, sut.tls_cert_file, sut.tls_key_file, sut.tls_verify)


def call(
    sut: Sut,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    content: bytes | None = None,
    timeout: float | None = None,
    limit: int = ANSWER_LIMIT,
    reuse: bool = False,
) -> Received:
    """One bounded call to the SUT (`timeout` in total, default the declared one; `limit` bytes of answer read).

    Only `reuse` keeps the connection for the next call; else it is closed after the answer (`Connection: close`),
    so a server that drops idle connections can never fail a check, probe or trigger with a dead connection.
    Raises NoAnswer, its words with the declared secrets shown as the reports show them."""
    if not reuse:
        headers = {**headers, "Connection": "close"}
    try:
        return exchange(
            _client(sut), method, url, content=content, headers=headers, timeout=timeout or sut.timeout, limit=limit
        )
    except NoAnswer as exc:
        raise NoAnswer(hide(exc.error, sut), exc.elapsed, timed_out=exc.timed_out) from exc


def hide(text: str, sut: Sut) -> str:
    """A text as reports may show it: every declared secret replaced by its ${VAR} or <redacted>."""
    for secret, shown in sut.redacted.items():
        text = text.replace(secret, shown)
    return text


def poke(sut: Sut, op: Operation) -> tuple[str, Received | None, str | None]:
    """POST `{}` to an inbound endpoint with the declared headers: is it there, and does it let us in?

    Returns the URL, the answer (None when none came) and the transport error."""
    url = url_for(sut, op, {})
    headers = {**headers_for(sut, op), "Content-Type": "application/json"}
    try:
        answer = call(sut, "POST", url, content=b"{}", headers=headers, timeout=min(sut.timeout, 10.0))
    except NoAnswer as exc:
        return url, None, exc.error
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
    shown = hide(url, sut)
    try:
        answer = call(sut, "GET", url, headers=sut.headers, limit=PROBE_LIMIT)
    except NoAnswer as exc:
        raise ProbeError(f"probe {name} ({shown}) failed: {exc.error}") from exc
    if answer.note:
        raise ProbeError(f"probe {name} ({shown}): {answer.note}")
    if not answer.is_success:
        raise ProbeError(f"probe {name} ({shown}) answered HTTP {answer.status_code}: {answer.text[:200]}")
    try:
        return answer.json()
    except ValueError as exc:
        raise ProbeError(f"probe {name} ({shown}) did not answer JSON: {answer.text[:200]}") from exc


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
            _CLIENTS[key] = new_client(sut.tls, cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])))
        return _CLIENTS[key]


def send(sut: Sut, op: Operation, case: Case, timeout: float | None = None) -> Answer:
    """POST the case to the SUT; never raises for what the SUT does, never waits past `timeout` in total.

    No answer (in time): status None and `error` says why. An answer over ANSWER_LIMIT bytes, or a redirect, is
    the SUT's answer with no body: `error` and `text` say what it was, so every check shows it."""
    body = case.body if isinstance(case.body, dict) else {}
    sid = body.get("SessionID") if isinstance(body.get("SessionID"), str) and case.pointer != "/SessionID" else None
    SENT.append((op.id, sid))
    if isinstance(body.get("SessionID"), str):
        HANDED.add(body["SessionID"])
    url = url_for(sut, op, case.path_params)
    headers = headers_for(sut, op)
    started = time.monotonic()
    reproduce = curl(url, case, headers, sut.redacted, curl_tls(sut, url))
    if sut.reference_command:
        note = f"# the bundled reference ran on this port; start the same one with:\n#   {sut.reference_command}\n"
        reproduce = note + reproduce
    try:
        sent = {**headers, "Content-Type": case.content_type}
        response = call(sut, "POST", url, content=case.payload(), headers=sent, timeout=timeout, reuse=True)
    except NoAnswer as exc:
        return Answer(None, None, "", time.monotonic() - started, exc.error, reproduce)
    if note := response.note:
        return Answer(response.status_code, None, f"[{note}]", time.monotonic() - started, note, reproduce)
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        body = None
    kind = response.headers.get("Content-Type", "")
    # only an OICP answer is a service message: JSON, or labelled so (an HTML error page is not judged here)
    encoding = utf8_problem(response.content, kind) if body is not None or "json" in kind.lower() else ""
    elapsed = time.monotonic() - started
    return Answer(response.status_code, body, response.text, elapsed, None, reproduce, encoding)
