"""`FakeHub`: a Hubject stand-in on pytest-httpserver that judges, journals and answers every call.

One catch-all handler routes each request to the catalogued hub operation of the release by its
path template (service version included), checks it as Hubject would, keeps Hubject's state, and
answers in Hubject's shapes, unless a scripted `Fault` says otherwise for that call.

Hubject also calls partners: `FakeHub.client` calls an EMP or CPO under test as Hubject would, and
`forward_to` makes the hub forward between a CPO and an EMP (end-to-end mode). Those calls are journaled
next to the ones the hub received, with `direction` "out".
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import math
import re
import socket
import ssl
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from pytest_httpserver.httpserver import METHOD_ALL
from werkzeug import Request, Response
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.serving import WSGIRequestHandler

from conformance.catalog import Operation, load_release
from conformance.hub import answers
from conformance.hub.faults import Fault, Script
from conformance.hub.forwarding import Endpoint, Forwarder, Forwarding
from conformance.hub.handlers import HANDLERS, Context, Refused, negative
from conformance.hub.journal import Call, Journal
from conformance.hub.partners import DEFAULT_TIMEOUT, PartnerClient, RouteLike
from conformance.hub.state import HubState, Partners
from conformance.oicp import codes
from conformance.oicp.ids import operator_key, provider_key
from conformance.oicp.limits import HUB_READ_SECONDS, MAX_BODY_BYTES, MAX_JSON_DEPTH
from conformance.tls import client_context, describe, partner_of, server_context
from conformance.validation import detect, validate
from conformance.wire import utf8_problem

PUSHES = {"PushEvseData", "PushEvseStatus", "PushPricingProductData", "PushEVSEPricing", "PushAuthenticationData"}
DEFAULT_PREFIX = "/api/oicp"
RESET_WAIT = 5.0  # how long a reset waits for requests in flight to finish (scripted delays are woken at once)


class _Reader(io.RawIOBase):
    """A connection's reading side with a deadline per request: a per-read timeout alone never ends a client
    that trickles a byte a second, so each read may only take what is left of the request's time."""

    def __init__(self, sock: socket.socket, seconds: Callable[[], float]):
        self._sock = sock
        self._seconds = seconds
        self.deadline = math.inf

    def start(self) -> None:
        self.deadline = time.monotonic() + self._seconds()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"request not received within {self._seconds():g} s")
        self._sock.settimeout(left)
        try:
            return self._sock.recv_into(buffer)
        finally:
            self._sock.settimeout(self._seconds())  # the answer's writes: as long as a whole request may take


