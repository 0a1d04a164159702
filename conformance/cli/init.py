"""`oicp-conformance init`: write a commented `oicp-sut.toml` from a few answers (asked, or given as flags).

Each answer is checked as it is given (a port, an http(s) URL, OICP IDs, EVSEs of the operator): on
a terminal a wrong answer is asked again; from a pipe it stops the run, since the next piped line
was meant for the next question. The file is written beside its target and checked by
`conformance.sut.load` before it takes the target's place, so an existing declaration is never
touched without --force and, with it, replaced only by a valid one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from conformance.cli.errors import UsageError
from conformance.oicp.ids import belongs_to, operator_key, operator_of
from conformance.sut.declaration import FEATURES

RELEASES = ("2.3", "2.2")
# Flags that answer every question that has no sensible default: with all of them, init asks nothing.
CORE_FLAGS = ("base_url", "operator_id", "evse_id", "hub_port")

TEMPLATE = """# oicp-sut.toml for {name}: written by `oicp-conformance init`; see fixtures/oicp-sut.example.toml
# for every key. Check it with `oicp-conformance check-config {output}`.

name = {name_q}
role = "cpo"
release = {release_q}
base_url = {base_url_q}            # where the SUT serves Hubject's calls (official path templates below it)
operator_id = {operator_q}
evse_ids = {evses}
features = {features}              # optional operations: {known_features}
timeout = 10.0

[hub]                              # point the SUT's Hubject URL at http://127.0.0.1:{hub_port}{prefix}
port = {hub_port}
prefix = {prefix_q}

[outbound]
timeout = 2.0                      # the SUT's own timeout for calls to the hub
max_retries = 4
retry_window = 30.0

