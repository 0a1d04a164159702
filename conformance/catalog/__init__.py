"""The catalogue of OICP operations per release: who serves, who calls, which messages, how mandatory."""

from conformance.catalog.model import Operation, Release, load_release, releases

__all__ = ["Operation", "Release", "load_release", "releases"]