class _Handler(WSGIRequestHandler):
    """werkzeug's request handler, bounded and in Hubject's words: a request's head and body must arrive within the
    hub's `read_timeout` (a TLS handshake too: `tls.HandshakeInThread` makes it happen on the first read), and what
    the HTTP layer refuses (too many or too long headers, a request line too long or broken) is answered in
    Hubject's error format and journaled like any other call."""

    protocol_version = "HTTP/1.1"  # as werkzeug sets for a threaded server
    server: Any

    def setup(self) -> None:
        super().setup()
        self.rfile.close()
        self._reader = _Reader(self.connection, lambda: self.server.fake_hub.read_timeout)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        self._reader.start()
        super().handle_one_request()

    def log_error(self, format: str, *args: Any) -> None:
        """Timeouts and refusals are the journal's to tell (or not calls at all): not werkzeug's error log."""
        self.log("info", format, *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        path = (self.path or "").partition("?")[0] if self.command else ""
        text = message or self.responses.get(code, ("",))[0]
        call = self.server.fake_hub.unread(self.command or "", path[:2000], code, text, text + ".")
        body = json.dumps(call.response).encode()
        self.send_response(code, message)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _Server(HTTPServer):
    """pytest-httpserver that reads a body only within the hub's size and time limits, and keeps no log of its own
    (pytest-httpserver logs every request with its body until the next reset: a hub never reset grew with each)."""

    def __init__(self, hub: FakeHub, host: str, port: int, ssl_context: ssl.SSLContext | None = None):
        super().__init__(host, port, ssl_context=ssl_context, threaded=True)
        self.hub = hub

    def application(self, request: Request) -> Response:
        hub = self.hub
        if request.content_length is not None and request.content_length > hub.max_body:
            return hub.too_large(request)
        # a chunked body has no Content-Length: its read stops one byte past the limit (werkzeug stops at the limit
        # without a word), and that byte tells it was larger
        request.max_content_length = hub.max_body + 1
        try:
            if len(request.get_data()) > hub.max_body:
                return hub.too_large(request)
        except RequestEntityTooLarge:
            return hub.too_large(request)
        except (ClientDisconnected, OSError) as exc:  # cut short, timed out, a broken chunked encoding
            exc = exc.__context__ if isinstance(exc.__context__, OSError) else exc  # werkzeug's wrapping undone
            if isinstance(exc, TimeoutError):
                why, message = f"body not received within {hub.read_timeout:g} s", "Request body not received in time."
                call = hub.unread(request.method, request.path, 408, why, message)
            else:
                why = f"body not received in full ({exc.__class__.__name__}: {exc})"
                call = hub.unread(request.method, request.path, 400, why, "Request body incomplete.")
            return _json(call.status, call.response)
        return self.dispatch(request)

    def thread_target(self) -> None:
        """Serve, looking for a stop request every 0.1 s rather than pytest-httpserver's 0.5 s: a hub is started
        and stopped per run (and per defect run), and the half second of each stop added up."""
        assert self.server is not None
        self.server.fake_hub = self.hub  # before the first accept: every connection gets the bounded handler
        self.server.RequestHandlerClass = _Handler
        self.server.serve_forever(poll_interval=0.1)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, headers=headers, content_type="application/json"
    )


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


