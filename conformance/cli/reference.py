"""`oicp-conformance reference cpo`: run the bundled reference CPO by hand, in any shape, optionally with defects.

`--print-sut` prints the declaration that describes it, to rehearse `run --role cpo --sut FILE` against it."""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlparse

from conformance.cli.errors import EXIT_OK, UsageError, port_number
from conformance.cli.exposure import LOOPBACK, check_bind, warn_if_exposed
from conformance.reference.cpo.shapes import SHAPES


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reference",
        help="run a bundled reference implementation",
        description="Run the bundled reference CPO in one of the shapes real backends are built in, optionally "
        "with planted defects; --print-sut prints the declaration that describes it.",
        epilog="shapes:\n" + "\n".join(f"  {s.name:13} {s.description}" for s in SHAPES.values()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("role", choices=("cpo", "emp"), help="which reference to run: cpo or emp")
    p.add_argument(
        "--mode",
        choices=("online", "offline"),
        default="online",
        help="the reference EMP's mode (default: online; EMP only)",
    )
    p.add_argument("--port", default="9000", help="port to listen on (default 9000)")
    p.add_argument(
        "--host",
        default=LOOPBACK,
        help="address to listen on (default: 127.0.0.1, loopback only; any other address warns: the reference "
        "authenticates no caller unless --tls or --api-key)",
    )
    p.add_argument(
        "--hub",
        default=None,
        help="the hub's base URL (default: http://127.0.0.1:8080/api/oicp; https://... with --tls)",
    )
    p.add_argument(
        "--tls",
        type=Path,
        metavar="DIR",
        help="mutual TLS with the certificates `oicp-conformance certs DIR` wrote: serve HTTPS with DIR/client.pem "
        "and client.key, accept only clients with a certificate of DIR/ca.pem, and call the hub over https "
        "presenting DIR/client.pem and trusting only a hub certificate of DIR/ca.pem",
    )
    p.add_argument(
        "--shape",
        default="official",
        metavar="SHAPE",
        help=f"how the backend is built: for a CPO {', '.join(SHAPES)} (listed below); for an EMP official, "
        "custom-urls, forward, relay, queue, offline, lenient (default official)",
    )
    p.add_argument("--defect", action="append", default=[], help="plant a named defect (see `defects --list`)")
    p.add_argument(
        "--custom-urls",
        action="store_true",
        help="serve /oicp/<operation>?provider=ID instead of the official path templates, as many deployed CPOs do",
    )
    p.add_argument("--api-key", help="require this value in the X-Api-Key header of inbound calls")
    p.add_argument(
        "--print-sut",
        action="store_true",
        help="print the declaration (oicp-sut.toml) describing this reference CPO and exit",
    )
    p.set_defaults(run=run)


def _hub(url: str) -> tuple[str, int, str]:
    """Host, port and path prefix of --hub, which must be an http(s) URL with a host."""
    parsed = urlparse(url)
    try:
        port = parsed.port
    except ValueError:
        raise UsageError(f"--hub {url!r} has an invalid port") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UsageError(f"--hub must be an http(s) URL with a host, like http://127.0.0.1:8080/api/oicp; got {url!r}")
    return parsed.hostname, port or (443 if parsed.scheme == "https" else 80), parsed.path.rstrip("/")


def run(args: argparse.Namespace) -> int:
    from conformance.reference.cpo.defects import DEFECTS

    port = port_number(args.port)
    args.hub = args.hub or f"{'https' if args.tls else 'http'}://127.0.0.1:8080/api/oicp"
    hub_host, hub_port, hub_prefix = _hub(args.hub)
    tls = tls_settings(args.tls, args.role) if args.tls else {}
    if args.tls and not args.hub.startswith("https://"):
        raise UsageError(f"--tls calls the hub over https, but --hub is {args.hub!r}: give an https:// URL")
    if args.role == "emp":
        return _run_emp(args, port, hub_port, tls)
    if unknown := [d for d in args.defect if d not in DEFECTS]:
        raise UsageError(f"unknown defect(s) {unknown}; `oicp-conformance defects --list` names them")
    if args.shape not in SHAPES:
        raise UsageError(f"unknown shape {args.shape!r} for the reference CPO; known: {', '.join(SHAPES)}")
    shape = SHAPES[args.shape]
    config = shape.build(
        hub_url=args.hub,
        defects=frozenset(args.defect),
        custom_urls=args.custom_urls or shape.build().custom_urls,
        api_key=args.api_key,
        **tls,
    )
    for name in args.defect:
        if why := DEFECTS[name].why_not(config):
            raise UsageError(f"defect {name} does not apply to shape {args.shape}: {why}")
    if args.print_sut:
        return _print_sut(args, port, hub_host, hub_port, hub_prefix)
    from conformance.reference.cpo.app import ReferenceCpo

    return _serve(
        ReferenceCpo(config),
        port,
        f"reference CPO {config.operator_id} on {{url}}, hub {args.hub}, shape {args.shape}, "
        f"defects: {', '.join(args.defect) or 'none'} (Ctrl-C stops)",
        args,
    )


def tls_settings(directory: Path, role: str) -> dict[str, str]:
    """The reference's Config fields for mutual TLS with DIR's certificates, each file checked now (exit 2)."""
    import ssl
    from importlib import import_module

    from conformance.cli.certs import check_folder
    from conformance.suites.reference import tls_config

    transport = import_module(f"conformance.reference.{role}.transport")
    settings = tls_config(directory.resolve())  # what `certs DIR` writes that a reference uses
    make = check_folder(directory, role, [Path(path).name for path in settings.values()])
    try:
        transport.server_context(settings["tls_cert"], settings["tls_key"], settings["tls_ca"])
        transport.client_context(settings["tls_ca"], settings["tls_cert"], settings["tls_key"])
    except (OSError, ssl.SSLError) as exc:  # unreadable, not PEM, or a key that is not the certificate's
        raise UsageError(f"--tls {directory}: cannot use client.pem, client.key and ca.pem: {exc}; {make}") from None
    return settings


def _serve(server: Any, port: int, started: str, args: argparse.Namespace) -> int:
    """Serve a reference on --host (loopback by default):`port` until Ctrl-C or SIGTERM; `started` is printed with
    its {url}. Another address than loopback is said on stderr, with who can still get in."""
    host = args.host
    try:
        check_bind(host, port)
    except UsageError:
        server.stop()  # a queue shape already started its workers
        raise
    if args.tls:
        guard = f"only clients with a certificate of {args.tls / 'ca.pem'} get in"
    elif getattr(args, "api_key", None):
        guard = "only calls with the --api-key get in, over plain HTTP (readable on the way) unless --tls"
    else:
        guard = "it has no authentication unless --tls"
    warn_if_exposed(f"the reference {args.role.upper()}", host, port, guard)
    try:
        url = server.start(host=host, port=port)
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc)).lower()
        raise UsageError(f"cannot listen on {host}:{port}: {reason}") from None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    print(started.format(url=url), flush=True)
    while not stop.wait(0.5):
        pass
    server.stop()
    print("stopped", file=sys.stderr)
    return EXIT_OK


