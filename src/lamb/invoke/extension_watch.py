"""Noticing that an external extension's process died (AWS's ``Extension.Crash``).

https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html: an extension that
exits outside the Shutdown phase fails the phase it is in and resets the environment
(``Extension.Crash``). External extensions are processes of the environment, started from
``/opt/extensions/<name>`` before the runtime (``runtimes/zygote.py start_extension``), so
their parent is the environment's root process; the name they register with is their file
name. ``find`` looks for that process among the root's descendants (``/proc/<pid>/task/*/children``),
``watch`` opens a pidfd on it (Linux ≥ 5.3), which the event loop sees readable once the
process has ended, reaped or not.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Callable

MAX_DEPTH = 3  # root → (lamb-init) → runtime → extension


def children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            out.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return out


def _argv(pid: int) -> list[str]:
    """The first arguments of ``pid``: a script's interpreter puts its path second
    (``python3 /opt/extensions/name`` for ``#!/usr/bin/env python3``)."""
    try:
        return [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 3)[:3]]
    except OSError:
        return []


def find(root: int, name: str) -> int | None:
    """The pid of the external extension ``name`` among ``root``'s descendants (and ``root``)."""
    suffix = f"/extensions/{name}"
    level = [root]
    for _ in range(MAX_DEPTH + 1):
        nxt: list[int] = []
        for pid in level:
            if any(arg.endswith(suffix) for arg in _argv(pid)):
                return pid
            nxt.extend(children(pid))
        level = nxt
    return None


def running(pid: int) -> bool:
    """Whether ``pid`` exists and has not ended (a zombie has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:][:1] not in ("Z", "X", "")


def watch(pid: int, on_exit: Callable[[], None]) -> Callable[[], None] | None:
    """Call ``on_exit`` (once, on the running loop) when ``pid`` ends; returns the way to stop
    watching, or None when the process is already gone or pidfds are not available."""
    try:
        fd = os.pidfd_open(pid)
    except (OSError, AttributeError):
        return None
    loop = asyncio.get_running_loop()
    closed = [False]

    def stop() -> None:
        if not closed[0]:
            closed[0] = True
            loop.remove_reader(fd)
            os.close(fd)

    def readable() -> None:
        stop()
        on_exit()

    loop.add_reader(fd, readable)
    return stop
