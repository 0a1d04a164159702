"""Misbehaving servers on loopback for the hostile-SUT matrix (tests/test_hostile.py).

Each server is a raw socket server in threads on 127.0.0.1, port 0, that reads one HTTP request and then
misbehaves in one named way: it stands in for a broken SUT. `Hostile.stop()` ends every connection it holds
(a hanging or dripping handler waits on an event, never on a bare sleep), so a test never leaves a thread
behind. TLS cases wrap the accepted socket in an SSL context made with trustme.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import trustme

ACK = {"Result": True, "StatusCode": {"Code": "000"}}
# A well-formed OICP message, but not the acknowledgement a RemoteStart is answered with: an EVSE data push.
EVSE_PUSH = {
    "ActionType": "fullLoad",
    "OperatorEvseData": {"OperatorID": "DE*ABC", "OperatorName": "ABC", "EvseDataRecord": []},
}
HUGE = 10 * 1024 * 1024  # bytes of the oversized answer

Behaviour = Callable[["Connection"], None]


class Connection:
    """One accepted connection: the request's bytes, and ways to answer (or not) that stop when the server does."""

    def __init__(self, sock: socket.socket, stopping: threading.Event) -> None:
        self.sock, self.stopping = sock, stopping

    def read_request(self) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(body) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def answer(self, status: str, body: bytes, content_type: str = "application/json", extra: str = "") -> None:
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n{extra}\r\n"
        )
        self.sock.sendall(head.encode() + body)

    def hold(self) -> None:
        """Keep the connection open, silent, until the server stops."""
        self.stopping.wait()


def _hang(conn: Connection) -> None:
    conn.read_request()
    conn.hold()


def _drip(conn: Connection) -> None:
    """A whole (valid) answer, one byte a second: every read gets a byte well within any read timeout."""
    conn.read_request()
    body = json.dumps(ACK).encode()
    whole = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    for i in range(len(whole)):
        conn.sock.sendall(whole[i : i + 1])
        if conn.stopping.wait(1.0):
            return


def _huge(conn: Connection) -> None:
    conn.read_request()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {HUGE}\r\n\r\n"
    conn.sock.sendall(head.encode() + b'{"Result": true, "pad": "')
    block = b"x" * 65536
    sent = 0
    while sent < HUGE and not conn.stopping.is_set():
        conn.sock.sendall(block)
        sent += len(block)


def _json(status: str, value: Any) -> Behaviour:
    def behave(conn: Connection) -> None:
        conn.read_request()
        conn.answer(status, json.dumps(value).encode())

    return behave


def _raw(status: str, body: bytes, content_type: str = "application/json", extra: str = "") -> Behaviour:
    def behave(conn: Connection) -> None:
        conn.read_request()
        conn.answer(status, body, content_type, extra)

    return behave


def _redirect_loop(conn: Connection) -> None:
    request = conn.read_request()
    path = request.split(b" ", 2)[1].decode()
    conn.answer("302 Found", b"", "text/plain", f"Location: {path}\r\n")


def _garbage(conn: Connection) -> None:
    """Not TLS at all: what a TLS client gets from a plain server (or a broken proxy) on an https URL."""
    conn.sock.recv(65536)
    conn.sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


BEHAVIOURS: dict[str, Behaviour] = {
    "hang": _hang,
    "drip": _drip,
    "huge": _huge,
    "invalid-json": _raw("200 OK", b'{"Result": true, "StatusCode": {"Code": "000"'),
    "other-message": _json("200 OK", EVSE_PUSH),
    "html": _raw("200 OK", b"<html><body><h1>Welcome to nginx!</h1></body></html>", "text/html"),
    "redirect-loop": _redirect_loop,
    "empty": _raw("200 OK", b""),
    "ack": _json("200 OK", ACK),
    "garbage": _garbage,
}


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, behaviour: Behaviour, context: ssl.SSLContext | None) -> None:
        self.behaviour, self.context, self.stopping = behaviour, context, threading.Event()
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (or failed the handshake) is what these servers are for: no traceback."""


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(30)  # a handler never outlives a forgotten client by much
        with self.server.lock:
            self.server.open.add(sock)
        try:
            if self.server.context is not None:
                sock = self.server.context.wrap_socket(sock, server_side=True)
            self.server.behaviour(Connection(sock, self.server.stopping))
        except (OSError, ValueError):
            pass  # the client left, the handshake failed: both are the point of a hostile server
        finally:
            with self.server.lock:
                self.server.open.discard(self.request)


class Hostile:
    """A running misbehaving server; `url` to call, `stop()` to end it and its connections."""

    def __init__(self, behaviour: Behaviour, context: ssl.SSLContext | None = None) -> None:
        self._server = _Server(behaviour, context)
        self.port = self._server.server_address[1]
        self.url = f"{'https' if context else 'http'}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        with self._server.lock:
            for sock in list(self._server.open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._thread.join(5)


def refused_url() -> str:
    """A loopback URL nothing listens on: a port the system handed out and that was closed again at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class Certificates:
    """A test CA (trusted by the suite's side) and the server contexts of the TLS cases, made with trustme."""

    def __init__(self) -> None:
        self.ca = trustme.CA()
        self.other_ca = trustme.CA()

    def client_trust(self) -> ssl.SSLContext:
        """What the suite's side trusts: this CA only (as a declaration's [tls] ca_file would)."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def server(self, case: str) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if case == "other-host":
            self.ca.issue_cert("sut.other.example").configure_cert(context)
        elif case == "expired":
            now = datetime.now(UTC)
            self.ca.issue_cert(
                "127.0.0.1", not_before=now - timedelta(days=30), not_after=now - timedelta(days=1)
            ).configure_cert(context)
        elif case == "unknown-ca":
            self.other_ca.issue_cert("127.0.0.1").configure_cert(context)
        elif case in ("client-cert", "ok"):
            self.ca.issue_cert("127.0.0.1").configure_cert(context)
            if case == "client-cert":  # a SUT that lets in only partners with a certificate of its CA
                self.other_ca.configure_trust(context)
                context.verify_mode = ssl.CERT_REQUIRED
        else:
            raise KeyError(case)
        return context
