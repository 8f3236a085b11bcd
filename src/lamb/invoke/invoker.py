"""The invoker: from a resolved function version to a result.

Hot path (principle 3): the pool for a version is found by a dict lookup keyed
by the configuration's RevisionId, an idle environment is popped from a list,
and the invocation is handed over as the answer to its pending ``/next``.
No database access, no thread, no process spawn, and the payload bytes are
passed through untouched.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from pathlib import Path
from typing import Awaitable, Callable


from ..config import Settings
from ..cpus import Placement
from ..http.afterwards import Afterwards
from ..ids import request_id as new_request_id
from ..logs.store import LogStore
from ..protocol.errors import AwsError
from ..runtimes import execution_env
from ..runtimes.manager import RuntimeManager
from ..sandbox import Sandbox
from .runtime_api import RuntimeApiListener
from .concurrency import Concurrency
from .scoped import name_of, scope_of, scoped_key
from .memory_budget import MemoryBudget, default_budget_mb
from .metrics import Metrics
from . import debug
from .environment import EnvironmentHost, ExecutionEnvironment, State
from .invocation import Invocation
from .pool import EnvConfig, VersionPool
from ..store.host_folder import fingerprint
from ..store.opt import opt_dir, opt_root

log = logging.getLogger("lamb.invoker")


class RuntimeNotReady(Exception):
    """The function's runtime is still starting; await ``RuntimeManager.prepare``."""


# The credentials a function gets when Lamb has none of its own to pass on.
PLACEHOLDER_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "lamb", "AWS_SECRET_ACCESS_KEY": "lamb", "AWS_SESSION_TOKEN": "lamb"}


