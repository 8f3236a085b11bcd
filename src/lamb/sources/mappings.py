"""Event source mappings: their states, their durable store, and pollers' leases.

States (https://docs.aws.amazon.com/lambda/latest/api/API_EventSourceMappingConfiguration.html):
``Creating`` → ``Enabled``; Update with ``Enabled`` flips through ``Enabling``/``Disabling``
to ``Enabled``/``Disabled``; any other update passes through ``Updating``; Delete answers
``Deleting`` and the mapping is gone once its poller stopped. A mapping created with
``Enabled: false`` is ``Disabled`` at once (as AWS answers). The transitional state is what
the API call returns; the manager settles it once the poller started or stopped.

A mapping is kept as the ``EventSourceMappingConfiguration`` dict AWS returns plus Lamb's
own keys, which start with ``_`` and never reach the wire: ``_Enabled`` (what the user
asked), ``_Tags``, ``_Function`` and ``_Qualifier`` (what it invokes), ``_Kind`` (the
source kind of ``params``). All of them are in memory; every change is written through
to SQLite in one transaction first, so mappings survive restarts and kill -9.

Leases: each mapping's poller runs only while its node holds the mapping's lease row
(owner id + expiry), renewed well before it expires. One Lamb process is one owner; a
later multi-node Lamb shares pollers over the same rows.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Iterable

from ..store.db import Database

CREATING, ENABLING, ENABLED = "Creating", "Enabling", "Enabled"
DISABLING, DISABLED, UPDATING, DELETING = "Disabling", "Disabled", "Updating", "Deleting"
TRANSITIONAL = (CREATING, ENABLING, DISABLING, UPDATING, DELETING)

SCHEMA = """
CREATE TABLE IF NOT EXISTS event_source_mappings (
    uuid   TEXT PRIMARY KEY,
    config TEXT NOT NULL              -- EventSourceMappingConfiguration plus internal keys, JSON
);
CREATE TABLE IF NOT EXISTS event_source_leases (
    uuid    TEXT PRIMARY KEY,         -- the mapping
    owner   TEXT NOT NULL,            -- the node whose poller runs it
    expires REAL NOT NULL             -- epoch seconds; after it, any node may take it
);
"""


def state_after_create(enabled: bool) -> str:
    return CREATING if enabled else DISABLED


def state_after_update(was_enabled: bool, enabled: bool | None) -> str:
    """The state UpdateEventSourceMapping answers with: ``Enabling``/``Disabling`` when
    ``Enabled`` flips, ``Updating`` otherwise."""
    if enabled is None or enabled == was_enabled:
        return UPDATING
    return ENABLING if enabled else DISABLING


def settled(cfg: dict) -> str:
    """Where a transitional state ends once the poller caught up."""
    return ENABLED if cfg.get("_Enabled", True) else DISABLED


def view(cfg: dict) -> dict:
    """The configuration as AWS returns it."""
    return {k: copy.deepcopy(v) for k, v in cfg.items() if not k.startswith("_")}


class MappingStore:
    def __init__(self, db: Database):
        self.db = db
        db.ensure(SCHEMA)
        self.mappings: dict[str, dict] = {}
        self._dirty: set[str] = set()  # changed in memory by ``note``, not yet written
        for uuid, config in db.query("SELECT uuid, config FROM event_source_mappings"):
            self.mappings[uuid] = json.loads(config)

    # ----------------------------------------------------------- mappings
    def get(self, uuid: str) -> dict | None:
        return self.mappings.get(uuid)

    def all(self) -> list[dict]:
        """Every mapping, oldest first (the order ListEventSourceMappings pages through)."""
        return sorted(self.mappings.values(), key=lambda c: (c.get("_Created", 0), c["UUID"]))

    def put(self, cfg: dict) -> dict:
        self._dirty.discard(cfg["UUID"])
        with self.db.tx() as c:
            c.execute("INSERT OR REPLACE INTO event_source_mappings (uuid, config) VALUES (?, ?)",
                      (cfg["UUID"], json.dumps(cfg)))
        self.mappings[cfg["UUID"]] = cfg
        return cfg

    def update(self, uuid: str, **changes) -> dict | None:
        """Change some members of a mapping (no-op when it is gone or nothing changes)."""
        cfg = self.mappings.get(uuid)
        if cfg is None or all(cfg.get(k) == v for k, v in changes.items()):
            return cfg
        return self.put({**cfg, **changes})

    def note(self, uuid: str, **changes) -> None:
        """Change members in memory only (pollers' ``LastProcessingResult``: no disk write per
        batch); ``flush`` writes them."""
        cfg = self.mappings.get(uuid)
        if cfg is not None and any(cfg.get(k) != v for k, v in changes.items()):
            self.mappings[uuid] = {**cfg, **changes}
            self._dirty.add(uuid)

    def flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        rows = [(json.dumps(self.mappings[u]), u) for u in dirty if u in self.mappings]
        if rows:
            with self.db.tx() as c:
                c.executemany("UPDATE event_source_mappings SET config = ? WHERE uuid = ?", rows)

    def delete(self, uuid: str) -> None:
        with self.db.tx() as c:
            c.execute("DELETE FROM event_source_mappings WHERE uuid = ?", (uuid,))
            c.execute("DELETE FROM event_source_leases WHERE uuid = ?", (uuid,))
        self.mappings.pop(uuid, None)

    # ------------------------------------------------------------- leases
    def acquire(self, uuid: str, owner: str, ttl_s: float, now: float | None = None) -> bool:
        """Take or extend the lease of one mapping; False while another owner holds it."""
        now = time.time() if now is None else now
        with self.db.tx() as c:
            row = c.execute("SELECT owner, expires FROM event_source_leases WHERE uuid = ?", (uuid,)).fetchone()
            if row is not None and row[0] != owner and row[1] > now:
                return False
            c.execute("INSERT OR REPLACE INTO event_source_leases (uuid, owner, expires) VALUES (?, ?, ?)",
                      (uuid, owner, now + ttl_s))
        return True

    def renew(self, owner: str, uuids: Iterable[str], ttl_s: float, now: float | None = None) -> set[str]:
        """Extend the leases ``owner`` still holds; returns the ones it lost."""
        now = time.time() if now is None else now
        lost: set[str] = set()
        with self.db.tx() as c:
            for uuid in uuids:
                cur = c.execute("UPDATE event_source_leases SET expires = ? WHERE uuid = ? AND owner = ?",
                                (now + ttl_s, uuid, owner))
                if cur.rowcount == 0:
                    lost.add(uuid)
        return lost

    def release(self, uuid: str, owner: str) -> None:
        with self.db.tx() as c:
            c.execute("DELETE FROM event_source_leases WHERE uuid = ? AND owner = ?", (uuid, owner))

    def lease(self, uuid: str) -> tuple[str, float] | None:
        rows = self.db.query("SELECT owner, expires FROM event_source_leases WHERE uuid = ?", (uuid,))
        return (rows[0][0], rows[0][1]) if rows else None
