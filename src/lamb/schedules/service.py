"""The schedules component as the API and ``app`` see it: the store, the ticker, the firing."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

from .firing import Authorize, DeadLetter, Firing, InvokeAsync, allow_all
from .store import SCHEDULE, Item, ScheduleStore
from .ticker import Ticker

if TYPE_CHECKING:
    from ..store.db import Database


class Schedules:
    def __init__(self, db: "Database", invoke_async: InvokeAsync, *, region: str, account: str,
                 scale: float = 1.0, dead_letter: DeadLetter | None = None, authorize: Authorize = allow_all,
                 clock: Callable[[], float] = time.time) -> None:
        self.region = region
        self.account = account
        self.scale = scale
        self.clock = clock
        self.store = ScheduleStore(db)
        self.firing = Firing(invoke_async, region=region, account=account, scale=scale, dead_letter=dead_letter,
                             authorize=authorize)
        self.ticker = Ticker(self.store, self.firing, scale=scale, clock=clock, on_finished=self._finished)

    def rule_arn(self, name: str) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:rule/{name}"

    def schedule_arn(self, group: str, name: str) -> str:
        return f"arn:aws:scheduler:{self.region}:{self.account}:schedule/{group}/{name}"

    def changed(self) -> None:
        """Call after every change of a rule or schedule."""
        self.ticker.changed()

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
