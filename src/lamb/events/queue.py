"""The asynchronous invocation queue: accept, dispatch, retry, finish, deliver.

How Lambda handles an async event
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html), as Lamb does it:

1. **Accept.** ``Invoke`` with ``InvocationType: Event`` (or ``InvokeAsync``) writes
   the event to ``<data dir>/events.db`` (SQLite, WAL, ``synchronous=FULL``) through
   the group-commit ``Journal``; the 202 goes out only once the row is durable.
2. **Dispatch.** Ready events are taken round-robin across functions, at most
   ``Settings.async_concurrency`` in flight (and no more of one function than its
   reserved concurrency, when it has one). Taking one writes a lease
   (``lease_owner``, ``lease_until``) before the function runs. The function
   version is resolved from the qualifier recorded with the event (``$LATEST``, a
   version or an alias) at each attempt, and the invocation keeps the event's
   request id across retries.
3. **Retry.** A function error is retried ``MaximumRetryAttempts`` times after
   ``async_retry_delays``; a throttle (429) or system error (5xx) with exponential
   backoff (``async_backoff``, the throttled function pauses meanwhile) until the
   event is ``MaximumEventAgeInSeconds`` old. See ``policy.py``.
4. **Finish.** In one transaction the event row is deleted and what it produces is
   written: the invocation record for the OnSuccess/OnFailure destination, the
   original event for the dead-letter queue, or a new queued event for a Lambda
   function destination. Nothing is decided twice: either all of it is on disk or
   none of it.
5. **Deliver.** Records and dead letters are sent with boto3 (``deliveries.py``, ``destinations.py``),
   retried with backoff for ``async_delivery_max_age_s`` (6 hours), then dropped
   with an error in the log.

**Nothing accepted is lost.** A kill -9 at any point leaves every accepted event
either finished (with its outputs on disk) or still in ``events.db``; at start
every row is loaded and the leases of the previous process are void (a data dir
belongs to one Lamb process), so unfinished events run again.

**Duplicates (at-least-once).** An event runs again after a restart when Lamb
died between the function starting and the commit of its outcome: the duration
of the invocation plus one group commit (well under a millisecond on an idle
disk). A destination or dead-letter message is sent again when Lamb died between
the send and the commit of its removal. A deployment that cannot tolerate this
must be idempotent on ``requestContext.requestId`` / the context's
``aws_request_id``, as on AWS.

**Loop detection.** Each attempt gets an X-Ray header whose ``Lineage`` counts how
often this chain invoked the function (``lineage.py``); at the 17th invocation of a
function in one chain (``Limits.recursion_max_invocations`` = 16 allowed) Lamb
stops it unless ``PutFunctionRecursionConfig`` set ``Allow``: the event goes to the
on-failure destination / DLQ, an error is logged and ``RecursiveInvocationsDropped``
is counted (``/_lamb/health`` → ``async``).

**Deleted functions.** An event whose function (or version, or alias) no longer
exists when its turn comes is dropped, as AWS deletes a function's queue with it;
a function re-created under the same name is another function (its creation time
is recorded with each event).
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import json
import logging
import time
import uuid
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from ..arn import LATEST, function_arn, parse_function_name
from ..config import Settings
from ..protocol.errors import AwsError, service_error
from ..services import lineage, recursion
from . import invoke_config, policy, record
from .deliveries import Deliveries, Delivery
from .journal import Journal
from .policy import EVENT_AGE_EXCEEDED, RETRIES_EXHAUSTED, SUCCESS, Policy
from .record import Outcome

if TYPE_CHECKING:
    from ..services.invoke import Invocations
    from ..store.functions import Function, FunctionStore

log = logging.getLogger("lamb.events")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id           INTEGER PRIMARY KEY,
    request_id   TEXT NOT NULL,
    function     TEXT NOT NULL,
    qualifier    TEXT NOT NULL,        -- as invoked: '' (unqualified), '$LATEST', a version or an alias
    generation   REAL,                 -- the function's creation time (a re-created namesake is another function)
    trace        TEXT NOT NULL,        -- X-Amzn-Trace-Id of the request that caused the event (Lineage)
    payload      BLOB NOT NULL,
    enqueued     REAL NOT NULL,        -- epoch seconds; the event's age counts from here
    due          REAL NOT NULL,        -- not to be tried before
    attempts     INTEGER NOT NULL DEFAULT 0,   -- times the function ran (approximateInvokeCount)
    retries      INTEGER NOT NULL DEFAULT 0,   -- throttle / system-error retries (backoff exponent)
    last_meta    TEXT,                 -- how the last attempt ended (record.Outcome), JSON
    last_payload BLOB,
    lease_owner  TEXT,                 -- the Lamb process working on it
    lease_until  REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS deliveries (
    id       INTEGER PRIMARY KEY,
    target   TEXT NOT NULL,            -- destination or dead-letter ARN
    body     BLOB NOT NULL,
    meta     TEXT NOT NULL,            -- JSON: kind, function, attributes, trace, ...
    created  REAL NOT NULL,
    due      REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
"""

