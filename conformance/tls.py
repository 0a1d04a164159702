"""Mutual TLS as Hubject runs it: a local test CA, certificates that carry a partner's ID, SSL contexts.

Hubject identifies every caller by its client certificate and answers StatusCode 017 when the call's
OperatorID or ProviderID is not the certificate's (OICP 2.3 CPO 1 / EMP 1 "Security"). To test that on one
machine, `write_certs` makes (with trustme) a test CA, a certificate for the fake hub, and one per partner
whose subject names the partner: common name = the ID, organizational unit = "OperatorID" or "ProviderID".
`partner_of` reads that back from the certificate a peer presented.

Files in the directory: ca.pem / ca.key (the CA, reused on a second call so every partner shares it),
hub.pem / hub.key (the fake hub: server and client auth), NAME.pem / NAME.key (the partner, default "client").
Keys are written mode 0600; nothing existing is overwritten unless `force` (then atomically).
"""

from __future__ import annotations

import contextlib
import os
import re
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.oicp.ids import operator_key, provider_key

if TYPE_CHECKING:
    import trustme

# trustme and cryptography are imported where they are used: the fake hub imports this module on every run,
# and only a TLS run needs them (~60 ms of imports).

ROLES = ("OperatorID", "ProviderID")
# Where the certificates are valid: loopback, the only place the tool serves and calls by default.
HOSTS = ("127.0.0.1", "::1", "localhost")
ORGANIZATION = "oicp-conformance test certificates"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_RESERVED = ("ca", "hub")


class CertError(ValueError):
    """Certificates that cannot be written or read; the message names the file and what is wrong."""


@dataclass(frozen=True)
class CertFiles:
    """What a `write_certs` directory holds, and which files this call wrote."""

    directory: Path
    ca: Path
    ca_key: Path
    hub: Path
    hub_key: Path
    cert: Path  # the partner's certificate (NAME.pem)
    key: Path  # its key (NAME.key)
    role: str  # "OperatorID" or "ProviderID"
    partner: str  # the ID the partner's certificate carries
    written: tuple[Path, ...] = ()


def write_certs(
    directory: Path,
    *,
    operator: str | None = None,
    provider: str | None = None,
    name: str = "client",
    force: bool = False,
) -> CertFiles:
    """Write a test CA (or reuse the one in `directory`), the hub's certificate and a partner's certificate.

    Exactly one of `operator` (a CPO's OperatorID) or `provider` (an EMP's ProviderID). Raises CertError."""
    import trustme

    role, partner = _partner(operator, provider)
    if not _NAME.match(name) or name in _RESERVED:
        raise CertError(
            f"--name {name!r}: expected a plain file name of letters, digits, '.', '_' or '-' "
            f"(not {' or '.join(_RESERVED)}, which are the CA's and the hub's)"
        )
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CertError(f"{directory}: cannot create the directory ({exc.strerror or exc})") from exc
    if not directory.is_dir():
        raise CertError(f"{directory}: not a directory")
    files = CertFiles(
        directory,
        directory / "ca.pem",
        directory / "ca.key",
        directory / "hub.pem",
        directory / "hub.key",
        directory / f"{name}.pem",
        directory / f"{name}.key",
        role,
        partner,
    )
    if not force and (files.cert.exists() or files.key.exists()):
        existing = files.cert if files.cert.exists() else files.key
        raise CertError(f"{existing}: exists already (--force replaces it, --name NAME writes another partner's)")
    written: list[Path] = []
    ca = _load_ca(files)
    if ca is None:
        ca = trustme.CA(organization_name=ORGANIZATION, organization_unit_name="test CA, not for production")
        written += _write_pair(files.ca_key, ca.private_key_pem.bytes(), files.ca, ca.cert_pem.bytes(), force)
    if not (files.hub.exists() and files.hub_key.exists()):
        hub = ca.issue_cert(
            *HOSTS, common_name="fake Hubject", organization_name=ORGANIZATION, organization_unit_name="hub"
        )
        written += _write_pair(
            files.hub_key, hub.private_key_pem.bytes(), files.hub, hub.cert_chain_pems[0].bytes(), force
        )
    else:
        _issued_by(files.hub, files.ca)
    leaf = ca.issue_cert(*HOSTS, common_name=partner, organization_name=ORGANIZATION, organization_unit_name=role)
    written += _write_pair(files.key, leaf.private_key_pem.bytes(), files.cert, leaf.cert_chain_pems[0].bytes(), force)
    return CertFiles(**{**files.__dict__, "written": tuple(written)})


def _partner(operator: str | None, provider: str | None) -> tuple[str, str]:
    if (operator is None) == (provider is None):
        raise CertError("give exactly one of --operator ID (a CPO's certificate) or --provider ID (an EMP's)")
    if operator is not None:
        if operator_key(operator) is None:
            raise CertError(
                f"--operator {operator!r}: not an OICP OperatorID (ISO like DE*ABC or DEABC, DIN like +49*536)"
            )
        return "OperatorID", operator
    assert provider is not None
    if provider_key(provider) is None:
        raise CertError(f"--provider {provider!r}: not an OICP ProviderID (like DE-DCB, DE*DCB or DEDCB)")
    return "ProviderID", provider


