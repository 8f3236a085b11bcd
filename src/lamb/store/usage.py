"""Metered usage, per month, function, version, architecture and memory size (SQLite).

What AWS bills for on-demand invocations (https://aws.amazon.com/lambda/pricing/): requests,
and duration in GB-seconds (billed milliseconds × MemorySize), plus ephemeral storage above
512 MB. ``record`` is on the invoke path: it adds to counters in memory; ``flush`` (every few
seconds, and at stop) writes them in one transaction, so a kill -9 loses at most the unflushed
seconds.
"""

from __future__ import annotations

import time
from typing import Callable

from .db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    month TEXT NOT NULL,
    function TEXT NOT NULL,
    version TEXT NOT NULL,
    architecture TEXT NOT NULL,
    memory_mb INTEGER NOT NULL,
    ephemeral_mb INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    billed_ms INTEGER NOT NULL,
    init_billed_ms INTEGER NOT NULL,
    PRIMARY KEY (month, function, version, architecture, memory_mb, ephemeral_mb)
);
"""

KEY = ("month", "function", "version", "architecture", "memory_mb", "ephemeral_mb")
COUNTS = ("requests", "billed_ms", "init_billed_ms")


class UsageStore:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        db.ensure(SCHEMA)
        self.clock = clock
        self._pending: dict[tuple, list[int]] = {}
        self._month = ""
        self._month_until = 0.0

    def _current_month(self) -> str:
        now = self.clock()
        if now >= self._month_until:  # recomputed once a minute, not per invocation
            self._month = time.strftime("%Y-%m", time.gmtime(now))
            self._month_until = now - now % 60 + 60
        return self._month

    def record(self, function: str, version: str, architecture: str, memory_mb: int, ephemeral_mb: int,
               billed_ms: int, init_billed_ms: int) -> None:
        """One request, ``billed_ms`` of billed duration (``init_billed_ms`` of them the Init phase)."""
        key = (self._current_month(), function, version, architecture, memory_mb, ephemeral_mb)
        counts = self._pending.get(key)
        if counts is None:
            counts = self._pending[key] = [0, 0, 0]
        counts[0] += 1
        counts[1] += billed_ms
        counts[2] += init_billed_ms

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending:
            return
        with self.db.tx() as conn:
            conn.executemany(
                "INSERT INTO usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT"
                "(month, function, version, architecture, memory_mb, ephemeral_mb) DO UPDATE SET "
                "requests = requests + excluded.requests, billed_ms = billed_ms + excluded.billed_ms, "
                "init_billed_ms = init_billed_ms + excluded.init_billed_ms",
                [(*key, *counts) for key, counts in pending.items()])

    def rows(self, month: str | None = None, function: str | None = None) -> list[dict]:
        """Every row (flushed first), oldest month first."""
        self.flush()
        sql = f"SELECT {', '.join(KEY + COUNTS)} FROM usage WHERE (? IS NULL OR month = ?) AND (? IS NULL OR function = ?) "
        sql += "ORDER BY month, function, version, architecture, memory_mb, ephemeral_mb"
        return [dict(zip(KEY + COUNTS, row)) for row in self.db.query(sql, (month, month, function, function))]
