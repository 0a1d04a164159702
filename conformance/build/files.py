"""Writing generated files: one JSON spelling, and only what changed (or, in check mode, nothing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def dump(data: Any) -> str:
    """The one JSON spelling used for every committed file: sorted keys, two spaces, LF, final newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def sync(out: Path, files: dict[str, str], *, check: bool = False) -> list[str]:
    """Make `out/<rel>` hold each text (unless `check`); return the relative paths that differed."""
    changed = []
    for rel, text in sorted(files.items()):
        target = out / rel
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            changed.append(rel)
            if not check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8", newline="\n")
    return changed
