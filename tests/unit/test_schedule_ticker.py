"""lamb.schedules.ticker and store: when ticks are due, missed ticks, firing once across restarts."""

from __future__ import annotations

import asyncio

import pytest

from lamb.schedules.store import RULE, SCHEDULE, Item, ScheduleStore
from lamb.schedules.ticker import Ticker, plan, window_offset
from lamb.store.db import Database

T0 = 1_800_000_000.0  # a whole minute


def rule(expr: str = "rate(1 minute)", **extra) -> dict:
    return {"Name": "r", "Arn": "arn:aws:events:us-east-1:1:rule/r", "ScheduleExpression": expr, "State": "ENABLED",
            "Targets": [], "_anchor": T0, "_since": T0, **extra}


def item(data: dict, fired: float | None = None, kind: str = RULE) -> Item:
    return Item(kind, "r", data, fired)


def test_next_tick_of_a_rate_rule():
    p = plan(item(rule()), T0 + 10, 1.0)
    assert (p.tick, p.due, p.skip) == (T0 + 60, T0 + 60, False)
    assert plan(item(rule(), fired=T0 + 60), T0 + 61, 1.0).tick == T0 + 120


def test_disabled_rules_have_no_plan():
    assert plan(item(rule(State="DISABLED")), T0, 1.0) is None


def test_a_single_late_tick_fires_however_late():
    p = plan(item(rule()), T0 + 100, 1.0)
    assert (p.tick, p.skip) == (T0 + 60, False)


def test_missed_ticks_coalesce_to_the_latest():
    p = plan(item(rule()), T0 + 3600 + 5, 1.0)
    assert (p.tick, p.due, p.skip) == (T0 + 3600, T0 + 3605, False)


def test_a_missed_tick_older_than_the_event_age_is_skipped():
    sched = rule("rate(1 hour)", Target={"RetryPolicy": {"MaximumEventAgeInSeconds": 60}})
    p = plan(item(sched, kind=SCHEDULE), T0 + 2 * 3600 + 61, 1.0)
    assert (p.tick, p.skip) == (T0 + 7200, True)
    assert plan(item(rule("rate(1 hour)")), T0 + 2 * 3600 + 61, 1.0).skip is False  # a rule's: 24 hours


def test_start_and_end_dates():
    sched = rule(_start=T0 + 300, _end=T0 + 420)
    assert plan(item(sched, kind=SCHEDULE), T0, 1.0).tick == T0 + 300  # StartDate itself may be a tick
    assert plan(item(sched, fired=T0 + 420, kind=SCHEDULE), T0 + 421, 1.0) is None


def test_flexible_window_is_inside_the_window_and_stable():
    sched = rule(FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10})
    off = window_offset(item(sched, kind=SCHEDULE), T0 + 60, 1.0)
    assert 0 <= off < 600 and off == window_offset(item(sched, kind=SCHEDULE), T0 + 60, 1.0)
    assert window_offset(item(sched, kind=SCHEDULE), T0 + 60, 0.01) == pytest.approx(off * 0.01)


def test_time_scale_shortens_rates():
    assert plan(item(rule()), T0, 0.01).tick == pytest.approx(T0 + 0.6)


def test_store_is_durable(tmp_path):
    db = Database(tmp_path / "lamb.db")
    store = ScheduleStore(db)
    store.put(RULE, "r", rule())
    store.mark_fired(RULE, "r", T0 + 60)
    db.close()
    again = ScheduleStore(Database(tmp_path / "lamb.db"))
    assert again.item(RULE, "r").fired == T0 + 60 and again.get(RULE, "r")["ScheduleExpression"] == "rate(1 minute)"
    again.put(RULE, "r", rule("rate(2 minutes)"), reset_fired=True)
    assert again.item(RULE, "r").fired is None
    assert again.delete(RULE, "r") and again.items() == []


def test_a_tick_fires_once_across_restarts(tmp_path):
    """Two tickers over the same database, one after the other, with the clock standing still
    past one tick: the tick fires in the first only."""
    clock = [T0 + 61.0]
    fired: list[float] = []

    async def fire(it: Item, tick: float) -> None:
        fired.append(tick)

    async def run_once() -> None:
        db = Database(tmp_path / "lamb.db")
        store = ScheduleStore(db)
        if store.get(RULE, "r") is None:
            store.put(RULE, "r", rule())
        ticker = Ticker(store, fire, clock=lambda: clock[0])
        ticker.start()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if store.item(RULE, "r").fired is not None:
                break
        ticker.stop()
        db.close()

    asyncio.run(run_once())
    asyncio.run(run_once())
    assert fired == [T0 + 60]


def test_a_single_tick_older_than_the_event_age_is_skipped():
    sched = rule("at(2027-01-15T08:00:00)", Target={"RetryPolicy": {"MaximumEventAgeInSeconds": 60}}, _since=T0 - 100)
    at = 1_800_000_000.0  # 2027-01-15T08:00:00Z
    assert plan(item(sched, kind=SCHEDULE), at + 30, 1.0).skip is False
    p = plan(item(sched, kind=SCHEDULE), at + 61, 1.0)
    assert (p.tick, p.skip) == (at, True)
    assert plan(item(sched, fired=at, kind=SCHEDULE), at + 61, 1.0) is None
