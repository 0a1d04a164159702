"""The bundled reference CPO: run it with `oicp-conformance reference cpo`."""

from conformance.reference.cpo.app import ReferenceCpo
from conformance.reference.cpo.defects import DEFECTS, Defect
from conformance.reference.cpo.model import Config

__all__ = ["DEFECTS", "Config", "Defect", "ReferenceCpo"]
