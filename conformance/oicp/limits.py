"""Sizes and times OICP and the hub impose."""

MAX_BODY_BYTES = 10 * 1024 * 1024  # largest request the fake hub and the checks accept
REMOTE_START_SECONDS = 10.0  # RemoteStart must be answered within 10 s, network round trip included
