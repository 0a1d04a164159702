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
import json
import logging
import re
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pytest_httpserver import HTTPServer
from pytest_httpserver.httpserver import METHOD_ALL
from werkzeug import Request, Response

from conformance.catalog import Operation, load_release
from conformance.hub import answers
from conformance.hub.faults import Fault, Script
from conformance.hub.forwarding import Forwarder, Forwarding
from conformance.hub.handlers import HANDLERS, Context, Refused, negative
from conformance.hub.journal import Call, Journal
from conformance.hub.partners import DEFAULT_TIMEOUT, PartnerClient, RouteLike
from conformance.hub.state import HubState, Partners
from conformance.oicp import codes
from conformance.oicp.ids import operator_key, provider_key
from conformance.oicp.limits import MAX_BODY_BYTES
from conformance.validation import detect, validate
from conformance.wire import utf8_problem

PUSHES = {"PushEvseData", "PushEvseStatus", "PushPricingProductData", "PushEVSEPricing", "PushAuthenticationData"}
DEFAULT_PREFIX = "/api/oicp"


class _Server(HTTPServer):
    """pytest-httpserver with a size guard that answers before reading an oversized body."""

    def __init__(self, hub: FakeHub, host: str, port: int):
        super().__init__(host, port, threaded=True)
        self.hub = hub

    def application(self, request: Request) -> Response:
        if request.content_length is not None and request.content_length > self.hub.max_body:
            return self.hub.too_large(request)
        return super().application(request)

    def thread_target(self) -> None:
        """Serve, looking for a stop request every 0.1 s rather than pytest-httpserver's 0.5 s: a hub is started
        and stopped per run (and per defect run), and the half second of each stop added up."""
        assert self.server is not None
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
    ):
        self.release = release
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.operations = [op for op in load_release(release).operations if op.served_by == "hub"]
        self._routes = [(_template(op.path), op) for op in self.operations]
        self.forward_to = forward_to
        self.state = HubState(forward_to.register(partners) if forward_to is not None else partners)
        self.journal = Journal()
        self.forwarder = Forwarder(forward_to, release, self.journal) if forward_to is not None else None
        self.scripts = Script()
        self.rate_limit = rate_limit
        self.max_body = max_body
        self.on_call = on_call
        self._server = _Server(self, host, port)
        self._counts: dict[str, int] = defaultdict(int)
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._generation = 0
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

        Requests still held by a scripted delay are woken, and their calls are not journaled: a test
        never sees a call that an earlier test caused."""
        self._generation += 1
        self._stopping.set()
        self._stopping = threading.Event()
        self._server.clear()
        self._server.clear_all_handlers()
        self._route_all()
        self.journal.clear()
        self.state.reset()
        self.scripts.clear()
        with self._lock:
            self._counts.clear()
            self._recent.clear()

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
        return f"http://{self._server.host}:{self._server.port}{self.prefix}"

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
        """A client that calls a partner as this hub, into this hub's journal (and `on_call`)."""
        return PartnerClient(
            base_url,
            routes=routes,
            headers=headers,
            timeout=timeout,
            verify=verify,
            release=self.release,
            redacted=redacted,
            journal=self.journal,
            on_call=self.on_call,
        )

    # --- request handling -------------------------------------------------------------------

    def too_large(self, request: Request) -> Response:
        call = Call(
            seq=self.journal.next_seq(),
            at=time.time(),
            method=request.method,
            path=request.path,
            size=request.content_length or 0,
            status=413,
        )
        call.problems.append(f"body of {call.size} bytes exceeds {self.max_body}")
        call.response = answers.fault_body(f"Request body larger than {self.max_body} bytes.")
        self._record(call)
        return _json(413, call.response)

    def handle(self, request: Request) -> Response:
        call = Call(seq=self.journal.next_seq(), at=time.time(), method=request.method, path=request.path)
        generation = self._generation
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
        if generation == self._generation:
            self._record(call)
        return response

    def _record(self, call: Call) -> None:
        self.journal.add(call)
        if self.on_call is not None:
            self.on_call(call)

    def _recorder(self, generation: int) -> Callable[[Call], None]:
        """Journals the calls a request causes, unless a reset came in between (another test's journal)."""

        def record(call: Call) -> None:
            if generation == self._generation:
                self._record(call)

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
            body = json.loads(raw)
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
            identity = self._identity(params, body)
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

    def _identity(self, params: dict[str, str], body: dict[str, Any]) -> str | None:
        """Why the path's partner ID is not acceptable for this body and this caller (None: it is)."""
        partners = self.state.partners
        if "operatorID" in params:
            path_id = params["operatorID"]
            in_body = _find(body, "OperatorID")
            if in_body is not None and operator_key(in_body) != operator_key(path_id):
                return f"path operatorID {path_id} but body OperatorID {in_body}"
            if partners.operators and not partners.knows_operator(path_id):
                known = ", ".join(sorted(partners.operators))
                return f"operator {path_id} is not the partner the hub knows for this client ({known})"
            if not partners.operators:  # the first CPO to call is the one this client certificate belongs to
                partners.operators.add(path_id)
        if "providerID" in params:
            path_id = params["providerID"]
            in_body = _find(body, "ProviderID")
            if in_body is not None and provider_key(in_body) != provider_key(path_id):
                return f"path providerID {path_id} but body ProviderID {in_body}"
        return None


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
