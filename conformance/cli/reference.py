"""`oicp-conformance reference cpo`: run the bundled reference CPO by hand (optionally with defects)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from conformance.cli.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reference", help="run a bundled reference implementation")
    p.add_argument("role", choices=("cpo",))
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--hub", default="http://127.0.0.1:8080/api/oicp", help="the hub's base URL")
    p.add_argument("--defect", action="append", default=[], help="plant a named defect (see `defects --list`)")
    p.add_argument(
        "--custom-urls",
        action="store_true",
        help="serve /oicp/<operation>?provider=ID instead of the official path templates, as many deployed CPOs do",
    )
    p.add_argument("--api-key", help="require this value in the X-Api-Key header of inbound calls")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from conformance.reference.cpo import DEFECTS, Config, ReferenceCpo

    if unknown := [d for d in args.defect if d not in DEFECTS]:
        raise UsageError(f"unknown defect(s) {unknown}; `oicp-conformance defects --list` names them")
    cpo = ReferenceCpo(
        Config(hub_url=args.hub, defects=frozenset(args.defect), custom_urls=args.custom_urls, api_key=args.api_key)
    )
    try:
        url = cpo.start(port=args.port)
    except (OSError, SystemExit) as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{args.port}: {exc}") from exc
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    print(
        f"reference CPO DE*REF on {url}, hub {args.hub}, defects: {', '.join(args.defect) or 'none'} (Ctrl-C stops)",
        flush=True,
    )
    while not stop.wait(0.5):
        pass
    cpo.stop()
    print("stopped", file=sys.stderr)
    return 0
