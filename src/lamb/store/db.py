"""The embedded state store: one SQLite database in WAL mode.

State changes are transactions (``with db.tx() as c:``) committed with
``synchronous=FULL``, so an acknowledged change survives kill -9 and power loss.
Control-plane writes are rare and small; the invoke path never touches SQLite
(configuration is cached in memory by the stores built on this).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class Database:
    def __init__(self, path: Path):
        """Open (creating if needed) the database. Each store adds its own tables with ``ensure``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self._lock = threading.RLock()
        self.ensure(SCHEMA)

    def ensure(self, schema: str) -> None:
        """Create a store's tables if they do not exist (idempotent DDL)."""
        with self._lock:
            self.conn.executescript(schema)

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self.conn.execute(sql, args).fetchall()

    def close(self) -> None:
        with self._lock:
            self.conn.close()