class Invoker:
    def __init__(self, settings: Settings, logs: LogStore, runtimes: RuntimeManager, code_dir_for, sandbox: Sandbox):
        self.settings = settings
        self.sandbox = sandbox
        self.logs = logs
        # Each scope's log store (``scoped.scope_of`` of a function key; app.py's make_scope): the home one otherwise.
        self.log_stores: dict[str, LogStore] = {}
        self.runtimes = runtimes
        self.code_dir_for = code_dir_for  # code key -> unpacked folder
        self.runtime_host = "127.0.0.1"
        self.runtime_api: RuntimeApiListener | None = None  # one address for all isolated environments
        self.pools: dict[tuple[str, str], VersionPool] = {}
        self.retired: set[VersionPool] = set()
        self._pids: dict[int, ExecutionEnvironment] = {}
        self._reaper: asyncio.Task | None = None
        self._debug: debug.Forwarder | None = None  # lamb serve --debug with environments on their own network
        self.passthrough_env = self.passthrough()
        # (role ARN, session name) -> AWS_ACCESS_KEY_ID/SECRET/SESSION_TOKEN of that role (set by app.py).
        self.role_credentials: Callable[[str, str], dict[str, str]] | None = None
        # ConcurrentExecutions is counted and limited per account and region (lamb.invoke.scoped keys).
        self._concurrencies: dict[str, Concurrency] = {}
        self.concurrency = self.concurrency_of("")  # the home account's, in its region
        self.metrics = Metrics()
        # MemorySize of all live environments against the host's budget (issue 3).
        self.memory: MemoryBudget[ExecutionEnvironment] = MemoryBudget(
            default_budget_mb() if settings.env_memory_mb is None else settings.env_memory_mb,
            idle=lambda: [p.idle for pools in (self.pools.values(), self.retired) for p in pools],
            size=lambda env: env.pool.config.memory_mb,
            evict=lambda env: env.shutdown(settings.shutdown_grace_s),
            last_used=lambda env: env.last_used,
        )
        # Invocations' bookkeeping, done once their callers' answers are written (the public
        # servers run it: app.py).
        self.afterwards = Afterwards()
        # The event loop's CPU and the one busy environment's (pinned by app.py once serving).
        self.placement = Placement(settings.cpu_placement)
        # What environments use of the host (narrow: not the invoker itself).
        self._host = EnvironmentHost(
            sandbox=sandbox, runtime_api=lambda: self.runtime_api, runtime_host=self.runtime_host,
            track_pid=self._pids.__setitem__, untrack_pid=self.untrack_pid, freeze_after_s=settings.freeze_after_s,
            record_metric=self.metrics.put_in,
            tracer=_tracer(settings.region, settings.trace_sampling),
            record_usage=self._usage,
            after_answer=self.afterwards.add,
            placement=self.placement,
        )
        # Metered usage of each invocation (store/usage.py UsageStore.record; set by app.py).
        self.usage_sink: Callable[..., None] | None = None

    def _usage(self, *record) -> None:
        sink = self.usage_sink
        if sink is not None:
            sink(*record)

    def passthrough(self) -> dict[str, str]:
        """Variables every function inherits from Lamb's own environment.

        Inside a function boto3 reaches Lamb for Lambda, STS and IAM calls
        (``AWS_ENDPOINT_URL_LAMBDA``, ``_STS``, ``_IAM``, ``_APIGATEWAYMANAGEMENTAPI``); the user's other service endpoints
        pass through, so other services go where they configured. Lamb's own credentials
        do not: each environment gets its execution role's (``role_credentials``), unless the
        user asks for one fixed set to be passed through (``LAMB_FUNCTION_CREDENTIALS=passthrough``).
        """
        env = {k: v for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL")}
        if self.settings.function_credentials == "passthrough":
            for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
                if k in os.environ:
                    env[k] = os.environ[k]
            if "AWS_ACCESS_KEY_ID" not in env or "AWS_SECRET_ACCESS_KEY" not in env:
                env.update(PLACEHOLDER_CREDENTIALS)  # all three, as AWS always sets them
        host = self.settings.host if self.settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        # With an upstream STS the function's STS and IAM are the user's (passed through above).
        # WebSocket APIs' @connections API is Lamb's too (api/apigatewaymanagement.py).
        served = ("LAMBDA", "APIGATEWAYMANAGEMENTAPI")
        for service in served if self.settings.upstream_sts else served + ("STS", "IAM"):
            env[f"AWS_ENDPOINT_URL_{service}"] = f"http://{host}:{self.settings.port}"
        return env

    def _inherited(self, config: EnvConfig) -> Callable[[], dict[str, str]]:
        """What each new environment of ``config`` inherits: ``passthrough`` plus fresh
        temporary credentials of its execution role (asked once per environment)."""

        def inherited() -> dict[str, str]:
            env = self.passthrough_env
            if self.role_credentials is None or self.settings.function_credentials == "passthrough" or not config.role:
                return env
            try:
                return {**env, **self.role_credentials(config.role, config.function_name)}
            except Exception:  # an unreachable upstream STS: the environment starts without credentials
                log.exception("no credentials for role %s of %s", config.role, config.function_name)
                return env

        return inherited

    def _credentials_ahead(self, config: EnvConfig) -> Callable[[], Awaitable[None]] | None:
        """With an upstream STS: before an environment of ``config`` is made, its role's credentials
        are fetched on a worker thread unless they are cached (``fresh``), so that ``_inherited``
        finds them and the AssumeRole call never blocks the event loop. Lamb's own sessions are
        in-memory: nothing to do."""
        if not self.settings.upstream_sts or self.settings.function_credentials == "passthrough" or not config.role:
            return None

        async def ahead() -> None:
            creds = self.role_credentials
            if creds is None or getattr(creds, "fresh", lambda *_: False)(config.role, config.function_name):
                return
            try:
                await asyncio.to_thread(creds, config.role, config.function_name)
            except Exception:  # noqa: BLE001 - _inherited asks again and logs it
                pass

        return ahead

    async def start(self) -> None:
        """Start the keep-alive reaper and, with an isolating sandbox, the shared Runtime API."""
        if self.sandbox.identifies_peers:
            listener = RuntimeApiListener(
                self.sandbox.peer_key, self.settings.limits.sync_response_max_bytes + 1024 * 1024, self.afterwards.add
            )
            await listener.start(self.runtime_host)
            self.runtime_api = listener
        self._reaper = asyncio.ensure_future(self._reap_loop())
        for line in debug.announce(self.settings.debug):
            log.warning(line)
        if self.settings.debug and self.sandbox.own_network:
            self._debug = debug.Forwarder(self.settings.debug, self._debug_socket_maker)
            await self._debug.start()

    def _debug_socket_maker(self, name: str):
        """For the debugger forwarder: how to open a socket in ``name``'s live environment's network."""
        for (fn, _), pool in self.pools.items():
            if fn == name:
                for env in pool.envs:
                    if env.state is not State.DEAD:
                        return env.sandbox.socket_inside
        return None

    def zygote_env(self, runtime: str) -> dict[str, str]:
        """Variables equal in every environment of ``runtime``: its zygote preloads under them.

        With the shared Runtime API this includes ``AWS_LAMBDA_RUNTIME_API``, so the
        zygote can load awslambdaric's native client (which reads it once) and the
        modules that import it.
        """
        env = {"AWS_EXECUTION_ENV": execution_env(runtime)}
        if self.runtime_api is not None:
            env["AWS_LAMBDA_RUNTIME_API"] = self.runtime_api.address
        return env

    def concurrency_of(self, scope: str) -> Concurrency:
        """The concurrency of one account in one region (``scoped.scope_of(key)``; "" is the home one)."""
        conc = self._concurrencies.get(scope)
        if conc is None:
            conc = self._concurrencies[scope] = Concurrency(self.settings.limits)
            conc.provisioned_of = lambda name, _scope=scope: self.provisioned_total(scoped_key(_scope, name))
        return conc

    def concurrency_snapshot(self) -> list[tuple[str, dict[str, int], int, int]]:
        """Per scope: invocations in flight per function key, in all, and without a reservation."""
        return [(scope, dict(c.in_flight), c.total, c.unreserved) for scope, c in list(self._concurrencies.items())]

    # ---------------------------------------------------------------- invoke
    def pool_for(self, function_name: str, version: str, config: dict) -> VersionPool:
        key = (function_name, version)
        pool = self.pools.get(key)
        revision = _revision(config)
        if pool is not None and pool.config.revision == revision:
            return pool
        zygote = self.runtimes.zygote(config["Runtime"])
        if zygote is None:
            err = self.runtimes.error(config["Runtime"])
            if err is None:
                raise RuntimeNotReady(config["Runtime"])
            raise AwsError(
                "InvalidRuntimeException", f"The runtime {config['Runtime']} is not available on this host: {err}", 502
            )
        env_config = self._env_config(function_name, version, config, revision)
        new = VersionPool(env_config, zygote, self.runtimes.get(config["Runtime"]), host=self._host,
                          logs=self.log_stores.get(scope_of(function_name), self.logs),
                          memory=self.memory, passthrough_env=self._inherited(env_config),
                          prepare_env=self._credentials_ahead(env_config),
                          shutdown_grace_s=self.settings.shutdown_grace_s, on_empty=self.retired.discard)
        new.key = function_name
        if pool is not None:
            self._retire(pool)
        self.pools[key] = new
        return new

    def _env_config(self, key: str, version: str, config: dict, revision: str | None = None) -> EnvConfig:
        s = self.settings
        name = name_of(key)
        return EnvConfig(
            function_name=name,
            version=version,
            function_arn=config["FunctionArn"].rsplit(":", 1)[0] if version != "$LATEST" else config["FunctionArn"],
            runtime=config["Runtime"],
            handler=config["Handler"],
            memory_mb=config["MemorySize"],
            timeout_s=debug.DEBUG_TIMEOUT_S if name in s.debug else config["Timeout"],
            code_dir=Path(config["_HotReload"]) if config.get("_HotReload") else self.code_dir_for(config["_CodeKey"]),
            variables=tuple(sorted((config.get("Environment") or {}).get("Variables", {}).items())),
            log_group=(config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{name}",
            region=config["FunctionArn"].split(":")[3],
            limits=s.limits,
            revision=revision or _revision(config),  # code/configuration, not tags or state
            ephemeral_mb=(config.get("EphemeralStorage") or {}).get("Size") or s.limits.ephemeral_storage_default_mb,
            log_format=(config.get("LoggingConfig") or {}).get("LogFormat") or "Text",
            log_level=(config.get("LoggingConfig") or {}).get("ApplicationLogLevel"),
            system_log_level=(config.get("LoggingConfig") or {}).get("SystemLogLevel"),
            # Layers merged in order (built when the configuration was set; rebuilt here only if lost).
            opt_dir=opt_dir(opt_root(s.data_dir), config["_LayerKeys"], self.code_dir_for)
            if config.get("_LayerKeys") else None,
            role=config.get("Role"),
            debug_port=s.debug.get(name, 0),
            tracing=(config.get("TracingConfig") or {}).get("Mode") == "Active",
            architecture=(config.get("Architectures") or ["x86_64"])[0],
        )

    def submit(
        self,
        pool: VersionPool,
        payload: bytes,
        invoked_arn: str,
        on_done,
        *,
        client_context: str | None = None,
        want_tail: bool = False,
        request_id: str | None = None,
        trace: str,
        on_stream=None,
    ) -> Invocation:
        """Start an invocation; ``on_done(result, exc)`` is called when it ends.

        Called by ``lamb.services.invoke.Invocations`` only. ``trace`` is the X-Ray
        header the function sees (it carries the recursion-detection Lineage);
        ``request_id`` is given by callers that own it (the async queue's retries keep
        the event's request id).
        """
        fn = pool.key
        concurrency = self.concurrency_of(scope_of(fn))
        new_environment = pool.needs_new_environment()
        provisioned = bool(pool.provisioned_idle)  # pool.acquire takes a provisioned environment first
        try:
            concurrency.acquire(fn, new_environment, provisioned)
        except AwsError:
            self.metrics.put_in(scope_of(fn), "Throttles", 1, FunctionName=pool.config.function_name)
            raise
        try:
            env = pool.acquire()
        except AwsError:  # no room in the memory budget for a new environment
            concurrency.release(fn, provisioned)
            if new_environment:
                concurrency.refund_scaling(fn)  # no environment was started
            self.metrics.put_in(scope_of(fn), "Throttles", 1, FunctionName=pool.config.function_name)
            raise
        self._count_in(pool, env, fn, concurrency)

        def done(result, exc, _on_done=on_done, _fn=fn, _provisioned=provisioned) -> None:
            concurrency.release(_fn, _provisioned)
            _on_done(result, exc)

        inv = Invocation(
            request_id=request_id or new_request_id(),
            payload=payload,
            invoked_arn=invoked_arn,
            timeout_s=pool.config.timeout_s,
            client_context=client_context,
            trace_id=trace,
            want_tail=want_tail,
            on_done=done,
            on_stream=on_stream,
        )
        env.assign(inv)
        return inv

    def _count_in(self, pool: VersionPool, env, key: str, c: Concurrency) -> None:
        """Concurrency metrics, as Lambda publishes them per function and account-wide: the values
        of now, made into points and recorded once the caller has its answer (``afterwards``)."""
        provisioned = self._provisioned_points(pool, env) if pool.provisioned_target else ()
        self.afterwards.add(functools.partial(self._put_concurrency, scope_of(key), pool.config.function_name,
                                              c.in_flight.get(key, 0), c.total, c.unreserved, provisioned))

    @staticmethod
    def _provisioned_points(pool: VersionPool, env) -> list[tuple[str, float, dict[str, str]]]:
        fn = pool.config.function_name
        dims = {"FunctionName": fn, "Resource": f"{fn}:{pool.config.version}"}
        if not env.provisioned:
            return [("ProvisionedConcurrencySpilloverInvocations", 1, dims)]
        busy = len(pool.provisioned) - len(pool.provisioned_idle)
        return [("ProvisionedConcurrentExecutions", busy, dims),
                ("ProvisionedConcurrencyUtilization", busy / pool.provisioned_target, dims),
                ("ProvisionedConcurrencyInvocations", 1, dims)]

    def _put_concurrency(self, scope: str, function_name: str, in_flight: int, total: int, unreserved: int,
                         provisioned) -> None:
        self._put_points(scope, [("ConcurrentExecutions", in_flight, {"FunctionName": function_name}),
                                 ("ConcurrentExecutions", total, {}),
                                 ("UnreservedConcurrentExecutions", unreserved, {}), *provisioned])

    def _put_points(self, scope: str, points: list[tuple[str, float, dict[str, str]]]) -> None:
        put = self.metrics.put_in
        for metric, value, dims in points:
            put(scope, metric, value, **dims)

    # ------------------------------------------------------------ lifecycle
    def _retire(self, pool: VersionPool) -> None:
        self.retired.add(pool)
        pool.retire()

    def retire_function(self, function_name: str, version: str | None = None) -> None:
        """Code or configuration changed, or the function (version=None) is gone."""
        for key in [k for k in self.pools if k[0] == function_name and (version is None or k[1] == version)]:
            self._retire(self.pools.pop(key))
        if version is None:
            self.concurrency_of(scope_of(function_name)).forget(function_name)

    # ------------------------------------------------- provisioned concurrency
    def provisioned_total(self, function_name: str) -> int:
        """Provisioned concurrency all of a function's versions hold."""
        return sum(p.provisioned_target for (name, _), p in self.pools.items() if name == function_name)

    def provision(self, function_name: str, version: str, config: dict, target: int) -> VersionPool:
        """Keep ``target`` environments of a published version initialised."""
        pool = self.pool_for(function_name, version, config)
        pool.set_provisioned(target)
        return pool

    def untrack_pid(self, pid: int) -> None:
        self._pids.pop(pid, None)

    def on_exit(self, pid: int, code: int | None, sig: int | None) -> None:
        env = self._pids.pop(pid, None)
        if env is not None:
            env.on_exit(code, sig)

    async def _reap_loop(self) -> None:
        keep = self.settings.keep_alive_s
        interval = max(0.05, min(keep / 4, 5.0))
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for pool in list(self.pools.values()):
                pool.reap_idle(now, keep)

    def stop(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
        for pool in list(self.pools.values()) + list(self.retired):
            pool.stop_all()
        self.pools.clear()
        self.retired.clear()
        if self.runtime_api is not None:
            self.runtime_api.close()
        if self._debug is not None:
            self._debug.close()

    def environments(self) -> list[dict]:
        out = []
        for (name, version), pool in self.pools.items():
            for env in pool.envs:
                out.append({"function": name, "version": version, **env.describe()})
        return out


def _tracer(region: str, sampling: str = ""):
    """The OTLP exporter of Active-traced invocations, when a collector is configured
    (``OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT``); the SDK is imported only then. ``sampling``:
    ``Settings.trace_sampling``."""
    if not any(os.environ.get(name) for name in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")):
        return None
    from .tracing import InvocationTracer, Sampler

    return InvocationTracer(region, sampler=Sampler.parse(sampling))


def _revision(config: dict) -> str:
    """What an environment's code and configuration are: the build, and for a hot-reload
    function (``lamb.services.hot_reload``) its folder's current fingerprint too, so an edit
    retires the environments on the old files at the next invocation."""
    build = config.get("_Build", config["RevisionId"])
    return f"{build}:{fingerprint(config['_HotReload'])}" if config.get("_HotReload") else build
