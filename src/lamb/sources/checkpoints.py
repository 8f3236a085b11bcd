"""Durable per-shard checkpoints of stream event source mappings (Kinesis, DynamoDB Streams).

AWS Lambda checkpoints a shard at the highest sequence number of a batch once the
batch succeeded (or was discarded to the on-failure destination), so processing
resumes there after any interruption
(https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html). Lamb keeps
the checkpoints in its SQLite database (``store/db.py``: WAL, ``synchronous=FULL``),
one row per (mapping, shard), each write one transaction, so a kill -9 loses
nothing that was committed.

A row holds:

* ``start``: where a shard without progress begins (the mapping's
  StartingPosition for the shards that existed when it first ran, TRIM_HORIZON for
  shards that appeared later, such as the children of a split);
* ``sequence``: the low watermark: every record up to it is finished;
* ``lanes``: with ``ParallelizationFactor`` > 1 each lane (a hash bucket of
  partition keys) finishes its records in order but lanes run ahead of each
  other; each lane's last finished sequence number lets a restart skip what a
  lane already finished beyond the watermark, and holds the lane's tumbling
  window state;
* ``finished``: the shard was read to its end (a closed parent), so its children
  may start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..store.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS stream_checkpoints (
    mapping  TEXT NOT NULL,
    shard    TEXT NOT NULL,
    data     TEXT NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (mapping, shard)
);
"""


@dataclass(frozen=True)
class Position:
    """Where to open a shard iterator.

    ``kind`` is ``TRIM_HORIZON``, ``LATEST``, ``AT_TIMESTAMP`` or
    ``AFTER_SEQUENCE_NUMBER``. A ``LATEST`` position carries the time it was first
    taken, so a restart before any record was processed does not skip records that
    arrived meanwhile (adapters read from that time instead of the new tip).
    """

    kind: str
    sequence: str | None = None
    timestamp: float | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "sequence": self.sequence, "timestamp": self.timestamp}

    @classmethod
    def from_json(cls, d: dict) -> "Position":
        return cls(d["kind"], d.get("sequence"), d.get("timestamp"))


@dataclass
class LaneState:
    sequence: str | None = None          # last sequence number this lane finished
    window_start: float | None = None    # open tumbling window (epoch seconds), if any
    window_state: Any = None             # the state the function returned for it

    def to_json(self) -> dict:
        return {"sequence": self.sequence, "window_start": self.window_start, "window_state": self.window_state}

    @classmethod
    def from_json(cls, d: dict) -> "LaneState":
        return cls(d.get("sequence"), d.get("window_start"), d.get("window_state"))


@dataclass
class ShardCheckpoint:
    start: Position
    sequence: str | None = None
    lanes_n: int = 1
    lanes: dict[int, LaneState] = field(default_factory=dict)
    finished: bool = False

    def to_json(self) -> str:
        return json.dumps({
            "start": self.start.to_json(), "sequence": self.sequence, "lanes_n": self.lanes_n,
            "lanes": {str(k): v.to_json() for k, v in self.lanes.items()},
        }, separators=(",", ":"))

    @classmethod
    def from_row(cls, data: str, finished: int) -> "ShardCheckpoint":
        d = json.loads(data)
        return cls(Position.from_json(d["start"]), d.get("sequence"), d.get("lanes_n", 1),
                   {int(k): LaneState.from_json(v) for k, v in (d.get("lanes") or {}).items()}, bool(finished))


class CheckpointStore:
    """Checkpoints in Lamb's database. Every method blocks on SQLite; call it off the event loop."""

    def __init__(self, db: Database):
        self.db = db
        db.ensure(SCHEMA)

    def load(self, mapping: str) -> dict[str, ShardCheckpoint]:
        rows = self.db.query("SELECT shard, data, finished FROM stream_checkpoints WHERE mapping = ?", (mapping,))
        return {shard: ShardCheckpoint.from_row(data, fin) for shard, data, fin in rows}

    def save(self, mapping: str, checkpoints: dict[str, ShardCheckpoint]) -> None:
        """Write the checkpoints of some shards in one transaction."""
        with self.db.tx() as c:
            c.executemany(
                "INSERT INTO stream_checkpoints (mapping, shard, data, finished) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (mapping, shard) DO UPDATE SET data = excluded.data, finished = excluded.finished",
                [(mapping, shard, cp.to_json(), int(cp.finished)) for shard, cp in checkpoints.items()],
            )

    def delete(self, mapping: str) -> None:
        """Forget a mapping's progress (when the mapping is deleted)."""
        with self.db.tx() as c:
            c.execute("DELETE FROM stream_checkpoints WHERE mapping = ?", (mapping,))
