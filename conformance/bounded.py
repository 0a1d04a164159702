"""HTTP calls to a system under test that end within a stated time and size, whatever the other side does.

httpx's timeouts bound each network operation: a server that sends one byte a second never trips a read timeout
and holds a call for as long as it likes. Here every call has a *total* deadline: each connect, TLS handshake,
read and write of the call gets at most the time left (a network back-end under httpcore's connection pool clamps
them), and the body is streamed and cut at a size cap instead of being read to the end. Redirects are never
followed: a 3xx is the SUT's answer to the URL called. Transport failures (TLS above all) are named in plain words
with the URL, in the `Type: words` shape the checks file under "no answer".

Both directions use it: the suite calling the SUT (`conformance.sut.client`) and the fake hub calling a partner
(`conformance.hub.partners`).
"""

from __future__ import annotations

import json
import ssl
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

ANSWER_LIMIT = 1024 * 1024  # bytes: an acknowledgement is a few hundred; more is judged "too large", unread
PROBE_LIMIT = 32 * 1024 * 1024  # a read-only probe may list many sessions or CDRs

# The monotonic time by which the current call (in this thread or task) must be over; None: no call is running.
_DEADLINE: ContextVar[float | None] = ContextVar("oicp_call_deadline", default=None)


def _clamp(timeout: float | None, late: type[Exception]) -> float | None:
    """The time one network operation may take: its own timeout, but never past the call's deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise late("the call's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A connection whose every operation ends by the deadline of the call using it (a pooled connection serves
    several calls: each read looks the deadline up again)."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        timeout = _clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, _clamp(timeout, httpcore.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Transport(httpx.HTTPTransport):
    """httpx's own transport, its connection pool given the deadline-keeping back-end (httpcore reads the pool's
    back-end each time it opens a connection). Were the attribute ever gone, calls keep their per-operation
    timeouts and the streamed body still stops at the deadline; tests/test_hostile.py would show the rest."""

    def __init__(self, verify: Any) -> None:
        super().__init__(verify=verify)
        pool = getattr(self, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = _Backend(pool._network_backend)


def new_client(verify: Any = True, **options: Any) -> httpx.Client:
    """An httpx client whose calls through `exchange` keep their total deadline; redirects are not followed."""
    return httpx.Client(transport=_Transport(verify), follow_redirects=False, **options)


class NoAnswer(Exception):
    """No answer came (or not within the deadline); `error` reads `Type: what happened, with the URL`.

    `timed_out`: the deadline passed (something may be listening), rather than nothing could be reached."""

    def __init__(self, error: str, elapsed: float, *, timed_out: bool = False) -> None:
        super().__init__(error)
        self.error, self.elapsed, self.timed_out = error, elapsed, timed_out


@dataclass
class Received:
    """What came back, read up to the size cap (a subset of httpx.Response's reading API)."""

    url: str
    status_code: int
    headers: httpx.Headers
    content: bytes
    elapsed: float
    limit: int
    too_large: int | None = None  # bytes the answer has at least, when over the cap: it was not read to the end
    charset: str | None = None  # the Content-Type's

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        try:
            return self.content.decode(self.charset or "utf-8", "replace")
        except LookupError:  # a charset Python does not know: the bytes as UTF-8, the label judged elsewhere
            return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def note(self) -> str:
        """Why what was read is not the SUT's whole answer ("" when it is): too large, or a redirect."""
        if self.too_large is not None:
            return (
                f"answer too large: at least {self.too_large} bytes, over the {_size(self.limit)} an answer may have "
                f"here; not read to the end ({self.url})"
            )
        if 300 <= self.status_code < 400:
            where = self.headers.get("Location")
            target = f" to {where}" if where else " without a Location"
            return f"HTTP {self.status_code} redirect{target} not followed: an OICP answer comes from the URL called"
        return ""


def exchange(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float,
    limit: int = ANSWER_LIMIT,
) -> Received:
    """One call that ends within `timeout` seconds in total and reads at most `limit` bytes of the answer.

    Raises NoAnswer for every transport failure (nothing listens, no answer in time, TLS, a broken answer)."""
    started = time.monotonic()
    deadline = started + timeout
    token = _DEADLINE.set(deadline)
    seen = 0
    try:
        with client.stream(method, url, content=content, headers=headers, timeout=timeout) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                return _received(url, response, b"", started, limit, int(declared))
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                seen = len(data)
                if seen > limit:
                    return _received(url, response, bytes(data[:limit]), started, limit, seen)
                if time.monotonic() > deadline:  # only where the back-end could not clamp the reads
                    raise httpx.ReadTimeout("the call's deadline has passed")
            return _received(url, response, bytes(data), started, limit, None)
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
        elapsed = time.monotonic() - started
        timed_out = isinstance(exc, httpx.TimeoutException)
        raise NoAnswer(explain(exc, url, timeout, seen), elapsed, timed_out=timed_out) from exc
    finally:
        _DEADLINE.reset(token)


def _received(
    url: str, response: httpx.Response, content: bytes, started: float, limit: int, too_large: int | None
) -> Received:
    elapsed = time.monotonic() - started
    return Received(
        url, response.status_code, response.headers, content, elapsed, limit, too_large, response.charset_encoding
    )


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


def explain(exc: BaseException, url: str, timeout: float | None = None, seen: int = 0) -> str:
    """A transport failure as `Type: plain words (the library's own words)`, naming the URL."""
    kind = type(exc).__name__
    raw = str(exc) or repr(exc.__context__ or exc)
    where = _origin(url)
    low = raw.lower()
    if isinstance(exc, httpx.TimeoutException):
        if isinstance(exc, httpx.ConnectTimeout):
            what = f"no connection to {where} within {timeout:g} s" if timeout else f"no connection to {where} in time"
        else:
            came = f"; {seen} bytes of the answer had come" if seen else ""
            limit = f"within {timeout:g} s, the deadline of the whole call" if timeout else "in time"
            what = f"no complete answer from {url} {limit}{came}"
        return f"{kind}: {what}"
    if "connection refused" in low:
        return f"{kind}: connection refused: nothing listens at {where} ({url})"
    if "certificate_required" in low or "certificate required" in low:
        what = f"TLS: {where} requires a client certificate and none was presented (declare [tls] cert_file, key_file)"
    elif "alert bad certificate" in low or "alert unknown ca" in low or "alert certificate unknown" in low:
        what = f"TLS: {where} refused the client certificate presented"
    elif "mismatch" in low or "doesn't match" in low or "not valid for" in low:
        what = f"TLS: the certificate of {where} is for another host"
    elif "expired" in low:
        what = f"TLS: the certificate of {where} has expired"
    elif "not yet valid" in low:
        what = f"TLS: the certificate of {where} is not valid yet"
    elif "self-signed" in low or "self signed" in low or "unable to get local issuer" in low or "unknown ca" in low:
        what = f"TLS: the certificate of {where} is not signed by a trusted CA (declare [tls] ca_file)"
    elif "certificate verify failed" in low:
        what = f"TLS: the certificate of {where} cannot be verified"
    elif "alert handshake failure" in low:
        what = f"TLS handshake with {where} failed: the server refused it (a client certificate it requires?)"
    elif "ssl" in low or "tls" in low or isinstance(exc.__context__, ssl.SSLError):
        what = f"TLS handshake with {where} failed: the server does not speak TLS as expected"
    else:
        return f"{kind}: {raw} ({url})"
    return f"{kind}: {what} ({raw}) ({url})"


def _origin(url: str) -> str:
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url
    except ValueError:
        return url