def _reachable(host: str) -> str:
    """Where the suite reaches a reference listening on `host`: loopback for a wildcard, IPv6 in brackets."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        return LOOPBACK
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _print_sut(args: argparse.Namespace, port: int, hub_host: str, hub_port: int, hub_prefix: str) -> int:
    """The declaration on stdout; how to use it on stderr (so `> ref.toml` keeps the file clean)."""
    from conformance.sut.default import DEFAULT_API_KEY, reference_declaration

    text = reference_declaration(
        f"{'https' if args.tls else 'http'}://{_reachable(args.host)}:{port}",
        hub_port,
        hub_prefix=hub_prefix,
        custom_urls=args.custom_urls,
        api_key=DEFAULT_API_KEY if args.api_key else None,
        api_key_header=bool(args.api_key),
        shape=args.shape,
        hub_host=hub_host,
        tls=str(args.tls.resolve()) if args.tls else None,
    )
    print(text.lstrip("\n"), end="")
    if args.api_key:
        print("the declaration reads the key from OICP_REFERENCE_API_KEY: export it before `run`", file=sys.stderr)
    return EXIT_OK


def _run_emp(args: argparse.Namespace, port: int, hub_port: int, tls: dict[str, str]) -> int:
    """The reference EMP (online or offline), or its declaration with --print-sut."""
    from conformance.reference.emp import ReferenceEmp
    from conformance.reference.emp.defects import DEFECTS
    from conformance.sut.default import reference_emp_declaration

    if unknown := [d for d in args.defect if d not in DEFECTS]:
        raise UsageError(f"unknown defect(s) {unknown}; `oicp-conformance defects --role emp --list` names them")
    if args.custom_urls or args.api_key:
        raise UsageError("--custom-urls and --api-key set up the reference CPO; the EMP's shapes say where it serves")
    from conformance.reference.emp.shapes import SHAPES as EMP_SHAPES

    if args.shape not in EMP_SHAPES:
        raise UsageError(f"unknown shape {args.shape!r} for the reference EMP; known: {', '.join(EMP_SHAPES)}")
    mode = EMP_SHAPES[args.shape].config.get("mode", args.mode)
    config = EMP_SHAPES[args.shape].build(hub_url=args.hub, mode=mode, defects=frozenset(args.defect), **tls)
    for name in args.defect:
        if why := DEFECTS[name].why_not(config):
            raise UsageError(f"defect {name} does not apply to the {mode} reference EMP: {why}")
    if args.print_sut:
        scheme, folder = ("https", str(args.tls.resolve())) if args.tls else ("http", None)
        base_url = f"{scheme}://{_reachable(args.host)}:{port}"
        text = reference_emp_declaration(base_url, hub_port, mode, shape=args.shape, tls=folder)
        print(text.lstrip("\n"), end="")
        return EXIT_OK
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request would drown the output
    return _serve(
        ReferenceEmp(config),
        port,
        f"reference EMP {config.provider_id} ({mode}) on {{url}}, hub {args.hub}, shape {args.shape}, "
        f"defects: {', '.join(args.defect) or 'none'} (Ctrl-C stops)",
        args,
    )
