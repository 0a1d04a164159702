"""Extract the JSON code snippets of the OICP 2.3 spec chapters into `fixtures/official/`.

Each snippet becomes one file holding the raw text (some snippets are not even JSON), the parsed
data where it parses, the message it illustrates and where it came from. Its verdicts are pinned
by the project in `fixtures/official/verdicts.json`, not here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from conformance.build.files import dump, sync

ACK = "eRoamingAcknowledgment"
# Section title of the snippet chapters -> (request message, response message).
SECTIONS: dict[str, tuple[str, str]] = {
    "eRoamingPushEvseData": ("eRoamingPushEvseData", ACK),
    "eRoamingPushEVSEStatus": ("eRoamingPushEvseStatus", ACK),
    "eRoamingAuthorizeStart": ("eRoamingAuthorizeStart", "eRoamingAuthorizationStart"),
    "eRoamingAuthorizeStop": ("eRoamingAuthorizeStop", "eRoamingAuthorizationStop"),
    "eRoamingAuthorizeRemoteStart": ("eRoamingAuthorizeRemoteStart", ACK),
    "eRoamingAuthorizeRemoteStop": ("eRoamingAuthorizeRemoteStop", ACK),
    "eRoamingChargeDetailRecord": ("eRoamingChargeDetailRecord", ACK),
    "eRoamingGetChargeDetailRecord": ("eRoamingGetChargeDetailRecords", "eRoamingChargeDetailRecords"),
    "eRoamingRemoteReservationStart": ("eRoamingAuthorizeRemoteReservationStart", ACK),
    "eRoamingRemoteReservationStop": ("eRoamingAuthorizeRemoteReservationStop", ACK),
    "eRoamingPushPricingProductData": ("eRoamingPushPricingProductData", ACK),
    "eRoamingPushEVSEPricing": ("eRoamingPushEVSEPricing", ACK),
    "eRoamingPullEVSEData": ("eRoamingPullEVSEData", "eRoamingEVSEData"),
    "eRoamingPullEVSEStatus": ("eRoamingPullEVSEStatus", "eRoamingEVSEStatus"),
    "eRoamingPullEVSEStatusByID": ("eRoamingPullEVSEStatusByID", "eRoamingEVSEStatusByID"),
    "eRoamingPullEVSEStatusByOperatorID": ("eRoamingPullEVSEStatusByOperatorID", "eRoamingEVSEStatus"),
    "eRoamingPushAuthenticationData": ("eRoamingPushAuthenticationData", ACK),
    "eRoamingPullEVSEPricing": ("eRoamingPullEVSEPricing", "eRoamingEVSEPricing"),
    "eRoamingPullPricingProductData": ("eRoamingPullPricingProductData", "eRoamingPricingProductData"),
    "eRoamingChargingNotificationStart": ("eRoamingChargingNotificationStart", ACK),
    "eRoamingChargingNotificationProgress": ("eRoamingChargingNotificationProgress", ACK),
    "eRoamingChargingNotificationEnd": ("eRoamingChargingNotificationEnd", ACK),
    "eRoamingChargingNotificationError": ("eRoamingChargingNotificationError", ACK),
}
ATTRIBUTION = (
    "Code snippet from the OICP 2.3 specification by Hubject GmbH, licensed under CC BY-SA 4.0 "
    "(see schemas/NOTICE.md); extracted unchanged by conformance/build/snippets.py."
)
_SECTION = re.compile(r"^==\s+(\S.*?)\s*$")
_KIND = re.compile(r"^===\s+(Request|Response)\s+Code", re.IGNORECASE)
_SOURCE = re.compile(r"^\[source,\s*json\s*\]", re.IGNORECASE)


class SnippetError(Exception):
    """A snippet chapter the extractor cannot map (a new section title, a code block outside a section)."""


def extract(chapter: Path, label: str) -> list[dict[str, Any]]:
    """Every JSON code block of one snippet chapter, with its section, kind and line number."""
    lines = chapter.read_text(encoding="utf-8").splitlines()
    out: list[dict[str, Any]] = []
    section = kind = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := _SECTION.match(line):
            section, kind = m.group(1), None
        elif m := _KIND.match(line):
            kind = m.group(1).lower()
        elif _SOURCE.match(line) and i + 1 < len(lines) and lines[i + 1].startswith("----"):
            end = next(j for j in range(i + 2, len(lines)) if lines[j].startswith("----"))
            if section not in SECTIONS or kind is None:
                raise SnippetError(f"{chapter}:{i + 1}: code block in unknown section {section!r} / {kind!r}")
            text = "\n".join(lines[i + 2 : end]) + "\n"
            entry: dict[str, Any] = {
                "description": f"OICP 2.3 {label} snippet: {section} {kind}",
                "source": f"spec-2.3/{chapter.parent.name}/{chapter.name}:{i + 3}",
                "message": SECTIONS[section][0 if kind == "request" else 1],
                "attribution": ATTRIBUTION,
                "text": text,
            }
            try:
                entry["data"] = json.loads(text)
            except json.JSONDecodeError as exc:
                entry["parse_error"] = f"line {exc.lineno} column {exc.colno}: {exc.msg}"
            entry["_name"] = f"{label}/{len(out) + 1:02d}-{section}-{kind}"
            out.append(entry)
            i = end
        i += 1
    return out


def extract_all(spec: Path) -> dict[str, dict[str, Any]]:
    """Snippet id (e.g. `cpo/03-eRoamingAuthorizeStart-request`) -> fixture content."""
    found: dict[str, dict[str, Any]] = {}
    for label in ("cpo", "emp"):
        for chapter in sorted((spec / "spec-2.3" / label).glob("06_*Code_Snippets.asciidoc")):
            for entry in extract(chapter, label):
                found[entry.pop("_name")] = entry
    return found


def write_snippets(spec: Path, out: Path, *, check: bool = False) -> list[str]:
    """Write (or with `check`, compare) the snippet fixtures; returns the paths that changed."""
    return sync(out, {f"{name}.json": dump(entry) for name, entry in extract_all(spec).items()}, check=check)
