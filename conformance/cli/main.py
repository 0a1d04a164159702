"""Entry point: parse the subcommand, run it, and turn expected failures into exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from conformance import __version__
from conformance.cli import (
    catalog,
    check_config,
    defects,
    diff,
    errata,
    generate,
    hub,
    init,
    reference,
    report,
    requirements,
    run,
    schemas,
    validate,
)
from conformance.cli.errors import EXIT_BAD_INPUT, UsageError

SUBCOMMANDS = (
    run,
    requirements,
    defects,
    reference,
    init,
    check_config,
    validate,
    catalog,
    errata,
    generate,
    hub,
    schemas,
    diff,
    report,
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="oicp-conformance", description="OICP conformance and contract testing.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (UsageError, LookupError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"oicp-conformance: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("oicp-conformance: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
