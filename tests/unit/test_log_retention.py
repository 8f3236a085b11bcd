"""Retention and the per-group size bound on disk (lamb.logs.retention)."""

from __future__ import annotations

import os

from lamb.logs.retention import sweep_group


def write(folder, name: str, last_ts: int, size: int, mtime_s: float):
    path = folder / name
    line = b"%d\t" % last_ts
    path.write_bytes(line + b"x" * (size - len(line) - 1) + b"\n")
    os.utime(path, (mtime_s, mtime_s))
    return path


def test_retention_deletes_streams_whose_last_write_is_past_it(tmp_path):
    old = write(tmp_path, "old", 1000, 100, 1.0)
    new = write(tmp_path, "new", 5000, 100, 5.0)
    swept = sweep_group(tmp_path, now_ms=6000, retention_ms=2000, max_bytes=0)
    assert (swept.expired, swept.evicted) == (1, 0)
    assert not old.exists() and new.exists()
    assert sweep_group(tmp_path, now_ms=6000, retention_ms=None, max_bytes=0).expired == 0


def test_size_bound_deletes_least_recently_written_first(tmp_path):
    a = write(tmp_path, "a", 3000, 400, 3.0)
    b = write(tmp_path, "b", 1000, 400, 3.0)  # same file time: the older last event goes first
    c = write(tmp_path, "c", 9000, 400, 9.0)
    swept = sweep_group(tmp_path, now_ms=10_000, retention_ms=None, max_bytes=900)
    assert swept.evicted == 1 and not b.exists() and a.exists() and c.exists()


def test_a_missing_group_folder_is_nothing_to_do(tmp_path):
    assert sweep_group(tmp_path / "none", now_ms=1, retention_ms=1, max_bytes=1).expired == 0
