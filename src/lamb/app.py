"""Lamb assembled: stores, runtimes, invoker and the public port, in one process."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import secrets
import time

import botocore

from . import api, sandbox
from .api.coverage import coverage
from .config import Settings
from .events.queue import EventQueue
from .gateway import make_app, on_server_error
from .http.server import HttpServer
from .invoke.invoker import Invoker
from .logs.store import LogStore
from .protocol import Protocol
from .runtimes.manager import SUPPORTED, RuntimeManager
from .store.code import CodeStore
from .store.db import Database
from .store.functions import FunctionStore
from .store.layers import LayerStore, opt_key, opt_root, remove_unreferenced_opt

log = logging.getLogger("lamb")

# Blobs younger than this are never collected: an upload in flight is not yet referenced.
CODE_GC_MIN_AGE_S = 120


def _raise_fd_limit() -> None:
    """Every environment holds a few descriptors in Lamb; allow thousands."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Lamb:
    def __init__(self, settings: Settings):
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.db_path)
        self.functions = FunctionStore(self.db)
        self.layers = LayerStore(self.db)
        self.code = CodeStore(settings.data_dir)
        self.logs = LogStore(settings.data_dir / "logs")
        self.sandbox = sandbox.choose(settings.data_dir, settings.sandbox, settings.runtime_cache)
        self.runtimes = RuntimeManager(
            settings.runtime_cache, self._on_exit, self.sandbox.zygote_setup, lambda rt: self.invoker.zygote_env(rt)
        )
        self.invoker = Invoker(settings, self.logs, self.runtimes, self.code.ensure_unpacked, self.sandbox)
        self.events = EventQueue(self)  # asynchronous invocation (issue 6)
        self.protocol = Protocol()
        self.handlers = api.load_all()
        self.operations = coverage(self.protocol.operations, self.handlers, botocore.__version__)
        self.updating: set[str] = set()
        self.secret = self._secret()
        self.server: HttpServer | None = None
        self.port = settings.port
        self._tasks: set[asyncio.Task] = set()
        self.started_at = time.time()

    def _secret(self) -> bytes:
        rows = self.db.query("SELECT value FROM meta WHERE key = 'secret'")
        if rows:
            return bytes.fromhex(rows[0][0])
        value = secrets.token_bytes(32)
        with self.db.tx() as c:
            c.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('secret', ?)", (value.hex(),))
        return bytes.fromhex(self.db.query("SELECT value FROM meta WHERE key = 'secret'")[0][0])

    def _on_exit(self, pid: int, code, sig) -> None:
        self.invoker.on_exit(pid, code, sig)

    def spawn(self, coro) -> asyncio.Task:
        """Run background work owned by Lamb (cancelled at stop)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def collect_code(self) -> None:
        """Delete code (and merged layer folders) no function version, layer version
        nor running environment uses."""
        keep = self.functions.code_keys() | self.layers.code_keys()
        opt_keep = {opt_key(keys) for keys in self.functions.layer_key_lists()}
        for pool in list(self.invoker.pools.values()) + list(self.invoker.retired):
            keep.add(pool.config.code_dir.name)
            if pool.config.opt_dir is not None:
                opt_keep.add(pool.config.opt_dir.name)

        def run() -> None:
            self.code.remove_unreferenced(keep, CODE_GC_MIN_AGE_S)
            remove_unreferenced_opt(opt_root(self.settings.data_dir), opt_keep, CODE_GC_MIN_AGE_S)

        self.spawn(asyncio.to_thread(run))

    async def start(self) -> None:
        _raise_fd_limit()
        self.sandbox.cleanup_stale()
        self.server = HttpServer(
            make_app(self), max_body=self.settings.limits.request_body_max_bytes, on_error=on_server_error
        )
        self.port = await self.server.start(self.settings.host, self.settings.port)
        if self.settings.port == 0:
            self.settings.port = self.port
            self.invoker.passthrough_env = self.invoker._passthrough()
        await self.invoker.start()
        await self.events.start()
        # Bring up the runtimes existing functions use, off the request path.
        from .api.functions import prepare_runtime

        by_runtime: dict[str, list[str]] = {}
        for name, fn in self.functions.functions.items():
            by_runtime.setdefault(fn.latest["Runtime"], []).append(name)
        for runtime, names in sorted(by_runtime.items()):
            prepare_runtime(self, names, runtime)
        from .api import concurrency

        concurrency.restore(self)

    def health(self) -> dict:
        return {
            "status": "ok",
            "sandbox": self.sandbox.name,
            "sandbox_detail": self.sandbox.describe(),
            "runtimes": {
                r: ("ready" if self.runtimes.ready(r) else (self.runtimes.error(r) or "not started"))
                for r in SUPPORTED
            },
            "pid": os.getpid(),
            "async": self.events.describe(),
            "memory": self.invoker.memory.describe(),
            "operations": self.operations,
        }

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self._tasks):
            task.cancel()
        self.events.stop()  # before the environments die: their attempts stay leased for the restart
        self.invoker.stop()
        self.runtimes.close()
        cleanup = getattr(self.sandbox, "cleanup_own", None)
        if cleanup is not None:
            cleanup()
        self.db.close()