{triggers}"""

COMMENTED_TRIGGERS = """# Triggers make the SUT call the hub; without them those checks are skipped with the reason.
# [triggers.push_evse_data]
# url = "{base_url}/admin/push-evse-data"
# body = '{"action": "{action}", "evse_ids": {evse_ids}}'
# [triggers.authorize_start]
# url = "{base_url}/admin/authorize"
# body = '{"identification": {identification}, "evse_id": "{evse_id}"}'
# [triggers.end_session]
# command = "my-cli end-session {session_id}"
"""

# Trigger name -> (path below the trigger base URL, body, feature it needs or None).
TRIGGERS: dict[str, tuple[str, str, str | None]] = {
    "push_evse_data": ("push-evse-data", '{"action": "{action}", "evse_ids": {evse_ids}}', None),
    "push_evse_status": ("push-evse-status", '{"action": "{action}", "evse_ids": {evse_ids}}', None),
    "authorize_start": ("authorize-start", '{"identification": {identification}, "evse_id": "{evse_id}"}', None),
    "authorize_stop": ("authorize-stop", '{"session_id": "{session_id}"}', "authorize_stop"),
    "end_session": ("end-session", '{"session_id": "{session_id}"}', None),
    "send_notification": ("notify", '{"session_id": "{session_id}", "type": "{type}"}', "charging_notifications"),
    "push_pricing": ("push-pricing", '{"action": "{action}"}', "dynamic_pricing"),
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init",
        help="write a commented oicp-sut.toml (asks, or takes flags)",
        description="Write an oicp-sut.toml. Asks for what no flag gives; with --base-url, --operator-id, "
        "--evse-id and --hub-port it asks nothing (CI), and --defaults takes the default for the rest.",
    )
    p.add_argument(
        "--output", "-o", type=Path, default=Path("oicp-sut.toml"), help="where to write (default: oicp-sut.toml)"
    )
    p.add_argument("--name", help="name of the system under test, shown in reports (asked when missing)")
    p.add_argument("--base-url", help="base URL of the SUT's OICP endpoints (asked when missing)")
    p.add_argument("--operator-id", help="the CPO's OperatorID, e.g. DE*ABC (asked when missing)")
    p.add_argument("--evse-id", action="append", default=[], help="an EvseID; repeat it or separate with commas")
    p.add_argument(
        "--feature",
        action="append",
        default=[],
        help=f"optional feature; repeat or comma-separate: {', '.join(FEATURES)}",
    )
    p.add_argument("--hub-port", help="port of the fake hub the SUT calls (1-65535)")
    p.add_argument("--trigger-url", help="base URL of the SUT's trigger (admin) endpoints, or 'none'")
    p.add_argument(
        "--prefix",
        default="/api/oicp",
        help="path prefix of the SUT's Hubject URL on the fake hub (default: /api/oicp)",
    )
    p.add_argument("--release", default="2.3", help="OICP release the SUT speaks: 2.3 or 2.2 (default: 2.3)")
    p.add_argument("--defaults", action="store_true", help="ask nothing: the default for every value no flag gives")
    p.add_argument("--force", action="store_true", help="replace an existing file (only with a valid declaration)")
    p.set_defaults(run=run)


# --- checking one answer: (value, None) or (None, what is wrong) ------------------------------------

Checked = tuple[Any, str | None]


def _one_line(text: str) -> Checked:
    if not text.strip():
        return None, "is empty"
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        return None, "must be one line of printable text"
    return text.strip(), None


def _http_url(text: str) -> Checked:
    url = urlparse(text)
    if url.scheme not in ("http", "https") or not url.netloc or any(ch.isspace() for ch in text):
        return None, "is not an http(s) URL (like http://127.0.0.1:9000)"
    return text.rstrip("/"), None


def _operator(text: str) -> Checked:
    if operator_key(text) is None:
        return None, "is not an OICP OperatorID (ISO like DE*ABC or DEABC, DIN like +49*536)"
    return text, None


def example_evse(operator_id: str) -> str:
    """An EvseID of the operator in its own spelling: `DE*ABC*E1*1`, `DEABCE1*1`, `+49*536*1*1`."""
    if operator_id.startswith("+") or operator_id[:1].isdigit():
        return f"{operator_id}*1*1"
    return f"{operator_id}*E1*1" if "*" in operator_id else f"{operator_id}E1*1"


def _spelled(key: str) -> str:
    return key if key.startswith("+") or len(key) != 5 else f"{key[:2]}*{key[2:]}"


def _evses(operator_id: str) -> Callable[[str], Checked]:
    def check(text: str) -> Checked:
        evses = [e.strip() for e in text.split(",") if e.strip()]
        if not evses:
            return None, "names no EvseID"
        for evse in evses:
            owner = operator_of(evse)
            if owner is None:
                return None, f"{evse!r} is not an OICP EvseID (like {example_evse(operator_id)})"
            if not belongs_to(evse, operator_id):
                return None, f"{evse!r} belongs to operator {_spelled(owner)}, not to {operator_id}"
            if evses.count(evse) > 1:
                return None, f"{evse!r} is listed twice"
        return evses, None

    return check


def _port(text: str) -> Checked:
    try:
        port = int(text)
    except ValueError:
        return None, "is not a number (a port is 1-65535)"
    if not 1 <= port <= 65535:
        return None, "is not a port (1-65535)"
    return port, None


def _features(text: str) -> Checked:
    if text.strip().lower() in ("", "none"):
        return [], None
    if text.strip().lower() == "all":
        return list(FEATURES), None
    chosen = [f.strip() for f in text.split(",") if f.strip()]
    if unknown := [f for f in chosen if f not in FEATURES]:
        return None, f"names unknown feature(s) {', '.join(unknown)} (known: {', '.join(FEATURES)}; or all, or none)"
    return list(dict.fromkeys(chosen)), None


def _trigger_base(text: str) -> Checked:
    if text.strip().lower() == "none":
        return None, None
    if text.startswith("{base_url}") and not any(ch.isspace() for ch in text):
        return text.rstrip("/"), None
    value, problem = _http_url(text)
    if problem:
        return None, "is neither an http(s) URL (or {base_url}/...) nor none"
    return value, None


# --- asking ---------------------------------------------------------------------------------------


@dataclass
class Asker:
    """Asks on stdin. On a terminal a wrong answer is asked again; from a pipe it ends the run (exit 2)."""

    interactive: bool
    read: Callable[[str], str] | None = None

    def _line(self, prompt: str) -> str:
        if self.read is not None:
            return self.read(prompt)
        if self.interactive:
            return input(prompt)
        sys.stdout.write(prompt)
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        print(line.rstrip("\r\n"))  # a transcript: which piped line answered which question
        return line

    def ask(self, question: str, default: str, check: Callable[[str], Checked], flag: str) -> Any:
        while True:
            try:
                answer = self._line(f"{question} [{default}]: ").strip() or default
            except EOFError:
                if self.interactive:
                    print()
                raise UsageError(
                    f"input ended before {question!r} was answered; answer it, pass {flag}, or use --defaults"
                ) from None
            except KeyboardInterrupt:
                if self.interactive:
                    print()  # the interruption notice starts on its own line, not after the prompt
                raise
            value, problem = check(answer)
            if problem is None:
                return value
            if not self.interactive:
                raise UsageError(f"{question}: {answer!r} {problem}")
            print(f"  {answer!r} {problem}; try again", file=sys.stderr)


@dataclass
class Answers:
    name: str
    base_url: str
    operator_id: str
    evse_ids: list[str]
    hub_port: int
    features: list[str]
    trigger_base: str | None


def _from_flag(flag: str, value: str, check: Callable[[str], Checked]) -> Any:
    checked, problem = check(value)
    if problem:
        raise UsageError(f"{flag} {value!r}: {problem}")
    return checked


def collect(args: argparse.Namespace, asker: Asker | None) -> Answers:
    """Each value from its flag (checked), else asked (when `asker`), else its default."""

    def value(flag: str, given: str | None, question: str, default: str, check: Callable[[str], Checked]) -> Any:
        if given is not None:
            return _from_flag(flag, given, check)
        if asker is not None:
            return asker.ask(question, default, check, flag)
        return check(default)[0]

    name = value("--name", args.name, "name of the system under test", "my CPO backend", _one_line)
    base_url = value("--base-url", args.base_url, "base URL of its OICP endpoints", "http://127.0.0.1:9000", _http_url)
    operator = value("--operator-id", args.operator_id, "its OperatorID", "DE*ABC", _operator)
    evse_flag = ",".join(args.evse_id) if args.evse_id else None
    evses = value("--evse-id", evse_flag, "its EvseIDs (comma-separated)", example_evse(operator), _evses(operator))
    hub_port = value("--hub-port", args.hub_port, "port for the fake hub the SUT will call", "8080", _port)
    feature_flag = ",".join(args.feature) if args.feature else None
    features = value(
        "--feature",
        feature_flag,
        f"optional features it implements (comma-separated: {', '.join(FEATURES)}; all; none)",
        "none",
        _features,
    )
    trigger_base = value(
        "--trigger-url",
        args.trigger_url,
        "base URL of its trigger (admin) endpoints that make it call the hub, or none",
        "none",
        _trigger_base,
    )
    return Answers(name, base_url, operator, evses, hub_port, features, trigger_base)


# --- writing --------------------------------------------------------------------------------------


def _triggers(base: str | None, features: list[str]) -> str:
    if base is None:
        return COMMENTED_TRIGGERS
    lines = [
        "# Triggers make the SUT call the hub. These URLs and bodies are a starting point: adapt each",
        "# to the SUT's admin API (placeholders: fixtures/oicp-sut.example.toml); check-config probes them.",
    ]
    for name, (path, body, feature) in TRIGGERS.items():
        if feature is None or feature in features:
            lines += ["", f"[triggers.{name}]", f"url = {json.dumps(f'{base}/{path}')}", f"body = '{body}'"]
    return "\n".join(lines) + "\n"


def render(answers: Answers, release: str, prefix: str, output: Path) -> str:
    return TEMPLATE.format(
        name=answers.name,
        name_q=json.dumps(answers.name, ensure_ascii=False),
        release_q=json.dumps(release),
        base_url_q=json.dumps(answers.base_url),
        operator_q=json.dumps(answers.operator_id),
        evses=json.dumps(answers.evse_ids),
        features=json.dumps(answers.features),
        known_features=", ".join(FEATURES),
        hub_port=answers.hub_port,
        prefix=prefix,
        prefix_q=json.dumps(prefix),
        output=output,
        triggers=_triggers(answers.trigger_base, answers.features),
    )


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _exists(target: Path) -> str:
    return f"{target} exists; it stays as it is (use --force to replace it, or --output)"


def write_checked(target: Path, text: str, force: bool) -> None:
    """Write beside `target`, check with `conformance.sut.load`, then move into place.

    With `force` the move replaces the target (atomically); without it the target must not exist,
    even if it appeared while the questions were asked."""
    from conformance.sut import ConfigError, load

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"{target}: cannot write here: {exc.strerror or exc}") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, _file_mode())
        try:
            load(tmp)
        except ConfigError as exc:
            problem = str(exc).replace(str(tmp), str(target))
            raise UsageError(f"the answers do not make a valid declaration: {problem}") from exc
        if force:
            os.replace(tmp, target)
            return
        try:
            os.link(tmp, target)  # fails when the target exists: never clobbers
        except FileExistsError as exc:
            raise UsageError(_exists(target)) from exc
        except OSError:  # no hard links on this file system: exclusive creation instead
            try:
                with target.open("x", encoding="utf-8") as handle:
                    handle.write(text)
            except FileExistsError as exc:
                raise UsageError(_exists(target)) from exc
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _check_fixed(args: argparse.Namespace) -> None:
    if args.release not in RELEASES:
        raise UsageError(f"--release {args.release!r}: init writes declarations for OICP {' or '.join(RELEASES)}")
    prefix = args.prefix
    if not prefix.startswith("/") or any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in prefix):
        raise UsageError(f"--prefix {prefix!r}: a path starting with / (like /api/oicp, or / for none)")
    if args.output.is_dir():
        raise UsageError(f"{args.output}: is a directory; name the file to write with --output")


def run(args: argparse.Namespace, asker: Asker | None = None) -> int:
    if args.output.exists() and not args.force:
        raise UsageError(_exists(args.output))
    _check_fixed(args)
    if asker is None and not args.defaults and not all(getattr(args, f) for f in CORE_FLAGS):
        asker = Asker(interactive=sys.stdin is not None and sys.stdin.isatty())
    answers = collect(args, None if args.defaults else asker)
    write_checked(args.output, render(answers, args.release, args.prefix, args.output), args.force)
    print(f"wrote {args.output}; next: oicp-conformance check-config {args.output}")
    return 0
