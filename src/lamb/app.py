"""Lamb assembled: stores, runtimes, invoker and the public port, in one process."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import secrets
import time

from . import api, sandbox
from .config import Settings
from .events.queue import EventQueue
from .gateway import for_environments, make_app, on_server_error
from .http.server import HttpServer
from .invoke.invoker import Invoker
from .logs.store import LogStore
from .protocol import Protocol
from .runtimes.manager import SUPPORTED, RuntimeManager
from .services.code_url import CodeUrls
from .services.function_state import FunctionStates
from .services.invoke import Invocations
from .services.provisioning import Provisioning
from .services.recursion import RecursionGuard
from .store.code import CodeStore
from .store.db import Database
from .store.functions import FunctionStore
from .store.layers import LayerStore
from .store.opt import opt_key, opt_root, remove_unreferenced_opt

log = logging.getLogger("lamb")

# Blobs younger than this are never collected: an upload in flight is not yet referenced.
CODE_GC_MIN_AGE_S = 120


def _raise_fd_limit() -> None:
    """Every environment holds a few descriptors in Lamb; allow thousands."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Lamb:
    """Where the components are made and wired; each gets only what it uses.

    Layers, top to bottom (enforced by import-linter, see docs/architecture.md):
    app → gateway → api → events → services → invoke → runtimes / sandbox → stores.
    Every invocation, from the API, the async queue or a trigger, goes through
    ``self.invocations`` (``lamb.services.invoke.Invocations``).
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.db_path)
        self.functions = FunctionStore(self.db, region=settings.region, account_id=settings.account_id)
        self.layers = LayerStore(self.db)
        self.code = CodeStore(settings.data_dir)
        self.logs = LogStore(settings.data_dir / "logs")
        self.sandbox = sandbox.choose(settings.data_dir, settings.sandbox, settings.runtime_cache, settings.network,
                                      settings.tmp)
        self.runtimes = RuntimeManager(
            settings.runtime_cache, self._on_exit, self.sandbox.zygote_setup, lambda rt: self.invoker.zygote_env(rt)
        )
        self.invoker = Invoker(settings, self.logs, self.runtimes, self.code.ensure_unpacked, self.sandbox)
        self.recursion = RecursionGuard(settings.region, settings.account_id, settings.limits.recursion_max_invocations)
        # The one door into the invoker: the API, the async queue and every trigger call it.
        self.invocations = Invocations(self.functions, self.invoker, self.runtimes, self.recursion,
                                       region=settings.region, account_id=settings.account_id)
        self.events = EventQueue(settings, self.functions, self.invocations)  # asynchronous invocation (issue 6)
        self.invocations.bind_queue(self.events.accept)
        self.states = FunctionStates(self.functions, self.runtimes, self.spawn)
        self.provisioning = Provisioning(self.functions, self.invoker, self.runtimes, self.spawn)
        self.protocol = Protocol()
        self.handlers = api.load_all()
        self.updating: set[str] = set()
        self.secret = self._secret()
        self.code_urls = CodeUrls(self.secret)
        self.server: HttpServer | None = None
        self.env_server: HttpServer | None = None  # the public app as environments reach it (their namespace)
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
        public = make_app(self)
        self.server = HttpServer(
            public, max_body=self.settings.limits.request_body_max_bytes, on_error=on_server_error
        )
        from_environment = self.sandbox.environment_caller()
        if from_environment is not None:
            # Environments on the host's network reach this port too: theirs is the guarded app.
            guarded = for_environments(public)
            self.server.route = lambda _conn, sock: guarded if from_environment(sock) else public
        self.port = await self.server.start(self.settings.host, self.settings.port)
        if self.settings.port == 0:
            self.settings.port = self.port
            self.invoker.passthrough_env = self.invoker.passthrough()
        await self.invoker.start()
        if self.invoker.runtime_api is not None:
            # Environments with a network of their own reach both through listeners inside it.
            self.env_server = HttpServer(for_environments(public),
                                         max_body=self.settings.limits.request_body_max_bytes, on_error=on_server_error)
            rt = self.invoker.runtime_api.server
            self.sandbox.start_network(asyncio.get_running_loop(), (self.port, self.env_server.add_socket),
                                       (rt.port, rt.add_socket))
        await self.events.start()
        self.states.prepare_all()  # bring up the runtimes existing functions use, off the request path
        self.provisioning.restore()

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
        }

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        if self.env_server is not None:
            self.env_server.close()
        for task in list(self._tasks):
            task.cancel()
        self.events.stop()  # before the environments die: their attempts stay leased for the restart
        self.invocations.close()
        self.invoker.stop()
        self.runtimes.close()
        cleanup = getattr(self.sandbox, "cleanup_own", None)
        if cleanup is not None:
            cleanup()
        self.db.close()
