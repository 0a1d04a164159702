"""The reference EMP's HTTP surface: OICP inbound endpoints (online mode), `/_trigger/...` for its outbound
actions and `/_trigger/state-...` probes of what it holds."""

from __future__ import annotations

import itertools
import json
import queue
import threading
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

from werkzeug import Request, Response
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from conformance.reference.emp.inbound import MAX_REQUEST_BYTES, Inbound
from conformance.reference.emp.model import Config, World, stamp
from conformance.reference.emp.service import BadTrigger, Done, EmpService
from conformance.reference.emp.transport import serve, server_context

# Inbound operations (Hubject -> EMP, online mode only): endpoint, official path template (EMP OpenAPI),
# and the `custom_urls` path (OperatorID in ?operator=).
ROUTES = (
    ("authorize-start", "/charging/v21/operators/<operator_id>/authorize/start", "/oicp/authorize-start"),
    ("authorize-stop", "/charging/v21/operators/<operator_id>/authorize/stop", "/oicp/authorize-stop"),
    ("cdr", "/cdrmgmt/v22/operators/<operator_id>/charge-detail-record", "/oicp/charge-detail-record"),
    ("notification", "/notificationmgmt/v11/charging-notifications", "/oicp/charging-notifications"),
)
# Triggers, and the queue (one per operation) that delivers them in queue mode.
TRIGGERS = {
    "pull-evse-data": "evse-data",
    "pull-evse-status": "evse-status",
    "pull-evse-status-by-id": "evse-status",
    "pull-evse-status-by-operator-id": "evse-status",
    "remote-start": "charging",
    "remote-stop": "charging",
    "reservation-start": "reservation",
    "reservation-stop": "reservation",
    "get-cdrs": "cdrs",
    "push-auth-data": "auth-data",
    "pull-pricing-products": "pricing",
    "pull-evse-pricing": "pricing",
}
OPERATIONS = tuple(dict.fromkeys(TRIGGERS.values()))
PUSHES = ("auth-data",)
PROBES = (
    "state-authorizations",
    "state-sessions",
    "state-reservations",
    "state-cdrs",
    "state-evses",
    "state-notifications",
    "state-auth-data",
    "state-pricing",
    "state-last-calls",
    "state-queue",
)


def routes(config: Config) -> Map:
    """The URL map this configuration serves: an offline EMP serves no OICP operation at all."""
    rules = [
        Rule(custom if config.custom_urls else official, endpoint=endpoint)
        for endpoint, official, custom in ROUTES
        if config.mode == "online"
    ]
    return Map([*rules, Rule("/_trigger/<action>", endpoint="trigger")])


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _answer(done: Done) -> dict[str, Any]:
    """A sync trigger's answer: the deciding hub call, and every call when there were several (pages, chunks)."""
    final = done.final
    out: dict[str, Any] = {
        "status": final.status,
        "hub_answer": final.body,
        "attempts": sum(o.attempts for o in done.outcomes),
        "ok": all(o.accepted for o in done.outcomes),
        **done.extra,
    }
    if len(done.outcomes) > 1:
        out["calls"] = [o.summary() for o in done.outcomes]
    return out


def _relay(done: Done) -> Response:
    """The hub's final answer as the trigger's own (the first that was not a success, if any)."""
    outcome = done.final
    if outcome.status == 0:
        return _json(504, {"error": "the hub did not answer", "attempts": outcome.attempts})
    text = outcome.text or (json.dumps(outcome.body) if outcome.body is not None else "")
    kind = "application/json" if outcome.body is not None else "text/plain"
    return Response(text, status=outcome.status, content_type=kind)


class Outbox:
    """Queue mode: one queue and one worker per operation. PushAuthenticationData "MUST always be used
    sequentially", so its worker runs one push at a time; with `parallel-pushes` it stops waiting."""

    def __init__(self, parallel_pushes: bool = False):
        self._parallel = parallel_pushes
        self._queues: dict[str, queue.Queue[tuple[int, str, Callable[[], Done]] | None]] = {
            op: queue.Queue() for op in OPERATIONS
        }
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._pending = dict.fromkeys(OPERATIONS, 0)
        self._done: deque[dict[str, Any]] = deque(maxlen=200)
        self._workers = [
            threading.Thread(target=self._work, args=(op,), name=f"emp-outbox-{op}", daemon=True) for op in OPERATIONS
        ]
        for worker in self._workers:
            worker.start()

    def put(self, operation: str, action: str, job: Callable[[], Done]) -> int:
        number = next(self._numbers)
        with self._lock:
            self._pending[operation] += 1
        self._queues[operation].put((number, action, job))
        return number

    def pending(self, operation: str) -> int:
        with self._lock:
            return self._pending[operation]

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"pending": dict(self._pending), "delivered": list(self._done)}

    def idle(self) -> bool:
        with self._lock:
            return not any(self._pending.values())

    def close(self) -> None:
        for q in self._queues.values():
            q.put(None)
        for worker in self._workers:
            worker.join(timeout=2.0)

    def _work(self, operation: str) -> None:
        q = self._queues[operation]
        while (item := q.get()) is not None:
            if self._parallel and operation in PUSHES:  # the defect: do not wait for the push in flight
                threading.Thread(target=self._run, args=(operation, *item), daemon=True).start()
            else:
                self._run(operation, *item)

    def _run(self, operation: str, number: int, action: str, job: Callable[[], Done]) -> None:
        record: dict[str, Any] = {"job": number, "operation": operation, "action": action}
        try:
            done = job()
            record["results"] = [o.summary() for o in done.outcomes]
            record.update(done.extra)
        except Exception as exc:  # a job must never kill its worker; the probe shows what went wrong
            record["error"] = f"{type(exc).__name__}: {exc}"
            record["trace"] = traceback.format_exc(limit=3)
        with self._lock:
            self._pending[operation] -= 1
            self._done.append(record)


