"""The reference CPO's client to Hubject: timeouts, retries with backoff and jitter, Retry-After,
one push at a time, and the same body on every retry."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.reference.cpo.model import Config

RETRYABLE_STATUS = {429, 500, 502, 503, 504}


@dataclass
class Outcome:
    """What finally came back: the last HTTP status (0: no answer) and body, and how many attempts."""

    status: int
    body: Any
    attempts: int

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
        self.http = httpx.Client(timeout=httpx.Timeout(config.hub_timeout), headers={"Accept": "application/json"})
        self.push_lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        delay = min(self.config.max_backoff, self.config.backoff * 2**attempt) * random.uniform(0.5, 1.0)
        if retry_after and "ignore-retry-after" not in self.config.defects:
            with contextlib.suppress(ValueError):
                delay = max(delay, min(float(retry_after), 30.0))
        time.sleep(delay)

    def post(self, path: str, body: dict[str, Any], *, push: bool = False, budget: int | None = None) -> Outcome:
        """POST `body` to the hub, retrying what may succeed later and nothing that will not."""
        if push and "parallel-pushes" not in self.config.defects:
            with self.push_lock:
                return self._post(path, body, budget)
        return self._post(path, body, budget)

    def _post(self, path: str, body: dict[str, Any], budget: int | None = None) -> Outcome:
        url = self.config.hub_url.rstrip("/") + path
        attempts, status, answer = 0, 0, None
        if budget is None:
            budget = 1 if "no-retry-on-5xx" in self.config.defects else self.config.max_retries + 1
        while attempts < budget:
            attempts += 1
            retry_after = None
            try:
                response = self.http.post(url, json=body)
                status = response.status_code
                retry_after = response.headers.get("Retry-After")
                try:
                    answer = response.json()
                except ValueError:
                    answer, status = None, status if status != 200 else 0  # an unreadable 200 is no answer
            except httpx.HTTPError:
                status, answer = 0, None
            if status == 200 and isinstance(answer, dict):
                refused = answer.get("Result") is False
                if not (refused and "retry-refusals" in self.config.defects):
                    return Outcome(status, answer, attempts)
            elif status not in RETRYABLE_STATUS and status != 0:
                return Outcome(status, answer, attempts)
            if attempts < budget:
                self._wait(attempts - 1, retry_after)
        return Outcome(status, answer, attempts)
