"""Hub -> partner calls: the fake hub asks a CPO or EMP as Hubject does, and judges and journals the answer.

Real Hubject forwards AuthorizeStart/Stop, CDRs and charging notifications to EMPs and remote starts,
stops and reservations to CPOs; an EMP or CPO under test is judged on how it answers those calls.
`PartnerClient.call` never raises for what the partner does (no answer, 5xx, garbage): that is the
verdict's material, recorded as an "out" `Call` in the same journal as the calls the hub received.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from conformance.bounded import NoAnswer, new_client
from conformance.bounded import exchange as exchange_call
from conformance.catalog import Operation, load_release
from conformance.hub.journal import Call, Journal
from conformance.validation import Violation, validate
from conformance.wire import AnswerView, curl, fill

__all__ = ["Exchange", "PartnerClient", "curl", "fill"]

DEFAULT_TIMEOUT = 10.0  # OICP 2.3 best practice: "a request run time of under 10 seconds including network roundtrip"


class RouteLike(Protocol):
    """A declared per-operation route (`conformance.sut.declaration.Route` fits): its URL and extra headers."""

    url: str
    headers: dict[str, str]


@dataclass
class Exchange(AnswerView):
    """One hub -> partner call: what was sent, what came back (status None: nothing did), how it was judged."""

    operation: str
    url: str
    sent: Any  # the request body (a JSON value, or the raw bytes sent as such)
    status: int | None
    body: Any  # the answer as JSON; None when none came or it was not JSON
    text: str
    elapsed: float
    error: str | None
    curl: str
    violations: list[Violation] = field(default_factory=list)  # of the answer, against the response schema
    problems: list[str] = field(default_factory=list)
    call: Call | None = None  # the journal entry

    @property
    def answered(self) -> bool:
        """HTTP 200 with a JSON object: something the hub can read (judged or not)."""
        return self.status == 200 and isinstance(self.body, dict)

    @property
    def ok(self) -> bool:
        """HTTP 200 with an answer that conforms to the operation's response schema."""
        return self.answered and not self.violations


class PartnerClient:
    """Calls one partner system (a CPO or an EMP backend) on its OICP endpoints as Hubject would.

    `base_url` + the official path of each operation, or `routes[operation id]` (a URL, or a declared route
    with its own headers) where the path parameters may sit anywhere, query string included.
    Calls go to `journal` (the hub's, via `FakeHub.client`; else the client's own) and to `on_call`.
    """

    def __init__(
        self,
        base_url: str,
        routes: Mapping[str, str | RouteLike] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        verify: Any = True,
        *,
        release: str = "2.3",
        redacted: Mapping[str, str] | None = None,
        journal: Journal | None = None,
        on_call: Callable[[Call], None] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.routes = dict(routes or {})
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.verify = verify
        self.release = release
        self.redacted = dict(redacted or {})
        self.journal = journal if journal is not None else Journal()
        self.on_call = on_call
        self._operations = {op.id: op for op in load_release(release).operations if op.served_by != "hub"}
        unknown = sorted(set(self.routes) - set(self._operations))
        if unknown:
            raise KeyError(f"routes for {', '.join(unknown)}: not partner operations of OICP {release}")

    def operation(self, operation_id: str) -> Operation:
        try:
            return self._operations[operation_id]
        except KeyError:
            known = ", ".join(sorted(self._operations))
            raise KeyError(f"{operation_id!r} is not a partner operation of OICP {self.release} ({known})") from None

    def url_for(self, operation_id: str, path_params: Mapping[str, str] | None = None) -> str:
        op = self.operation(operation_id)
        route = self.routes.get(operation_id)
        template = route if isinstance(route, str) else route.url if route is not None else self.base_url + op.path
        try:
            return fill(template, path_params or {})
        except KeyError as exc:
            raise KeyError(f"{operation_id}: no value for {{{exc.args[0]}}} in {template}") from None

    def headers_for(self, operation_id: str) -> dict[str, str]:
        route = self.routes.get(operation_id)
        return {**self.headers, **(getattr(route, "headers", None) or {})}

    def call(
        self,
        operation_id: str,
        body: Any,
        path_params: Mapping[str, str] | None = None,
        *,
        content_type: str = "application/json",
        timeout: float | None = None,
        record: bool = True,
        caused_by: int | None = None,
    ) -> Exchange:
        """POST `body` (a JSON value, or bytes sent as they are) and judge the answer; never raises for what
        the partner does. `record=False` leaves journaling to the caller (the hub drops calls of a test that
        has already ended)."""
        op = self.operation(operation_id)
        url = self.url_for(operation_id, path_params)
        headers = self.headers_for(operation_id)
        payload = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
        split = urlsplit(url)
        call = Call(
            seq=self.journal.next_seq(),
            at=time.time(),
            method="POST",
            path=split.path + (f"?{split.query}" if split.query else ""),
            operation=op.id,
            service=op.service,
            version=op.version,
            call_no=self.journal.number(op.id, "out"),
            params=dict(path_params or {}),
            content_type=content_type,
            body=body if not isinstance(body, bytes) else payload.decode("utf-8", "replace"),
            size=len(payload),
            direction="out",
            url=url,
            curl=curl(url, payload, content_type, headers, self.redacted),
            caused_by=caused_by,
        )
        started = time.monotonic()
        exchange = self._post(op, url, payload, {**headers, "Content-Type": content_type}, timeout, call)
        exchange.elapsed = call.duration = time.monotonic() - started
        call.status, call.error = exchange.status or 0, exchange.error
        call.response = exchange.body if exchange.body is not None else (exchange.text or None)
        call.violations, call.problems = exchange.violations, exchange.problems
        exchange.call = call
        if record:
            self.record(call)
        return exchange

    def record(self, call: Call) -> None:
        self.journal.add(call)
        if self.on_call is not None:
            self.on_call(call)

    def _post(
        self, op: Operation, url: str, payload: bytes, headers: dict[str, str], timeout: float | None, call: Call
    ) -> Exchange:
        exchange = Exchange(op.id, url, call.body, None, None, "", 0.0, None, call.curl)
        try:  # a total deadline and a size cap, as the suite's own calls (conformance.bounded)
            with new_client(self.verify) as client:
                response = exchange_call(
                    client, "POST", url, content=payload, headers=headers, timeout=timeout or self.timeout
                )
        except NoAnswer as exc:
            exchange.error = exc.error
            for secret, shown in self.redacted.items():
                exchange.error = exchange.error.replace(secret, shown)
            exchange.problems.append(f"no answer: {exchange.error}")
            return exchange
        except (httpx.HTTPError, OSError, ValueError) as exc:  # building the client: a TLS setting it cannot use
            exchange.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            exchange.problems.append(f"no answer: {exchange.error}")
            return exchange
        exchange.status, exchange.text = response.status_code, response.text
        if response.note:  # too large, or a redirect: the partner's answer, but nothing to read as OICP
            exchange.text = f"[{response.note}]"
            exchange.problems.append(response.note)
            return exchange
        try:
            exchange.body = json.loads(response.content)
        except (ValueError, RecursionError):
            exchange.body = None
        if response.status_code != 200:
            exchange.problems.append(f"HTTP {response.status_code}")
        elif exchange.body is None:
            what = "an empty body" if not response.content.strip() else "a body that is not JSON"
            exchange.problems.append(f"HTTP 200 with {what}")
        else:
            exchange.violations = validate(exchange.body, op.response[0], self.release)
        return exchange
