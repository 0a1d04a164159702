"""`oicp-conformance check-config FILE`: validate a declaration and probe each URL it names, before a long run."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path
from urllib.parse import urlparse

from conformance.cli.errors import EXIT_BAD_INPUT, EXIT_OK, UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-config", help="validate an oicp-sut.toml and probe every URL it declares")
    p.add_argument("file", type=Path)
    p.set_defaults(run=run)


def _listening(url: str) -> str | None:
    parsed = urlparse(url.replace("{", "").replace("}", ""))
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=5):
            return None
    except OSError as exc:
        return f"nothing listens at {parsed.hostname}:{port} ({exc.strerror or exc})"


def run(args: argparse.Namespace) -> int:
    from conformance.catalog import load_release
    from conformance.sut import ConfigError, load
    from conformance.sut.client import poke

    try:
        sut = load(args.file)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    print(f"{args.file}: valid declaration of {sut.name} (OICP {sut.release}, operator {sut.operator_id})")
    problems = 0
    release = load_release(sut.release)
    for op in release.operations:
        if op.served_by != "cpo" or (op.cpo != "mandatory" and "Reservation" in op.name and not sut.has("reservation")):
            continue
        url, answer, error = poke(sut, op)
        if answer is None:
            verdict = f"unreachable: {error}"
        else:
            if answer.status_code in (401, 403):
                verdict = f"authorisation problem: HTTP {answer.status_code} to the declared headers"
            elif answer.status_code >= 500:
                verdict = f"HTTP {answer.status_code} to an empty request (expected a refusal, not a server error)"
            elif not answer.headers.get("content-type", "").startswith("application/json"):
                verdict = f"answers {answer.headers.get('content-type') or 'no content type'}, not JSON"
            else:
                verdict = None
        problems += verdict is not None
        print(
            f"  {'ok     ' if verdict is None else 'PROBLEM'} {op.id:38} {url}"
            + (f"\n          {verdict}" if verdict else "")
        )
    for name, trigger in sorted(sut.triggers.items()):
        verdict = _listening(trigger.url.replace("{base_url}", sut.base_url)) if trigger.url else None
        problems += verdict is not None
        where = trigger.url or f"command: {trigger.command}"
        print(
            f"  {'ok     ' if verdict is None else 'PROBLEM'} trigger {name:30} {where}"
            + (f"\n          {verdict}" if verdict else "")
        )
    print("all declared URLs answer" if not problems else f"{problems} problem(s): fix them before a run")
    return EXIT_OK if not problems else EXIT_BAD_INPUT
