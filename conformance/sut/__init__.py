"""The system under test: its declaration (`oicp-sut.toml`), its triggers, and the client that calls it."""

from conformance.sut.declaration import ConfigError, Sut, load, parse

__all__ = ["ConfigError", "Sut", "load", "parse"]
