"""The reference CPO's client to Hubject: timeouts, retries with backoff and jitter, Retry-After,
one push at a time per operation, and the same body on every retry."""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.reference.cpo.model import Config
from conformance.reference.cpo.transport import client_context

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# A refusal with one of these codes is Hubject's own trouble (001 system error, 002 database error, 009 data
# transaction error, 021 system error), not a verdict on the request: it is sent again later, like a 5xx.
HUB_SIDE_CODES = {"001", "002", "009", "021"}
PRICING_PUSHES = ("pricing-products", "evse-pricing")  # the push operations of dynamic pricing


@dataclass
class Outcome:
    """What finally came back: the last HTTP status (0: no answer) and body, and how many attempts."""

    status: int
    body: Any
    attempts: int
    text: str = ""  # the raw answer, for relaying an answer that is not JSON

    @property
    def accepted(self) -> bool:
        return (
            self.status == 200
            and isinstance(self.body, dict)
            and (self.body.get("Result") is True or self.body.get("AuthorizationStatus") == "Authorized")
        )


class HubClient:
    def __init__(self, config: Config):
        self.config = config
        # Over mutual TLS the hub must show a certificate of our CA, and we show it ours.
        tls = config.tls_cert or config.tls_ca
        verify = client_context(config.tls_ca, config.tls_cert, config.tls_key) if tls else True
        self.http = httpx.Client(
            timeout=httpx.Timeout(config.hub_timeout), headers={"Accept": "application/json"}, verify=verify
        )
        # OICP 2.3 CPO chapter 1: pushes "that address the same operation MUST always be processed sequentially";
        # pushes of different operations may overlap, so there is one lock per push operation.
        self._push_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def push_lock(self, operation: str) -> threading.Lock:
        """The lock that keeps pushes of one operation ("evse-data", "evse-status", ...) one at a time."""
        with self._locks_guard:
            return self._push_locks.setdefault(operation, threading.Lock())

    def close(self) -> None:
        self.http.close()

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        delay = min(self.config.max_backoff, self.config.backoff * 2**attempt) * random.uniform(0.5, 1.0)
        if "endless-retries" in self.config.defects:
            delay = self.config.backoff
        if retry_after and "ignore-retry-after" not in self.config.defects:
            with contextlib.suppress(ValueError):
                delay = max(delay, min(float(retry_after), 30.0))
        time.sleep(delay)

    def post(
        self,
        path: str,
        body: dict[str, Any],
        *,
        push: str | None = None,
        budget: int | None = None,
        encoding: str = "utf-8",
    ) -> Outcome:
        """POST `body` to the hub, retrying what may succeed later and nothing that will not.

        `push` names the push operation: the call waits until no other push of that operation is in flight.
        `encoding`: how the JSON is written; OICP wants UTF-8 ("All service messages ... MUST use UTF-8")."""
        if push and not self._unlocked(push):
            with self.push_lock(push):
                return self._post(path, body, budget, encoding)
        return self._post(path, body, budget, encoding)

    def _unlocked(self, push: str) -> bool:
        """The planted defects that let pushes of one operation overlap (all of them, or the pricing ones)."""
        defects = self.config.defects
        return "parallel-pushes" in defects or ("parallel-pricing-pushes" in defects and push in PRICING_PUSHES)

    def _post(self, path: str, body: dict[str, Any], budget: int | None = None, encoding: str = "utf-8") -> Outcome:
        url = self.config.hub_url.rstrip("/") + path
        attempts, status, answer, text = 0, 0, None, ""
        if budget is None:
            budget = 1 if "no-retry-on-5xx" in self.config.defects else self.config.max_retries + 1
            if "endless-retries" in self.config.defects:
                budget = 3 * (self.config.max_retries + 1)
        while attempts < budget:
            attempts += 1
            retry_after = None
            try:
                if encoding == "utf-8":
                    response = self.http.post(url, json=body)
                else:  # the JSON written in another encoding, under a plain application/json
                    data = json.dumps(body, ensure_ascii=False).encode(encoding)
                    response = self.http.post(url, content=data, headers={"Content-Type": "application/json"})
                status, text = response.status_code, response.text
                retry_after = response.headers.get("Retry-After")
                try:
                    answer = response.json()
                except ValueError:
                    answer, status = None, status if status != 200 else 0  # an unreadable 200 is no answer
            except httpx.HTTPError:
                status, answer, text = 0, None, ""
            if status == 200 and isinstance(answer, dict):
                refused = answer.get("Result") is False
                hub_error = _hub_side(answer) and "drop-after-hub-error" not in self.config.defects
                if not (refused and ("retry-refusals" in self.config.defects or hub_error)):
                    return Outcome(status, answer, attempts, text)
            elif status not in RETRYABLE_STATUS and status != 0:
                return Outcome(status, answer, attempts, text)
            if attempts < budget:
                self._wait(attempts - 1, retry_after)
        return Outcome(status, answer, attempts, text)


def _hub_side(answer: dict[str, Any]) -> bool:
    status = answer.get("StatusCode")
    return isinstance(status, dict) and status.get("Code") in HUB_SIDE_CODES
