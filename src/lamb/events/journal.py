"""Group commit: every write of the async queue goes through one writer thread.

An accepted event must be on disk before its 202 (principle 4), and an fsync per
event would cap acceptance at a few hundred per second. So writes are queued to
a dedicated thread that takes *everything* waiting, runs it in one transaction
and commits once (one fsync of the WAL, ``synchronous=FULL``); while it is
fsyncing, the next batch accumulates. Under load the batches grow by themselves,
at no extra latency when idle. The event loop thread never touches SQLite: it
enqueues a unit of work and gets a callback on the loop once it is durable.

A unit (``submit(ops, done)``) is a list of ``(sql, args)`` statements, or
callables ``fn(conn) -> result`` for reads, that commit together; consecutive
statements with the same SQL across units are run with ``executemany``. If a
batch fails, each unit is retried in a transaction of its own, so one bad unit
cannot fail the others; ``done(result, exc)`` reports per unit.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

from ..store.db import Database
from ..cpus import release_thread

log = logging.getLogger("lamb.events")

Done = Callable[[Any, "BaseException | None"], None]
_STOP = object()


class Journal:
    def __init__(self, path: Path, schema: str, *, max_batch: int = 4096):
        self.db = Database(path)  # WAL, synchronous=FULL
        self.db.ensure(schema)
        self.max_batch = max_batch
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.units = 0

    # ---------------------------------------------------------- outside
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="lamb-journal", daemon=True)
        self._thread.start()

    def submit(self, ops: list, done: Done | None = None) -> None:
        """Queue a unit of statements that commit together; ``done`` runs on the loop after."""
        self._q.put((ops, done))

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        """A direct read (start-up recovery, before the writer runs)."""
        return self.db.query(sql, args)

    def close(self) -> None:
        """Commit everything queued, then stop the writer and close the file."""
        if self._thread is not None:
            self._q.put(_STOP)
            self._thread.join()
            self._thread = None
        self.db.close()

    # ----------------------------------------------------------- writer
    def _run(self) -> None:
        release_thread()
        q = self._q
        stop = False
        while not stop:
            item = q.get()
            if item is _STOP:
                break
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list) -> None:
        results: list = [None] * len(batch)
        try:
            with self.db.tx() as conn:
                self._execute(conn, batch, results)
            errors: list = [None] * len(batch)
        except BaseException as e:  # a bad unit: isolate it
            log.warning("async queue batch of %d failed (%s); retrying one by one", len(batch), e)
            errors = []
            for i, unit in enumerate(batch):
                one = [None]
                try:
                    with self.db.tx() as conn:
                        self._execute(conn, [unit], one)
                    results[i] = one[0]
                    errors.append(None)
                except BaseException as e1:
                    log.error("async queue write failed: %s", e1)
                    errors.append(e1)
        self.batches += 1
        self.units += len(batch)
        callbacks = [(unit[1], results[i], errors[i]) for i, unit in enumerate(batch) if unit[1] is not None]
        if callbacks and self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(_fire, callbacks)
            except RuntimeError:  # the loop is closed (shutdown)
                pass

    @staticmethod
    def _execute(conn, batch: Iterable, results: list) -> None:
        sql_run: str | None = None
        rows: list = []
        for i, (ops, _) in enumerate(batch):
            for op in ops:
                if callable(op):
                    if rows:
                        conn.executemany(sql_run, rows)
                        rows = []
                    sql_run = None
                    results[i] = op(conn)
                    continue
                sql, args = op
                if sql != sql_run:
                    if rows:
                        conn.executemany(sql_run, rows)
                    sql_run, rows = sql, []
                rows.append(args)
        if rows:
            conn.executemany(sql_run, rows)


def _fire(callbacks: list) -> None:
    for done, result, exc in callbacks:
        try:
            done(result, exc)
        except Exception:
            log.exception("async queue callback failed")
