"""Reading log streams as CloudWatch Logs answers: stream facts, pages of events, filtered merges.

A stream file is append-only ``<epoch ms>\\t<message>\\n`` lines (``store.py``), so a byte
offset names an event for good: GetLogEvents' tokens are ``f/<offset>/s`` (events from that
offset on) and ``b/<offset>/s`` (events before it), in the 56-digit shape AWS's tokens have
(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html):
when no more events exist the forward token comes back unchanged, which is how the AWS SDK
paginators and the CLI know to stop. FilterLogEvents merges the chosen streams by timestamp
(``heapq.merge``), and its events' ``eventId`` is the stream's number and the offset.
Files are read line by line, never whole, so a large stream costs time, not memory; streams
whose last write is older than ``startTime`` are skipped without being opened.
"""

from __future__ import annotations

import base64
import heapq
import json
import os
import re
import zlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .store import parse_line

EVENT_OVERHEAD_BYTES = 26  # what AWS counts per event against the 1 MB response size
_TOKEN = re.compile(r"^([fb])/(\d{1,56})(?:/s)?$")


class BadToken(ValueError):
    """A nextToken this server did not hand out."""


@dataclass(frozen=True)
class StreamFacts:
    first_ts: int | None
    last_ts: int | None
    last_write_ms: int
    size: int


def facts(path: Path) -> StreamFacts:
    st = path.stat()
    mtime = st.st_mtime_ns // 1_000_000
    if st.st_size == 0:
        return StreamFacts(None, None, mtime, 0)
    with open(path, "rb") as f:
        head = f.read(32)
        first = int(head.partition(b"\t")[0])
        last = _last_timestamp(f, st.st_size)
    return StreamFacts(first, last, mtime, st.st_size)


def _last_timestamp(f, size: int) -> int:
    chunk = 4096
    while True:
        start = max(0, size - chunk)
        f.seek(start)
        data = f.read(size - start)
        i = data.rfind(b"\n", 0, len(data) - 1)
        if i >= 0 or start == 0:
            return int(data[i + 1:].partition(b"\t")[0])
        chunk *= 4


def lines(path: Path, offset: int = 0) -> Iterator[tuple[int, int, str]]:
    """(offset, timestamp, message) of each event from ``offset`` on."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return
    with f:
        f.seek(offset)
        pos = offset
        for line in f:
            start = pos
            pos += len(line)
            if line.endswith(b"\n"):
                ts, msg = parse_line(line[:-1])
                yield start, ts, msg


CHUNK_BYTES = 1 << 20


def scan(path: Path, need: tuple[bytes, ...] = ()) -> Iterator[tuple[int, int, bytes]]:
    """(offset, timestamp, raw message) of the events holding every byte string of ``need``,
    read a megabyte at a time (FilterLogEvents' full scans: lines that cannot match are
    never decoded)."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return
    with f:
        base = 0
        rest = b""
        while True:
            chunk = f.read(CHUNK_BYTES)
            if not chunk:
                return
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            yield from (_hits(data, cut, base, need) if need else _every(data, cut, base))
            base += cut


def _every(data: bytes, cut: int, base: int) -> Iterator[tuple[int, int, bytes]]:
    pos = base
    for line in data[:cut].split(b"\n")[:-1]:
        tab = line.find(b"\t")
        yield pos, int(line[:tab]), line[tab + 1:]
        pos += len(line) + 1


def _hits(data: bytes, cut: int, base: int, need: tuple[bytes, ...]) -> Iterator[tuple[int, int, bytes]]:
    """Only the lines holding ``need[0]`` are looked at (found by ``bytes.find``), then the rest."""
    first = max(need, key=len)
    others = need
    i = data.find(first, 0, cut)
    while i >= 0:
        start = data.rfind(b"\n", 0, i) + 1
        stop = data.find(b"\n", i)
        line = data[start:stop]
        tab = line.find(b"\t")
        message = line[tab + 1:]
        if all(n in message for n in others):  # the hit may have been in the timestamp
            yield base + start, int(line[:tab]), message
        i = data.find(first, stop + 1, cut)


# ------------------------------------------------------------------ GetLogEvents
def token(direction: str, offset: int) -> str:
    return f"{direction}/{offset:056d}/s"


def parse_token(text: str) -> tuple[str, int]:
    m = _TOKEN.match(text)
    if m is None:
        raise BadToken(text)
    return m.group(1), int(m.group(2))


@dataclass
class Page:
    events: list[dict]
    forward: str
    backward: str


def _in_bounds(ts: int, start: int | None, end: int | None) -> bool:
    return (start is None or ts >= start) and (end is None or ts < end)


