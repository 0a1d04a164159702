"""Conformance suites per role: pytest modules that play Hubject against a SUT."""
