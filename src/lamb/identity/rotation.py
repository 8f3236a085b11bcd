"""Master-key rotation: every sealed value in the database rewrapped under a new key.

Envelope encryption makes this cheap: only the data keys are re-encrypted, never the
secrets (https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html describes
the same idea for KMS). Run it while Lamb is stopped (``lamb keys rotate``): the new key is
written beside the old one (``master.key.next``, 0600; under KMS ``master.key.kms.next``, the new
key's KMS ciphertext: lamb.master_key), every sealed value is rewrapped in one
transaction per database (the home one and every other account's and region's), then the new key
replaces the old file. A crash before the first transaction commits leaves everything under the
old key; after it, ``master.key.next`` is the key to keep and rotating again finishes the rest
(a value already under the new key is left as it is).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..sealing import PREFIX, Sealer, SealError
from ..store.db import Database

if TYPE_CHECKING:
    from ..master_key import MasterKeys

# (table, key columns, sealed-JSON column)
SEALED_COLUMNS = (("iam_entities", ("kind", "id"), "data"), ("versions", ("name", "version"), "config"),
                  ("signing_profiles", ("id",), "data"),  # code signing keys (lamb.signing.signer)
                  ("apigateway_api_keys", ("api_id",), "data"))  # API Gateway's API keys (lamb.apis.usage_plans)


def _rewrap(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str) and value.startswith(PREFIX):
        return fn(value)
    if isinstance(value, dict):
        return {k: _rewrap(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrap(v, fn) for v in value]
    return value


def rotate(db: Database, keys: "MasterKeys", others: Iterable[Database] = ()) -> int:
    """Rewrap every sealed value under a new master key, in ``db`` and in ``others`` (the other
    accounts' and regions' databases, lamb.scopes); returns how many rows changed. ``keys``: where
    the master key lives (a file, or KMS: lamb.master_key), where the new one is made too."""
    old = keys.sealer()
    new = Sealer(keys.next_key())

    def move(sealed: str) -> str:
        try:
            return old.rewrap(sealed, new)
        except SealError:
            return sealed  # already under the new key (an interrupted rotation)

    changed = sum(_rewrap_all(each, move) for each in (db, *others))
    keys.commit_next()
    return changed


def _rewrap_all(db: Database, move: Callable[[str], str]) -> int:
    changed = 0
    with db.tx() as c:
        for table, keys, column in SEALED_COLUMNS:
            exists = c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
            if not exists:
                continue
            for row in c.execute(f"SELECT {', '.join(keys)}, {column} FROM {table}").fetchall():
                data = json.loads(row[-1])
                moved = _rewrap(data, move)
                if moved != data:
                    where = " AND ".join(f"{k} = ?" for k in keys)
                    c.execute(f"UPDATE {table} SET {column} = ? WHERE {where}", (json.dumps(moved), *row[:-1]))
                    changed += 1
    return changed