def _load_ca(files: CertFiles) -> trustme.CA | None:
    """The CA already in the directory (None: there is none); half a CA or an unreadable one is an error."""
    has_cert, has_key = files.ca.exists(), files.ca_key.exists()
    if not (has_cert or has_key):
        if files.hub.exists() or files.hub_key.exists():
            hub = files.hub if files.hub.exists() else files.hub_key
            raise CertError(f"{hub}: exists without the CA that issued it ({files.ca.name}, {files.ca_key.name})")
        return None
    import trustme
    from cryptography.exceptions import UnsupportedAlgorithm

    if not (has_cert and has_key):
        missing = files.ca_key if has_cert else files.ca
        raise CertError(f"{missing}: missing beside {files.ca if has_cert else files.ca_key} (a CA needs both)")
    try:
        return trustme.CA.from_pem(files.ca.read_bytes(), files.ca_key.read_bytes())
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CertError(f"{files.ca} / {files.ca_key}: not a readable PEM certificate and key ({exc})") from exc


def _issued_by(cert: Path, ca: Path) -> None:
    """An existing hub certificate must be of this directory's CA, or the hub would be refused by its own peers."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

    try:
        leaf = x509.load_pem_x509_certificate(cert.read_bytes())
        leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.read_bytes()))
    except InvalidSignature as exc:
        raise CertError(f"{cert}: not a certificate issued by {ca} (its signature does not verify)") from exc
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CertError(f"{cert}: not a certificate issued by {ca} ({exc or type(exc).__name__})") from exc


def _write_pair(key_path: Path, key: bytes, cert_path: Path, cert: bytes, force: bool) -> list[Path]:
    """The key first (mode 0600), then its certificate: a certificate never lies beside no key."""
    _write(key_path, key, 0o600, force)
    _write(cert_path, cert, 0o644, force)
    return [cert_path, key_path]


def _write(path: Path, data: bytes, mode: int, force: bool) -> None:
    """Write to a temporary file of `mode` beside `path`, then put it in place: replaced only when `force`."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise CertError(f"{path.parent}: cannot write there ({exc.strerror or exc})") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)
            out.write(data)
        if force:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails when the file appeared meanwhile: never overwritten
    except FileExistsError as exc:
        raise CertError(f"{path}: exists already (--force replaces it)") from exc
    except OSError as exc:
        raise CertError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def partner_of(cert: bytes | str | None) -> tuple[str, str] | None:
    """(role, ID) from a peer certificate (PEM or DER) made like `write_certs` makes them, else None.

    The role is the subject's organizational unit ("OperatorID" or "ProviderID"), the ID its common name."""
    from cryptography.x509.oid import NameOID

    parsed = _certificate(cert)
    if parsed is None:
        return None
    units = [a.value for a in parsed.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
    names = [a.value for a in parsed.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    roles = [u for u in units if u in ROLES]
    if len(roles) != 1 or len(names) != 1 or not isinstance(names[0], str):
        return None
    role, partner = str(roles[0]), names[0]
    valid = operator_key(partner) if role == "OperatorID" else provider_key(partner)
    return (role, partner) if valid is not None else None


def describe(cert: bytes | str | None) -> str:
    """The subject of a peer certificate in a line, for a refusal that must say whose certificate it was."""
    if not cert:
        return "(no certificate)"
    parsed = _certificate(cert)
    return "(unreadable certificate)" if parsed is None else parsed.subject.rfc4514_string()


def _certificate(cert: bytes | str | None) -> Any:
    """A cryptography certificate from PEM or DER, None when there is none or it cannot be read."""
    from cryptography import x509

    if not cert:
        return None
    data = cert.encode("ascii", "replace") if isinstance(cert, str) else cert
    try:
        return x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except ValueError:
        return None


class HandshakeInThread(ssl.SSLContext):
    """A server context whose handshake runs on a connection's first read, in the thread that serves it.

    Werkzeug wraps its listening socket, so by default the handshake runs inside `accept()`, in the one thread
    that accepts: a client that connects and says nothing would stall every other caller."""

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        return super().wrap_socket(sock, server_side, not server_side and do_handshake_on_connect, *args, **kwargs)


def server_context(cert: Path | str, key: Path | str, ca: Path | str) -> ssl.SSLContext:
    """A server context presenting `cert` that requires a client certificate issued by `ca` (CERT_REQUIRED)."""
    context = HandshakeInThread(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    _load(context, cert, key, ca)
    return context


def client_context(ca: Path | str, cert: Path | str | None = None, key: Path | str | None = None) -> ssl.SSLContext:
    """A client context that trusts only `ca` (host names checked) and presents `cert` when given."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _load(context, cert, key, ca)
    return context


def _load(context: ssl.SSLContext, cert: Path | str | None, key: Path | str | None, ca: Path | str) -> None:
    """Load the CA and the certificate chain; a missing or broken file is a CertError naming it."""
    try:
        context.load_verify_locations(cafile=str(ca))
    except (OSError, ssl.SSLError) as exc:
        raise CertError(f"{ca}: not a readable PEM CA certificate ({_reason(exc)})") from exc
    if cert is None:
        return
    try:
        context.load_cert_chain(str(cert), str(key) if key is not None else None)
    except (OSError, ssl.SSLError) as exc:
        raise CertError(f"{cert} / {key}: not a readable PEM certificate with its key ({_reason(exc)})") from exc


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc) or type(exc).__name__
