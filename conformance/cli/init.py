"""`oicp-conformance init`: write a commented `oicp-sut.toml` from a few answers (or flags, for CI)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from conformance.cli.errors import UsageError

TEMPLATE = """# oicp-sut.toml for {name}: written by `oicp-conformance init`; see fixtures/oicp-sut.example.toml
# for every key. Check it with `oicp-conformance check-config {output}`.

name = {name_q}
role = "cpo"
release = {release_q}
base_url = {base_url_q}            # where the SUT serves Hubject's calls (official path templates below it)
operator_id = {operator_q}
evse_ids = {evses}
features = {features}              # optional operations: authorize_stop, reservation, charging_notifications
timeout = 10.0

[hub]                              # point the SUT's Hubject URL at http://127.0.0.1:{hub_port}{prefix}
port = {hub_port}
prefix = {prefix_q}

[outbound]
timeout = 2.0                      # the SUT's own timeout for calls to the hub
max_retries = 4
retry_window = 30.0

# Triggers make the SUT call the hub; without them those checks are skipped with the reason.
# [triggers.push_evse_data]
# url = "{{base_url}}/admin/push-evse-data"
# body = '{{"action": "{{action}}", "evse_ids": {{evse_ids}}}}'
# [triggers.authorize_start]
# url = "{{base_url}}/admin/authorize"
# body = '{{"identification": {{identification}}, "evse_id": "{{evse_id}}"}}'
# [triggers.end_session]
# command = "my-cli end-session {{session_id}}"
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="write a commented oicp-sut.toml (asks, or takes flags)")
    p.add_argument("--output", "-o", type=Path, default=Path("oicp-sut.toml"))
    p.add_argument("--name")
    p.add_argument("--base-url")
    p.add_argument("--operator-id")
    p.add_argument("--evse-id", action="append", default=[])
    p.add_argument("--feature", action="append", default=[])
    p.add_argument("--hub-port", type=int)
    p.add_argument("--prefix", default="/api/oicp")
    p.add_argument("--release", default="2.3")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(run=run)


def _ask(value: str | None, question: str, default: str) -> str:
    if value:
        return value
    if not sys.stdin.isatty():
        return default
    answer = input(f"{question} [{default}]: ").strip()
    return answer or default


def run(args: argparse.Namespace) -> int:
    from conformance.sut import ConfigError, load

    if args.output.exists() and not args.force:
        raise UsageError(f"{args.output} exists; it stays as it is (use --force to replace it, or --output)")
    name = _ask(args.name, "name of the system under test", "my CPO backend")
    base_url = _ask(args.base_url, "base URL of its OICP endpoints", "http://127.0.0.1:9000")
    operator = _ask(args.operator_id, "its OperatorID", "DE*ABC")
    evses = args.evse_id or [
        e.strip() for e in _ask(None, "its EvseIDs (comma-separated)", f"{operator}*E1*1").split(",") if e.strip()
    ]
    hub_port = args.hub_port if args.hub_port is not None else int(_ask(None, "port for the fake hub", "8080"))
    text = TEMPLATE.format(
        name=name,
        name_q=json.dumps(name),
        release_q=json.dumps(args.release),
        base_url_q=json.dumps(base_url),
        operator_q=json.dumps(operator),
        evses=json.dumps(evses),
        features=json.dumps(args.feature),
        hub_port=hub_port,
        prefix=args.prefix,
        prefix_q=json.dumps(args.prefix),
        output=args.output,
    )
    args.output.write_text(text, encoding="utf-8")
    try:
        load(args.output)
    except ConfigError as exc:
        args.output.unlink()
        raise UsageError(f"the answers do not make a valid declaration: {exc}") from exc
    print(f"wrote {args.output}; next: oicp-conformance check-config {args.output}")
    return 0
