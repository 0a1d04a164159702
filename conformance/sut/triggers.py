"""Firing a trigger: make the SUT do an outbound action. A trigger's own failure is a configuration
problem of the declaration, never a protocol failure of the SUT."""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.sut.declaration import Sut, Trigger


class TriggerError(Exception):
    """The trigger itself failed (non-2xx, timeout, command error): fix the declaration or the SUT's tooling."""


@dataclass
class Fired:
    status: int
    output: Any


def _fill(template: str, values: dict[str, Any]) -> str:
    out = template
    for key, value in values.items():
        text = value if isinstance(value, str) else json.dumps(value)
        out = out.replace("{" + key + "}", text)
    return out


def fire(sut: Sut, name: str, **values: Any) -> Fired:
    """Run trigger `name` with placeholders ({base_url}, {operator_id}, {evse_id}, {session_id}, ...)."""
    trigger: Trigger | None = sut.triggers.get(name)
    if trigger is None:
        raise LookupError(name)
    values = {"base_url": sut.base_url, "operator_id": sut.operator_id, **values}
    if trigger.command:
        args = [_fill(part, values) for part in shlex.split(trigger.command)]
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=trigger.timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TriggerError(f"trigger {name}: command {args[0]!r} failed: {exc}") from exc
        if done.returncode != 0:
            raise TriggerError(f"trigger {name}: command exited {done.returncode}: {done.stderr.strip()[:300]}")
        return Fired(0, done.stdout)
    url = _fill(trigger.url, values)
    try:
        response = httpx.request(
            trigger.method,
            url,
            content=_fill(trigger.body, values).encode(),
            headers={"Content-Type": "application/json", **trigger.headers},
            timeout=trigger.timeout,
            verify=sut.tls,
        )
    except httpx.HTTPError as exc:
        raise TriggerError(f"trigger {name}: {trigger.method} {url} failed: {exc!r}") from exc
    if not response.is_success:
        raise TriggerError(
            f"trigger {name}: {trigger.method} {url} answered HTTP {response.status_code}: {response.text[:300]}"
        )
    try:
        return Fired(response.status_code, response.json())
    except ValueError:
        return Fired(response.status_code, response.text)
