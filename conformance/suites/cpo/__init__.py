"""The CPO conformance suite: the suite plays Hubject (and, through it, the EMP) against a CPO backend."""