class ReferenceEmp:
    """A small, correct OICP 2.3 EMP backend (unless defects are switched on), in the shape its Config says."""

    def __init__(self, config: Config | None = None):
        self.config = config or Config()
        self.world = World(self.config)
        self.service = EmpService(self.config, self.world)
        self.inbound = Inbound(self.world)
        self.routes = routes(self.config)
        queued = self.config.trigger_mode == "queue"
        self.outbox = Outbox("parallel-pushes" in self.config.defects) if queued else None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            endpoint, args = self.routes.bind_to_environ(environ).match()
            if endpoint == "trigger":
                response = self.trigger(args["action"], request)
            elif request.method != "POST":
                raise MethodNotAllowed(valid_methods=["POST"])
            elif self.config.api_key and request.headers.get("X-Api-Key") != self.config.api_key:
                response = _json(401, {"error": "missing or wrong X-Api-Key"})
            else:
                operator = args.get("operator_id") or request.args.get("operator", "")
                raw = request.stream.read(MAX_REQUEST_BYTES + 1)
                status, body = self.inbound.handle(endpoint, operator, raw, request.headers.get("Content-Type", ""))
                response = _json(status, body)
        except HTTPException as exc:
            response = _json(exc.code or 500, {"error": exc.description})
        return response(environ, start_response)

    # --- triggers and probes ------------------------------------------------------------------------------

    def trigger(self, action: str, request: Request) -> Response:
        if action in PROBES:  # read-only: what this EMP holds
            if request.method not in ("GET", "POST"):
                raise MethodNotAllowed(valid_methods=["GET", "POST"])
            return self._probe(action)
        if action not in TRIGGERS:
            raise NotFound(f"no trigger {action!r}")
        if request.method != "POST":
            raise MethodNotAllowed(valid_methods=["POST"])
        try:
            args = json.loads(request.get_data() or b"{}")
        except ValueError:
            return _json(400, {"error": "trigger body must be JSON"})
        try:
            job = self._job(action, args)
            if self.outbox is not None:
                number = self.outbox.put(TRIGGERS[action], action, job)
                return _json(202, {"queued": number, "operation": TRIGGERS[action]})
            done = job()
        except BadTrigger as exc:
            status, reason = exc.args
            return _json(status, {"error": reason})
        except KeyError as exc:
            return _json(404, {"error": f"unknown {exc.args[0]!r}"})
        except Exception as exc:  # the EMP's own fault: said plainly, as JSON
            return _json(500, {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc(limit=3)})
        if self.config.trigger_mode == "relay":
            return _relay(done)
        return _json(200, _answer(done))

    def _job(self, action: str, args: Any) -> Callable[[], Done]:
        """The action a trigger asks for, checked now and run now or (queue mode) later."""
        service = self.service
        if self.config.trigger_mode == "forward":
            return lambda: service.forward(action, args)
        if not isinstance(args, dict):
            raise BadTrigger(400, "trigger body must be a JSON object")
        full = bool(args.get("full", False))
        if action == "pull-evse-data":
            filters, size = _object(args, "filters"), _size(args)
            return lambda: service.pull_evse_data(filters, full, size)
        if action == "pull-evse-status":
            filters = _object(args, "filters")
            return lambda: service.pull_evse_status(filters)
        if action == "pull-evse-status-by-id":
            evse_ids = _strings(args, "evse_ids")
            return lambda: service.pull_evse_status_by_id(evse_ids)
        if action == "pull-evse-status-by-operator-id":
            operator_ids = _strings(args, "operator_ids")
            return lambda: service.pull_evse_status_by_operator_id(operator_ids)
        if action in ("pull-pricing-products", "pull-evse-pricing"):
            operator_ids = _strings(args, "operator_ids")
            pull = service.pull_pricing_products if action == "pull-pricing-products" else service.pull_evse_pricing
            return lambda: pull(operator_ids, full)
        if action == "remote-start":
            evse, evco, product = args.get("evse_id"), args.get("evco_id"), args.get("product_id")
            service.remote_identification(evco)  # checked now: a wrong trigger is a 400, not a failed job
            return lambda: service.remote_start(evse, evco, product)
        if action == "reservation-start":
            evse, evco, product = args.get("evse_id"), args.get("evco_id"), args.get("product_id")
            service.remote_identification(evco)
            duration = args.get("duration")
            return lambda: service.reservation_start(evse, evco, duration, product)
        if action in ("remote-stop", "reservation-stop"):
            session_id = _string(args, "session_id")
            table = "sessions" if action == "remote-stop" else "reservations"
            known = session_id in getattr(self.world, table)
            starting = self.outbox is not None and self.outbox.pending(TRIGGERS[action]) > 0
            if not known and not starting and not args.get("evse_id"):
                raise KeyError(session_id)  # a queued start ahead of it in the same queue may still book it
            stop = service.remote_stop if action == "remote-stop" else service.reservation_stop
            evse = args.get("evse_id")
            return lambda: stop(session_id, evse)
        if action == "get-cdrs":
            filters = {
                oicp: args[key]
                for key, oicp in (
                    ("session_ids", "SessionID"),
                    ("operator_id", "OperatorID"),
                    ("cdr_forwarded", "CDRForwarded"),
                )
                if key in args
            }
            start, end, window, size = args.get("from"), args.get("to"), args.get("window_minutes"), _size(args)
            return lambda: service.get_cdrs(start, end, window, filters, size)
        kind, ids, identifications = args.get("action", "fullLoad"), args.get("ids"), args.get("identifications")
        return lambda: service.push_auth_data(kind, ids, identifications)

    def _probe(self, action: str) -> Response:
        world = self.world
        if action == "state-queue":
            if self.outbox is None:
                raise NotFound("no queue: this EMP delivers triggered actions at once (trigger_mode is not queue)")
            return _json(200, self.outbox.state())
        with world.lock:
            sessions = [s.view() for s in world.sessions.values()]
            if action == "state-authorizations":
                granted = [s for s in sessions if s["origin"] == "authorize-start"]
                body: dict[str, Any] = {"authorizations": granted, "refusals": list(world.refusals)}
            elif action == "state-sessions":
                body = {"sessions": sessions}
            elif action == "state-reservations":
                body = {"reservations": [vars(r) for r in world.reservations.values()]}
            elif action == "state-cdrs":
                cursor = stamp(world.cdr_cursor) if world.cdr_cursor else None
                body = {"cdrs": list(world.cdr_log), "refused": list(world.cdr_refusals), "cdr_cursor": cursor}
            elif action == "state-evses":
                last_call = stamp(world.last_call) if world.last_call else None
                cursor = stamp(world.cdr_cursor) if world.cdr_cursor else None
                body = {"evses": world.evses, "last_call": last_call, "cdr_cursor": cursor}
            elif action == "state-notifications":
                body = {"notifications": list(world.notifications)}
            elif action == "state-auth-data":
                body = {
                    "provider_id": self.config.provider_id,
                    "cards": [{"UID": uid, "RFID": kind} for uid, kind in world.cards.items()],
                    "contracts": [vars(c) for c in world.contracts.values()],
                    "records": list(world.auth_records().values()),
                    "hub": list(world.hub_auth_data.values()),
                }
            elif action == "state-pricing":
                body = {"pricing_products": world.pricing_products, "evse_pricing": world.evse_pricing}
            else:
                body = {"last": world.last_calls}
            return _json(200, body)

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a background thread (HTTPS with a client certificate required when the Config names its
        certificates); returns the base URL. A port in use raises OSError (EADDRINUSE)."""
        config = self.config
        tls = server_context(config.tls_cert, config.tls_key, config.tls_ca) if config.tls_cert else None
        self._server = serve(self.wsgi, host, port, tls)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        scheme = "https" if self.config.tls_cert else "http"
        return f"{scheme}://{self._server.host}:{self._server.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self.outbox is not None:
            self.outbox.close()
        self.service.hub.close()


def _object(args: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = args.get(key)
    if value is not None and not isinstance(value, dict):
        raise BadTrigger(400, f"{key} must be a JSON object")
    return value


def _strings(args: dict[str, Any], key: str) -> list[str] | None:
    value = args.get(key)
    if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
        raise BadTrigger(400, f"{key} must be a list of strings")
    return value


def _string(args: dict[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value:
        raise BadTrigger(400, f"trigger body needs {key!r}")
    return value


def _size(args: dict[str, Any]) -> int | None:
    size = args.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 2000):
        raise BadTrigger(400, "size is a page size from 1 to 2000")
    return size
