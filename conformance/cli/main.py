"""Entry point: parse the subcommand, run it, and turn expected failures into exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from conformance import __version__
from conformance.cli import (
    catalog,
    certs,
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
from conformance.cli.errors import EXIT_BAD_INPUT, UsageError, one_line

SUBCOMMANDS = (
    run,
    requirements,
    defects,
    reference,
    init,
    check_config,
    certs,
    validate,
    catalog,
    errata,
    generate,
    hub,
    schemas,
    diff,
    report,
)


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit 2, like every other bad input (argparse's own error()
    prints the usage block above it); subcommands inherit it, and --help is untouched."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("oicp-conformance").strip()
        where = f"{command}: " if command else ""
        self.exit(EXIT_BAD_INPUT, f"oicp-conformance: error: {one_line(where + message)} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="oicp-conformance", description="OICP conformance and contract testing.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if nul := next((arg for arg in argv if "\x00" in arg), None):  # only in-process callers can pass one
        print(f"oicp-conformance: error: argument {one_line(nul)!r} holds a NUL byte", file=sys.stderr)
        return EXIT_BAD_INPUT
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (UsageError, LookupError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"oicp-conformance: error: {one_line(str(message))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("oicp-conformance: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a path the user named that the system refuses (name too long, not a folder, ...)
        where = f"{exc.filename}: " if exc.filename is not None else ""
        print(f"oicp-conformance: error: {one_line(f'{where}{exc.strerror or exc}')}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RuntimeError as exc:  # Python 3.11's Path.resolve() on a loop of symbolic links (3.13 raises OSError)
        if not str(exc).startswith("Symlink loop from "):
            raise
        path = str(exc).removeprefix("Symlink loop from ")
        print(f"oicp-conformance: error: {one_line(path)}: a loop of symbolic links", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
