"""User-facing errors: one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the user (a file, a flag, a name); the message says what and how to fix it."""


EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
