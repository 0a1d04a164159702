"""The reference EMP's client to Hubject: a 2 s timeout, bounded retries with backoff and jitter, Retry-After,
one push at a time per operation, and the same body on every retry."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from conformance.reference.emp.model import Config
from conformance.reference.emp.transport import client_context

# A refusal with one of these codes is Hubject's own trouble (001 Hubject system error, 002 Hubject database
# error, 009 data transaction error, 021 system error), not a verdict on the request: it is sent again later,
# like a 5xx. Every other refusal (017 unauthorized access, 018/019 inconsistent IDs, 022 data error, 300
# partner not found, 602/603 EVSE in use/unknown, ...) is definitive and never sent again unchanged.
HUB_SIDE_CODES = frozenset({"001", "002", "009", "021"})
MAX_RETRY_AFTER = 30.0  # seconds: a longer Retry-After is a hub that asks too much of a backend thread


def status_code(body: Any) -> str | None:
    """The StatusCode.Code of an answer (None when it has none, as some pull answers do)."""
    if isinstance(body, dict) and isinstance(body.get("StatusCode"), dict):
        code = body["StatusCode"].get("Code")
        return code if isinstance(code, str) else None
    return None


@dataclass
class Outcome:
    """What finally came back: the last HTTP status (0: no answer) and body, and how many attempts."""

    status: int
    body: Any
    attempts: int
    text: str = ""  # the raw answer, for relaying an answer that is not JSON

    @property
    def accepted(self) -> bool:
        """A success: 200 with Result true, or an answer without Result (a pull) whose StatusCode is 000 or absent."""
        if self.status != 200 or not isinstance(self.body, dict):
            return False
        if "Result" in self.body:
            return self.body["Result"] is True
        return status_code(self.body) in (None, "000")

    def summary(self) -> dict[str, Any]:
        """What the state probe shows of one call: enough to see a refusal and why."""
        out: dict[str, Any] = {"status": self.status, "attempts": self.attempts, "accepted": self.accepted}
        if isinstance(self.body, dict):
            if "Result" in self.body:
                out["Result"] = self.body["Result"]
            if isinstance(self.body.get("StatusCode"), dict):
                out["StatusCode"] = self.body["StatusCode"]
            if "SessionID" in self.body:
                out["SessionID"] = self.body["SessionID"]
        return out


class HubClient:
    def __init__(self, config: Config):
        self.config = config
        # Over mutual TLS the hub must show a certificate of our CA, and we show it ours.
        tls = config.tls_cert or config.tls_ca
        verify = client_context(config.tls_ca, config.tls_cert, config.tls_key) if tls else True
        self.http = httpx.Client(
            timeout=httpx.Timeout(config.hub_timeout), headers={"Accept": "application/json"}, verify=verify
        )
        # OICP 2.3 EMP chapter 1: "data push requests that address the same operation MUST always be processed
        # sequentially"; the EMP's one push operation is PushAuthenticationData ("MUST always be used
        # sequentially", chapter 2), so there is one lock per push operation.
        self._push_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _has(self, defect: str) -> bool:
        return defect in self.config.defects

    def push_lock(self, operation: str) -> threading.Lock:
        with self._locks_guard:
            return self._push_locks.setdefault(operation, threading.Lock())

    def close(self) -> None:
        self.http.close()

    def post(self, path: str, body: Any, *, params: dict[str, Any] | None = None, push: str | None = None) -> Outcome:
        """POST `body` to the hub, retrying what may succeed later and nothing that will not.

        `push` names the push operation: the call waits until no other push of that operation is in flight."""
        if push and not self._has("parallel-pushes"):
            with self.push_lock(push):
                return self._post(path, body, params)
        return self._post(path, body, params)

    def _budget(self) -> int:
        if self._has("no-retry-on-5xx"):
            return 1
        if self._has("endless-retries"):
            return 3 * (self.config.max_retries + 1)
        return self.config.max_retries + 1

    def _post(self, path: str, body: Any, params: dict[str, Any] | None) -> Outcome:
        url = self.config.hub_url.rstrip("/") + path
        attempts, status, answer, text, budget = 0, 0, None, "", self._budget()
        while attempts < budget:
            attempts += 1
            retry_after = None
            try:
                response = self.http.post(url, json=body, params=params)
                status, text = response.status_code, response.text
                retry_after = response.headers.get("Retry-After")
                try:
                    answer = response.json()
                except ValueError:
                    answer, status = None, status if status != 200 else 0  # an unreadable 200 is no answer
            except httpx.HTTPError:  # connection refused or reset, timeout: no answer
                status, answer, text = 0, None, ""
            if status == 200 and isinstance(answer, dict):
                code = status_code(answer)
                temporary = code in HUB_SIDE_CODES and answer.get("Result") is not True
                refused = answer.get("Result") is False or ("Result" not in answer and code not in (None, "000"))
                if not (temporary or (refused and self._has("retry-refusals"))):
                    return Outcome(status, answer, attempts, text)
            elif status != 0 and status != 429 and status < 500:
                return Outcome(status, answer, attempts, text)  # 4xx: the request is wrong, sending it again is too
            if attempts < budget:
                self._wait(attempts - 1, retry_after if status == 429 or status >= 500 else None)
        return Outcome(status, answer, attempts, text)

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        delay = min(self.config.max_backoff, self.config.backoff * 2**attempt) * random.uniform(0.5, 1.0)
        if self._has("endless-retries"):
            delay = self.config.backoff / 4
        if retry_after and not self._has("ignore-retry-after"):
            delay = max(delay, min(_retry_after_seconds(retry_after), MAX_RETRY_AFTER))
        time.sleep(delay)


def _retry_after_seconds(value: str) -> float:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    with contextlib.suppress(TypeError, ValueError, IndexError):
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return 0.0
