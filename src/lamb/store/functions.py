"""Functions and their versions: SQLite for durability, memory for reads.

All functions are loaded at start and every change is written through in one
transaction before the in-memory copy changes, so reads (and the invoke path)
never touch the database and a change that returned is on disk.

A version's configuration is kept as the dict AWS returns for it (the
``FunctionConfiguration`` shape) plus Lamb's own keys, which start with ``_``
and never reach the wire (the serializer only emits members of the shape):
``_CodeKey`` names the stored zip, ``_LayerKeys`` the zips of its layers in order.

Aliases are kept per function (``Function.aliases``), each as the
``AliasConfiguration`` dict AWS returns, with a precomputed ``Route`` so that an
invocation through an alias is one dict lookup plus, for a weighted alias, one
random draw.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from ..arn import LATEST, FunctionRef, function_arn, parse_function_name
from ..config import DEFAULT_ACCOUNT_ID, DEFAULT_REGION
from ..protocol.errors import not_found
from . import env_at_rest
from .db import Database
from ..sealing import Sealer

if TYPE_CHECKING:
    from ..kms_sealing import KmsSealer

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
CREATE TABLE IF NOT EXISTS aliases (
    name   TEXT NOT NULL,              -- the function
    alias  TEXT NOT NULL,
    config TEXT NOT NULL,              -- the AliasConfiguration, JSON
    PRIMARY KEY (name, alias)
);
"""


@dataclass(frozen=True)
class Route:
    """Where an alias sends an invocation: ``version``, or ``extra`` with probability ``weight``."""

    version: str
    extra: str | None = None
    weight: float = 0.0

    @classmethod
    def of(cls, alias: dict) -> "Route":
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        for extra, weight in weights.items():
            return cls(alias["FunctionVersion"], extra, float(weight))
        return cls(alias["FunctionVersion"])

    def pick(self, draw=random.random) -> str:
        """The version one invocation runs (``draw()`` is uniform in [0, 1))."""
        if self.extra is not None and draw() < self.weight:
            return self.extra
        return self.version

    def versions(self) -> tuple[str, ...]:
        return (self.version,) if self.extra is None else (self.version, self.extra)


@dataclass
class Function:
    name: str
    data: dict = field(default_factory=dict)  # function-wide: Tags, NextVersion, ...
    versions: dict[str, dict] = field(default_factory=dict)  # '$LATEST', '1', ...
    aliases: dict[str, dict] = field(default_factory=dict)  # alias name -> AliasConfiguration
    routes: dict[str, Route] = field(default_factory=dict)  # alias name -> Route

    @property
    def latest(self) -> dict:
        return self.versions["$LATEST"]


class Resolved(NamedTuple):
    """A function and the version a name with a qualifier selects.

    ``ref`` is the name as given (its qualifier may be an alias); ``version`` is the
    version that runs (for an alias, the one it points to or, routed, the one drawn).
    """

    ref: FunctionRef
    fn: Function
    version: str
    config: dict


SEALED = env_at_rest.SEALED  # Environment.Variables as stored: {"_sealed": "lamb1:..."} (or {"_kms": ...})


