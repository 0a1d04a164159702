"""`oicp-conformance hub`: run the fake Hubject by hand and point a CPO or EMP at it."""

from __future__ import annotations

import argparse
import contextlib
import io
import signal
import socket
import sys
import threading
from types import FrameType

from conformance.cli.errors import UsageError, port_number


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "hub",
        help="run the fake Hubject on loopback, logging every call",
        description="A fake Hubject that checks, journals and answers every call. Ctrl-C stops it.",
    )
    p.add_argument("--release", "-r", default="2.3", help="OICP release: 2.3 or 2.2 (default: 2.3)")
    p.add_argument("--port", "-p", default="8080", help="0-65535; 0 picks a free port (default 8080)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    p.add_argument(
        "--prefix",
        default="/api/oicp",
        help="path prefix before /<service>/<version>/... ('/' for none; default: /api/oicp)",
    )
    p.add_argument(
        "--operator-id",
        action="append",
        default=[],
        help="the CPO OperatorID(s) the hub accepts (default: the first operator that calls)",
    )
    p.add_argument(
        "--provider-id", action="append", default=[], help="EMP ProviderID(s) the hub knows (default: DE-DCB)"
    )
    p.add_argument("--rate-limit", metavar="N/SECONDS", help="answer 429 beyond N calls per partner per SECONDS")
    p.set_defaults(run=run)


def _rate(text: str | None) -> tuple[int, float] | None:
    if not text:
        return None
    try:
        count, seconds = text.split("/")
        return int(count), float(seconds)
    except ValueError as exc:
        raise UsageError(f"--rate-limit {text!r}: expected N/SECONDS, e.g. 10/1") from exc


def _can_listen(host: str, port: int) -> None:
    """Bind once, locally, before the server does: its own failure would print twice and exit 1.

    Binding sends nothing on the network; an address this machine does not have fails here."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"--host {host!r}: not an address of this machine or a name it resolves ({exc})") from exc
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def run(args: argparse.Namespace) -> int:
    from conformance.catalog import load_release
    from conformance.hub import FakeHub, Partners

    load_release(args.release)  # unknown release: a clear error before binding anything
    args.port = port_number(args.port, zero_picks_free=True)
    _can_listen(args.host, args.port)
    partners = Partners(operators=set(args.operator_id), providers=set(args.provider_id or ["DE-DCB"]))

    def log(call: object) -> None:
        print(call.summary(), flush=True)  # type: ignore[attr-defined]

    hub = FakeHub(
        release=args.release,
        host=args.host,
        port=args.port,
        prefix=args.prefix,
        partners=partners,
        rate_limit=_rate(args.rate_limit),
        on_call=log,
    )
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):  # werkzeug prints its bind error, then exits
            hub.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    except SystemExit as exc:  # the address was taken between the probe and the start
        reason = said.getvalue().strip().splitlines()[:1] or ["the server did not start"]
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {reason[0]}") from exc
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not interrupt the shutdown
        signal.signal(signum, on_signal)
    example = hub.url_for("PushEvseStatus.hub", operatorID="DE*ABC")
    print(f"fake Hubject, OICP {args.release}, listening on {hub.url} (Ctrl-C stops)", flush=True)
    print(
        f"try: curl -s -X POST '{example}' -H 'Content-Type: application/json' -d "
        '\'{"ActionType": "fullLoad", "OperatorEvseStatus": {"OperatorID": "DE*ABC", '
        '"EvseStatusRecord": [{"EvseID": "DE*ABC*E1", "EvseStatus": "Available"}]}}\'',
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        hub.stop()
    print(f"stopped after {len(hub.journal)} call(s)", file=sys.stderr, flush=True)
    return 0
