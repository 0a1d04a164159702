"""The reference CPO's HTTP surface: OICP inbound endpoints and `/_trigger/...` for its outbound actions."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from werkzeug import Request, Response
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule

from conformance.reference.cpo.hubclient import PRICING_PUSHES, Outcome
from conformance.reference.cpo.inbound import Inbound
from conformance.reference.cpo.model import Config, World
from conformance.reference.cpo.outbox import Outbox
from conformance.reference.cpo.service import BadMessage, CpoService, ForwardFailed
from conformance.reference.cpo.transport import serve, server_context

# Inbound operations: endpoint, official path template, `custom_urls` path (ProviderID in ?provider=),
# and the optional feature without which the operation is not served.
ROUTES = (
    ("remote-start", "/charging/v21/providers/<provider_id>/authorize-remote/start", "/oicp/remote-start", None),
    ("remote-stop", "/charging/v21/providers/<provider_id>/authorize-remote/stop", "/oicp/remote-stop", None),
    (
        "reservation-start",
        "/reservation/v11/providers/<provider_id>/reservation-start-request",
        "/oicp/reservation-start",
        "reservation",
    ),
    (
        "reservation-stop",
        "/reservation/v11/providers/<provider_id>/reservation-stop-request",
        "/oicp/reservation-stop",
        "reservation",
    ),
)
# Triggers: the outbox queue that delivers them in queue mode, and the optional feature they need.
TRIGGERS: dict[str, tuple[str, str | None]] = {
    "push-evse-data": ("evse-data", None),
    "push-evse-status": ("evse-status", None),
    "push-all": ("evse-data", None),  # a restart's full load of data, then status (not in the declaration)
    "authorize-start": ("authorization", None),
    "authorize-stop": ("authorization", "authorize_stop"),
    "end-session": ("cdr", None),
    "notify": ("notification", "charging_notifications"),
    "push-pricing": ("pricing-products", "dynamic_pricing"),
    "push-evse-pricing": ("evse-pricing", "dynamic_pricing"),
}
PROBES = ("state-sessions", "state-cdrs", "state-queue")

Result = Outcome | list[Outcome] | tuple[Outcome, Any]


def routes(config: Config) -> Map:
    """The URL map this configuration serves: official or custom paths, switched-off features left out."""
    rules = [
        Rule(custom if config.custom_urls else official, endpoint=endpoint)
        for endpoint, official, custom, feature in ROUTES
        if feature is None or feature in config.features
    ]
    return Map([*rules, Rule("/_trigger/<action>", endpoint="trigger")])


class BadTrigger(Exception):
    """A trigger call that cannot run: (HTTP status, reason)."""


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _outcome(outcome: Outcome, **extra: Any) -> dict[str, Any]:
    return {"status": outcome.status, "hub_answer": outcome.body, "attempts": outcome.attempts, **extra}


def _split(result: Result) -> tuple[list[Outcome], dict[str, Any]]:
    """The outcomes of an action, and what else its trigger answer tells (the new session's ID)."""
    if isinstance(result, tuple):
        outcome, session = result
        return [outcome], {"session_id": session.session_id if session else None}
    return (result if isinstance(result, list) else [result]), {}


def _relay(outcomes: list[Outcome]) -> Response:
    """The hub's final answer as the trigger's own (the first that was not a success, if any)."""
    outcome = next((o for o in outcomes if not o.accepted), outcomes[-1])
    if outcome.status == 0:
        return _json(504, {"error": "the hub did not answer", "attempts": outcome.attempts})
    text = outcome.text or (json.dumps(outcome.body) if outcome.body is not None else "")
    kind = "application/json" if outcome.body is not None else "text/plain"
    return Response(text, status=outcome.status, content_type=kind)


def _parallel_pushes(config: Config) -> bool | tuple[str, ...]:
    """Which queue workers start a push without waiting for the last one (planted defects only)."""
    if "parallel-pushes" in config.defects:
        return True
    return PRICING_PUSHES if "parallel-pricing-pushes" in config.defects else ()


class ReferenceCpo:
    """A small, correct OICP CPO backend (unless defects are switched on), in the shape its Config says."""

    def __init__(self, config: Config | None = None):
        self.config = config or Config()
        self.world = World(self.config)
        self.service = CpoService(self.config, self.world)
        self.inbound = Inbound(self.world, self.service)
        self.routes = routes(self.config)
        queued = self.config.trigger_mode == "queue"
        self.outbox = Outbox(_parallel_pushes(self.config)) if queued else None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            endpoint, args = self.routes.bind_to_environ(environ).match(method="POST")
            if endpoint == "trigger":
                response = self.trigger(args["action"], request)
            elif self.config.api_key and request.headers.get("X-Api-Key") != self.config.api_key:
                response = _json(401, {"error": "missing or wrong X-Api-Key"})
            else:
                provider = args.get("provider_id") or request.args.get("provider", "")
                status, body = self.inbound.handle(
                    endpoint, provider, request.get_data(), request.headers.get("Content-Type", "")
                )
                response = _json(status, body)
                if "ack-utf-16" in self.config.defects:  # the defect: its web framework's "Unicode" answers
                    data = json.dumps(body).encode("utf-16")
                    response = Response(data, status=status, content_type="application/json; charset=utf-16")
        except HTTPException as exc:
            response = _json(exc.code or 500, {"error": exc.description})
        return response(environ, start_response)

    def trigger(self, action: str, request: Request) -> Response:
        if action in PROBES:  # read-only: what this CPO recorded (the suite's state probes)
            return self._probe(action)
        if action not in TRIGGERS:
            raise NotFound(f"no trigger {action!r}")
        operation, feature = TRIGGERS[action]
        if feature is not None and feature not in self.config.features:
            raise NotFound(f"no trigger {action!r}: this CPO does not offer {feature}")
        try:
            args = json.loads(request.get_data() or b"{}")
        except ValueError:
            return _json(400, {"error": "trigger body must be JSON"})
        try:
            job = self._job(action, args)
            if self.outbox is not None:
                return self._enqueue(action, operation, job)
            outcomes, extra = _split(job())
        except BadTrigger as exc:
            status, reason = exc.args
            return _json(status, {"error": reason})
        except BadMessage as exc:
            return _json(400, {"error": str(exc)})
        except ForwardFailed as exc:
            return _json(500, {"error": str(exc)})
        except KeyError as exc:
            return _json(404, {"error": f"unknown {exc.args[0]!r}"})
        if self.config.trigger_mode == "relay":
            return _relay(outcomes)
        if action == "push-all":
            return _json(200, {"results": [_outcome(o) for o in outcomes]})
        return _json(200, _outcome(outcomes[0], **extra))

    def _probe(self, action: str) -> Response:
        if action == "state-sessions":
            with self.world.lock:
                return _json(200, {"sessions": [{"SessionID": s} for s in self.world.sessions]})
        if action == "state-cdrs":
            with self.world.lock:
                return _json(200, {"cdrs": list(self.world.cdr_log)})
        if self.outbox is None:
            raise NotFound("no queue: this CPO delivers triggered actions at once (trigger_mode is not queue)")
        return _json(200, self.outbox.state())

    def _job(self, action: str, args: Any) -> Callable[[], Result]:
        """The action a trigger asks for, checked now and run now or (queue mode) later."""
        service = self.service
        if self.config.trigger_mode == "forward" and action != "push-all":
            return lambda: service.forward(action, args)
        if not isinstance(args, dict):
            raise BadTrigger(400, "trigger body must be a JSON object")
        if action == "push-all":
            return service.push_all
        if action in ("push-evse-data", "push-evse-status"):
            kind, evse_ids = args.get("action", "fullLoad"), args.get("evse_ids")
            if action == "push-evse-data":
                return lambda: service.push_evse_data(kind, evse_ids)
            if "status" in args:  # the EVSEs change now; the push tells the hub (now or later)
                with self.world.lock:
                    for evse_id in evse_ids or []:
                        self.world.evses[evse_id].status = args["status"]
            return lambda: service.push_evse_status(kind, evse_ids)
        if action == "push-pricing":
            kind = args.get("action", "fullLoad")
            return lambda: service.push_pricing(kind)
        if action == "push-evse-pricing":
            kind, evse_ids = args.get("action", "fullLoad"), args.get("evse_ids")
            return lambda: service.push_evse_pricing(kind, evse_ids)
        if action == "authorize-start":
            identification, evse_id = self._arg(args, "identification"), self._arg(args, "evse_id")
            return lambda: service.authorize_start(identification, evse_id)
        session_id = self._arg(args, "session_id")
        if self.outbox is not None and self.world.wait_session(session_id, self.config.hub_timeout) is None:
            raise KeyError(session_id)  # a queued AuthorizeStart may still be recording it: waited above
        if action == "authorize-stop":
            return lambda: service.authorize_stop(session_id)
        if action == "end-session":
            return lambda: service.end_session(session_id)
        kind = args.get("type", "Start")
        return lambda: service.notify(session_id, kind)

    @staticmethod
    def _arg(args: dict[str, Any], name: str) -> Any:
        if name not in args:
            raise BadTrigger(400, f"trigger body needs {name!r}")
        return args[name]

    def _enqueue(self, action: str, operation: str, job: Callable[[], Result]) -> Response:
        assert self.outbox is not None
        if action == "push-all":  # two operations, two queues: data and status may overlap
            service = self.service
            numbers = [
                self.outbox.put("evse-data", lambda: service.push_evse_data("fullLoad")),
                self.outbox.put("evse-status", lambda: service.push_evse_status("fullLoad")),
            ]
            return _json(202, {"queued": numbers, "operation": ["evse-data", "evse-status"]})
        number = self.outbox.put(operation, lambda: _split(job())[0])
        return _json(202, {"queued": number, "operation": operation})

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a background thread (HTTPS with a client certificate required when the Config names its
        certificates); returns the base URL. A port in use raises OSError (EADDRINUSE)."""
        config = self.config
        tls = server_context(config.tls_cert, config.tls_key, config.tls_ca) if config.tls_cert else None
        self._server = serve(self.wsgi, host, port, tls)
        # a short poll interval makes stop() quick: the suite and the tests start and stop many of these
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
