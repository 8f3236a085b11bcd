"""Function logs, kept the way CloudWatch Logs organises them.

Every environment writes to its own log stream ``YYYY/MM/DD/[<version>]<32 hex>``
in the function's log group ``/aws/lambda/<name>``
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html).
On disk a stream is one append-only file of ``<epoch ms>\\t<message>\\n`` lines
(messages never contain ``\\n``: output is split into events at newlines) under
``<data dir>/logs/<group>/<stream>``, names percent-encoded and joined with
``safe_path.contained`` (``.``, ``..``, NUL, over-long names and anything that
resolves outside the logs folder raise ``UnsafePath``). A stream buffers
lines in memory and writes them with one system call per ``flush`` (the
invoker flushes at the end of each invocation), so logs outlive a crash of Lamb.
A stream whose file Lamb removed (DeleteLogGroup, DeleteLogStream, retention: each bumps
``LogStore.generation``) starts a new file at its next flush, as a Lambda function's group
is created again by its next line; otherwise a flush costs no extra system call.
Each flush is offered to the store's ``listeners`` (Live Tail) when there are any.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable
from urllib.parse import quote, unquote

from ..safe_path import UnsafePath, contained


def _fs(name: str) -> str:
    if "\0" in name:  # CloudWatch Logs names never hold one; refused before it is encoded away
        raise UnsafePath(f"NUL in a log name: {name[:100]!r}")
    return quote(name, safe="")


# listener(group, stream, [(timestamp ms, message), ...]) for every flush
Listener = Callable[[str, str, list[tuple[int, str]]], None]


# A stream's buffer is written out once it holds this much, so a function that logs a lot
# (1 GB in one invocation) keeps Lamb's memory flat; otherwise once per invocation.
FLUSH_BYTES = 1024 * 1024


class LogStream:
    __slots__ = ("group", "name", "path", "_fd", "_buf", "_store", "_buffered", "_generation")

    def __init__(self, group: str, name: str, path: Path, store: "LogStore"):
        self.group = group
        self.name = name
        self.path = path
        self._fd = -1
        self._buf: list[bytes] = []
        self._store = store
        self._buffered = 0
        self._generation = self._store.generation

    def write(self, ts_ms: int, message: str) -> None:
        line = b"%d\t%s\n" % (ts_ms, message.encode("utf-8", "backslashreplace"))
        self._buf.append(line)
        self._buffered += len(line)
        if self._buffered >= FLUSH_BYTES:
            self.flush()

    def write_lines(self, ts_ms: int, messages: list[str]) -> None:
        """Several events of one timestamp (a batch of the runtime's output), formatted at once."""
        self.write_raw(ts_ms, [m.encode("utf-8", "backslashreplace") for m in messages])

    def write_raw(self, ts_ms: int, messages: list[bytes]) -> None:
        """``write_lines`` for messages still in the bytes the runtime wrote (no newline in them);
        invalid UTF-8 is kept as it came and read back as U+FFFD, as the text path writes it."""
        if not messages:
            return
        prefix = b"%d\t" % ts_ms
        data = prefix + (b"\n" + prefix).join(messages) + b"\n"
        self._buf.append(data)
        self._buffered += len(data)
        if self._buffered >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self._buf:
            return
        data = b"".join(self._buf)
        self._buf.clear()
        self._buffered = 0
        store = self._store
        if self._generation != store.generation:  # Lamb deleted log files since: is this one gone?
            self._generation = store.generation
            if self._fd >= 0 and os.fstat(self._fd).st_nlink == 0:  # yes: a new file
                os.close(self._fd)
                self._fd = -1
        if self._fd < 0:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        os.write(self._fd, data)
        if store.listeners:
            events = [parse_line(line) for line in data.split(b"\n") if line]
            for listener in list(store.listeners):
                listener(self.group, self.name, events)

    def close(self) -> None:
        self.flush()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def parse_line(line: bytes) -> tuple[int, str]:
    ts, _, msg = line.partition(b"\t")
    return int(ts), msg.decode("utf-8", "replace")


class LogStore:
    def __init__(self, root: Path):
        self.root = root
        self.listeners: list[Listener] = []  # shared by every stream (Live Tail sessions)
        self.generation = 0  # counts deletions of log files (a stream checks its file after one)

    def stream(self, group: str, name: str) -> LogStream:
        return LogStream(group, name, contained(self.root, _fs(group), _fs(name)), self)

    def deleted(self) -> None:
        """Log files were deleted (a group, a stream, retention): open streams check theirs."""
        self.generation += 1

    def group_path(self, group: str) -> Path:
        return contained(self.root, _fs(group))

    def stream_path(self, group: str, stream: str) -> Path:
        return contained(self.root, _fs(group), _fs(stream))

    def groups(self) -> list[str]:
        """The groups that have a folder on disk (something was written to them)."""
        if not self.root.is_dir():
            return []
        return [unquote(p.name) for p in self.root.iterdir() if p.is_dir()]

    def stream_names(self, group: str) -> list[str]:
        d = self.group_path(group)
        return [unquote(p.name) for p in d.iterdir()] if d.is_dir() else []

    def create_stream(self, group: str, stream: str) -> bool:
        """An empty stream file; False if it exists."""
        path = self.stream_path(group, stream)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o640))
        except FileExistsError:
            return False
        return True

    def delete_group(self, group: str) -> None:
        shutil.rmtree(self.group_path(group), ignore_errors=True)
        self.deleted()

    def delete_stream(self, group: str, stream: str) -> None:
        self.stream_path(group, stream).unlink(missing_ok=True)
        self.deleted()

    def streams(self, group: str) -> list[str]:
        d = contained(self.root, _fs(group))
        if not d.is_dir():
            return []
        return sorted((unquote(p.name) for p in d.iterdir()), key=lambda s: (d / _fs(s)).stat().st_mtime)

    def events(self, group: str, stream: str) -> list[tuple[int, str]]:
        path = contained(self.root, _fs(group), _fs(stream))
        if not path.is_file():
            return []
        return [parse_line(line) for line in path.read_bytes().split(b"\n") if line]