class FakeHub:
    """A fake Hubject for one OICP release, listening on loopback.

    Use as a pytest fixture (`fake_hub`, from the bundled plugin) or standalone (`oicp-conformance hub`).
    `forward_to`: end-to-end mode, forwarding between the CPO and the EMP it names (see `Forwarding`).
    """

    def __init__(
        self,
        release: str = "2.3",
        host: str = "127.0.0.1",
        port: int = 0,
        prefix: str = DEFAULT_PREFIX,
        partners: Partners | None = None,
        rate_limit: tuple[int, float] | None = None,
        max_body: int = MAX_BODY_BYTES,
        on_call: Callable[[Call], None] | None = None,
        forward_to: Forwarding | None = None,
        tls: Path | str | None = None,
        read_timeout: float = HUB_READ_SECONDS,
    ):
        self.release = release
        # `tls`: a directory of `oicp-conformance certs`: serve HTTPS with hub.pem, require a client certificate
        # of ca.pem, and take the caller's OperatorID/ProviderID from it (CPO 1 / EMP 1 "Security").
        self.tls = Path(tls) if tls is not None else None
        if self.tls is not None and forward_to is not None:  # the hub's calls present its certificate too
            forward_to = dataclasses.replace(
                forward_to, cpo=self._presenting(forward_to.cpo), emp=self._presenting(forward_to.emp)
            )
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.operations = [op for op in load_release(release).operations if op.served_by == "hub"]
        self._routes = [(_template(op.path), op) for op in self.operations]
        self.forward_to = forward_to
        self.state = HubState(forward_to.register(partners) if forward_to is not None else partners)
        # no operator declared: the first to call is the hub's partner (over TLS: each with a certificate of the CA)
        self._any_operator = not self.state.partners.operators
        self.journal = Journal()
        self.forwarder = Forwarder(forward_to, release, self.journal) if forward_to is not None else None
        self.scripts = Script()
        self.rate_limit = rate_limit
        self.max_body = max_body
        self.read_timeout = read_timeout  # seconds for a request's head and body to arrive
        self.on_call = on_call
        context = server_context(self.tls / "hub.pem", self.tls / "hub.key", self.tls / "ca.pem") if self.tls else None
        self._server = _Server(self, host, port, context)
        self._counts: dict[str, int] = defaultdict(int)
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._generation = 0
        # a request is one test's whole: `reset` waits for requests in flight and requests wait for a reset
        self._gate = threading.Condition()
        self._busy = 0
        self._resetting = False
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> FakeHub:
        """Listen; an OSError (never werkzeug's exit) when the address is taken."""
        self._stopping.clear()
        if self._server.port:
            with socket.socket(socket.AF_INET6 if ":" in self._server.host else socket.AF_INET) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((self._server.host, self._server.port))
        self._server.start()
        self._route_all()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes scripted delays so the server can shut down
        if self._server.is_running():
            self._server.stop()

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _route_all(self) -> None:
        self._server.expect_request(re.compile(".*"), method=METHOD_ALL).respond_with_handler(self.handle)

    def reset(self) -> None:
        """Forget calls, state, scripts and handler errors (between tests, or between @given examples).

        A request belongs whole to one test, its journal entry and its effect on the state together: requests in
        flight finish first (scripted delays are woken) and count for the test that ends; requests arriving
        meanwhile wait and count for the next. One still busy after RESET_WAIT s (a forwarded call whose partner
        does not answer) is never journaled: a test never sees a call that an earlier test caused."""
        with self._gate:
            self._resetting = True
            try:
                self._stopping.set()
                self._gate.wait_for(lambda: self._busy == 0, timeout=RESET_WAIT)
                self._generation += 1
                self._stopping = threading.Event()
                self._server.clear_assertions()  # the catch-all handler stays: no request may find none
                self._server.clear_handler_errors()
                self._server.clear_log()
                self.journal.clear()
                self.state.reset()
                self.scripts.clear()
                with self._lock:
                    self._counts.clear()
                    self._recent.clear()
            finally:
                self._resetting = False
                self._gate.notify_all()

    @contextmanager
    def clean(self) -> Iterator[FakeHub]:
        """Reset before, and raise what went wrong inside the hub after: one test's worth of hub."""
        self.reset()
        yield self
        self.check()

    def check(self) -> None:
        """Raise what went wrong inside the hub while it handled requests (assertions first)."""
        self._server.check()

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        """Base URL, prefix included: point the SUT's Hubject URL here."""
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self._server.host}:{self._server.port}{self.prefix}"

    def url_for(self, operation: str, **params: str) -> str:
        path = next(op.path for op in self.operations if op.id == operation)
        return self.url + path.format(**params)

    # --- scripting --------------------------------------------------------------------------

    def script(self, operation: str, faults: list[Fault | None] | None = None, always: Fault | None = None) -> None:
        """Misbehave on the n-th call of `operation` (faults[n-1]), or on every call (`always`)."""
        if operation not in {op.id for op in self.operations}:
            raise KeyError(f"{operation!r} is not a hub operation of OICP {self.release}")
        self.scripts.set(operation, faults, always)

    def deny(self, identification: dict[str, Any]) -> None:
        """Make AuthorizeStart refuse this identification."""
        from conformance.hub.state import fingerprint

        self.state.denied.add(fingerprint(identification))

    def open_session(
        self,
        session_id: str,
        evse_id: str,
        provider_id: str,
        identification: dict[str, Any] | None,
        origin: str = "remote",
    ) -> None:
        """Record a session the hub brokered (a RemoteStart it forwarded), so the CPO's CDR finds it."""
        self.state.new_session(
            session_id=session_id,
            operator_id=None,
            provider_id=provider_id,
            evse_id=evse_id,
            identification=identification,
            origin=origin,
        )

    def calls(self, operation: str | None = None, direction: str | None = None) -> list[Call]:
        """The journal: calls received ("in") and made ("out"), in order; optionally one operation/direction."""
        return self.journal.calls(operation, direction)

    def client(
        self,
        base_url: str,
        routes: dict[str, str | RouteLike] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        verify: Any = True,
        redacted: dict[str, str] | None = None,
    ) -> PartnerClient:
        """A client that calls a partner as this hub, into this hub's journal (and `on_call`).

        With `tls` and no `verify` of the caller's own, it presents the hub's certificate and trusts the test CA."""
        return PartnerClient(
            base_url,
            routes=routes,
            headers=headers,
            timeout=timeout,
            verify=self.partner_tls() if verify is True and self.tls is not None else verify,
            release=self.release,
            redacted=redacted,
            journal=self.journal,
            on_call=self.on_call,
        )

    def partner_tls(self) -> ssl.SSLContext | None:
        """How this hub calls partners over mutual TLS: presenting hub.pem, trusting only ca.pem (None: no TLS)."""
        if self.tls is None:
            return None
        return client_context(self.tls / "ca.pem", self.tls / "hub.pem", self.tls / "hub.key")

    def _presenting(self, endpoint: Endpoint | str | None) -> Endpoint | str | None:
        """A forwarding endpoint that presents the hub's certificate, unless it was given a TLS setting of its own."""
        if endpoint is None:
            return None
        endpoint = Endpoint(endpoint) if isinstance(endpoint, str) else endpoint
        return dataclasses.replace(endpoint, verify=self.partner_tls()) if endpoint.verify is True else endpoint

    # --- request handling -------------------------------------------------------------------

    @contextmanager
    def _admitted(self) -> Iterator[int]:
        """A request's stay in the hub, in the generation (test) it belongs to (see `reset`)."""
        with self._gate:
            self._gate.wait_for(lambda: not self._resetting)  # a reset is bounded (RESET_WAIT and a clear)
            self._busy += 1
            generation = self._generation
        try:
            yield generation
        finally:
            with self._gate:
                self._busy -= 1
                self._gate.notify_all()

    def too_large(self, request: Request) -> Response:
        size = request.content_length
        why = (
            f"body of {size} bytes exceeds {self.max_body}"
            if size is not None
            else f"chunked body (no Content-Length) exceeds {self.max_body} bytes"
        )
        message = f"Request body larger than {self.max_body} bytes."
        call = self.unread(request.method, request.path, 413, why, message, size=size or 0, route=False)
        return _json(413, call.response)

    def unread(
        self, method: str, path: str, status: int, why: str, message: str, size: int = 0, route: bool = True
    ) -> Call:
        """Journal a request refused before its body was read (too large, too slow, cut short, bad headers)."""
        with self._admitted() as generation:
            call = Call(seq=self.journal.next_seq(), at=time.time(), method=method, path=path, size=size)
            if route and (routed := self._route(path)) is not None:  # its operation, so the path is judged as sent
                op, params = routed
                call.operation, call.service, call.version, call.params = op.id, op.service, op.version, params
            call.status, call.response = status, answers.fault_body(message)
            call.problems.append(why)
            self._record(call, generation)
        return call

    def handle(self, request: Request) -> Response:
        with self._admitted() as generation:
            call = Call(seq=self.journal.next_seq(), at=time.time(), method=request.method, path=request.path)
            started = time.monotonic()
            try:
                response = self._handle(request, call, generation)
            except Exception as exc:  # a bug in the hub must fail the test that caused it, not hide in a 500
                if isinstance(exc, AssertionError):
                    self._server.add_assertion(exc)
                else:
                    self._server.handler_errors.append(exc)
                call.status = 500
                call.problems.append(f"hub error: {exc!r}")
                call.response = answers.fault_body("Hubject system error.")
                response = _json(500, call.response)
            call.duration = time.monotonic() - started
            self._record(call, generation)
        return response

    def _record(self, call: Call, generation: int | None = None) -> None:
        with self._gate:
            if generation is not None and generation != self._generation:
                return  # a request of a test that ended, still busy after the reset's wait
            self.journal.add(call)
        if self.on_call is not None:
            self.on_call(call)

    def _recorder(self, generation: int) -> Callable[[Call], None]:
        """Journals the calls a request causes, unless a reset came in between (another test's journal)."""

        def record(call: Call) -> None:
            self._record(call, generation)

        return record

    def _route(self, path: str) -> tuple[Operation, dict[str, str]] | None:
        if self.prefix and not (path == self.prefix or path.startswith(self.prefix + "/")):
            return None
        tail = path[len(self.prefix) :]
        for pattern, op in self._routes:
            if m := pattern.match(tail):
                return op, m.groupdict()
        return None

    def _handle(self, request: Request, call: Call, generation: int) -> Response:
        routed = self._route(request.path)
        if routed is None:
            call.status, call.response = 404, answers.fault_body(f"No OICP {self.release} operation at {request.path}.")
            call.problems.append("unknown path")
            return _json(404, call.response)
        op, params = routed
        call.operation, call.service, call.version, call.params = op.id, op.service, op.version, params
        call.content_type = request.headers.get("Content-Type", "")
        call.query = dict(request.args.items())
        with self._lock:
            self._counts[op.id] += 1
            call.call_no = self._counts[op.id]
        if request.method != "POST":
            call.status, call.response = 405, answers.fault_body(f"Method {request.method} not allowed; use POST.")
            call.problems.append(f"method {request.method}")
            return _json(405, call.response, {"Allow": "POST"})
        partner = params.get("operatorID") or params.get("providerID") or request.remote_addr or ""
        if (wait := self._rate_limited(partner)) is not None:
            call.status, call.response = 429, answers.fault_body("Too many requests.")
            call.problems.append("rate limit")
            return _json(429, call.response, {"Retry-After": str(wait)})
        fault = self.scripts.fault_for(op.id, call.call_no)
        call.fault = fault.name if fault else None
        if fault is not None and not fault.process and fault.kind not in ("delay", "drop"):
            return self._fault_only(fault, op, call, request)
        if fault is not None and fault.kind == "drop" and not fault.process:
            return self._drop(request, call)
        # OICP 2.3 CPO chapter 1: pushes "that address the same operation MUST always be processed sequentially";
        # pushes of different operations may overlap, so in-flight pushes are counted per partner and operation.
        partner_key = operator_key(params.get("operatorID", "")) or params.get("providerID", "")
        push_key = f"{partner_key} {op.name}" if op.name in PUSHES else None
        self._enter_push(push_key, call)
        try:  # a push is in flight until its answer is out, scripted delays included
            status, body = self._process(request, op, params, call, generation)
            return self._deliver(request, op, call, status, body, fault)
        finally:
            self._leave_push(push_key)

    def _enter_push(self, key: str | None, call: Call) -> None:
        if key is None:
            return
        with self._lock:
            call.concurrent = self.state.in_flight.get(key, 0) > 0
            self.state.in_flight[key] = self.state.in_flight.get(key, 0) + 1
        if call.concurrent:
            call.problems.append(f"parallel push: another {key} push was still being processed")

    def _leave_push(self, key: str | None) -> None:
        if key is not None:
            with self._lock:  # a reset may have cleared the count while this push was held by a delay
                self.state.in_flight[key] = max(0, self.state.in_flight.get(key, 0) - 1)

    def _rate_limited(self, partner: str) -> int | None:
        if self.rate_limit is None:
            return None
        limit, window = self.rate_limit
        now = time.monotonic()
        with self._lock:
            recent = self._recent[partner]
            while recent and now - recent[0] > window:
                recent.popleft()
            if len(recent) >= limit:
                return max(1, int(window - (now - recent[0])) + 1)
            recent.append(now)
        return None

    def _fault_only(self, fault: Fault, op: Operation, call: Call, request: Request) -> Response:
        if fault.kind == "result-false":
            call.status, call.response = (
                200,
                negative(op.response[0], self.release, fault.code, "scripted refusal", _body_or_none(request)),
            )
            return _json(200, call.response)
        if fault.kind == "429":
            call.status, call.response = 429, answers.fault_body("Too many requests.")
            return _json(429, call.response, {"Retry-After": f"{fault.seconds:g}"})
        call.status, call.response = fault.status, answers.fault_body(f"Scripted HTTP {fault.status}.")
        return _json(fault.status, call.response)

    def _drop(self, request: Request, call: Call) -> Response:
        call.status = 0
        sock = request.environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        return Response(b"", status=200)

    def _deliver(
        self, request: Request, op: Operation, call: Call, status: int, body: Any, fault: Fault | None
    ) -> Response:
        call.status, call.response = status, body
        if fault is None or status != 200:
            return _json(status, body)
        if fault.kind == "delay":
            self._stopping.wait(fault.seconds)
        elif fault.kind == "drop":
            return self._drop(request, call)
        elif fault.kind == "malformed":
            call.response = '{"Result": tru'
            return Response(call.response, status=200, content_type="application/json")
        elif fault.kind == "empty":
            call.response = ""
            return Response(b"", status=200, content_type="application/json")
        elif fault.kind == "minimal":
            call.response = answers.strip_optional(body)
        elif fault.kind == "maximal":
            call.response = answers.fill_optional(body, op.response[0], self.release, call.body)
        elif fault.kind == "no-records":
            call.response = answers.no_records(body)
        return _json(status, call.response)

    def _process(
        self, request: Request, op: Operation, params: dict[str, str], call: Call, generation: int
    ) -> tuple[int, Any]:
        raw = request.get_data()
        call.size = len(raw)
        call.encoding = utf8_problem(raw, call.content_type)
        if call.content_type.split(";")[0].strip().lower() != "application/json":
            call.problems.append(f"content type {call.content_type or '(none)'}")
            return 415, answers.fault_body("Content type must be application/json.")
        try:
            body = json.loads(raw, parse_constant=_not_json, parse_float=_finite)
            if _deeper(raw, body, MAX_JSON_DEPTH):
                raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
        except (ValueError, RecursionError) as exc:
            # JSON in another encoding than UTF-8 is the encoding's finding (`Call.encoding`), not the message's
            unreadable = isinstance(exc, UnicodeDecodeError) and call.encoding
            call.problems.append("body is not UTF-8" if unreadable else "body is not JSON")
            return 400, answers.fault_body(answers.VALIDATION_MESSAGE, [("", f"Malformed JSON: {exc}")])
        call.body = body
        message = self._message(op, body)
        call.violations = validate(body, message, self.release)
        if call.violations:
            errors = [(answers.field_reference(v.pointer), v.message) for v in call.violations]
            return 400, answers.fault_body(answers.VALIDATION_MESSAGE, errors)
        try:
            identity = self._identity(params, body, request.environ.get("SSL_CLIENT_CERT"))
            if identity:
                call.problems.append(identity)
                raise Refused(codes.UNAUTHORIZED, identity)
            context = Context(
                op,
                self.release,
                body,
                params,
                dict(request.args),
                self.state,
                call,
                forward=self.forwarder,
                record=self._recorder(generation),
            )
            return 200, HANDLERS[op.name](context)
        except Refused as refusal:
            call.problems.append(f"refused {refusal.code}: {refusal.info}")
            return 200, negative(op.response[0], self.release, refusal.code, refusal.info, body)

    def _message(self, op: Operation, body: Any) -> str:
        if len(op.request) == 1:
            return op.request[0]
        by_type = {m.removeprefix("eRoamingChargingNotification"): m for m in op.request}
        if isinstance(body, dict) and body.get("Type") in by_type:
            return by_type[body["Type"]]
        found = [m for m in detect(body, self.release) if m in op.request]
        return found[0] if found else op.request[0]

    def _identity(self, params: dict[str, str], body: dict[str, Any], peer: str | None = None) -> str | None:
        """Why the path's partner ID is not acceptable for this body and this caller (None: it is).

        Over TLS the caller is who its client certificate says (`peer`, PEM), checked first."""
        if self.tls is not None and (why := _certified(params, body, peer)):
            return why
        partners = self.state.partners
        if "operatorID" in params:
            path_id = params["operatorID"]
            in_body = _find(body, "OperatorID")
            if in_body is not None and operator_key(in_body) != operator_key(path_id):
                return f"path operatorID {path_id} but body OperatorID {in_body}"
            # over TLS with no operator declared, each certificate registers its operator (checked above)
            certified = self.tls is not None and self._any_operator
            with self.state.lock:  # look and register at once: of two first calls at the same time, one is first
                if partners.operators and not partners.knows_operator(path_id) and not certified:
                    known = ", ".join(sorted(partners.operators))
                    return f"operator {path_id} is not the partner the hub knows for this client ({known})"
                if not partners.operators or certified:  # the first CPO to call is the one its certificate names
                    partners.operators.add(path_id)
        if "providerID" in params:
            path_id = params["providerID"]
            in_body = _find(body, "ProviderID")
            if in_body is not None and provider_key(in_body) != provider_key(path_id):
                return f"path providerID {path_id} but body ProviderID {in_body}"
        return None


