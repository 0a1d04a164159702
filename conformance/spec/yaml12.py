"""YAML 1.2 loading: `on`, `off`, `yes` and `no` stay strings.

OpeningTimes has a property literally called `on`; a YAML 1.1 reader (PyYAML) turns it into
the boolean key True and silently drops the property from the schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML


def load_yaml(path: Path) -> Any:
    """Parse one YAML file with YAML 1.2 rules and plain Python containers."""
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle)
