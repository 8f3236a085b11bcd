"""Rules and schedules, all in memory and written through to SQLite (``schedule_items``).

An item is ``(kind, key)`` → its definition (a dict shaped like the API's output, plus
``_``-prefixed internal fields) and ``fired``: the time of the last tick handed to its targets.
``fired`` is what makes a tick fire once across restarts (``ticker``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ..store.db import Database

RULE, SCHEDULE = "rule", "schedule"

SCHEMA = """
CREATE TABLE IF NOT EXISTS schedule_items (
    kind  TEXT NOT NULL,
    key   TEXT NOT NULL,
    data  TEXT NOT NULL,
    fired REAL,
    PRIMARY KEY (kind, key)
);
"""


class Item(NamedTuple):
    kind: str
    key: str
    data: dict
    fired: float | None


class ScheduleStore:
    def __init__(self, db: "Database") -> None:
        self.db = db
        db.ensure(SCHEMA)
        self._items: dict[tuple[str, str], Item] = {}
        for kind, key, data, fired in db.query("SELECT kind, key, data, fired FROM schedule_items"):
            self._items[(kind, key)] = Item(kind, key, json.loads(data), fired)

    def get(self, kind: str, key: str) -> dict | None:
        item = self._items.get((kind, key))
        return None if item is None else item.data

    def item(self, kind: str, key: str) -> Item | None:
        return self._items.get((kind, key))

    def items(self, kind: str | None = None) -> list[Item]:
        """Items of ``kind`` (all when None), sorted by key."""
        return sorted((i for i in self._items.values() if kind is None or i.kind == kind), key=lambda i: i.key)

    def put(self, kind: str, key: str, data: dict, *, reset_fired: bool = False) -> None:
        old = self._items.get((kind, key))
        fired = None if reset_fired or old is None else old.fired
        with self.db.tx() as c:
            c.execute("INSERT OR REPLACE INTO schedule_items (kind, key, data, fired) VALUES (?, ?, ?, ?)",
                      (kind, key, json.dumps(data), fired))
        self._items[(kind, key)] = Item(kind, key, data, fired)

    def delete(self, kind: str, key: str) -> bool:
        with self.db.tx() as c:
            c.execute("DELETE FROM schedule_items WHERE kind = ? AND key = ?", (kind, key))
        return self._items.pop((kind, key), None) is not None

    def mark_fired(self, kind: str, key: str, tick: float) -> None:
        """Record ``tick`` as handed to the targets (a no-op when the item is gone)."""
        old = self._items.get((kind, key))
        if old is None:
            return
        with self.db.tx() as c:
            c.execute("UPDATE schedule_items SET fired = ? WHERE kind = ? AND key = ?", (tick, kind, key))
        self._items[(kind, key)] = old._replace(fired=tick)