def _certified(params: dict[str, str], body: dict[str, Any], peer: str | None) -> str | None:
    """Why the call's OperatorID or ProviderID is not its client certificate's (None: it is).

    OICP 2.3 CPO 1 / EMP 1 "Security": "If Hubject detects a mismatch between ProviderID/OperatorID and the client
    certificate information sent with the request, Hubject will not perform the operation and will respond with
    the status code 017 'Unauthorized Access'." Path and body IDs of the certificate's role must be its ID; a path
    ID of the other role is another partner's operation."""
    partner = partner_of(peer)
    if partner is None:
        return f"client certificate {describe(peer)} names no partner (OU OperatorID or ProviderID, CN the ID)"
    role, cert_id = partner
    operator = role == "OperatorID"
    same = operator_key if operator else provider_key
    param, other = ("operatorID", "providerID") if operator else ("providerID", "operatorID")
    if other in params:
        return f"client certificate of {role} {cert_id} but path {other} {params[other]}: another partner's operation"
    if param in params and same(params[param]) != same(cert_id):
        return f"client certificate of {role} {cert_id} but path {param} {params[param]}"
    in_body = _find(body, role)
    if in_body is not None and same(in_body) != same(cert_id):
        return f"client certificate of {role} {cert_id} but body {role} {in_body}"
    return None


