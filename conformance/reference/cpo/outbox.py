"""Queue mode: triggers answer 202 at once; one worker per operation delivers the queued actions later.

OICP 2.3 CPO chapter 1 wants data pushes *of the same operation* processed one after the other, so each
operation has its own queue and worker: two EVSE data pushes never overlap, an EVSE data push and an EVSE
status push may. With the `parallel-pushes` defect a push worker starts each job without waiting for the last."""

from __future__ import annotations

import itertools
import queue
import threading
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

# One queue each; the trigger's action decides which (see app.TRIGGERS).
OPERATIONS = ("evse-data", "evse-status", "authorization", "cdr", "notification", "pricing-products", "evse-pricing")
PUSHES = ("evse-data", "evse-status", "pricing-products", "evse-pricing")

Job = Callable[[], Any]


class Outbox:
    def __init__(self, parallel_pushes: bool | tuple[str, ...] = False):
        # the planted defects: True lets every push operation's worker overlap, a tuple only those operations'
        self._parallel = PUSHES if parallel_pushes is True else tuple(parallel_pushes or ())
        self._queues: dict[str, queue.Queue[tuple[int, Job] | None]] = {op: queue.Queue() for op in OPERATIONS}
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._pending = dict.fromkeys(OPERATIONS, 0)
        self._done: deque[dict[str, Any]] = deque(maxlen=200)  # the latest deliveries, for the state-queue probe
        self._workers = [
            threading.Thread(target=self._work, args=(op,), name=f"outbox-{op}", daemon=True) for op in OPERATIONS
        ]
        for worker in self._workers:
            worker.start()

    def put(self, operation: str, job: Job) -> int:
        """Queue `job` (a callable returning an Outcome or a list of them); returns its number."""
        number = next(self._numbers)
        with self._lock:
            self._pending[operation] += 1
        self._queues[operation].put((number, job))
        return number

    def state(self) -> dict[str, Any]:
        """How many jobs wait per operation, and how the latest ones went."""
        with self._lock:
            return {"pending": dict(self._pending), "delivered": list(self._done)}

    def idle(self) -> bool:
        with self._lock:
            return not any(self._pending.values())

    def close(self) -> None:
        for q in self._queues.values():
            q.put(None)
        for worker in self._workers:
            worker.join(timeout=2.0)

    def _work(self, operation: str) -> None:
        q = self._queues[operation]
        while (item := q.get()) is not None:
            if operation in self._parallel:  # the defect: do not wait for the push in flight
                threading.Thread(target=self._run, args=(operation, *item), daemon=True).start()
            else:
                self._run(operation, *item)

    def _run(self, operation: str, number: int, job: Job) -> None:
        record: dict[str, Any] = {"job": number, "operation": operation}
        try:
            result = job()
            outcomes = result if isinstance(result, list) else [result]
            record["results"] = [{"status": o.status, "attempts": o.attempts} for o in outcomes]
        except Exception as exc:  # a job must never kill its worker; the probe shows what went wrong
            record["error"] = f"{type(exc).__name__}: {exc}"
            record["trace"] = traceback.format_exc(limit=3)
        with self._lock:
            self._pending[operation] -= 1
            self._done.append(record)
