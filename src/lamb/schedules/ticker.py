"""When each rule and schedule is due, and firing every tick once.

**Durable ticks.** A tick is fired by handing it to ``fire`` (the first attempt of every
target: the event is then durable in Lamb's async queue); then its time is written to
SQLite as the item's ``fired`` (``store.mark_fired``). The next tick is always the first one
later than ``fired``, so a restart never fires a tick again. A crash in the instant between
the two writes fires that tick once more after the restart (at-least-once, as EventBridge).

**Missed ticks** (Lamb was down, or the host stalled). A tick that is due fires at once if it
is younger than the maximum event age (a rule's 24 hours; a schedule's
``RetryPolicy.MaximumEventAgeInSeconds``, default 24 hours; both times the time scale) and
is skipped (recorded as fired, not sent) if it is older. When more than one tick of an item
is due at once, only the latest is considered; the earlier ones are skipped.

**Time scale.** ``LAMB_SCHEDULE_TIME_SCALE`` multiplies every schedule duration: ``rate()``
periods, flexible time windows, maximum event ages, retry back-off. ``cron()`` and ``at()``
name wall-clock times and are not scaled.

Ticks before a rule or schedule was created, enabled or had its expression changed
(``_since``), before a schedule's ``StartDate`` or after its ``EndDate`` are not fired; ``at()``
ignores StartDate and EndDate, as on AWS.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Awaitable, Callable, NamedTuple
from zoneinfo import ZoneInfo

from .. import aio
from .expressions import At, Expression, Rate, last_tick, next_tick, parse
from .store import RULE, SCHEDULE, Item, ScheduleStore

log = logging.getLogger("lamb.schedules")

DAY_S = 86_400.0
ENABLED_STATES = ("ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
# The loop re-reads the clock at least this often (wall-clock jumps, cron ticks far away).
MAX_SLEEP_S = 30.0


class Plan(NamedTuple):
    tick: float  # the scheduled time (what the event's ``time`` says)
    due: float  # when it fires: the tick plus its flexible-window offset, or now for a late catch-up
    skip: bool  # a missed tick too old to fire: recorded as fired, not sent


def max_age_s(item: Item) -> float:
    if item.kind == RULE:
        return DAY_S
    policy = (item.data.get("Target") or {}).get("RetryPolicy") or {}
    return float(policy.get("MaximumEventAgeInSeconds", DAY_S))


def window_offset(item: Item, tick: float, scale: float) -> float:
    """Where in its flexible window a tick fires: spread (deterministically, so a restart keeps it)
    over ``MaximumWindowInMinutes`` (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-flexible-time-windows.html)."""
    window = item.data.get("FlexibleTimeWindow") or {}
    if window.get("Mode") != "FLEXIBLE":
        return 0.0
    span = float(window.get("MaximumWindowInMinutes", 0)) * 60.0 * scale
    digest = hashlib.sha256(f"{item.kind}/{item.key}/{tick}".encode()).digest()
    return span * int.from_bytes(digest[:8], "big") / 2**64


def plan(item: Item, now: float, scale: float, in_flight: float | None = None) -> Plan | None:
    """The next tick of ``item`` to act on, or None when it has none (disabled, finished)."""
    data = item.data
    if data.get("State") not in ENABLED_STATES or not data.get("ScheduleExpression"):
        return None
    expr: Expression = parse(data["ScheduleExpression"], allow_at=item.kind == SCHEDULE)
    tz = ZoneInfo(data.get("ScheduleExpressionTimezone") or "UTC")
    since = float(data["_since"])
    end = None
    if not isinstance(expr, At):
        if data.get("_start") is not None:
            since = max(since, float(data["_start"]) - 1e-6)
        end = data.get("_end")
    after = max(x for x in (since, item.fired, in_flight) if x is not None)
    anchor = float(data["_anchor"])
    first = 0 if item.kind == SCHEDULE else 1  # a schedule's rate starts at its start, a rule's a period later
    tick = next_tick(expr, after, tz=tz, anchor=anchor, scale=scale, first=first)
    if tick is None or (end is not None and tick > end):
        return None
    second = next_tick(expr, tick, tz=tz, anchor=anchor, scale=scale, first=first)
    if second is None or second > now or (end is not None and second > end):
        due = tick + window_offset(item, tick, scale)
        return Plan(tick, due, now - due > max_age_s(item) * scale)
    latest = last_tick(expr, min(now, end) if end is not None else now, tz=tz, anchor=anchor, scale=scale,
                       first=first) or tick
    return Plan(latest, now, now - latest > max_age_s(item) * scale)


Fire = Callable[[Item, float], Awaitable[None]]


class Ticker:
    """One task that sleeps until the next due tick of any item, fires it and records it."""

    def __init__(self, store: ScheduleStore, fire: Fire, *, scale: float = 1.0,
                 clock: Callable[[], float] = time.time,
                 on_finished: Callable[[Item], None] | None = None) -> None:
        self.store = store
        self.fire = fire
        self.scale = scale
        self.clock = clock
        self.on_finished = on_finished  # a schedule with no more ticks (ActionAfterCompletion)
        self._wake = asyncio.Event()
        self._in_flight: dict[tuple[str, str], float] = {}
        self._tasks: set[asyncio.Task] = set()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    def changed(self) -> None:
        """A rule or schedule was created, changed or deleted: plan again."""
        self._wake.set()

    def stop(self) -> None:
        for task in [self._task, *self._tasks]:
            if task is not None:
                task.cancel()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            now = self.clock()
            soonest = now + MAX_SLEEP_S
            for item in self.store.items():
                key = (item.kind, item.key)
                try:
                    p = plan(item, now, self.scale, self._in_flight.get(key))
                except Exception:  # noqa: BLE001 - one bad item must not stop the others
                    log.exception("cannot plan %s %s", item.kind, item.key)
                    continue
                if p is None:
                    continue
                if p.due <= now:
                    self._in_flight[key] = p.tick
                    task = asyncio.ensure_future(self._fire(item, p))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                else:
                    soonest = min(soonest, p.due)
            await aio.wait_event(self._wake, max(0.0, soonest - self.clock()))

    async def _fire(self, item: Item, p: Plan) -> None:
        key = (item.kind, item.key)
        try:
            if p.skip:
                log.info("%s %s: missed tick %s is older than its maximum event age; skipped",
                         item.kind, item.key, p.tick)
            else:
                await self.fire(item, p.tick)
        except asyncio.CancelledError:
            raise  # Lamb is stopping: the tick is not recorded, so it fires after the restart
        except Exception:  # noqa: BLE001 - the tick is spent either way; firing logs its own failures
            log.exception("firing %s %s at %s failed", item.kind, item.key, p.tick)
        self.store.mark_fired(item.kind, item.key, p.tick)
        self._in_flight.pop(key, None)
        self._wake.set()
        done = self.store.item(item.kind, item.key)
        if done is not None and self.on_finished is not None and plan(done, self.clock(), self.scale) is None:
            self.on_finished(done)
