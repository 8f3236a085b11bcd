"""Reading log stream files (lamb.logs.reader): tokens, pages, the merge, the fast scan."""

from __future__ import annotations

import pytest

from lamb.logs import reader
from lamb.logs.filter_pattern import compile_pattern


def stream(tmp_path, name: str, events: list[tuple[int, str]]):
    path = tmp_path / name
    path.write_bytes(b"".join(b"%d\t%s\n" % (ts, m.encode()) for ts, m in events))
    return name, path


def test_facts(tmp_path):
    _, path = stream(tmp_path, "s", [(5, "a"), (7, "b" * 10000), (9, "c")])
    f = reader.facts(path)
    assert (f.first_ts, f.last_ts, f.size) == (5, 9, path.stat().st_size)
    (tmp_path / "e").write_bytes(b"")
    assert reader.facts(tmp_path / "e").first_ts is None


def test_pages_forward_and_backward(tmp_path):
    _, path = stream(tmp_path, "s", [(i, f"m{i}") for i in range(10)])
    head = reader.get_events(path, start=None, end=None, limit=4, from_head=True, next_token=None, max_bytes=1 << 20)
    assert [e["message"] for e in head.events] == ["m0", "m1", "m2", "m3"]
    nxt = reader.get_events(path, start=None, end=None, limit=4, from_head=True, next_token=head.forward, max_bytes=1 << 20)
    assert [e["message"] for e in nxt.events] == ["m4", "m5", "m6", "m7"]
    tail = reader.get_events(path, start=None, end=None, limit=3, from_head=False, next_token=None, max_bytes=1 << 20)
    assert [e["message"] for e in tail.events] == ["m7", "m8", "m9"]
    end = reader.get_events(path, start=None, end=None, limit=3, from_head=False, next_token=tail.forward, max_bytes=1 << 20)
    assert end.events == [] and end.forward == tail.forward  # unchanged at the end: paginators stop
    back = reader.get_events(path, start=None, end=None, limit=3, from_head=False, next_token=tail.backward, max_bytes=1 << 20)
    assert [e["message"] for e in back.events] == ["m4", "m5", "m6"]
    with pytest.raises(reader.BadToken):
        reader.get_events(path, start=None, end=None, limit=3, from_head=False, next_token="f/99999999", max_bytes=1 << 20)


def test_response_size_bound(tmp_path):
    _, path = stream(tmp_path, "s", [(i, "x" * 100) for i in range(10)])
    page = reader.get_events(path, start=None, end=None, limit=100, from_head=True, next_token=None,
                             max_bytes=3 * (100 + reader.EVENT_OVERHEAD_BYTES))
    assert len(page.events) == 3


def test_filter_merges_by_time_and_pages(tmp_path):
    streams = [stream(tmp_path, "a", [(1, "a1 hit"), (4, "a4 hit"), (6, "a6")]),
               stream(tmp_path, "b", [(2, "b2 hit"), (3, "b3"), (5, "b5 hit")])]
    kw = dict(start=None, end=None, max_bytes=1 << 20, future_ms=0)
    m = compile_pattern("hit")
    first = reader.filter_events(streams, matches=m, limit=2, next_token=None, **kw)
    assert [e["message"] for e in first.events] == ["a1 hit", "b2 hit"]
    rest = reader.filter_events(streams, matches=m, limit=10, next_token=first.next_token, **kw)
    assert [e["message"] for e in rest.events] == ["a4 hit", "b5 hit"] and rest.next_token is None
    every = reader.filter_events(streams, matches=compile_pattern(""), limit=10, next_token=None, **kw)
    assert [e["timestamp"] for e in every.events] == [1, 2, 3, 4, 5, 6]


def test_scan_with_needs_finds_what_the_full_scan_finds(tmp_path):
    # a term that also occurs in timestamps, lines split across chunks
    events = [(1_700_000_000_000 + i, f"event {i} {'needle' if i % 7 == 0 else 'hay'} 17") for i in range(5000)]
    _, path = stream(tmp_path, "s", events)
    old = reader.CHUNK_BYTES
    reader.CHUNK_BYTES = 1000
    try:
        for need in [(b"needle",), (b"17",), (b"needle", b"17"), (b"70000000",)]:
            fast = list(reader.scan(path, need))
            full = [x for x in reader.scan(path) if all(n in x[2] for n in need)]
            assert fast == full, need
        assert [x[0] for x in reader.scan(path)] == [x[0] for x in reader.lines(path)]
    finally:
        reader.CHUNK_BYTES = old
