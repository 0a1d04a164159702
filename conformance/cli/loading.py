"""Read a JSON file the user named, turning every way it can be wrong into one clear sentence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.cli.errors import UsageError

DEFAULT_MAX_BYTES = 32 * 1024 * 1024


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def decode_text(source: str, raw: bytes, noun: str, expected: str) -> str:
    """The text of a file or stdin, or UsageError: empty, binary (a NUL byte) or not UTF-8."""
    if not raw.strip():
        raise UsageError(f"{source}: empty {noun}; {expected}")
    nul = raw.find(b"\x00", 0, 8192)
    if nul >= 0:
        raise UsageError(f"{source}: binary {noun} (NUL byte at offset {nul}); expected JSON text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{source}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from exc


def load_json_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Parsed JSON, or UsageError naming the file and, for syntax errors, line and column."""
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if path.is_dir():
        raise UsageError(f"{path}: is a directory; name the JSON files inside it")
    size = path.stat().st_size
    if size > max_bytes:
        raise UsageError(
            f"{path}: {size / 1e6:.1f} MB is larger than the {max_bytes / 1e6:.1f} MB limit; "
            "raise it with --max-bytes if the file is meant to be this big"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    text = decode_text(str(path), raw, "file", "expected one JSON object")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{path}: invalid JSON: {exc}") from exc
