"""`oicp-conformance certs DIR --operator ID | --provider ID`: certificates to test a mutual-TLS set-up locally.

Hubject knows a partner by its client certificate. This writes a local test CA, the fake hub's certificate and
one for the partner (its ID as common name), and prints the declaration lines that use them.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterable
from pathlib import Path

from conformance.cli.errors import EXIT_OK, UsageError
from conformance.tls import CertError, write_certs


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "certs",
        help="write a test CA, a fake-hub certificate and a partner certificate for mutual TLS",
        description="Write into DIR a local test CA (ca.pem, ca.key: reused when DIR has one), the fake hub's "
        "certificate (hub.pem, hub.key) and a client certificate with key for one partner (NAME.pem, NAME.key) "
        "whose subject names its OperatorID or ProviderID, as Hubject's do. Valid for 127.0.0.1, ::1 and "
        "localhost only; for tests, never for production. Existing files are kept unless --force.",
    )
    p.add_argument("directory", type=Path, metavar="DIR", help="where to write (created if missing)")
    # exactly one of the two, checked by write_certs: argparse's own exclusion error would print its usage too
    p.add_argument("--operator", metavar="ID", help="the certificate is a CPO's, for this OperatorID (e.g. DE*ABC)")
    p.add_argument("--provider", metavar="ID", help="the certificate is an EMP's, for this ProviderID (e.g. DE-DCB)")
    p.add_argument("--name", default="client", help="file name of the partner's certificate and key (default: client)")
    p.add_argument("--force", action="store_true", help="replace the partner's certificate and key if they exist")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        files = write_certs(
            args.directory, operator=args.operator, provider=args.provider, name=args.name, force=args.force
        )
    except CertError as exc:
        raise UsageError(str(exc)) from exc
    where = files.directory.resolve()
    what = {
        files.ca: "test CA certificate (trust it on both sides)",
        files.ca_key: "test CA key (issues further certificates: certs DIR --name NAME ...)",
        files.hub: "the fake hub's certificate",
        files.hub_key: "the fake hub's key",
        files.cert: f"{files.role} {files.partner}: your backend's certificate",
        files.key: f"{files.role} {files.partner}: your backend's key",
    }
    for path, meaning in what.items():
        state = "wrote" if path in files.written else "kept "
        print(f"{state} {where / path.name}  {meaning}")
    ca, hub, hub_key = (_toml(where / name) for name in ("ca.pem", "hub.pem", "hub.key"))
    print(
        f"""
In the SUT declaration (oicp-sut.toml):

[tls]                 # the suite's calls to your backend: present the hub's certificate, trust the test CA
ca_file = {ca}
cert_file = {hub}
key_file = {hub_key}

[hub]                 # the fake hub serves https and knows each caller by its certificate
tls = {_toml(where)}

Your backend: serve with {where / files.cert.name} and {where / files.key.name}, require client certificates of
{where / "ca.pem"}, and call the hub at https://127.0.0.1:PORT/api/oicp presenting the same certificate.
A fake hub by hand: oicp-conformance hub --tls {shlex.quote(str(where))}"""
    )
    return EXIT_OK


def _toml(path: Path) -> str:
    """A TOML basic string of the path (backslashes and quotes escaped)."""
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def check_folder(folder: Path, role: str, names: Iterable[str]) -> str:
    """`--tls DIR` of a run or reference: one line (exit 2) when DIR or one of `names` in it is missing, saying how
    to make them for the bundled reference of `role`; returns that advice for later errors."""
    flag = "--operator 'DE*REF'" if role == "cpo" else "--provider DE-REF"
    make = f"make them with `oicp-conformance certs {folder} {flag}`"
    if not folder.is_dir():
        raise UsageError(f"--tls {folder}: no such folder; {make}")
    if missing := [name for name in names if not (folder / name).is_file()]:
        raise UsageError(f"--tls {folder}: no {', '.join(missing)} there; {make}")
    return make
