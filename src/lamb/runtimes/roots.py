"""Runtime roots: a cached folder per runtime, built once per host.

A root (like AWS's /var/runtime) holds the runtime interface client a runtime
needs. Building one may take seconds (pip, npm), so it happens once per host
into a cache shared by every Lamb: concurrent builders serialise on a lock file,
and a half-built root is never used because the folder is renamed into place,
with a ``.complete`` marker, only when the build succeeded.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable


def own_file(root: Path, name: str, text: str) -> None:
    """Lamb's own file ``name`` in a built root, rewritten (atomically) when its text differs: it is
    Lamb's code, not the installer's, so a root built by an older Lamb gets this Lamb's."""
    path = root / name
    try:
        if path.read_text() == text:
            return
    except OSError:
        pass
    tmp = root / f".{name}.{os.getpid()}"
    tmp.write_text(text)
    os.replace(tmp, path)


class BuildFailed(Exception):
    """The build command failed; the message ends with its last lines of output."""


def ensure(cache: Path, folder: str, build: Callable[[Path], None]) -> Path:
    """The root ``cache/folder``, calling ``build(tmp)`` to fill a temporary folder if missing."""
    root = cache / folder
    marker = root / ".complete"
    if marker.exists():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f".{folder}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return root
        tmp = cache / f".{folder}.building.{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            build(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        shutil.rmtree(root, ignore_errors=True)
        os.rename(tmp, root)
        marker.write_text("ok\n")
        return root


def run(cmd: list[str], what: str, env: dict | None = None) -> None:
    """Run a build step; BuildFailed with its last lines of output when it fails."""
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise BuildFailed(f"could not install {what}: {' | '.join(tail)}")
