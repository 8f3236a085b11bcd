"""Destination and dead-letter deliveries of the async queue: kept on disk until sent.

An outcome's invocation record (OnSuccess/OnFailure to SQS, SNS, EventBridge or S3) and
a dead letter are written as ``deliveries`` rows in the same transaction that finishes
the event (``queue.py``), then sent with boto3 (``destinations.py``) on a small thread
pool, retried with backoff for ``async_delivery_max_age_s`` (6 hours) and then dropped
with an error in the log
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
A row is removed once its message is sent; after a crash unsent rows are loaded again.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Callable

from . import policy
from .destinations import Deliverer, describe_error
from ..cpus import release_thread

if TYPE_CHECKING:
    from ..config import Settings
    from .journal import Journal

log = logging.getLogger("lamb.events")

INSERT_DELIVERY = "INSERT INTO deliveries (id, target, body, meta, created, due) VALUES (?, ?, ?, ?, ?, ?)"
RESCHEDULE_DELIVERY = "UPDATE deliveries SET due = ?, attempts = ? WHERE id = ?"
DELETE_DELIVERY = "DELETE FROM deliveries WHERE id = ?"
DELIVERY_THREADS = 4


class Delivery:
    __slots__ = ("id", "target", "body", "meta", "created", "due", "attempts", "loaded", "sending")

    def __init__(self, id, target, body, meta, created, due, attempts=0, loaded=True):
        self.id = id
        self.target = target
        self.body = body
        self.meta = meta  # JSON-able: kind ("record" | "dlq"), function_name, trace, request_id, ...
        self.created = created
        self.due = due
        self.attempts = attempts
        self.loaded = loaded
        self.sending = False

    def insert(self) -> tuple[str, tuple]:
        """The journal unit that writes this delivery (part of the event's finishing transaction)."""
        return INSERT_DELIVERY, (self.id, self.target, self.body, json.dumps(self.meta), self.created, self.due)


class Deliveries:
    """Collaborators: ``settings`` (region, backoff, max age), the queue's ``journal``, its
    ``stats`` (counted here: deliveries, failures, retries) and ``kick``, which asks the
    queue's scheduler to run ``pump`` again."""

    def __init__(self, settings: "Settings", journal: "Journal", stats: dict[str, int], kick: Callable[[], None]):
        self.settings = settings
        self.metric: Callable[..., None] | None = None  # DeadLetterErrors / DestinationDeliveryFailures (metrics.put)
        self.journal = journal
        self.stats = stats
        self.kick = kick
        self.deliverer = Deliverer(settings.region)
        self._next_id = 1
        self._pending: dict[int, Delivery] = {}
        self._heap: list[tuple[float, int, Delivery]] = []
        self._sending = 0
        self._pool: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False

    def __len__(self) -> int:
        return len(self._pending)

    def recover(self) -> None:
        """Load the deliveries a previous process did not finish (their bodies stay on disk until sent)."""
        j = self.journal
        self._next_id = (j.query("SELECT COALESCE(MAX(id), 0) FROM deliveries")[0][0] or 0) + 1
        for id_, target, meta, created, due, attempts in j.query(
            "SELECT id, target, meta, created, due, attempts FROM deliveries ORDER BY id"
        ):
            d = Delivery(id_, target, None, json.loads(meta), created, due, attempts, loaded=False)
            self._pending[id_] = d
            heapq.heappush(self._heap, (d.due, d.id, d))

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pool = ThreadPoolExecutor(DELIVERY_THREADS, thread_name_prefix="lamb-deliver", initializer=release_thread)

    def stop(self) -> None:
        self._closing = True
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def new(self, target: str, body: bytes, meta: dict, now: float) -> Delivery:
        """A delivery to be written with the event's outcome (``Delivery.insert``), added once committed."""
        d = Delivery(self._next_id, target, body, meta, now, now)
        self._next_id += 1
        return d

    def add(self, d: Delivery) -> None:
        self._pending[d.id] = d
        heapq.heappush(self._heap, (d.due, d.id, d))
        self.kick()

    def next_due(self) -> float | None:
        """When ``pump`` has work next (None: nothing waiting, or every sender is busy)."""
        if self._heap and self._sending < DELIVERY_THREADS:
            return self._heap[0][0]
        return None

    def pump(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now and self._sending < DELIVERY_THREADS:
            due, _, d = heapq.heappop(heap)
            if d.sending or d.due != due or d.id not in self._pending:
                continue
            d.sending = True
            self._sending += 1
            if d.loaded:
                self._send(d)
            else:
                self.journal.submit([partial(_load_body, d.id)], partial(self._body_loaded, d))

    def _body_loaded(self, d: Delivery, body, exc) -> None:
        if self._closing:
            return
        if exc is not None or body is None:
            self._sending -= 1
            d.sending = False
            if exc is not None:
                log.error("delivery %s: could not read its message: %s", d.id, exc)
                d.due = time.time() + 1.0
                heapq.heappush(self._heap, (d.due, d.id, d))
            else:
                self._pending.pop(d.id, None)
            self.kick()
            return
        d.body = body
        d.loaded = True
        self._send(d)

    def _send(self, d: Delivery) -> None:
        fut = self._loop.run_in_executor(self._pool, self.deliverer.send, d.target, d.body, d.meta)
        fut.add_done_callback(partial(self._sent, d))

    def _sent(self, d: Delivery, fut: asyncio.Future) -> None:
        if self._closing or fut.cancelled():
            return
        self._sending -= 1
        d.sending = False
        dlq = d.meta.get("kind") == "dlq"
        exc = fut.exception()
        now = time.time()
        if exc is None:
            self.stats["dead_letter_deliveries" if dlq else "destination_deliveries"] += 1
            self._remove(d)
            return
        d.attempts += 1
        what = "dead-letter queue" if dlq else "destination"
        request_id = d.meta.get("request_id", "?")
        if now - d.created >= self.settings.async_delivery_max_age_s:
            self.stats["dead_letter_errors" if dlq else "destination_delivery_failures"] += 1
            if self.metric is not None and d.meta.get("function_name"):
                self.metric("DeadLetterErrors" if dlq else "DestinationDeliveryFailures", 1,
                            FunctionName=d.meta["function_name"])
            log.error("%s %s unreachable for %.0fs; message for event %s of %s dropped after %d attempts: %s",
                      what, d.target, now - d.created, request_id, d.meta.get("function_name"), d.attempts,
                      describe_error(exc))
            self._remove(d)
            return
        self.stats["delivery_retries"] += 1
        base, cap = (tuple(self.settings.async_backoff) + (1.0, 300.0))[:2]
        d.due = now + policy.backoff(d.attempts, base, cap)
        log.warning("%s %s: delivery of event %s of %s failed (attempt %d, next in %.1fs): %s", what, d.target,
                    request_id, d.meta.get("function_name"), d.attempts, d.due - now, describe_error(exc))
        self.journal.submit([(RESCHEDULE_DELIVERY, (d.due, d.attempts, d.id))])
        heapq.heappush(self._heap, (d.due, d.id, d))
        self.kick()

    def _remove(self, d: Delivery) -> None:
        self.journal.submit([(DELETE_DELIVERY, (d.id,))])
        self._pending.pop(d.id, None)
        self.kick()


# ------------------------------------------------------------ writer-thread reads
def _load_body(id_: int, conn) -> bytes | None:
    row = conn.execute("SELECT body FROM deliveries WHERE id = ?", (id_,)).fetchone()
    return bytes(row[0]) if row else None
