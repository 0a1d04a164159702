"""The reference CPO's HTTP surface: OICP inbound endpoints and `/_trigger/...` for its outbound actions."""

from __future__ import annotations

import json
import threading
from typing import Any

from werkzeug import Request, Response
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server

from conformance.reference.cpo.inbound import Inbound
from conformance.reference.cpo.model import Config, World
from conformance.reference.cpo.service import CpoService

INBOUND = Map(
    [
        Rule("/charging/v21/providers/<provider_id>/authorize-remote/start", endpoint="remote-start"),
        Rule("/charging/v21/providers/<provider_id>/authorize-remote/stop", endpoint="remote-stop"),
        Rule("/reservation/v11/providers/<provider_id>/reservation-start-request", endpoint="reservation-start"),
        Rule("/reservation/v11/providers/<provider_id>/reservation-stop-request", endpoint="reservation-stop"),
        Rule("/_trigger/<action>", endpoint="trigger"),
    ]
)


# How many real CPOs register their endpoints with Hubject: one URL per operation, IDs in the query.
CUSTOM = Map(
    [
        Rule("/oicp/remote-start", endpoint="remote-start"),
        Rule("/oicp/remote-stop", endpoint="remote-stop"),
        Rule("/oicp/reservation-start", endpoint="reservation-start"),
        Rule("/oicp/reservation-stop", endpoint="reservation-stop"),
        Rule("/_trigger/<action>", endpoint="trigger"),
    ]
)


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _outcome(outcome: Any, **extra: Any) -> dict[str, Any]:
    return {"status": outcome.status, "hub_answer": outcome.body, "attempts": outcome.attempts, **extra}


class ReferenceCpo:
    """A small, correct OICP CPO backend (unless defects are switched on)."""

    def __init__(self, config: Config | None = None):
        self.config = config or Config()
        self.world = World(self.config)
        self.service = CpoService(self.config, self.world)
        self.inbound = Inbound(self.world, self.service)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            routes = CUSTOM if self.config.custom_urls else INBOUND
            endpoint, args = routes.bind_to_environ(environ).match(method="POST")
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
        except HTTPException as exc:
            response = _json(exc.code or 500, {"error": exc.description})
        return response(environ, start_response)

    def trigger(self, action: str, request: Request) -> Response:
        try:
            args = json.loads(request.get_data() or b"{}")
        except ValueError:
            return _json(400, {"error": "trigger body must be JSON"})
        service = self.service
        try:
            if action == "state-sessions":  # read-only: what this CPO recorded (the suite's state probes)
                return _json(200, {"sessions": [{"SessionID": s} for s in self.world.sessions]})
            if action == "state-cdrs":
                return _json(200, {"cdrs": self.world.cdr_log})
            if action == "push-evse-data":
                return _json(
                    200, _outcome(service.push_evse_data(args.get("action", "fullLoad"), args.get("evse_ids")))
                )
            if action == "push-evse-status":
                if "status" in args:
                    with self.world.lock:
                        for evse_id in args.get("evse_ids") or []:
                            self.world.evses[evse_id].status = args["status"]
                return _json(
                    200, _outcome(service.push_evse_status(args.get("action", "fullLoad"), args.get("evse_ids")))
                )
            if action == "push-all":
                return _json(200, {"results": [_outcome(o) for o in service.push_all()]})
            if action == "authorize-start":
                outcome, session = service.authorize_start(args["identification"], args["evse_id"])
                return _json(200, _outcome(outcome, session_id=session.session_id if session else None))
            if action == "authorize-stop":
                return _json(200, _outcome(service.authorize_stop(args["session_id"])))
            if action == "end-session":
                return _json(200, _outcome(service.end_session(args["session_id"])))
            if action == "notify":
                return _json(200, _outcome(service.notify(args["session_id"], args.get("type", "Start"))))
        except KeyError as exc:
            return _json(404, {"error": f"unknown {exc.args[0]!r}"})
        raise NotFound(f"no trigger {action!r}")

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a background thread; returns the base URL."""
        self._server = make_server(host, port, self.wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self.service.hub.close()
