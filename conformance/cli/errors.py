"""User-facing errors: one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the user (a file, a flag, a name); the message says what and how to fix it."""


EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def one_line(text: str) -> str:
    """`text` with every line break and control character escaped: user input inside a message (a path with a
    newline, a NUL) must not split the one error line or reach the terminal raw."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def port_number(text: str, *, zero_picks_free: bool = False) -> int:
    """A --port value, checked here rather than by argparse: a wrong port is one line like every other input."""
    low = 0 if zero_picks_free else 1
    hint = " (0 picks a free port)" if zero_picks_free else ""
    try:
        port = int(text)
    except ValueError:
        raise UsageError(f"--port {text!r}: not a number ({low}-65535){hint}") from None
    if not low <= port <= 65535:
        raise UsageError(f"--port {port}: a port is {low}-65535{hint}")
    return port
