"""Where the committed data lives, for an editable checkout and for an installed wheel alike."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
REPO_ROOT = _PACKAGE.parent


@cache
def schemas_dir() -> Path:
    """The wheel carries `schemas/` as `conformance/_schemas`; a checkout has it beside the package."""
    for candidate in (_PACKAGE / "_schemas", REPO_ROOT / "schemas"):
        if (candidate / "releases.json").is_file():
            return candidate
    raise FileNotFoundError(
        "no schemas/releases.json found; run `oicp-conformance schemas build --spec ../shared/oicp-spec`"
    )
