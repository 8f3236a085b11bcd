"""The runtime's output pipe turned into log lines (``lamb.logs.capture``)."""

from __future__ import annotations

import os

from lamb.logs.capture import RUNAWAY_LINE_BYTES, OutputCapture


def capture():
    r, w = os.pipe()
    os.set_blocking(r, False)
    got: list[str] = []
    return OutputCapture(r, lambda ts, lines: got.extend(lines)), w, got


def test_complete_lines_now_a_trailing_one_on_flush():
    cap, w, got = capture()
    os.write(w, "one\ntwo ✓\nthr".encode())
    cap.drain()
    assert got == ["one", "two ✓"]
    os.write(w, b"ee")
    cap.drain(flush=True)
    assert got == ["one", "two ✓", "three"]
    os.close(w)
    cap.close()
    assert cap.fd == -1


def test_a_runaway_line_is_emitted_without_waiting_for_its_newline():
    cap, w, got = capture()
    chunk = b"x" * 65536
    sent = 0
    while sent <= RUNAWAY_LINE_BYTES:
        os.write(w, chunk)
        sent += len(chunk)
        cap.drain()
    assert len(got) == 1 and len(got[0]) > RUNAWAY_LINE_BYTES
    os.close(w)
    cap.close()


def test_what_is_left_is_emitted_when_closed():
    cap, w, got = capture()
    os.write(w, b"last words")
    os.close(w)
    cap.close()
    assert got == ["last words"]


def test_raw_lines_are_offered_first():
    r, w = os.pipe()
    os.set_blocking(r, False)
    raw: list[bytes] = []
    text: list[str] = []
    taking = [True]

    def take(ts, lines):
        if taking[0]:
            raw.extend(lines)
        return taking[0]

    cap = OutputCapture(r, lambda ts, lines: text.extend(lines), take)
    os.write(w, b"one\n\xff bad\n")
    cap.drain()
    assert raw == [b"one", b"\xff bad"] and text == []
    taking[0] = False
    os.write(w, b"two\n")
    cap.drain()
    assert text == ["two"]
    os.close(w)
    cap.close()
