"""Layers and their versions: SQLite for durability, memory for reads.

A layer version is kept as the dict ``GetLayerVersion`` returns (minus the
presigned ``Content.Location``, made per request) plus Lamb's own keys, which
start with ``_``: ``_CodeKey`` names the zip in the content-addressed CodeStore,
``_UnzippedSize`` its unpacked size, ``_Policy`` its resource-based policy and
``_Deleted`` marks a deleted version. A deleted version is no longer visible
and cannot be added to a function, but functions that already reference it keep
working (https://docs.aws.amazon.com/lambda/latest/api/API_DeleteLayerVersion.html):
their configurations carry the zip's key (``_LayerKeys``), which keeps the blob
from garbage collection. Version numbers are never reused.

(Merging the layers of a function into its /opt is ``opt.py``.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

from .db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS layers (
    name         TEXT PRIMARY KEY,
    next_version INTEGER NOT NULL      -- layer version numbers are never reused
);
CREATE TABLE IF NOT EXISTS layer_versions (
    name    TEXT NOT NULL,
    version INTEGER NOT NULL,
    record  TEXT NOT NULL,             -- the GetLayerVersion output plus internal keys, JSON
    PRIMARY KEY (name, version)
);
"""


@dataclass
class Layer:
    name: str
    next_version: int = 1
    versions: dict[int, dict] = field(default_factory=dict)  # including deleted ones

    def live(self) -> list[dict]:
        """Versions that are not deleted, newest first."""
        return [self.versions[v] for v in sorted(self.versions, reverse=True) if not self.versions[v].get("_Deleted")]


class LayerStore:
    def __init__(self, db: Database):
        self.db = db
        db.ensure(SCHEMA)
        self.layers: dict[str, Layer] = {}
        for name, next_version in db.query("SELECT name, next_version FROM layers"):
            self.layers[name] = Layer(name, next_version)
        for name, version, record in db.query("SELECT name, version, record FROM layer_versions"):
            layer = self.layers.get(name)
            if layer is not None:
                layer.versions[version] = json.loads(record)

    def names(self) -> list[str]:
        return sorted(self.layers)

    def get_layer(self, name: str) -> Layer | None:
        return self.layers.get(name)

    def get(self, name: str, version: int, *, deleted: bool = False) -> dict | None:
        """A layer version; deleted ones only when asked for."""
        layer = self.layers.get(name)
        record = layer.versions.get(version) if layer is not None else None
        if record is None or (record.get("_Deleted") and not deleted):
            return None
        return record

    def publish(self, name: str, build: Callable[[int], dict]) -> dict:
        """Add the next version of ``name`` (created on first use); ``build(n)`` makes its record."""
        layer = self.layers.get(name) or Layer(name)
        version = layer.next_version
        record = build(version)
        with self.db.tx() as c:
            c.execute(
                "INSERT INTO layers (name, next_version) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET next_version = excluded.next_version",
                (name, version + 1),
            )
            c.execute(
                "INSERT INTO layer_versions (name, version, record) VALUES (?, ?, ?)",
                (name, version, json.dumps(record)),
            )
        layer.next_version = version + 1
        layer.versions[version] = record
        self.layers[name] = layer
        return record

    def put(self, name: str, version: int, record: dict) -> dict:
        """Replace a version's record (policy changes, deletion)."""
        with self.db.tx() as c:
            c.execute(
                "UPDATE layer_versions SET record = ? WHERE name = ? AND version = ?",
                (json.dumps(record), name, version),
            )
        self.layers[name].versions[version] = record
        return record

    def code_keys(self) -> set[str]:
        """Zips of the versions that are not deleted (deleted ones live on through the
        functions that reference them: ``FunctionStore.code_keys``)."""
        return {
            r["_CodeKey"]
            for layer in self.layers.values()
            for r in layer.versions.values()
            if not r.get("_Deleted") and r.get("_CodeKey")
        }
