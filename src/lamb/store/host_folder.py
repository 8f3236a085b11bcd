"""A host folder used as function code in place (hot reload, ``lamb.services.hot_reload``):
its files, a zip of them, and a fingerprint that changes with any edit.

``__pycache__`` folders are ignored (the function may write them).
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

_IGNORED_DIRS = {"__pycache__"}


def files(folder: Path):
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in _IGNORED_DIRS)
        for name in sorted(filenames):
            yield Path(dirpath) / name


def snapshot_zip(folder: Path) -> bytes:
    """The folder's files as a zip (what GetFunction returns and CodeSha256 hashes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files(folder):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (path.stat().st_mode & 0o777 | 0o100000) << 16
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def fingerprint(folder: str) -> str:
    """Changes whenever a file in ``folder`` is added, removed, written or replaced."""
    digest = hashlib.sha256()
    for path in files(Path(folder)):
        try:
            st = path.stat()
        except FileNotFoundError:  # removed while walking: the next call sees the new state
            continue
        digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\n".encode())
    return digest.hexdigest()
