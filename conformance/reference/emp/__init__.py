"""The bundled reference EMP (e-mobility provider), online or offline.

Names are imported on first use, so that a command line can list shapes and defects without loading
the HTTP server and the schema validator."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.reference.emp.app import ReferenceEmp
    from conformance.reference.emp.defects import DEFECTS, Defect
    from conformance.reference.emp.model import Config
    from conformance.reference.emp.shapes import SHAPES, Shape

__all__ = ["DEFECTS", "SHAPES", "Config", "Defect", "ReferenceEmp", "Shape"]
_HOMES = {
    "ReferenceEmp": "app",
    "DEFECTS": "defects",
    "Defect": "defects",
    "Config": "model",
    "SHAPES": "shapes",
    "Shape": "shapes",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
