"""Sizes and times OICP and the hub impose."""

MAX_BODY_BYTES = 10 * 1024 * 1024  # largest request the fake hub and the checks accept
REMOTE_START_SECONDS = 10.0  # RemoteStart must be answered within 10 s, network round trip included
# the fake hub gives up on a request whose head and body have not arrived within this (a stalled or trickling client)
HUB_READ_SECONDS = 30.0
# the deepest nesting of arrays and objects the fake hub reads: OICP messages nest under 10 levels, and a body nested
# near Python's recursion limit would parse but break every later json.dumps of the journal (reports)
MAX_JSON_DEPTH = 64