def _fits(budget: list[int], message: str) -> bool:
    """Counts the event against the response size; False once the 1 MB is used up."""
    budget[0] -= len(message.encode("utf-8")) + EVENT_OVERHEAD_BYTES
    return budget[0] >= 0


def get_events(path: Path, *, start: int | None, end: int | None, limit: int, from_head: bool,
               next_token: str | None, max_bytes: int) -> Page:
    """One page of GetLogEvents."""
    size = path.stat().st_size
    if next_token:
        direction, offset = parse_token(next_token)
        if offset > size:
            raise BadToken(next_token)
        forward = direction == "f"
    else:
        direction, offset, forward = ("f", 0, True) if from_head else ("b", size, False)
    budget = [max_bytes]
    picked: list[tuple[int, int, str]] = []
    if forward:
        for off, ts, msg in lines(path, offset):
            if not _in_bounds(ts, start, end):
                continue
            if len(picked) >= limit or not _fits(budget, msg):
                break
            picked.append((off, ts, msg))
        after = offset if not picked else _end_of(path, picked[-1][0])
        before = offset if not picked else picked[0][0]
    else:
        window: deque[tuple[int, int, str]] = deque(maxlen=limit)
        for off, ts, msg in lines(path, 0):
            if off >= offset:
                break
            if _in_bounds(ts, start, end):
                window.append((off, ts, msg))
        for item in reversed(window):
            if not _fits(budget, item[2]):
                break
            picked.append(item)
        picked.reverse()
        after = offset if not picked else _end_of(path, picked[-1][0])
        before = offset if not picked else picked[0][0]
        if not next_token:
            after = size if not picked else after
    events = [{"timestamp": ts, "message": msg, "ingestionTime": ts} for _, ts, msg in picked]
    return Page(events, token("f", after), token("b", before))


def _end_of(path: Path, offset: int) -> int:
    with open(path, "rb") as f:
        f.seek(offset)
        return offset + len(f.readline())


# --------------------------------------------------------------- FilterLogEvents
def stream_number(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def event_id(stream: str, offset: int) -> str:
    return f"{stream_number(stream):010d}{offset:046d}"


@dataclass
class Filtered:
    events: list[dict]
    next_token: str | None


def filter_events(streams: list[tuple[str, Path]], *, start: int | None, end: int | None,
                  matches: Callable[[str], bool], limit: int, next_token: str | None, max_bytes: int,
                  future_ms: int) -> Filtered:
    """Events of ``streams`` matching the pattern, by timestamp then stream, from ``next_token`` on.

    ``future_ms``: how far past its write an event's timestamp may be (PutLogEvents takes
    events up to 2 hours ahead), so that a stream last written before ``startTime`` minus
    that is skipped unread."""
    after: tuple[int, str, int] | None = None
    if next_token:
        try:
            ts, name, off = json.loads(base64.urlsafe_b64decode(next_token.encode()))
            after = (int(ts), str(name), int(off))
        except (ValueError, TypeError):
            raise BadToken(next_token) from None
    floor = start if after is None else max(start or 0, after[0])

    need = tuple(getattr(matches, "needs", ()))

    def source(name: str, path: Path) -> Iterator[tuple[int, str, int, str]]:
        """A stream's matching events: matched here, so that the merge sees only those."""
        for off, ts, raw in scan(path, need):
            if (start is None or ts >= start) and (end is None or ts < end) and (after is None or (ts, name, off) > after):
                msg = raw.decode("utf-8", "replace")
                if matches(msg):
                    yield ts, name, off, msg

    chosen = []
    for name, path in streams:
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        if floor is not None and st.st_mtime_ns // 1_000_000 < floor - future_ms or st.st_size == 0:
            continue  # nothing written since startTime (or the last page)
        chosen.append(source(name, path))
    budget = [max_bytes]
    events: list[dict] = []
    more = False
    for ts, name, off, msg in heapq.merge(*chosen):
        if len(events) >= limit or not _fits(budget, msg):
            more = True
            break
        events.append({"logStreamName": name, "timestamp": ts, "message": msg, "ingestionTime": ts,
                       "eventId": event_id(name, off), "_key": (ts, name, off)})
    token_out = None
    if more and events:
        token_out = base64.urlsafe_b64encode(json.dumps(list(events[-1]["_key"])).encode()).decode()
    for e in events:
        del e["_key"]
    return Filtered(events, token_out)


def total_bytes(folder: Path) -> int:
    try:
        return sum(e.stat().st_size for e in os.scandir(folder) if e.is_file())
    except FileNotFoundError:
        return 0
