"""Layers and their versions: SQLite for durability, memory for reads; merged /opt folders.

A layer version is kept as the dict ``GetLayerVersion`` returns (minus the
presigned ``Content.Location``, made per request) plus Lamb's own keys, which
start with ``_``: ``_CodeKey`` names the zip in the content-addressed CodeStore,
``_UnzippedSize`` its unpacked size, ``_Policy`` its resource-based policy and
``_Deleted`` marks a deleted version. A deleted version is no longer visible
and cannot be added to a function, but functions that already reference it keep
working (https://docs.aws.amazon.com/lambda/latest/api/API_DeleteLayerVersion.html):
their configurations carry the zip's key (``_LayerKeys``), which keeps the blob
from garbage collection. Version numbers are never reused.

The layers of a function are merged, in order, into one read-only folder that
plays the part of AWS's ``/opt`` (``<data dir>/opt/<sha256 of the ordered keys>/``):
a later layer's file replaces an earlier one's. The folder is content-addressed,
so every function (and version) with the same layers shares it; it is built
once, off the event loop, when a configuration with layers is created.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

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


# ------------------------------------------------------------------ /opt folders
def opt_root(data_dir: Path) -> Path:
    """Where merged layer folders live."""
    return data_dir / "opt"


def opt_key(keys: Iterable[str]) -> str:
    """The name of the merged folder of these layer zips, in this order."""
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


def opt_dir(root: Path, keys: Iterable[str], code_dir_for: Callable[[str], Path]) -> Path:
    """The merged folder of ``keys`` under ``root``, building it if it is missing (blocking)."""
    keys = tuple(keys)
    dest = root / opt_key(keys)
    if dest.exists():
        return dest
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".merge-"))
    try:
        for key in keys:
            _merge_tree(code_dir_for(key), tmp)
        os.chmod(tmp, 0o755)
        os.rename(tmp, dest)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not dest.exists():
            raise
    return dest


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _merge_tree(src: Path, dst: Path) -> None:
    """Lay ``src`` over ``dst``: files of ``src`` replace what is there (later layer wins)."""
    for here, dirs, files in os.walk(src):
        rel = os.path.relpath(here, src)
        target_dir = dst if rel == "." else dst / rel
        for d in list(dirs):
            s, t = os.path.join(here, d), os.path.join(target_dir, d)
            if os.path.islink(s):  # a symlink to a folder: copy the link, do not descend
                dirs.remove(d)
                _remove(t)
                os.symlink(os.readlink(s), t)
                continue
            if os.path.lexists(t) and (os.path.islink(t) or not os.path.isdir(t)):
                _remove(t)
            if not os.path.exists(t):
                os.mkdir(t)
                os.chmod(t, 0o755)  # readable by the environment's own uid
        for f in files:
            s, t = os.path.join(here, f), os.path.join(target_dir, f)
            _remove(t)
            if os.path.islink(s):
                os.symlink(os.readlink(s), t)
                continue
            try:
                os.link(s, t)  # same file system as the code store: no copy
            except OSError:
                shutil.copy2(s, t)


def remove_unreferenced_opt(root: Path, referenced: set[str], min_age_s: float) -> None:
    """Delete merged folders nothing uses (younger ones may be in the making)."""
    if not root.exists():
        return
    cutoff = time.time() - min_age_s
    for d in root.iterdir():
        try:
            young = d.stat().st_mtime > cutoff
        except OSError:
            continue
        if d.name.startswith(".merge-"):
            if not young:
                shutil.rmtree(d, ignore_errors=True)
        elif d.name not in referenced and not young:
            shutil.rmtree(d, ignore_errors=True)
