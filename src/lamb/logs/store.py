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
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, unquote

from ..safe_path import UnsafePath, contained


def _fs(name: str) -> str:
    if "\0" in name:  # CloudWatch Logs names never hold one; refused before it is encoded away
        raise UnsafePath(f"NUL in a log name: {name[:100]!r}")
    return quote(name, safe="")


class LogStream:
    __slots__ = ("group", "name", "path", "_fd", "_buf")

    def __init__(self, group: str, name: str, path: Path):
        self.group = group
        self.name = name
        self.path = path
        self._fd = -1
        self._buf: list[bytes] = []

    def write(self, ts_ms: int, message: str) -> None:
        self._buf.append(b"%d\t%s\n" % (ts_ms, message.encode("utf-8", "backslashreplace")))

    def flush(self) -> None:
        if not self._buf:
            return
        data = b"".join(self._buf)
        self._buf.clear()
        if self._fd < 0:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        os.write(self._fd, data)

    def close(self) -> None:
        self.flush()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class LogStore:
    def __init__(self, root: Path):
        self.root = root

    def stream(self, group: str, name: str) -> LogStream:
        return LogStream(group, name, contained(self.root, _fs(group), _fs(name)))

    def streams(self, group: str) -> list[str]:
        d = contained(self.root, _fs(group))
        if not d.is_dir():
            return []
        return sorted((unquote(p.name) for p in d.iterdir()), key=lambda s: (d / _fs(s)).stat().st_mtime)

    def events(self, group: str, stream: str) -> list[tuple[int, str]]:
        path = contained(self.root, _fs(group), _fs(stream))
        if not path.is_file():
            return []
        out = []
        for line in path.read_bytes().split(b"\n"):
            if line:
                ts, _, msg = line.partition(b"\t")
                out.append((int(ts), msg.decode("utf-8", "replace")))
        return out
