"""The EMP conformance suite: Hubject's calls to an online EMP, and what an EMP (online or offline) sends."""
