"""Merged /opt folders: a function's layers laid over each other, in order.

The layers of a function are merged, in order, into one read-only folder that
plays the part of AWS's ``/opt`` (``<data dir>/opt/<sha256 of the ordered keys>/``):
a later layer's file replaces an earlier one's
(https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html). The folder is
content-addressed, so every function (and version) with the same layers shares it;
it is built once, off the event loop, when a configuration with layers is created.
Files are hard links into the code store's unpacked layers (no copy).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable


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
