"""Where the command's servers listen: loopback unless the user names another address, and then a warning.

The fake hub and the references have no authentication of their own (unless TLS): on 0.0.0.0 anyone on the
network could push EVSE data into a run or start sessions on a reference, so leaving loopback is said out loud.
"""

from __future__ import annotations

import ipaddress
import socket
import sys

from conformance.cli.errors import UsageError, one_line

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`; a wildcard (0.0.0.0, ::, "") or any other name is not."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, port: int) -> None:
    """Bind once and close, before the server does: a host this machine does not have is one line, not a traceback.

    Binding sends nothing on the network; the probe socket never listens."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (OSError, UnicodeError, ValueError) as exc:
        raise UsageError(f"--host {host!r}: not an address of this machine or a name it resolves ({exc})") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {(exc.strerror or str(exc)).lower()}") from None


def warn_if_exposed(what: str, host: str, port: int, protection: str) -> bool:
    """One warning line on stderr when `what` will listen beyond loopback (`protection`: who still gets in);
    True when it warned."""
    if is_loopback(host):
        return False
    where = f"{host or '0.0.0.0'}:{port}" if port else f"{host or '0.0.0.0'} (a free port)"
    print(
        one_line(f"warning: {what} accepts calls from other machines on {where}; {protection}"),
        file=sys.stderr,
        flush=True,
    )
    return True


def warn_if_hub_exposed(source: object, sut: object) -> bool:
    """The warning for a declaration whose `[hub] host` leaves loopback (`run` and `check-config` alike)."""
    guard = "only callers with a certificate of its [hub] tls CA get in" if getattr(sut, "hub_tls", None) else ""
    guard = guard or "it has no authentication without [hub] tls"
    host, port = getattr(sut, "hub_host", LOOPBACK), getattr(sut, "hub_port", 0)
    return warn_if_exposed(f"{source} [hub] host: the fake hub", host, port, guard)
