"""Logs never fill the disk: retention and a size bound per log group, enforced on disk.

A group with a retention of N days loses its events once they are N days old
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention;
AWS deletes them within days, Lamb at its next sweep). Streams are append-only files
ordered by time, so a stream goes whole when its last write is past retention. Every group also has a size bound
(``Limits.log_group_max_bytes``, Lamb's own: AWS has no such limit, a disk does): past it
the least recently written streams are deleted until the group fits again. A stream still
written by an environment starts a new file at its next write (``store.LogStream.flush``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .reader import facts


@dataclass(frozen=True)
class Swept:
    expired: int = 0  # stream files deleted for retention
    evicted: int = 0  # stream files deleted for the size bound


def sweep_group(folder: Path, now_ms: int, retention_ms: int | None, max_bytes: int) -> Swept:
    """Apply retention and the size bound to one group's folder."""
    try:
        entries = [(e.stat().st_mtime_ns // 1_000_000, e.stat().st_size, e.path) for e in os.scandir(folder)
                   if e.is_file()]
    except FileNotFoundError:
        return Swept()
    expired = evicted = 0
    kept = []
    for mtime, size, path in entries:
        if retention_ms is not None and mtime < now_ms - retention_ms:
            _unlink(path)
            expired += 1
        else:
            kept.append((mtime, size, path))
    total = sum(size for _, size, _ in kept)
    if max_bytes > 0 and total > max_bytes:
        # least recently written first; the file clock is coarse, so ties go by the last event's time
        for _, _, size, path in sorted((mtime, _last_event(path), size, path) for mtime, size, path in kept):
            if total <= max_bytes:
                break
            _unlink(path)
            total -= size
            evicted += 1
    return Swept(expired, evicted)  # the group stays, empty, as AWS keeps it


def _last_event(path: str) -> int:
    try:
        return facts(Path(path)).last_ts or 0
    except (OSError, ValueError):
        return 0


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