class FunctionStore:
    def __init__(self, db: Database, *, region: str = DEFAULT_REGION, account_id: str = DEFAULT_ACCOUNT_ID,
                 sealer: Sealer | None = None, kms: "KmsSealer | None" = None):
        self.db = db
        # Environment variables are sealed in SQLite (lamb.sealing, or KMSKeyArn's key: lamb.kms_sealing),
        # open in memory (store/env_at_rest.py).
        self.sealer = sealer
        self.kms = kms
        self.region = region
        self.account_id = account_id
        db.ensure(SCHEMA)
        self.functions: dict[str, Function] = {}
        for name, data in db.query("SELECT name, data FROM functions"):
            self.functions[name] = Function(name, json.loads(data))
        for name, version, config in db.query("SELECT name, version, config FROM versions"):
            fn = self.functions.get(name)
            if fn is not None:
                fn.versions[version] = self._load_config(name, config)
        for name, alias, config in db.query("SELECT name, alias, config FROM aliases"):
            fn = self.functions.get(name)
            if fn is not None:
                fn.aliases[alias] = json.loads(config)
                fn.routes[alias] = Route.of(fn.aliases[alias])

    def get(self, name: str) -> Function | None:
        return self.functions.get(name)

    def _dump_config(self, name: str, config: dict) -> str:
        """A version's configuration as stored: ``Environment.Variables`` sealed (bound to the function)."""
        return json.dumps(env_at_rest.dump(config, name, self.sealer, self.kms))

    def _load_config(self, name: str, text: str) -> dict:
        return env_at_rest.load(json.loads(text), name, self.sealer, self.kms)

    # ------------------------------------------------------------- resolution
    def resolve(self, name: str, qualifier: str | None = None, *, route: bool = False,
                missing: str | None = None) -> Resolved:
        """The function and version ``name`` (a name, partial or full ARN) with ``qualifier`` names.

        The one "Function not found" path: ``ResourceNotFoundException`` naming the ARN
        as asked (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html#API_GetFunction_Errors).
        An alias resolves to its version; with ``route`` (an invocation) a weighted
        alias draws which of its two versions runs
        (https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html).
        ``missing`` is the qualifier the not-found message names when none was given
        (Invoke's names ``$LATEST``). Dict lookups only: this is on the invoke path.
        """
        ref = parse_function_name(name, qualifier, region=self.region, account_id=self.account_id)
        fn = self.functions.get(ref.name)
        if fn is None:
            raise self.not_found(ref.name, ref.qualifier or missing)
        version = ref.qualifier or LATEST
        config = fn.versions.get(version)
        if config is not None:
            return Resolved(ref, fn, version, config)
        r = fn.routes.get(version)
        if r is None:
            raise self.not_found(ref.name, version)
        version = r.pick() if route else r.version
        return Resolved(ref, fn, version, fn.versions[version])

    def function(self, name: str, *, what: str | None = None) -> tuple[FunctionRef, Function]:
        """The function ``name`` names, whatever its qualifier; ResourceNotFoundException
        (naming the unqualified ARN, or ``<arn>:<what>`` when given) otherwise."""
        ref = parse_function_name(name, region=self.region, account_id=self.account_id)
        fn = self.functions.get(ref.name)
        if fn is None:
            raise self.not_found(ref.name, what)
        return ref, fn

    def not_found(self, name: str, qualifier: str | None = None):
        """AWS's ``Function not found: <arn>`` error."""
        return not_found(f"Function not found: {function_arn(self.region, self.account_id, name, qualifier)}")

    def update_data(self, name: str, **changes) -> dict:
        """Write the function-wide data with ``changes`` applied (a value of None removes its key)."""
        data = dict(self.functions[name].data)
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        self.put_data(name, data)
        return data

    def names(self) -> list[str]:
        return sorted(self.functions)

    def create(self, name: str, data: dict, latest: dict) -> Function:
        with self.db.tx() as c:
            c.execute("INSERT INTO functions (name, data) VALUES (?, ?)", (name, json.dumps(data)))
            c.execute(
                "INSERT INTO versions (name, version, config) VALUES (?, '$LATEST', ?)",
                (name, self._dump_config(name, latest)),
            )
        fn = Function(name, data, {"$LATEST": latest})
        self.functions[name] = fn
        return fn

    def put_version(self, name: str, version: str, config: dict) -> dict:
        """Insert or replace one version's configuration; returns the stored copy."""
        with self.db.tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO versions (name, version, config) VALUES (?, ?, ?)",
                (name, version, self._dump_config(name, config)),
            )
        self.functions[name].versions[version] = config
        return config

    def put_data(self, name: str, data: dict) -> None:
        with self.db.tx() as c:
            c.execute("UPDATE functions SET data = ? WHERE name = ?", (json.dumps(data), name))
        self.functions[name].data = data

    def publish(self, name: str, version: str, config: dict, data: dict, latest: dict) -> dict:
        """Add a published version, the function's new data (its version counter) and
        $LATEST's new revision, in one transaction."""
        with self.db.tx() as c:
            c.execute(
                "INSERT INTO versions (name, version, config) VALUES (?, ?, ?)",
                (name, version, self._dump_config(name, config)),
            )
            c.execute(
                "INSERT OR REPLACE INTO versions (name, version, config) VALUES (?, '$LATEST', ?)",
                (name, self._dump_config(name, latest)),
            )
            c.execute("UPDATE functions SET data = ? WHERE name = ?", (json.dumps(data), name))
        fn = self.functions[name]
        fn.versions[version] = config
        fn.versions["$LATEST"] = latest
        fn.data = data
        return config

    def put_alias(self, name: str, alias: dict) -> dict:
        with self.db.tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO aliases (name, alias, config) VALUES (?, ?, ?)",
                (name, alias["Name"], json.dumps(alias)),
            )
        fn = self.functions[name]
        fn.aliases[alias["Name"]] = alias
        fn.routes[alias["Name"]] = Route.of(alias)
        return alias

    def delete_alias(self, name: str, alias: str) -> None:
        with self.db.tx() as c:
            c.execute("DELETE FROM aliases WHERE name = ? AND alias = ?", (name, alias))
        fn = self.functions[name]
        fn.aliases.pop(alias, None)
        fn.routes.pop(alias, None)

    def delete(self, name: str) -> Function | None:
        with self.db.tx() as c:
            c.execute("DELETE FROM aliases WHERE name = ?", (name,))
            c.execute("DELETE FROM versions WHERE name = ?", (name,))
            c.execute("DELETE FROM functions WHERE name = ?", (name,))
        return self.functions.pop(name, None)

    def delete_version(self, name: str, version: str) -> None:
        with self.db.tx() as c:
            c.execute("DELETE FROM versions WHERE name = ? AND version = ?", (name, version))
        self.functions[name].versions.pop(version, None)

    def code_keys(self) -> set[str]:
        """Every stored zip some version uses: its code and its layers' (deleted layer
        versions stay usable by the functions that reference them)."""
        keys: set[str] = set()
        for fn in self.functions.values():
            for cfg in fn.versions.values():
                if cfg.get("_CodeKey"):
                    keys.add(cfg["_CodeKey"])
                keys.update(cfg.get("_LayerKeys") or ())
        return keys

    def layer_key_lists(self) -> list[tuple[str, ...]]:
        """The ordered layer zips of every version that has layers (for /opt folders)."""
        return [
            tuple(cfg["_LayerKeys"])
            for fn in self.functions.values()
            for cfg in fn.versions.values()
            if cfg.get("_LayerKeys")
        ]

