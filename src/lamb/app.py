"""Lamb assembled: stores, runtimes, invoker and the public port, in one process."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import secrets
import time

from . import api, sandbox
from .api import runtime_management
from .apis.serve import HttpApis
from .apis.store import HttpApiStore
from .config import Settings
from .events.queue import EventQueue
from .gateway import make_app, on_server_error
from . import http_guards
from .http.server import HttpServer
from .invoke.invoker import Invoker
from .logs.store import LogStore
from .protocol import Protocol
from .protocol.registry import ServedModel, ServedModels
from .runtimes.manager import SUPPORTED, RuntimeManager
from .schedules.firing import sqs_attributes
from .schedules.service import Schedules
from .services.code_url import CodeUrls
from .services.function_state import FunctionStates
from .services.aws_clients import AwsClients
from .services.s3_code import S3Code
from .services.vpc import VpcLookup
from .services.invoke import Invocations
from .services.provisioning import Provisioning
from .services.recursion import RecursionGuard
from .store.code import CodeStore
from .store.db import Database
from .store.functions import FunctionStore
from .store.layers import LayerStore
from .store.opt import opt_key, opt_root, remove_unreferenced_opt
from .urls.address import Addresses, default_origin
from .urls.index import UrlIndex

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
        self.urls = UrlIndex(self.functions)  # function URLs by url id (issue 14)
        self._addresses: Addresses | None = None
        self._addresses_key: tuple | None = None
        self.code = CodeStore(settings.data_dir)
        self.logs = LogStore(settings.data_dir / "logs")
        self.sandbox = sandbox.choose(settings.data_dir, settings.sandbox, settings.runtime_cache)
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
        self.states = FunctionStates(self.functions, self.runtimes, self.spawn, transition_s=settings.state_transition_s)
        self.invocations.bind_states(self.states.until_settled, settings.pending_invoke_wait_s)
        self.provisioning = Provisioning(self.functions, self.invoker, self.runtimes, self.spawn)
        # Schedules (issue 16): EventBridge rules and Scheduler schedules fire through the one door.
        self.schedules = Schedules(self.db, self.invocations.invoke_async, region=settings.region,
                                   account=settings.account_id, scale=settings.schedule_time_scale,
                                   dead_letter=self._schedule_dead_letter)
        self.protocol = Protocol()
        self.handlers = api.load_all()
        # Every model served on the one port, picked per request by SigV4 scope / X-Amz-Target.
        services = api.load_services()
        self.models = ServedModels(ServedModel(self.protocol, self.handlers))
        for service in ("events", "scheduler"):
            self.models.add(Protocol(service), services[service])
        # API Gateway's v2 model shares the signing name "apigateway" with v1: told apart by path.
        self.models.add(Protocol("apigatewayv2"), services["apigatewayv2"], path_prefix="/v2/")
        self.models.add(Protocol("apigateway"), services["apigateway"])  # REST APIs: /restapis/...
        self.http_apis = HttpApis(HttpApiStore(self.db), HttpApiStore(self.db, "rest_apis"), settings.region,
                                  lambda: self.port)  # issue 20
        self.secret = self._secret()
        self.code_urls = CodeUrls(self.secret)
        self.aws = AwsClients(settings.region)  # S3 and EC2, through boto3's standard configuration
        self.s3_code = S3Code(lambda: self.aws.get("s3"), settings.limits.unzipped_code_max_bytes)  # Code.S3Bucket/S3Key
        self.vpcs = VpcLookup(lambda: self.aws.get("ec2"))  # VpcConfig's VpcId
        self.server: HttpServer | None = None
        self.url_server: HttpServer | None = None  # LAMB_URL_PORT: function URLs only
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

    def url_addresses(self) -> Addresses:
        """How function URLs are named and recognised (``LAMB_URL_ORIGIN``, or this port)."""
        port = self.settings.url_port or self.port
        key = (self.settings.url_origin, port)
        if self._addresses is None or self._addresses_key != key:
            self._addresses = Addresses(self.settings.url_origin or default_origin(self.settings.region, port))
            self._addresses_key = key
        return self._addresses

    async def _schedule_dead_letter(self, queue_arn: str, body: bytes, attributes: dict[str, str]) -> None:
        """A schedule target's DeadLetterConfig queue, sent like the async queue's dead letters."""
        meta = {"kind": "dlq", "attributes": sqs_attributes(attributes)}
        await asyncio.to_thread(self.events.deliveries.deliverer.send, queue_arn, body, meta)

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
        limits = self.settings.limits
        runtime_management.reconcile(self.functions, self.settings.region)  # this release's runtime versions
        self.server = HttpServer(
            make_app(self), max_body=limits.request_body_max_bytes, on_error=on_server_error,
            header_timeout=self.settings.header_timeout_s or None, max_header_bytes=self.settings.max_header_bytes or None,
            protocol_error=http_guards.protocol_error, large_body_bytes=http_guards.smallest(limits),
            large_body=http_guards.large_body(self.protocol.route, self.protocol.serialize_error, limits),
        )
        self.port = await self.server.start(self.settings.host, self.settings.port)
        if self.settings.url_port is not None:
            from .urls.serve import make_url_server, urls_only

            self.url_server = HttpServer(urls_only(make_url_server(self)),
                                         max_body=self.settings.limits.request_body_max_bytes, on_error=on_server_error)
            self.settings.url_port = await self.url_server.start(self.settings.host, self.settings.url_port)
        if self.settings.port == 0:
            self.settings.port = self.port
            self.invoker.passthrough_env = self.invoker.passthrough()
        await self.invoker.start()
        await self.events.start()
        self.states.prepare_all()  # bring up the runtimes existing functions use, off the request path
        self.provisioning.restore()
        self.schedules.start()

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
        if self.url_server is not None:
            self.url_server.close()
        for task in list(self._tasks):
            task.cancel()
        self.schedules.stop()
        self.events.stop()  # before the environments die: their attempts stay leased for the restart
        self.invocations.close()
        self.invoker.stop()
        self.runtimes.close()
        cleanup = getattr(self.sandbox, "cleanup_own", None)
        if cleanup is not None:
            cleanup()
        self.db.close()
