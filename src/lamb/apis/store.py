"""HTTP APIs (API Gateway v2), all in memory and written through to SQLite (``http_apis``).

One row per API: the API and everything under it (routes, integrations, authorizers,
stages, deployments) as one JSON document, so a change is one transaction and a
deleted API takes its parts with it. Deployments are snapshots of the routes,
integrations and authorizers at the time they were made; a stage serves the snapshot
of its ``DeploymentId`` (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.html).
"""

from __future__ import annotations

import copy
import json
import secrets
import string
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..store.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
    api_id TEXT PRIMARY KEY,
    data   TEXT NOT NULL
);
"""

PARTS = ("routes", "integrations", "authorizers", "stages", "deployments")
# What a deployment snapshots: what serving a request reads besides the stage.
DEPLOYED = ("routes", "integrations", "authorizers")

_ALPHABET = string.ascii_lowercase + string.digits


def new_id(length: int = 7) -> str:
    """AWS's identifiers for APIs and their parts: short lower-case alphanumerics (``a1b2c3d``)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


class HttpApiStore:
    """``apis[api_id]`` = ``{"api": {...}, "routes": {id: {...}}, "integrations": ..., "authorizers": ...,
    "stages": {name: {...}}, "deployments": {id: {..., "_snapshot": {...}}}}``."""

    def __init__(self, db: "Database", table: str = "http_apis") -> None:
        """``table``: ``http_apis`` (v2) or ``rest_apis`` (REST APIs, the same shape of storage)."""
        self.db = db
        self.table = table
        db.ensure(SCHEMA.format(table=table))
        self.apis: dict[str, dict] = {}
        self.listeners: list[Callable[[str], None]] = []  # told the id of every changed or deleted API
        for api_id, data in db.query(f"SELECT api_id, data FROM {table}"):
            self.apis[api_id] = json.loads(data)

    def get(self, api_id: str) -> dict | None:
        return self.apis.get(api_id)

    def ids(self) -> list[str]:
        return sorted(self.apis)

    def fresh_id(self) -> str:
        while True:
            i = new_id(10)
            if i not in self.apis:
                return i

    def put(self, api_id: str, doc: dict) -> None:
        with self.db.tx() as c:
            c.execute(f"INSERT OR REPLACE INTO {self.table} (api_id, data) VALUES (?, ?)", (api_id, json.dumps(doc)))
        self.apis[api_id] = doc
        self._changed(api_id)

    def delete(self, api_id: str) -> bool:
        with self.db.tx() as c:
            c.execute(f"DELETE FROM {self.table} WHERE api_id = ?", (api_id,))
        gone = self.apis.pop(api_id, None) is not None
        self._changed(api_id)
        return gone

    def _changed(self, api_id: str) -> None:
        for listener in self.listeners:
            listener(api_id)


def empty(api: dict) -> dict:
    doc: dict = {"api": api}
    for part in PARTS:
        doc[part] = {}
    return doc


def snapshot(doc: dict) -> dict:
    """What a deployment made now serves."""
    return {part: copy.deepcopy(doc[part]) for part in DEPLOYED}
