"""Functions and their versions: SQLite for durability, memory for reads.

All functions are loaded at start and every change is written through in one
transaction before the in-memory copy changes, so reads (and the invoke path)
never touch the database and a change that returned is on disk.

A version's configuration is kept as the dict AWS returns for it (the
``FunctionConfiguration`` shape) plus Lamb's own keys, which start with ``_``
and never reach the wire (the serializer only emits members of the shape):
``_CodeKey`` names the stored zip.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

from .db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS functions (
    name TEXT PRIMARY KEY,
    data TEXT NOT NULL                 -- function-wide state (tags, ...), JSON
);
CREATE TABLE IF NOT EXISTS versions (
    name    TEXT NOT NULL,
    version TEXT NOT NULL,             -- '$LATEST' or a number
    config  TEXT NOT NULL,             -- the FunctionConfiguration plus internal keys, JSON
    PRIMARY KEY (name, version)
);
"""


@dataclass
class Function:
    name: str
    data: dict = field(default_factory=dict)  # function-wide: Tags, ...
    versions: dict[str, dict] = field(default_factory=dict)  # '$LATEST', '1', ...

    @property
    def latest(self) -> dict:
        return self.versions["$LATEST"]


class FunctionStore:
    def __init__(self, db: Database):
        self.db = db
        db.ensure(SCHEMA)
        self.functions: dict[str, Function] = {}
        for name, data in db.query("SELECT name, data FROM functions"):
            self.functions[name] = Function(name, json.loads(data))
        for name, version, config in db.query("SELECT name, version, config FROM versions"):
            fn = self.functions.get(name)
            if fn is not None:
                fn.versions[version] = json.loads(config)

    def get(self, name: str) -> Function | None:
        return self.functions.get(name)

    def names(self) -> list[str]:
        return sorted(self.functions)

    def create(self, name: str, data: dict, latest: dict) -> Function:
        with self.db.tx() as c:
            c.execute("INSERT INTO functions (name, data) VALUES (?, ?)", (name, json.dumps(data)))
            c.execute(
                "INSERT INTO versions (name, version, config) VALUES (?, '$LATEST', ?)",
                (name, json.dumps(latest)),
            )
        fn = Function(name, data, {"$LATEST": latest})
        self.functions[name] = fn
        return fn

    def put_version(self, name: str, version: str, config: dict) -> dict:
        """Insert or replace one version's configuration; returns the stored copy."""
        with self.db.tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO versions (name, version, config) VALUES (?, ?, ?)",
                (name, version, json.dumps(config)),
            )
        self.functions[name].versions[version] = config
        return config

    def put_data(self, name: str, data: dict) -> None:
        with self.db.tx() as c:
            c.execute("UPDATE functions SET data = ? WHERE name = ?", (json.dumps(data), name))
        self.functions[name].data = data

    def delete(self, name: str) -> Function | None:
        with self.db.tx() as c:
            c.execute("DELETE FROM versions WHERE name = ?", (name,))
            c.execute("DELETE FROM functions WHERE name = ?", (name,))
        return self.functions.pop(name, None)

    def delete_version(self, name: str, version: str) -> None:
        with self.db.tx() as c:
            c.execute("DELETE FROM versions WHERE name = ? AND version = ?", (name, version))
        self.functions[name].versions.pop(version, None)

    def code_keys(self) -> set[str]:
        return {
            cfg["_CodeKey"]
            for fn in self.functions.values()
            for cfg in fn.versions.values()
            if cfg.get("_CodeKey")
        }

    @staticmethod
    def public(config: dict) -> dict:
        """A deep copy safe to hand to the serializer (and to mutate)."""
        return copy.deepcopy(config)
