"""The reference CPO's transport: plain HTTP, or mutual TLS as Hubject runs it.

Hubject and its partners authenticate each other with client certificates: a partner serves HTTPS and requires
the hub's certificate, and presents its own certificate when it calls the hub. With `Config.tls_cert` set the
reference serves HTTPS with that certificate and, with `Config.tls_ca`, accepts only clients whose certificate
that CA signed; its hub client presents the same certificate and trusts the hub's only when that CA signed it."""

from __future__ import annotations

import socket
import ssl
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

HANDSHAKE_SECONDS = 10.0  # a client that connects and never finishes its TLS handshake gives up its thread then


def server_context(cert: str, key: str | None, ca: str | None) -> ssl.SSLContext:
    """TLS for serving: our certificate; with `ca`, a client must present a certificate that CA signed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    if ca:
        context.load_verify_locations(cafile=ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(ca: str | None, cert: str | None, key: str | None) -> ssl.SSLContext:
    """TLS for calling the hub: trust `ca` (the system's CAs without it), present our certificate if we have one."""
    context = ssl.create_default_context(cafile=ca)
    if cert:
        context.load_cert_chain(cert, key)
    return context


class _Handler(WSGIRequestHandler):
    """Finishes the TLS handshake in the connection's own thread, within HANDSHAKE_SECONDS.

    Python's TLS listener would otherwise shake hands inside accept(), so one silent client would stop every
    other from being served. A refused handshake (no certificate, one of another CA) just closes the connection."""

    def handle(self) -> None:
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.settimeout(HANDSHAKE_SECONDS)
                self.connection.do_handshake()
                self.connection.settimeout(None)
            except (OSError, ValueError):
                return
        super().handle()


def serve(app: Any, host: str, port: int, tls: ssl.SSLContext | None) -> Any:
    """A threaded werkzeug server on host:port (not yet serving), HTTPS when `tls` is given.

    The socket is bound here, not by werkzeug, whose own bind prints to stderr and exits on failure; a port in use
    raises OSError (EADDRINUSE)."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
        server = make_server(host, port, app, threaded=True, fd=listener.fileno(), request_handler=_Handler)
    finally:
        listener.close()  # the server works on its own duplicate of the socket
    if tls is not None:  # werkzeug's own ssl_context would shake hands in accept(): see _Handler
        server.socket = tls.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        server.ssl_context = tls
    return server
