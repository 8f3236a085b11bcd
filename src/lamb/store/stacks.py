"""Deployment records of ``lamb deploy`` (named stacks), kept by the server.

Lambda's API has no stack API, and CloudFormation is not part of Lamb; a stack
record is what ``lamb deploy`` needs to compute the next change set: the
resources it applied (logical id, type, physical id, attributes, the resolved
properties), the template's outputs and exports, and a status. The server keeps
the records so that every user of the same Lamb sees the same stacks; it never
interprets them beyond their name, revision and status.

Writes are compare-and-swap on ``revision`` (``put(name, body, expected)``), so two
deploys of one stack cannot overwrite each other's record: the second gets a
``Conflict`` and re-reads. A record is one row, written in one transaction.
"""

from __future__ import annotations

import json
import re
import time

from .db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS stacks (
    name     TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    record   TEXT NOT NULL              -- the client's stack record, JSON
);
"""

# CloudFormation's stack name rule: a letter, then letters, digits and hyphens, at most 128.
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")


class Conflict(Exception):
    """The stored revision is not the one the writer read."""

    def __init__(self, current: int):
        super().__init__(f"stack changed: revision is now {current}")
        self.current = current


class StackStore:
    def __init__(self, db: Database):
        self.db = db
        db.ensure(SCHEMA)

    def get(self, name: str) -> dict | None:
        rows = self.db.query("SELECT revision, record FROM stacks WHERE name = ?", (name,))
        if not rows:
            return None
        record = json.loads(rows[0][1])
        record["Revision"] = rows[0][0]
        return record

    def list(self) -> list[dict]:
        out = []
        for name, revision, record in self.db.query("SELECT name, revision, record FROM stacks ORDER BY name"):
            r = json.loads(record)
            r["Revision"] = revision
            out.append(r)
        return out

    def put(self, name: str, record: dict, expected: int) -> int:
        """Store ``record`` if the stored revision is ``expected`` (0: the stack must not exist)."""
        body = dict(record, StackName=name, LastUpdated=time.time())
        body.pop("Revision", None)
        with self.db.tx() as c:
            row = c.execute("SELECT revision FROM stacks WHERE name = ?", (name,)).fetchone()
            current = row[0] if row else 0
            if current != expected:
                raise Conflict(current)
            c.execute(
                "INSERT INTO stacks (name, revision, record) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET revision = excluded.revision, record = excluded.record",
                (name, current + 1, json.dumps(body)),
            )
        return current + 1

    def delete(self, name: str, expected: int) -> None:
        with self.db.tx() as c:
            row = c.execute("SELECT revision FROM stacks WHERE name = ?", (name,)).fetchone()
            current = row[0] if row else 0
            if current != expected:
                raise Conflict(current)
            c.execute("DELETE FROM stacks WHERE name = ?", (name,))