INSERT_EVENT = (
    "INSERT INTO events (id, request_id, function, qualifier, generation, trace, payload, enqueued, due) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
CLAIM = "UPDATE events SET lease_owner = ?, lease_until = ? WHERE id = ?"
RESCHEDULE = (
    "UPDATE events SET due = ?, attempts = ?, retries = ?, last_meta = ?, last_payload = ?, "
    "lease_owner = NULL, lease_until = 0 WHERE id = ?"
)
DELETE_EVENT = "DELETE FROM events WHERE id = ?"

LEASE_GRACE_S = 60.0  # beyond the function's timeout before a running attempt counts as lost
SWEEP_INTERVAL_S = 5.0


def _no_metric(*_args, **_dims) -> None:
    pass


class EventState(enum.Enum):
    """Where an event is: waiting for its time, ready, being leased, running, being finished, gone."""

    DELAYED = "delayed"
    READY = "ready"
    CLAIMING = "claiming"
    RUNNING = "running"
    FINISHING = "finishing"
    DONE = "done"


_S = EventState
# The moves an event may make. Back to DELAYED/READY: a retry, a failed lease or a failed
# outcome commit; DONE straight from CLAIMING/RUNNING: its function or payload is gone.
EVENT_TRANSITIONS: dict[EventState, frozenset[EventState]] = {
    _S.DELAYED: frozenset({_S.DELAYED, _S.READY}),
    _S.READY: frozenset({_S.CLAIMING}),
    _S.CLAIMING: frozenset({_S.RUNNING, _S.FINISHING, _S.DONE, _S.DELAYED, _S.READY}),
    _S.RUNNING: frozenset({_S.FINISHING, _S.DONE, _S.DELAYED, _S.READY}),
    _S.FINISHING: frozenset({_S.DONE, _S.DELAYED, _S.READY}),
    _S.DONE: frozenset(),
}


class IllegalEventTransition(RuntimeError):
    """The queue tried to move an event between states that are not connected."""


class Event:
    __slots__ = (
        "id", "request_id", "function", "qualifier", "generation", "trace", "payload", "size", "enqueued",
        "due", "attempts", "retries", "last", "last_meta", "loaded", "held", "state", "token", "lease_until",
        "config", "header",
    )

    def __init__(self, id, request_id, function, qualifier, generation, trace, payload, size, enqueued, due,
                 attempts=0, retries=0, last=None, last_meta=None, loaded=True):
        self.id = id
        self.request_id = request_id
        self.function = function
        self.qualifier = qualifier
        self.generation = generation
        self.trace = trace
        self.payload = payload
        self.size = size
        self.enqueued = enqueued
        self.due = due
        self.attempts = attempts
        self.retries = retries
        self.last: Outcome | None = last
        self.last_meta = last_meta  # until the last payload is read back from disk
        self.loaded = loaded
        self.held = False
        self.state = EventState.DELAYED
        self.token = 0
        self.lease_until = 0.0
        self.config: dict | None = None  # the version configuration of the current attempt
        self.header: str | None = None  # the trace header of the current attempt

    def move(self, new: EventState) -> None:
        """Change state if the move is legal (``EVENT_TRANSITIONS``); raise otherwise."""
        if new not in EVENT_TRANSITIONS[self.state]:
            raise IllegalEventTransition(f"async event {self.request_id}: {self.state.name} -> {new.name}")
        self.state = new

    def row(self) -> tuple:
        return (self.id, self.request_id, self.function, self.qualifier, self.generation, self.trace,
                self.payload, self.enqueued, self.due)


class EventQueue:
    """The queue's collaborators: ``settings`` (data dir, region, async tuning), ``functions``
    (which functions exist, for dropping events of deleted ones and for Lambda destinations)
    and ``invocations``, the door every attempt goes through (``lamb.services.invoke``)."""

    def __init__(self, settings: Settings, functions: "FunctionStore", invocations: "Invocations"):
        self.functions = functions
        self.invocations = invocations
        self.settings = settings
        self.limits = settings.limits
        self.journal = Journal(settings.data_dir / "events.db", SCHEMA)
        self.owner = uuid.uuid4().hex[:12]
        self.max_inflight = max(1, settings.async_concurrency)
        self.memory_budget = settings.async_memory_mb * 1024 * 1024
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._next_event = 1
        # events
        self._events: dict[int, Event] = {}
        self._delayed: list[tuple[float, int, Event]] = []
        self._ready: dict[str, deque[Event]] = {}
        self._rr: deque[str] = deque()
        self._paused: dict[str, float] = {}
        self._running: set[Event] = set()
        self.inflight = 0
        self._held_bytes = 0
        # scheduling
        self._pump_pending = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = float("inf")
        self._sweeper: asyncio.TimerHandle | None = None
        self.stats: dict[str, int] = {
            "accepted": 0, "invocations": 0, "succeeded": 0, "function_errors": 0, "retried": 0,
            "throttled_or_system_errors": 0, "retries_exhausted": 0, "event_age_exceeded": 0,
            "dropped_deleted_function": 0, "destination_deliveries": 0,
            "destination_delivery_failures": 0, "dead_letter_deliveries": 0, "dead_letter_errors": 0,
            "delivery_retries": 0, "lost_leases": 0,
        }
        self._fn_inflight: dict[str, int] = {}
        self.deliveries = Deliveries(settings, self.journal, self.stats, self._kick)  # records and dead letters
        # Lambda's async metrics (AsyncEventsReceived, AsyncEventAge, AsyncEventsDropped) as
        # ``metrics.Metrics.put(name, value, **dims)``; set by app.py.
        self.metric: Callable[..., None] = _no_metric
        # Before the API port opens: ids continue after the last row, and every unfinished event is back.
        self._recover()

    # ================================================================ lifecycle
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.journal.start(loop)
        self.deliveries.start(loop)
        self._sweeper = loop.call_later(SWEEP_INTERVAL_S, self._sweep)
        self._kick()

    def _recover(self) -> None:
        """Load what a previous process left: every event and delivery not finished."""
        j = self.journal
        self._next_event = (j.query("SELECT COALESCE(MAX(id), 0) FROM events")[0][0] or 0) + 1
        rows = j.query(
            "SELECT id, request_id, function, qualifier, generation, trace, length(payload), enqueued, due, "
            "attempts, retries, last_meta, lease_owner FROM events ORDER BY id"
        )
        leased = 0
        for (id_, rid, fn, qual, gen, trace, size, enq, due, attempts, retries, last_meta, owner) in rows:
            ev = Event(id_, rid, fn, qual, gen, trace, None, size or 0, enq, due, attempts, retries,
                       None, json.loads(last_meta) if last_meta else None, loaded=False)
            leased += owner is not None
            self._events[id_] = ev
            self._schedule(ev)
        self.deliveries.recover()
        if rows or len(self.deliveries):
            log.warning(
                "async queue: recovered %d event(s) (%d were being processed when Lamb stopped) and %d delivery(ies)",
                len(rows), leased, len(self.deliveries),
            )

    def stop(self) -> None:
        """Stop dispatching; commit what is decided. In-flight attempts stay leased and run again after restart."""
        if self._closing:
            return
        self._closing = True
        for h in (self._timer, self._sweeper):
            if h is not None:
                h.cancel()
        self.deliveries.stop()
        self.journal.close()

    def describe(self) -> dict[str, Any]:
        return {
            "queued": len(self._events),
            "in_flight": self.inflight,
            "deliveries_pending": len(self.deliveries),
            "group_commits": self.journal.batches,
            "writes": self.journal.units,
            **self.stats,
            # every invocation passes one loop detector, synchronous or not
            "recursive_invocations_dropped": self.invocations.recursion.dropped,
        }

    # =================================================================== accept
    def accept(self, fn: "Function", qualifier: str | None, payload: bytes, trace: str | None,
               request_id: str | None = None) -> asyncio.Future:
        """Queue an event durably; the future resolves to Invoke's 202 output once it is on disk.

        ``request_id`` (the 202's x-amzn-RequestId) becomes the event's request id, as on AWS.
        """
        if self._closing:
            raise service_error("Lamb is shutting down; the event was not accepted.")
        now = time.time()
        ev = Event(self._next_event, request_id or str(uuid.uuid4()), fn.name, qualifier or "", fn.data.get("Created"),
                   lineage.with_root(trace), payload, len(payload), now, now)
        self._next_event += 1
        fut = asyncio.get_running_loop().create_future()
        self.journal.submit([(INSERT_EVENT, ev.row())], partial(self._accepted, ev, fut))
        return fut

    def _accepted(self, ev: Event, fut: asyncio.Future, _result, exc) -> None:
        if exc is not None:
            log.error("async event for %s not accepted: %s", ev.function, exc)
            if not fut.done():
                fut.set_exception(service_error())
            return
        if not fut.done():
            fut.set_result({"StatusCode": 202})
        self.stats["accepted"] += 1
        self.metric("AsyncEventsReceived", 1, FunctionName=ev.function)
        self._enqueue_internal(ev)

    def _enqueue_internal(self, ev: Event) -> None:
        """A committed event (accepted, or queued by Lamb itself for a Lambda destination) joins the schedule."""
        if self._closing:
            return
        self._events[ev.id] = ev
        self._hold(ev)
        self._schedule(ev)

    # ------------------------------------------------------------- memory
    def _hold(self, ev: Event) -> None:
        """Keep the payload in memory while the budget allows, else read it back when its turn comes."""
        if ev.payload is None or ev.held:
            return
        if self._held_bytes + ev.size > self.memory_budget:
            ev.payload = None
            ev.loaded = False
            return
        ev.held = True
        self._held_bytes += ev.size

    def _release_memory(self, ev: Event) -> None:
        if ev.held:
            ev.held = False
            self._held_bytes -= ev.size

    # ================================================================= schedule
    def _schedule(self, ev: Event) -> None:
        if ev.due <= time.time():
            ev.move(EventState.READY)
            q = self._ready.get(ev.function)
            if q is None:
                q = self._ready[ev.function] = deque()
                self._rr.append(ev.function)
            q.append(ev)
        else:
            ev.move(EventState.DELAYED)
            heapq.heappush(self._delayed, (ev.due, ev.id, ev))
        self._kick()

    def _kick(self) -> None:
        if not self._pump_pending and self._loop is not None and not self._closing:
            self._pump_pending = True
            self._loop.call_soon(self._pump)

    def _pump(self) -> None:
        self._pump_pending = False
        if self._closing:
            return
        now = time.time()
        delayed = self._delayed
        while delayed and delayed[0][0] <= now:
            due, _, ev = heapq.heappop(delayed)
            if ev.state == EventState.DELAYED and ev.due == due:
                self._schedule(ev)
        picked = self._pick(now)
        if picked:
            self._claim(picked, now)
        self.deliveries.pump(now)
        self._arm(now)

    def _pick(self, now: float) -> list[Event]:
        capacity = self.max_inflight - self.inflight
        picked: list[Event] = []
        skipped: list[str] = []
        rr = self._rr
        while capacity > 0 and rr:
            name = rr.popleft()
            until = self._paused.get(name)
            if until is not None:
                if until > now:
                    skipped.append(name)
                    continue
                del self._paused[name]
            cap = self._reserved(name)
            if cap is not None and cap > 0 and self._fn_inflight.get(name, 0) >= cap:
                skipped.append(name)  # at its reserved concurrency: wait for one of its own to finish
                continue
            q = self._ready[name]
            ev = q.popleft()
            if q:
                rr.append(name)
            else:
                del self._ready[name]
            if ev.state != EventState.READY:
                continue
            ev.move(EventState.CLAIMING)
            picked.append(ev)
            self._fn_inflight[name] = self._fn_inflight.get(name, 0) + 1
            capacity -= 1
        rr.extend(skipped)
        self.inflight += len(picked)
        return picked

    def _reserved(self, name: str) -> int | None:
        """The function's reserved concurrency, as the invoker enforces it (lamb.invoke.concurrency)."""
        return self.invocations.reserved(name)

    def _arm(self, now: float) -> None:
        """Wake up for the next delayed event, paused function or delivery."""
        at = float("inf")
        if self._delayed:
            at = self._delayed[0][0]
        if self._paused and self._rr:
            at = min(at, min(self._paused.values()))
        deliveries_at = self.deliveries.next_due()
        if deliveries_at is not None:
            at = min(at, deliveries_at)
        if at == float("inf") or at >= self._timer_at and self._timer is not None:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = self._loop.call_later(max(0.0, at - now) + 0.001, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = float("inf")
        self._pump()

    def _settle(self, ev: Event) -> None:
        """An event leaves the claimed/running state: its slot is free."""
        if ev.state in (EventState.CLAIMING, EventState.RUNNING):
            self.inflight -= 1
            n = self._fn_inflight.get(ev.function, 0) - 1
            if n > 0:
                self._fn_inflight[ev.function] = n
            else:
                self._fn_inflight.pop(ev.function, None)
            self._running.discard(ev)
            self._kick()

    # ==================================================================== claim
    def _claim(self, picked: list[Event], now: float) -> None:
        lease = now + self.limits.timeout_max_s + LEASE_GRACE_S
        ops: list = [(CLAIM, (self.owner, lease, ev.id)) for ev in picked]
        need = [ev.id for ev in picked if not ev.loaded]
        if need:
            ops.append(partial(_load_payloads, need))
        self.journal.submit(ops, partial(self._claimed, picked))

    def _claimed(self, picked: list[Event], loaded, exc) -> None:
        if self._closing:
            return
        if exc is not None:
            log.error("async queue: could not lease %d event(s): %s", len(picked), exc)
            now = time.time()
            for ev in picked:
                self._settle(ev)
                ev.due = now + 1.0
                self._schedule(ev)
            return
        for ev in picked:
            if not ev.loaded:
                payload, last_payload = (loaded or {}).get(ev.id, (None, None))
                if payload is None:  # gone from disk: nothing to run
                    self._settle(ev)
                    ev.move(EventState.DONE)
                    self._events.pop(ev.id, None)
                    continue
                ev.payload = payload
                ev.loaded = True
                ev.held = True  # counted; shed again if it has to wait for a retry
                self._held_bytes += ev.size
                if ev.last_meta is not None:
                    ev.last = Outcome.from_meta(ev.last_meta, last_payload or b"")
                    ev.last_meta = None
            self._attempt(ev)

    # ================================================================== attempt
    def _function(self, ev: Event) -> "Function | None":
        fn = self.functions.get(ev.function)
        if fn is None:
            return None
        if ev.generation is not None and fn.data.get("Created") not in (None, ev.generation):
            return None
        return fn

    def _policy(self, fn: "Function", ev: Event) -> tuple[dict | None, Policy]:
        eic = invoke_config.get(fn, ev.qualifier or LATEST)
        return eic, Policy.of(eic, self.limits, self.settings.async_event_age_scale)

    def _attempt(self, ev: Event) -> None:
        if self._closing:
            return
        now = time.time()
        fn = self._function(ev)
        if fn is None:
            return self._drop(ev, "its function was deleted")
        try:
            # route: a weighted alias draws the version of each attempt, as for any invocation
            _, _, version, config = self.invocations.resolve(fn.name, ev.qualifier or None, route=True)
        except AwsError as e:
            if e.code == "ResourceNotFoundException":
                return self._drop(ev, e.message)
            return self._retry_later(ev, Outcome.api_error(e.status or 500, e.code, e.message), now)
        ev.config = config
        eic, pol = self._policy(fn, ev)
        s = self.settings
        if now >= ev.enqueued + pol.max_age_s:
            ev.header = lineage.hop(ev.trace, function_arn(s.region, s.account_id, fn.name))[0]
            return self._finish(ev, EVENT_AGE_EXCEEDED, ev.last, fn, eic)
        header, stop = self.invocations.recursion.hop(fn, ev.trace, f"the invocation (request {ev.request_id})")
        ev.header = header
        if stop:
            return self._finish(ev, RETRIES_EXHAUSTED, Outcome.api_error(400, "RecursiveInvocationException", recursion.MESSAGE), fn, eic)
        if self._reserved(fn.name) == 0:
            # AWS sends events of a function throttled to zero to the DLQ / on-failure destination at once.
            return self._finish(ev, RETRIES_EXHAUSTED, Outcome.api_error(429, "TooManyRequestsException", "Rate Exceeded."), fn, eic)
        invoked_arn = function_arn(s.region, s.account_id, fn.name, ev.qualifier or None)
        ev.token += 1
        ev.move(EventState.RUNNING)
        ev.lease_until = now + config.get("Timeout", self.limits.timeout_max_s) + LEASE_GRACE_S
        self._running.add(ev)
        self.stats["invocations"] += 1
        self.metric("AsyncEventAge", max(0.0, now - ev.enqueued) * 1000.0, FunctionName=fn.name)
        try:
            self.invocations.submit(fn.name, version, config, ev.payload, invoked_arn, partial(self._done, ev, ev.token),
                                    request_id=ev.request_id, trace=header)
        except AwsError as e:  # a throttle (reserved/account concurrency)
            self.stats["invocations"] -= 1
            self._retry_later(ev, Outcome.api_error(e.status or 500, e.code, e.message), now,
                              e.code == "TooManyRequestsException" or e.status == 429)
        except Exception as e:
            self.stats["invocations"] -= 1
            log.exception("async invocation of %s could not start", fn.name)
            self._retry_later(ev, Outcome.api_error(500, "ServiceException", str(e)), now)

    def _done(self, ev: Event, token: int, result, exc) -> None:
        if token != ev.token or ev.state != EventState.RUNNING or self._closing:
            return  # a stale attempt, or environments being killed at shutdown: the lease stays
        now = time.time()
        if exc is not None:
            if isinstance(exc, AwsError):
                outcome = Outcome.api_error(exc.status or 500, exc.code, exc.message)
                throttle = exc.code == "TooManyRequestsException" or exc.status == 429
            else:
                outcome = Outcome.api_error(500, "ServiceException", f"{type(exc).__name__}: {exc}")
                throttle = False
            return self._retry_later(ev, outcome, now, throttle)
        outcome = Outcome(200, result.payload, result.executed_version, result.function_error)
        ev.attempts += 1
        fn = self._function(ev)
        if fn is None:
            return self._drop(ev, "its function was deleted")
        eic, pol = self._policy(fn, ev)
        if not result.function_error:
            return self._finish(ev, SUCCESS, outcome, fn, eic)
        self.stats["function_errors"] += 1
        ev.last = outcome
        if not policy.after_function_error(ev.attempts, pol):
            return self._finish(ev, RETRIES_EXHAUSTED, outcome, fn, eic)
        self.stats["retried"] += 1
        delay = policy.function_error_delay(ev.attempts, self.settings.async_retry_delays)
        self._reschedule(ev, policy.next_due(now, delay, ev.enqueued + pol.max_age_s))

    def _retry_later(self, ev: Event, outcome: Outcome, now: float, throttle: bool = False) -> None:
        """A throttle or system error: back off, without counting an attempt."""
        now = time.time()  # the attempt may have taken a while to fail
        fn = self._function(ev)
        if fn is None:
            return self._drop(ev, "its function was deleted")
        self.stats["throttled_or_system_errors"] += 1
        ev.retries += 1
        ev.last = outcome
        _, pol = self._policy(fn, ev)
        base, cap = (tuple(self.settings.async_backoff) + (1.0, 300.0))[:2]
        delay = policy.backoff(ev.retries, base, cap)
        due = policy.next_due(now, delay, ev.enqueued + pol.max_age_s)
        if throttle:
            self._paused[ev.function] = max(self._paused.get(ev.function, 0.0), now + delay)
        log.info("async event %s of %s: %s %s; next try in %.1fs", ev.request_id, ev.function,
                 outcome.error_type, outcome.status_code, due - now)
        self._reschedule(ev, due)

    def _reschedule(self, ev: Event, due: float) -> None:
        last = ev.last
        self.journal.submit([(RESCHEDULE, (
            due, ev.attempts, ev.retries, json.dumps(last.to_meta()) if last else None,
            last.payload if last else None, ev.id,
        ))])
        self._settle(ev)
        ev.due = due
        if self._held_bytes > self.memory_budget and ev.held:
            self._release_memory(ev)
            ev.payload = None
            ev.loaded = False
            if ev.last is not None:
                ev.last_meta = ev.last.to_meta()
                ev.last = None
        self._schedule(ev)

    def _drop(self, ev: Event, reason: str) -> None:
        self.stats["dropped_deleted_function"] += 1
        self.metric("AsyncEventsDropped", 1, FunctionName=ev.function)
        log.warning("async event %s for %s dropped: %s", ev.request_id, ev.function, reason)
        self.journal.submit([(DELETE_EVENT, (ev.id,))])
        self._settle(ev)
        self._forget(ev)

    def _forget(self, ev: Event) -> None:
        ev.move(EventState.DONE)
        self._events.pop(ev.id, None)
        self._release_memory(ev)
        ev.payload = None

    # =================================================================== finish
    def _finish(self, ev: Event, condition: str, outcome: Outcome | None, fn: "Function", eic: dict | None) -> None:
        """Delete the event and write everything it produces, in one transaction."""
        s = self.settings
        success = condition == SUCCESS
        now = time.time()
        qualified = function_arn(s.region, s.account_id, fn.name, ev.qualifier or LATEST)
        header = ev.header or lineage.hop(ev.trace, function_arn(s.region, s.account_id, fn.name))[0]
        ops: list = [(DELETE_EVENT, (ev.id,))]
        new_events: list[Event] = []
        new_deliveries: list[Delivery] = []
        if success:
            self.stats["succeeded"] += 1
        elif condition == EVENT_AGE_EXCEEDED:
            self.stats["event_age_exceeded"] += 1
        else:
            self.stats["retries_exhausted"] += 1
        if not success:  # AWS counts it dropped even when a DLQ / on-failure destination gets it
            self.metric("AsyncEventsDropped", 1, FunctionName=fn.name)
        cfg = ev.config or fn.versions.get(LATEST) or {}
        role = cfg.get("Role") or None  # the execution role sends the record and the dead letter (as on AWS)
        target = invoke_config.destination(eic, success)
        if target:
            body = record.invocation_record(
                request_id=ev.request_id, function_arn=qualified, condition=condition,
                invoke_count=ev.attempts, request_payload=ev.payload or b"{}", outcome=outcome, timestamp=now,
            )
            kind = record.destination_kind(target, on_failure=not success)
            if kind == "lambda":
                new = self._destination_event(target, body, header, now)
                if new is not None:
                    ops.append((INSERT_EVENT, new.row()))
                    new_events.append(new)
            elif kind is not None:
                meta = {"kind": "record", "function_name": fn.name, "function_arn": qualified,
                        "success": success, "trace": header, "request_id": ev.request_id, "role": role}
                new_deliveries.append(self.deliveries.new(target, body, meta, now))
            else:
                log.error("async event %s of %s: destination %s is not usable", ev.request_id, fn.name, target)
        dlq = None
        if not success:
            dlq = (cfg.get("DeadLetterConfig") or {}).get("TargetArn") or None
            if dlq and record.dead_letter_kind(dlq):
                meta = {"kind": "dlq", "function_name": fn.name, "function_arn": qualified, "trace": header,
                        "request_id": ev.request_id, "role": role,
                        "attributes": record.dlq_attributes(ev.request_id, outcome, self.limits.dlq_error_message_max_bytes)}
                new_deliveries.append(self.deliveries.new(dlq, ev.payload or b"{}", meta, now))
            elif dlq:
                log.error("async event %s of %s: dead-letter target %s is not an SQS queue or SNS topic",
                          ev.request_id, fn.name, dlq)
            if not target and not dlq:
                log.info("async event %s of %s discarded (%s) with no destination or dead-letter queue",
                         ev.request_id, fn.name, condition)
        ops.extend(d.insert() for d in new_deliveries)
        self._settle(ev)
        ev.move(EventState.FINISHING)
        self.journal.submit(ops, partial(self._finished, ev, new_events, new_deliveries))

    def _finished(self, ev: Event, new_events: list[Event], new_deliveries: list[Delivery], _r, exc) -> None:
        if exc is not None:
            log.error("async event %s: could not record its outcome (%s); it will run again", ev.request_id, exc)
            if not self._closing:
                ev.due = time.time() + 1.0
                self._schedule(ev)
            return
        self._forget(ev)
        for new in new_events:
            self._enqueue_internal(new)
        for d in new_deliveries:
            self.deliveries.add(d)

    def _destination_event(self, target: str, body: bytes, header: str, now: float) -> Event | None:
        """A queued event for a Lambda function destination (invoked asynchronously, with the chain's lineage)."""
        s = self.settings
        try:
            ref = parse_function_name(target, region=s.region, account_id=s.account_id)
        except AwsError as e:
            log.error("destination %s is not a function of this Lamb: %s", target, e.message)
            return None
        fn = self.functions.get(ref.name)
        if fn is None:
            log.error("destination function %s does not exist; record dropped", target)
            self.stats["destination_delivery_failures"] += 1
            return None
        ev = Event(self._next_event, str(uuid.uuid4()), fn.name, ref.qualifier or "", fn.data.get("Created"),
                   header, body, len(body), now, now)
        self._next_event += 1
        self.stats["destination_deliveries"] += 1
        return ev

    # ==================================================================== leases
    def _sweep(self) -> None:
        """Attempts running past their lease (function timeout + grace) are tried again."""
        if self._closing:
            return
        now = time.time()
        for ev in [e for e in self._running if e.lease_until < now]:
            self.stats["lost_leases"] += 1
            log.error("async event %s of %s: attempt outlived its lease; trying again", ev.request_id, ev.function)
            ev.token += 1
            self._retry_later(ev, Outcome.api_error(500, "ServiceException", "The invocation did not finish."), now)
        self._sweeper = self._loop.call_later(SWEEP_INTERVAL_S, self._sweep)


# ------------------------------------------------------------ writer-thread reads
def _load_payloads(ids: list[int], conn) -> dict[int, tuple[bytes, bytes | None]]:
    out: dict[int, tuple[bytes, bytes | None]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        for id_, payload, last in conn.execute(
            f"SELECT id, payload, last_payload FROM events WHERE id IN ({marks})", chunk
        ):
            out[id_] = (bytes(payload), bytes(last) if last is not None else None)
    return out
