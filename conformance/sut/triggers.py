"""Firing a trigger: make the SUT do an outbound action.

Only a trigger that never reached the SUT's logic is a configuration problem of the declaration:
nothing listens, the URL is not routed (404/405), the command does not exist. Anything else the
trigger answers (a 5xx relayed from the hub, a timeout while the SUT retries, 202) is the SUT's
behaviour: the suite judges what reached the fake hub and shows the trigger's answer as context."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from conformance.bounded import PROBE_LIMIT, NoAnswer
from conformance.sut.client import call, hide
from conformance.sut.declaration import Sut, Trigger

NOT_ROUTED = (404, 405)


class TriggerError(Exception):
    """The trigger could not reach the SUT's logic: fix the declaration (or start the SUT)."""


@dataclass
class Fired:
    """What the trigger answered: HTTP status (None for a command or no answer), output, and a note."""

    status: int | None
    output: Any
    ok: bool = True
    note: str = ""

    def describe(self) -> str:
        return self.note or (f"HTTP {self.status}" if self.status is not None else "command ran")


def fill(template: str, values: dict[str, Any]) -> str:
    out = template
    for key, value in values.items():
        text = value if isinstance(value, str) else json.dumps(value)
        out = out.replace("{" + key + "}", text)
    return out


def values_for(sut: Sut, values: dict[str, Any]) -> dict[str, Any]:
    return {"base_url": sut.base_url, "operator_id": sut.operator_id, "provider_id": sut.provider_id, **values}


def fire(sut: Sut, name: str, **values: Any) -> Fired:
    """Run trigger `name` with placeholders ({base_url}, {operator_id}, {evse_id}, {session_id}, ...)."""
    trigger: Trigger | None = sut.triggers.get(name)
    if trigger is None:
        raise LookupError(name)
    values = values_for(sut, values)
    if trigger.command:
        return _run_command(name, trigger, values)
    url = fill(trigger.url, values)
    headers = {"Content-Type": "application/json", **sut.headers, **trigger.headers}
    try:  # bounded in total, as every call to the SUT (conformance.bounded): a dripping trigger cannot hold the run
        response = call(
            sut,
            trigger.method,
            url,
            content=fill(trigger.body, values).encode(),
            headers={k: fill(v, values) for k, v in headers.items()},
            timeout=trigger.timeout,
            limit=PROBE_LIMIT,
        )
    except NoAnswer as exc:
        if exc.timed_out:
            return Fired(None, None, False, f"trigger {name}: no answer within {trigger.timeout:g} s ({exc.error})")
        raise TriggerError(f"trigger {name}: {trigger.method} {hide(url, sut)} failed: {exc.error}") from exc
    if response.status_code in NOT_ROUTED:
        raise TriggerError(
            f"trigger {name}: {trigger.method} {hide(url, sut)} answered HTTP {response.status_code}: "
            "the URL or method is not served (check triggers." + name + ")"
        )
    try:
        output: Any = response.json()
    except ValueError:
        output = response.text
    note = "" if response.is_success else f"trigger {name} answered HTTP {response.status_code}: {response.text[:300]}"
    return Fired(response.status_code, output, response.is_success, note)


def _run_command(name: str, trigger: Trigger, values: dict[str, Any]) -> Fired:
    args = [fill(part, values) for part in shlex.split(trigger.command)]
    if shutil.which(args[0]) is None:
        raise TriggerError(f"trigger {name}: command {args[0]!r} not found")
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=trigger.timeout, check=False)
    except subprocess.TimeoutExpired:
        return Fired(None, None, False, f"trigger {name}: command still running after {trigger.timeout:g} s")
    except OSError as exc:
        raise TriggerError(f"trigger {name}: command {args[0]!r} cannot run: {exc.strerror or exc}") from exc
    if done.returncode in (126, 127):  # the shell's "cannot execute" and "not found"
        raise TriggerError(f"trigger {name}: command exited {done.returncode}: {done.stderr.strip()[:300]}")
    if done.returncode != 0:
        return Fired(None, done.stdout, False, f"trigger {name}: command exited {done.returncode}: {done.stderr[:300]}")
    return Fired(None, done.stdout)