def _not_json(literal: str) -> Any:
    """NaN, Infinity and -Infinity: Python reads them, JSON (and Hubject's parser) does not."""
    raise ValueError(f"{literal} is not a JSON value")


def _finite(text: str) -> float:
    """A number beyond binary64 (1e999) would be Infinity in the journal, and invalid JSON in every report."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _deeper(raw: bytes, body: Any, limit: int) -> bool:
    """Whether arrays and objects nest deeper than `limit` (counting brackets first: most bodies have few)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    # the containers at `depth`, a level at a time (half the time of a node-by-node walk)
    level, depth = [body] if isinstance(body, (dict, list)) else [], 1
    while level:
        if depth > limit:
            return True
        level = [v for c in level for v in (c.values() if isinstance(c, dict) else c) if isinstance(v, (dict, list))]
        depth += 1
    return False


def _find(body: dict[str, Any], member: str) -> str | None:
    """The member at the top level or one object down (OperatorEvseData.OperatorID, ...)."""
    if isinstance(body.get(member), str):
        return body[member]
    for value in body.values():
        if isinstance(value, dict) and isinstance(value.get(member), str):
            return value[member]
    return None


def _body_or_none(request: Request) -> Any:
    try:
        return json.loads(request.get_data())
    except ValueError:
        return None
