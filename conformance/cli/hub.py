"""`oicp-conformance hub`: run the fake Hubject by hand and point a CPO or EMP at it.

With `--cpo`/`--emp` it forwards between them as Hubject does (end-to-end mode), on loopback only: a
fake hub that relays requests to other machines would be an open relay, and a test needs none.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shlex
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from conformance.cli.errors import UsageError, port_number
from conformance.cli.exposure import check_bind, is_loopback, warn_if_exposed


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "hub",
        help="run the fake Hubject on loopback, logging every call",
        description="A fake Hubject that checks, journals and answers every call. Ctrl-C stops it.",
    )
    p.add_argument("--release", "-r", default="2.3", help="OICP release: 2.3 or 2.2 (default: 2.3)")
    p.add_argument("--port", "-p", default="8080", help="0-65535; 0 picks a free port (default 8080)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="bind address (default: 127.0.0.1, loopback only; any other address warns: the hub has no "
        "authentication unless --tls)",
    )
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
    p.add_argument(
        "--tls",
        metavar="DIR",
        help="serve HTTPS with DIR/hub.pem, refuse clients without a certificate of DIR/ca.pem and know each caller "
        "by its certificate's OperatorID or ProviderID (017 on a mismatch); `oicp-conformance certs DIR` writes them",
    )
    forward = p.add_argument_group(
        "forwarding (end-to-end mode)",
        "forward between a CPO and an EMP as Hubject does; both URLs and the hub itself on loopback only",
    )
    forward.add_argument(
        "--cpo", metavar="URL", help="the CPO's base URL: remote starts/stops and reservations are forwarded to it"
    )
    forward.add_argument(
        "--emp",
        metavar="URL",
        help="the online EMP's base URL: AuthorizeStart/Stop, CDRs and charging notifications are forwarded to it",
    )
    forward.add_argument(
        "--emp-provider",
        metavar="ID",
        help="the EMP's ProviderID: EvcoIDs of it and RFIDs are authorised by the EMP (default: DE-DCB)",
    )
    forward.add_argument(
        "--cpo-operator",
        metavar="ID",
        help="the CPO's OperatorID: only its EVSEs go to the CPO, and only it may call the hub (default: any)",
    )
    forward.add_argument(
        "--partner-timeout",
        metavar="SECONDS",
        help="how long the hub waits for a partner's answer (default: 10, OICP's 'under 10 seconds')",
    )
    p.set_defaults(run=run)


def _partner_url(flag: str, url: str) -> str:
    """An http(s) URL on this machine's loopback, else one line saying why."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError as exc:
        raise UsageError(f"{flag} {url!r}: not a URL ({exc})") from exc
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(f"{flag} {url!r}: expected an http:// or https:// URL, e.g. http://127.0.0.1:9000/oicp")
    if not is_loopback(host):
        raise UsageError(f"{flag} {url!r}: forwarding is loopback only (127.0.0.1, ::1 or localhost), not {host}")
    if parts.query or parts.fragment:
        raise UsageError(f"{flag} {url!r}: a base URL takes no query or fragment")
    if port == 0:
        raise UsageError(f"{flag} {url!r}: port 0 is no partner's port")
    return url.rstrip("/")


def _forwarding(args: argparse.Namespace) -> Any:
    """The `Forwarding` the flags ask for, None without --cpo/--emp."""
    from conformance.hub import Endpoint, Forwarding
    from conformance.oicp.ids import operator_key, provider_key

    flags = {"--cpo-operator": args.cpo_operator, "--emp-provider": args.emp_provider}
    flags["--partner-timeout"] = args.partner_timeout
    if args.cpo is None and args.emp is None:
        if given := [flag for flag, value in flags.items() if value is not None]:
            raise UsageError(f"{given[0]} only applies when forwarding (with --cpo or --emp)")
        return None
    if not is_loopback(args.host):
        raise UsageError(f"--host {args.host!r}: a forwarding hub listens on loopback only (127.0.0.1, ::1)")
    provider = args.emp_provider or "DE-DCB"
    if provider_key(provider) is None:
        raise UsageError(f"--emp-provider {provider!r}: not a ProviderID (e.g. DE-DCB)")
    if args.cpo_operator is not None and operator_key(args.cpo_operator) is None:
        raise UsageError(f"--cpo-operator {args.cpo_operator!r}: not an OperatorID (e.g. DE*ABC)")
    try:
        timeout = float(args.partner_timeout or 10)
    except ValueError:
        timeout = -1.0
    if not 0 < timeout <= 600:
        raise UsageError(f"--partner-timeout {args.partner_timeout!r}: expected seconds, more than 0 and at most 600")
    cpo = Endpoint(_partner_url("--cpo", args.cpo), timeout=timeout) if args.cpo is not None else None
    emp = Endpoint(_partner_url("--emp", args.emp), timeout=timeout) if args.emp is not None else None
    return Forwarding(cpo=cpo, emp=emp, cpo_operator=args.cpo_operator, emp_provider=provider)


