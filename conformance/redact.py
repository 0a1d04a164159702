"""Secrets never leave a run: what is masked in every journal line, report, attachment, reproduce command and log.

A run's reports are mailed around; the SUT's API keys, its customers' PINs and a private key must not travel with
them. Masked, whatever the declaration says: the values of Authorization, API-key and cookie headers, OICP PINs
(`QRCodeIdentification.PIN`) and the secret parts of `HashedPIN` (`Value`, `Salt`), and PEM private key blocks.
From the declaration: every header value it sends (shown as its `${VAR}` when read from the environment), passwords
and token-like query parameters in its URLs, its customers' PINs, the contents of its private key files, and the
JSON members and headers it names in `[redact] fields` / `headers`.

Masking keeps the structure: a JSON member keeps its name (`"PIN": "<redacted>"`), a header its name, a PEM block
its BEGIN/END lines. Checks always judge the real values; only what is written or printed goes through here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlparse

MARK = "<redacted>"
# OICP members whose value is a secret wherever they sit (QRCodeIdentification.PIN).
SECRET_FIELDS = frozenset({"PIN"})
# HashedPIN: its Value and Salt (LegacyHashData too) are secret; Function names the hash and stays.
HASHED, HASH_PARTS = "HashedPIN", frozenset({"Value", "Salt"})
# Headers whose values are credentials, whoever sends them.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "apikey", "x-auth-token", "cookie", "set-cookie"}
)
# Header values of these are protocol words, never secrets.
_PLAIN_HEADERS = frozenset(
    {"content-type", "accept", "accept-encoding", "content-encoding", "user-agent", "connection"}
)
_SECRET_WORDS = re.compile(r"key|token|secret|pass|auth|sig|credential|cookie", re.IGNORECASE)
# A secret this short (a 4-digit PIN) is masked only as a whole token: "1234" in "E1234" is an EVSE, not a PIN.
SHORT = 8
# A PEM private key, whole or cut short (an answer quoted to 500 characters), its line breaks raw or JSON-escaped.
_PEM = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----"
    r"(?:(?:Proc-Type|DEK-Info):[^\n\\]*|[A-Za-z0-9+/=\s]|\\[nr])*"
    r"(?:-----END \1PRIVATE KEY-----)?"
)
_QUOTE = r"\\*[\"']"  # a quote, JSON-escaped or not (a message inside a string inside a message)
_VALUE = r"[^\"'\\\n]*"  # PINs, hashes and tokens carry no quotes or backslashes


def _member(names: Iterable[str]) -> re.Pattern[str]:
    """`"Name": "value"` (JSON) or `'Name': 'value'` (Python repr) for any of `names`, case-insensitive."""
    alternatives = "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))
    return re.compile(
        rf"(?P<head>{_QUOTE}(?:{alternatives}){_QUOTE}\s*:\s*(?P<q>{_QUOTE}))(?P<value>{_VALUE})(?P=q)",
        re.IGNORECASE,
    )


_HASHED_OPEN = re.compile(rf"{_QUOTE}{HASHED}{_QUOTE}\s*:\s*(?={{)", re.IGNORECASE)
_HASH_MEMBERS = _member(HASH_PARTS)


@dataclass(frozen=True)
class Redactor:
    """What to mask: literal values (value -> how it is shown), JSON member names and header names."""

    secrets: Mapping[str, str] = field(default_factory=dict)
    fields: frozenset[str] = SECRET_FIELDS
    headers: frozenset[str] = SECRET_HEADERS

    @cached_property
    def _names(self) -> frozenset[str]:
        return frozenset(n.lower() for n in (*self.fields, *self.headers))

    @cached_property
    def _members(self) -> re.Pattern[str]:
        return _member([*self.fields, *self.headers, HASHED])

    @cached_property
    def _header_lines(self) -> re.Pattern[str]:
        """`Name: value` as a header reads in a curl -H, a log line or an error text."""
        names = "|".join(re.escape(n) for n in sorted(self.headers, key=len, reverse=True))
        scheme = r"(?:(?:Bearer|Basic|Digest|Token|Negotiate|ApiKey)[ \t]+)?"
        return re.compile(rf"(?P<head>(?<![\w-])(?:{names}):[ \t]*)(?P<value>{scheme}[^\s\"'\\]+)", re.IGNORECASE)

    @cached_property
    def _literals(self) -> list[tuple[re.Pattern[str], str]]:
        """Each secret in every form a file may hold it: as is, JSON-escaped, URL-encoded; longest first."""
        out = []
        for secret, shown in sorted(self.secrets.items(), key=lambda kv: len(kv[0]), reverse=True):
            if not secret or secret == shown:
                continue
            forms = dict.fromkeys([secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)])
            for form in forms:
                pattern = re.escape(form)
                if len(secret) < SHORT:  # as a whole token only
                    pattern = rf"(?<![A-Za-z0-9]){pattern}(?![A-Za-z0-9])"
                out.append((re.compile(pattern), shown))
        return out

    def text(self, text: str) -> str:
        """`text` with every secret masked: PEM private keys, secret members, header values and known values."""
        if not text:
            return text
        text = _PEM.sub(_pem_block, text)
        for pattern, shown in self._literals:
            text = pattern.sub(lambda _m, shown=shown: shown, text)
        text = self._hashed(text)
        text = self._members.sub(_masked, text)
        return self._header_lines.sub(_masked, text)

    def json(self, value: Any, _inside_hash: bool = False) -> Any:
        """A JSON value with every secret member masked (its name kept) and every string through `text`."""
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                name = key.lower() if isinstance(key, str) else ""
                secret = name in self._names or (_inside_hash and key in HASH_PARTS)
                if secret and item is not None and not isinstance(item, dict | list):
                    out[key] = MARK
                elif isinstance(key, str) and key.lower() == HASHED.lower():
                    out[key] = self.json(item, _inside_hash=True) if isinstance(item, dict) else MARK
                elif secret:  # a declared field holding an object or list: masked whole, name kept
                    out[key] = MARK
                else:
                    out[key] = self.json(item, _inside_hash)
            return out
        if isinstance(value, list):
            return [self.json(item, _inside_hash) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def masked_fields(self, text: str) -> list[str]:
        """The names of the secret members and headers that `text` carries with a value: what a reproduce command
        must say it masked."""
        found = {_name(m) for m in self._members.finditer(text) if _name(m).lower() != HASHED.lower()}
        for match in _HASHED_OPEN.finditer(text):
            found |= {f"{HASHED}.{_name(m)}" for m in _HASH_MEMBERS.finditer(text, match.end()) if m.group("value")}
        found |= {m.group("head").split(":")[0] for m in self._header_lines.finditer(text)}
        return sorted(f for f in found if f)

    def _hashed(self, text: str) -> str:
        """Value and Salt inside every `"HashedPIN": {...}` object (its Function stays)."""
        out, last = [], 0
        for match in _HASHED_OPEN.finditer(text):
            start = match.end()
            if start < last:
                continue
            end, depth = start, 0
            while end < len(text):
                depth += {"{": 1, "}": -1}.get(text[end], 0)
                end += 1
                if depth == 0:
                    break
            out += [text[last:start], _HASH_MEMBERS.sub(_masked, text[start:end])]
            last = end
        return "".join(out) + text[last:]


def _masked(match: re.Match[str]) -> str:
    """The match with its `value` group masked (already masked values and `${VAR}` forms stay)."""
    value = match.group("value")
    if not value or value == MARK or value.startswith("${"):
        return match.group(0)
    start, end = match.span("value")
    return match.string[match.start() : start] + MARK + match.string[end : match.end()]


def _name(match: re.Match[str]) -> str:
    """The member name of a `_member` match."""
    return match.group("head").split(":")[0].strip().strip("\\\"'")


def _pem_block(match: re.Match[str]) -> str:
    """A private key block as BEGIN, the mark and END, its line breaks as the text writes them (JSON-escaped or not)."""
    kind, newline = match.group(1), "\\n" if "\\n" in match.group(0) else "\n"
    body = match.group(0).split("-----")[2]
    if not body.replace("\\n", "").replace("\\r", "").strip():  # nothing of the key left (masked already)
        return match.group(0)
    return f"-----BEGIN {kind}PRIVATE KEY-----{newline}{MARK}{newline}-----END {kind}PRIVATE KEY-----"


DEFAULT = Redactor()
_ACTIVE: list[Redactor] = []


def activate(redactor: Redactor | None) -> None:
    """Make `redactor` what `current()` answers in this process (the suite's run: one SUT per process); None: the
    default again."""
    _ACTIVE[:] = [redactor] if redactor is not None else []


def current() -> Redactor:
    """The redactor of this process's SUT, else the default one (headers, PINs, private keys)."""
    return _ACTIVE[0] if _ACTIVE else DEFAULT


# --- what a declaration holds ---------------------------------------------------------------------------------


def for_sut(sut: Any) -> Redactor:
    """Everything secret a declaration (a `conformance.sut.Sut`) holds or names."""
    secrets: dict[str, str] = {k: v for k, v in dict(getattr(sut, "redacted", {}) or {}).items() if k}
    extra_headers = {h.lower() for h in getattr(sut, "redact_headers", ())}
    routes = getattr(sut, "inbound", {}) or {}
    declared = [getattr(sut, "headers", {}) or {}, *(getattr(r, "headers", {}) or {} for r in routes.values())]
    names = {name.lower() for table in declared for name in table}
    for trigger in (getattr(sut, "triggers", {}) or {}).values():
        for name, value in trigger.headers.items():
            secret = name.lower() in SECRET_HEADERS | extra_headers or _SECRET_WORDS.search(name)
            if secret and name.lower() not in _PLAIN_HEADERS and "{" not in value:
                secrets.setdefault(value, MARK)
        secrets.update(dict.fromkeys(url_secrets(trigger.url), MARK))
    urls = [getattr(sut, "base_url", ""), *(getattr(sut, "probes", {}) or {}).values()]
    for url in [*urls, *(getattr(r, "url", "") for r in routes.values())]:
        secrets.update(dict.fromkeys(url_secrets(url), MARK))
    fields = frozenset({*SECRET_FIELDS, *getattr(sut, "redact_fields", ())})
    for value in _identification_secrets(getattr(sut, "identifications", {}) or {}, fields):
        secrets.setdefault(value, MARK)
    for path in _key_files(sut):
        secrets.update(dict.fromkeys(_key_lines(path), MARK))
    headers = frozenset({*SECRET_HEADERS, *extra_headers, *(n for n in names if n not in _PLAIN_HEADERS)})
    return Redactor(secrets={k: v for k, v in secrets.items() if len(k) >= 3}, fields=fields, headers=headers)


def for_summary(summary: Mapping[str, Any]) -> Redactor:
    """The redactor of the run a summary describes: its declaration's, read again (the default without one)."""
    sut = summary.get("sut") if isinstance(summary.get("sut"), dict) else {}
    source = str(sut.get("declaration") or "")
    if not source or source.startswith("("):
        return current()
    try:
        from conformance.sut import load

        return for_sut(load(Path(source)))
    except Exception:  # a declaration gone or broken since the run: the defaults still apply
        return current()


def url_secrets(url: str) -> set[str]:
    """A URL's password and the values of its token-like query parameters."""
    try:
        parts = urlparse(url)
    except ValueError:
        return set()
    found = {parts.password or ""}
    found |= {value for name, value in parse_qsl(parts.query) if _SECRET_WORDS.search(name)}
    return {f for f in found if f and "{" not in f}


def _identification_secrets(identifications: Mapping[str, Any], fields: frozenset[str]) -> list[str]:
    """The declared customers' PINs, and their EvcoIDs / UIDs where `[redact] fields` names them."""
    lowered = {f.lower() for f in fields}
    out = [str(p["pin"]) for p in identifications.get("evco_pins", []) if isinstance(p, dict) and "pin" in p]
    if "evcoid" in lowered:
        out += [str(p["evco_id"]) for p in identifications.get("evco_pins", []) if isinstance(p, dict)]
        out += [str(e) for e in identifications.get("evco_ids", [])]
    if "uid" in lowered:
        out += [str(u) for u in identifications.get("rfid", [])]
        out += [str(identifications["unknown_rfid"])] if "unknown_rfid" in identifications else []
    return [v for v in out if v]


def _key_files(sut: Any) -> list[Path]:
    """Private key files the declaration names: [tls] key_file, and the keys in [hub] tls's folder."""
    files = [Path(f) for f in (getattr(sut, "tls_key_file", None),) if f]
    hub_tls = getattr(sut, "hub_tls", None)
    if hub_tls and Path(hub_tls).is_dir():
        files += sorted(Path(hub_tls).glob("*.key"))
    return files


def _key_lines(path: Path) -> list[str]:
    """The body lines of a PEM key file (each long enough to be the key's and nothing else's)."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if len(line.strip()) >= 16 and not line.startswith("-----")]


def scrub_file(path: Path, redactor: Redactor) -> bool:
    """Rewrite one written file with its secrets masked (JSON walked member by member, any other text as text);
    True if it changed. A file that is not UTF-8 text (Hypothesis' example database) is left as it is."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    try:
        value = json.loads(text) if path.suffix == ".json" else None
    except ValueError:
        value = None
    if value is not None:  # walked: a secret member keeps its name, and the file stays JSON
        masked = redactor.json(value)
        if masked == value:
            return False
        clean = json.dumps(masked, ensure_ascii=False)
    else:
        clean = redactor.text(text)
    if clean == text:
        return False
    path.write_text(clean, encoding="utf-8")
    return True


def scrub_tree(folder: Path, redactor: Redactor) -> int:
    """Every file under `folder` through `scrub_file`; the number of files that changed."""
    if not folder.is_dir():
        return 0
    return sum(scrub_file(path, redactor) for path in sorted(folder.rglob("*")) if path.is_file())
