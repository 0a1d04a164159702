"""`oicp-conformance generate MESSAGE`: sample OICP messages (valid or broken) as JSON lines.

Valid messages print one per line, so `generate ... | oicp-conformance validate -` checks each; an
invalid case prints as an object around its payload, which `validate` recognises too.
"""

from __future__ import annotations

import argparse
import json
import random
import sys

from conformance.cli.errors import UsageError
from conformance.validation import resolve

PAYLOAD_SHOWN = 2000  # characters of an invalid case's payload printed (an oversized body is 10 MB)
# All messages are drawn before the first is printed: a typo like --count 10000000000 must not fill the memory.
MAX_COUNT, MAX_SIZE = 10_000, 100_000


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="generate sample OICP messages (valid, or broken by a mutation)",
        description="Print generated messages as JSON lines; the seed is printed to stderr.",
    )
    p.add_argument(
        "message",
        nargs="?",
        help="message name (e.g. eRoamingChargeDetailRecord) or operation id "
        "(e.g. AuthorizeRemoteStart.cpo, for invalid cases with path IDs)",
    )
    p.add_argument("--release", "-r", default="2.3", help="OICP release: 2.3 or 2.2 (default: 2.3)")
    p.add_argument("--count", "-n", type=int, default=5, help=f"how many messages, at most {MAX_COUNT} (default: 5)")
    p.add_argument("--seed", type=int, help="repeat an earlier run (printed on stderr)")
    p.add_argument("--invalid", action="store_true", help="break each message with one named mutation")
    p.add_argument("--mutation", help="the mutation to apply (implies --invalid); see --list-mutations")
    p.add_argument("--list-mutations", action="store_true", help="list the mutations and exit")
    p.add_argument("--operator-id", help="pin the OperatorID (and so every EvseID)")
    p.add_argument("--provider-id", help="pin the ProviderID")
    p.add_argument("--size", type=int, help=f"records in PushEvseData/PushEvseStatus, at most {MAX_SIZE}")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from conformance.strategies import MUTATIONS, Pins, draw_many, invalid_cases, valid

    if args.list_mutations:
        for m in MUTATIONS.values():
            print(f"{m.name:26} {m.level:7} {m.description}")
        return 0
    if not args.message:
        raise UsageError("name a message (e.g. eRoamingChargeDetailRecord) or an operation id")
    if not 1 <= args.count <= MAX_COUNT:
        raise UsageError(f"--count {args.count}: from 1 to {MAX_COUNT} messages")
    if args.size is not None and not 0 <= args.size <= MAX_SIZE:
        raise UsageError(f"--size {args.size}: from 0 to {MAX_SIZE} records")
    if args.mutation and args.mutation not in MUTATIONS:
        raise UsageError(f"unknown mutation {args.mutation!r}; known: {', '.join(sorted(MUTATIONS))}")
    pins = Pins(operator_id=args.operator_id, provider_id=args.provider_id)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"seed {seed}: repeat with --seed {seed}", file=sys.stderr)
    if args.invalid or args.mutation:
        cases = draw_many(invalid_cases(args.message, args.release, pins, args.mutation), args.count, seed)
        for case in cases:
            body = case.payload().decode("utf-8", "replace")
            line = {
                "message": case.message,
                "mutation": case.mutation,
                "pointer": case.pointer,
                "path_params": case.path_params,
                "content_type": case.content_type,
                "expected": case.expected,
                "payload": body[:PAYLOAD_SHOWN],
            }
            if len(body) > PAYLOAD_SHOWN:  # say so: `validate -` must not take a cut payload for broken JSON
                line["payload_truncated"] = True
            print(json.dumps(line, ensure_ascii=False))
        return 0
    name = resolve(args.message, args.release)
    for message in draw_many(valid(name, args.release, pins, args.size), args.count, seed):
        print(json.dumps(message, ensure_ascii=False))
    return 0