def _rate(text: str | None) -> tuple[int, float] | None:
    if not text:
        return None
    try:
        count, seconds = text.split("/")
        return int(count), float(seconds)
    except ValueError as exc:
        raise UsageError(f"--rate-limit {text!r}: expected N/SECONDS, e.g. 10/1") from exc


def _tls_dir(text: str | None) -> Path | None:
    """--tls DIR: a directory with the hub's certificate and key and the CA of its callers, else one line."""
    if text is None:
        return None
    folder = Path(text)
    missing = [name for name in ("ca.pem", "hub.pem", "hub.key") if not (folder / name).is_file()]
    if missing:
        raise UsageError(
            f"--tls {text}: {', '.join(missing)} missing (write them with: oicp-conformance certs {shlex.quote(text)} "
            "--operator ID or --provider ID)"
        )
    return folder


def _curl_identity(tls: Path | None) -> tuple[str, str]:
    """The OperatorID of the example call and curl's certificate flags: DIR/client.pem's operator over TLS."""
    if tls is None:
        return "DE*ABC", ""
    from conformance.tls import partner_of

    client = tls / "client.pem"
    partner = partner_of(client.read_bytes()) if client.is_file() else None
    operator = partner[1] if partner is not None and partner[0] == "OperatorID" else "DE*ABC"
    flags = (("cacert", "ca.pem"), ("cert", "client.pem"), ("key", "client.key"))
    return operator, "".join(f"--{flag} {shlex.quote(str(tls / name))} " for flag, name in flags)


def run(args: argparse.Namespace) -> int:
    from conformance.catalog import load_release
    from conformance.hub import FakeHub, Partners
    from conformance.tls import CertError

    load_release(args.release)  # unknown release: a clear error before binding anything
    args.port = port_number(args.port, zero_picks_free=True)
    forward_to = _forwarding(args)
    check_bind(args.host, args.port)
    partners = Partners(operators=set(args.operator_id), providers=set(args.provider_id or ["DE-DCB"]))
    tls = _tls_dir(args.tls)
    guard = f"only callers with a certificate of {tls / 'ca.pem'} get in" if tls else None
    warn_if_exposed("the fake hub", args.host, args.port, guard or "it has no authentication unless --tls")

    def log(call: object) -> None:
        print(call.summary(), flush=True)  # type: ignore[attr-defined]

    try:
        hub = FakeHub(
            release=args.release,
            host=args.host,
            port=args.port,
            prefix=args.prefix,
            partners=partners,
            rate_limit=_rate(args.rate_limit),
            on_call=log,
            forward_to=forward_to,
            tls=tls,
        )
    except CertError as exc:  # a certificate or key that is there but cannot be used
        raise UsageError(f"--tls {args.tls}: {exc}") from exc
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
    operator, certificate = _curl_identity(tls)
    evse = f"{operator}*1" if operator.startswith("+") else f"{operator}*E1"  # DIN EvseIDs are digits
    example = hub.url_for("PushEvseStatus.hub", operatorID=operator)
    print(f"fake Hubject, OICP {args.release}, listening on {hub.url} (Ctrl-C stops)", flush=True)
    print(
        f"try: curl -s {certificate}-X POST '{example}' -H 'Content-Type: application/json' -d "
        f'\'{{"ActionType": "fullLoad", "OperatorEvseStatus": {{"OperatorID": "{operator}", '
        f'"EvseStatusRecord": [{{"EvseID": "{evse}", "EvseStatus": "Available"}}]}}}}\'',
        flush=True,
    )
    if forward_to is not None:
        cpo = f"CPO {forward_to.cpo_operator or '(any operator)'} at {forward_to.cpo.url}" if forward_to.cpo else None
        emp = f"EMP {forward_to.emp_provider} at {forward_to.emp.url}" if forward_to.emp else None
        print("forwarding to " + " and ".join(x for x in (cpo, emp) if x), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        hub.stop()
    print(f"stopped after {len(hub.journal)} call(s)", file=sys.stderr, flush=True)
    return 0
