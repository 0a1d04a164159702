"""What both directions of a call share: the URL of a partner operation, the copy-paste curl, how an answer
reads, and whether a body is UTF-8. The suite calls the SUT (`conformance.sut.client`) and the fake hub calls partners
(`conformance.hub.partners`) the same way, so a failure looks the same whichever side made the call."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from conformance.redact import MARK, current

CURL_BODY_LIMIT = 4000  # bytes of body beyond which the curl reads it from a file


def fill(template: str, params: Mapping[str, str]) -> str:
    """`{operatorID}`/`{providerID}` filled in a URL: quoted for the path, and in the query with `+` escaped
    (a DIN operator `+49*536` must not arrive as ` 49*536`)."""
    path, sep, query = template.partition("?")
    path = path.format(**{k: quote(v, safe="*+-") for k, v in params.items()})
    query = query.format(**{k: quote(v, safe="*-") for k, v in params.items()})
    return path + sep + query


def curl(
    url: str,
    payload: bytes,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
    redacted: Mapping[str, str] | None = None,
    note: str = "",
    tls: Sequence[str] = (),
) -> str:
    """A copy-paste command; header values show as their ${VAR} or <redacted>, never as themselves (every
    declared header may be a secret). `note` goes beside a body too large to paste; `tls`: curl's TLS options
    (`tls_options`)."""
    redactor = current()
    options = "".join(f" {shlex.quote(option)}" for option in tls)
    shown_url = redactor.text(url)
    head = f"curl -sS{options} -X POST {shlex.quote(shown_url)} -H {shlex.quote('Content-Type: ' + content_type)}"
    masked = ["a secret in the URL"] if shown_url != url else []
    for name, value in (headers or {}).items():
        shown = (redacted or {}).get(value, MARK)
        if "${" in shown:  # double quotes, so the shell fills in the variable from the environment
            head += ' -H "' + f"{name}: {shown}".replace('"', '\\"') + '"'
        else:
            head += f" -H {shlex.quote(f'{name}: ' + shown)}"
            masked += [f"header {name}"] if shown == MARK else []
    if len(payload) > CURL_BODY_LIMIT:
        command = f"{head} --data-binary @body.json   # body: {len(payload)} bytes" + (f" ({note})" if note else "")
        return _masked_note(masked) + command
    text = payload.decode("utf-8", "replace")
    body = redactor.text(text)
    if body != text:
        masked += redactor.masked_fields(text) or ["secret values of the body"]
    return _masked_note(masked) + f"{head} --data-binary @- <<'JSON'\n{body}\nJSON"


def _masked_note(masked: list[str]) -> str:
    """A reproduce command with a secret masked does not reproduce as it stands: it says so, and where the value is."""
    if not masked:
        return ""
    return (
        f"# <redacted> stands for secrets kept out of reports ({', '.join(dict.fromkeys(masked))}): put the real "
        "values back before running this (declared ones are in the SUT declaration; generated ones come back "
        "with the run's --seed)\n"
    )


def tls_options(
    ca_file: str | None = None, cert_file: str | None = None, key_file: str | None = None, verify: bool = True
) -> tuple[str, ...]:
    """curl's options for a call's TLS set-up: the CA it trusts, the client certificate and key it presents.
    File paths only, never what they hold (a key's contents must never reach a report)."""
    found: list[str] = [] if verify else ["--insecure"]
    for option, path in (("--cacert", ca_file), ("--cert", cert_file), ("--key", key_file)):
        if path:
            found += [option, path]
    return tuple(found)


class AnswerView:
    """How an OICP answer reads, for an object with `status`, `body`, `text`, `elapsed` and `error`."""

    status: int | None
    body: Any
    text: str
    elapsed: float
    error: str | None

    @property
    def result(self) -> Any:
        return self.body.get("Result") if isinstance(self.body, dict) else None

    @property
    def code(self) -> str | None:
        status = self.body.get("StatusCode") if isinstance(self.body, dict) else None
        return status.get("Code") if isinstance(status, dict) else None

    def describe(self) -> str:
        if self.status is None:
            return f"no answer after {self.elapsed:.1f} s ({self.error})"
        return f"HTTP {self.status} after {self.elapsed:.2f} s: {self.text[:500]}"


def utf8_problem(raw: bytes, content_type: str) -> str:
    """Why a body (a request or an answer) is not UTF-8 ("" when it is): "All service messages exchanged between
    Hubject and partner
    systems MUST use UTF-8 character encoding." (CPO 1 REST). The charset the Content-Type declares, if any, must
    be UTF-8, and the bytes must decode as strict UTF-8 as JSON reads them (JSON readers detect UTF-16 and UTF-32 by
    their NUL bytes, which strict UTF-8 decoding alone would take as U+0000). A UTF-8 byte order mark is UTF-8."""
    problems = []
    charset = _charset(content_type)
    name = (charset or "utf-8").lower().replace("-", "").replace("_", "")
    # US-ASCII text is byte for byte its UTF-8 (a JSON writer escapes the rest as \uXXXX): no other name is
    if name != "utf8" and not (name in ("usascii", "ascii") and raw.isascii()):
        problems.append(f"the Content-Type declares charset={charset}")
    detected = json.detect_encoding(raw) if raw else "utf-8"
    if detected not in ("utf-8", "utf-8-sig"):
        problems.append(f"the body is {detected.upper()} (as JSON detects it from its NUL bytes or byte order mark)")
    else:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = raw[exc.start : exc.end]
            guess = ", as ISO-8859-1 (Latin-1) or Windows-1252 would write it" if all(b >= 0x80 for b in bad) else ""
            problems.append(f"byte 0x{bad.hex().upper()} at offset {exc.start} of the body is not UTF-8{guess}")
    return "; ".join(problems)


def _charset(content_type: str) -> str | None:
    """The charset parameter of a Content-Type header (None when it names none)."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').strip("'") or None
    return None
