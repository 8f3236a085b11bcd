"""The schedules component as the API and ``app`` see it: the store, the ticker, the firing."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

from .bus import Compile, PatternCache
from .firing import Authorize, DeadLetter, Firing, InvokeAsync, allow_all
from .store import RULE, SCHEDULE, Item, ScheduleStore
from .ticker import ENABLED_STATES, Ticker

if TYPE_CHECKING:
    from ..store.db import Database


class Schedules:
    def __init__(self, db: "Database", invoke_async: InvokeAsync, *, region: str, account: str,
                 scale: float = 1.0, dead_letter: DeadLetter | None = None, authorize: Authorize = allow_all,
                 clock: Callable[[], float] = time.time, compile_pattern: Compile | None = None) -> None:
        """``compile_pattern``: the event-pattern compiler (Lambda's filter grammar, given by app.py);
        without one, no rule has a pattern to match (PutEvents delivers nothing)."""
        self.region = region
        self.account = account
        self.scale = scale
        self.clock = clock
        self.store = ScheduleStore(db)
        self.firing = Firing(invoke_async, region=region, account=account, scale=scale, dead_letter=dead_letter,
                             authorize=authorize)
        self.ticker = Ticker(self.store, self.firing, scale=scale, clock=clock, on_finished=self._finished)
        self.patterns = PatternCache(compile_pattern) if compile_pattern is not None else None

    def rule_arn(self, name: str) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:rule/{name}"

    def schedule_arn(self, group: str, name: str) -> str:
        return f"arn:aws:scheduler:{self.region}:{self.account}:schedule/{group}/{name}"

    def changed(self) -> None:
        """Call after every change of a rule or schedule."""
        self.ticker.changed()

    def publish(self, event: dict) -> int:
        """Deliver a PutEvents event to the targets of every enabled rule whose EventPattern
        matches it (asynchronously, as EventBridge does); returns how many rules matched."""
        matched = 0
        for item in self.store.items(RULE):
            rule = item.data
            if rule.get("State") not in ENABLED_STATES or not rule.get("EventPattern") or self.patterns is None:
                continue
            if self.patterns.matches(rule["EventPattern"], event):
                matched += 1
                self.firing.rule_event(rule, event)
        return matched

    def start(self) -> None:
        self.ticker.start()

    def stop(self) -> None:
        self.ticker.stop()
        self.firing.stop()

    def _finished(self, item: Item) -> None:
        """A schedule with no tick left: ``ActionAfterCompletion: DELETE`` deletes it
        (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-delete.html)."""
        if item.kind == SCHEDULE and item.data.get("ActionAfterCompletion") == "DELETE":
            self.store.delete(item.kind, item.key)
