"""A table of JSON documents by id, all in memory and written through to SQLite.

The signing stores (profiles, jobs, code signing configs) are small and read on every
deployment of a signed function, so each is a dict in memory with one row per document.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from ..store.db import Database


class Documents:
    def __init__(self, db: "Database", table: str) -> None:
        self.db = db
        self.table = table
        db.ensure(f"CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, data TEXT NOT NULL);")
        self._docs: dict[str, dict] = {k: json.loads(v) for k, v in db.query(f"SELECT id, data FROM {table}")}

    def get(self, key: str) -> dict | None:
        return self._docs.get(key)

    def put(self, key: str, doc: dict) -> None:
        with self.db.tx() as c:
            c.execute(f"INSERT OR REPLACE INTO {self.table} (id, data) VALUES (?, ?)", (key, json.dumps(doc)))
        self._docs[key] = doc

    def delete(self, key: str) -> bool:
        with self.db.tx() as c:
            c.execute(f"DELETE FROM {self.table} WHERE id = ?", (key,))
        return self._docs.pop(key, None) is not None

    def __iter__(self) -> Iterator[dict]:
        return iter([self._docs[k] for k in sorted(self._docs)])
