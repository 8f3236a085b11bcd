"""The environments of one function version (one configuration snapshot).

Warm reuse as AWS does it: an invocation goes to an idle environment of the
same version and configuration when one exists, else a new one starts (a cold
start). Idle environments are reused last-in first-out, so surplus ones age out
through keep-alive. A configuration or code change retires the pool: its idle
environments shut down, busy ones finish their invocation first, and the next
invocation gets a fresh environment, as on AWS after an update.

Every environment holds its MemorySize in the invoker's memory budget
(``memory_budget.py``) from its start until it leaves service.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable

from ..limits import Limits
from ..logs.store import LogStore
from ..runtimes.spawn import SpawnInput, find_bootstrap, spawn_spec
from ..sandbox.spec import SandboxSpec
from . import debug
from .extensions import FunctionMetadata, external_extensions
from .environment import EnvironmentHost, ExecutionEnvironment, PoolCallbacks, State
from .invocation import EntrypointMissing, Invocation

if TYPE_CHECKING:
    from ..runtimes.manager import Runtime
    from .memory_budget import MemoryBudget
    from ..runtimes.zygote_handle import Zygote

_env_ids = itertools.count(1)


@dataclass(frozen=True)
class EnvConfig:
    """Everything an environment of one function version needs, frozen."""

    function_name: str
    version: str
    function_arn: str  # unqualified
    runtime: str
    handler: str
    memory_mb: int
    timeout_s: int
    code_dir: Path
    variables: tuple[tuple[str, str], ...]
    log_group: str
    region: str
    limits: Limits
    revision: str  # changes whenever code or configuration changes
    ephemeral_mb: int = 512  # size of /tmp
    # LoggingConfig: with LogFormat JSON the runtime logs JSON records at ApplicationLogLevel.
    log_format: str = "Text"
    log_level: str | None = None
    system_log_level: str | None = None  # LoggingConfig.SystemLogLevel (JSON format)
    opt_dir: Path | None = None  # the function's layers merged in order (mounted at /opt)
    role: str | None = None  # the execution role: each environment gets temporary credentials for it
    debug_port: int = 0  # ``lamb serve --debug``: one environment at a time, under a debugger on this port
    tracing: bool = False  # TracingConfig.Mode Active: invocations are traced (invoke/tracing.py)
    architecture: str = "x86_64"  # Architectures[0]: what its usage is priced as (services/metering.py)


class VersionPool:
    """The environments of one version. Collaborators: the host services environments use
    (``host``), the memory budget, Lamb's variables every function inherits (``passthrough_env``;
    ``prepare_env``, when given, is awaited first so that it does not block: an upstream AssumeRole),
    the shutdown grace, and ``on_empty``, called once a retired pool has no environment left."""

    def __init__(self, config: EnvConfig, zygote: "Zygote", runtime: "Runtime", *, host: EnvironmentHost,
                 logs: LogStore, memory: "MemoryBudget", passthrough_env: Callable[[], dict[str, str]],
                 shutdown_grace_s: float, on_empty: Callable[["VersionPool"], None],
                 prepare_env: Callable[[], Awaitable[None]] | None = None):
        self.config = config
        self.key = config.function_name  # the invoker's key for the function (lamb.invoke.scoped)
        self.zygote = zygote
        self.runtime = runtime
        self.host = host
        self.logs = logs
        self.memory = memory
        self.passthrough_env = passthrough_env
        self.prepare_env = prepare_env
        self.grace_s = shutdown_grace_s
        self.on_empty = on_empty
        self._report = PoolCallbacks(self.env_ready, self.env_released, self.env_gone, self.init_again)
        # What the sandbox backend builds for each environment of this version (its own input type).
        self.sandbox_spec = SandboxSpec(config.memory_mb, config.ephemeral_mb, config.code_dir, config.opt_dir,
                                        config.limits)
        # External extensions (/opt/extensions) and what their registration is answered with.
        self.extension_names = external_extensions(config.opt_dir)
        self.extension_metadata = FunctionMetadata(config.function_name, config.version, config.handler,
                                                   config.function_arn.split(":")[4])
        self.idle: list[ExecutionEnvironment] = []
        self.envs: set[ExecutionEnvironment] = set()
        self.retired = False
        # Provisioned concurrency (https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html):
        # environments initialised ahead of demand, served first, never reclaimed by keep-alive.
        self.provisioned_target = 0
        self.provisioned: set[ExecutionEnvironment] = set()
        self.provisioned_idle: list[ExecutionEnvironment] = []
        self.provision_error: str | None = None

    # ------------------------------------------------------------- acquire
    def needs_new_environment(self) -> bool:
        return not self.provisioned_idle and not self.idle

    def acquire(self) -> ExecutionEnvironment:
        """A provisioned environment, else an idle one, else a new one that is starting."""
        for idle in (self.provisioned_idle, self.idle):
            while idle:
                env = idle.pop()
                if env.state is not State.DEAD:
                    return env
        if self.config.debug_port and self.envs:
            raise debug.busy(self.config.function_name)  # one debugger port: one environment
        if not self.memory.reserve(self.config.memory_mb):
            raise self.memory.throttle()
        return self._start(provisioned=False)

    def init_again(self, inv: Invocation) -> None:
        """The first Init of ``inv``'s environment timed out: run Init again as part of ``inv``.

        The environment that timed out has left service (its memory is free again); a new
        one starts with ``suppressed_init`` and the invocation starts now (START is logged,
        the function's timeout runs), as AWS retries Init in the first invocation.
        """
        if not self.memory.reserve(self.config.memory_mb):
            inv.reject(self.memory.throttle())
            return
        env = self._start(provisioned=False, suppressed_init=True)
        inv.started = time.perf_counter()
        env.log_start(inv)
        env.assign(inv)

    def _start(self, provisioned: bool, suppressed_init: bool = False) -> ExecutionEnvironment:
        """A new environment; its memory is already reserved."""
        env = ExecutionEnvironment(self, f"{next(_env_ids)}", self.host, self._report, provisioned=provisioned,
                                   suppressed_init=suppressed_init)
        self.envs.add(env)
        if provisioned:
            self.provisioned.add(env)
        task = asyncio.ensure_future(env.start())
        task.add_done_callback(lambda t, env=env: self._started(env, t))
        return env

    # ------------------------------------------------- provisioned concurrency
    def set_provisioned(self, target: int) -> None:
        """Keep ``target`` provisioned environments initialised (0 releases them)."""
        self.provisioned_target = target
        self.provision_error = None
        while len(self.provisioned) < target and self._start_provisioned():
            pass
        grace = self.grace_s
        for env in list(self.provisioned_idle)[: max(0, len(self.provisioned) - target)]:
            self.provisioned_idle.remove(env)
            self.provisioned.discard(env)
            env.shutdown(grace)
        # Busy extras are released to on-demand duty once they finish (env_released).

    def _start_provisioned(self) -> bool:
        """Start one provisioned environment, or mark the config FAILED when the memory budget has no room.

        AWS reports an allocation it cannot make as FAILED with a StatusReason rather
        than leaving it IN_PROGRESS; the environments that fit keep serving.
        """
        memory = self.memory
        if memory.reserve(self.config.memory_mb):
            self._start(provisioned=True)
            return True
        self.provision_error = (
            f"INSUFFICIENT_MEMORY (the host's environment memory budget of {memory.budget_mb} MB, "
            f"LAMB_ENV_MEMORY_MB, has no room for another {self.config.memory_mb} MB environment)"
        )
        return False

    def provisioned_ready(self) -> int:
        """Provisioned environments that finished Init (AWS's Allocated concurrency)."""
        return sum(1 for e in self.provisioned if e.initialized and e.state is not State.DEAD)

    def _started(self, env: ExecutionEnvironment, task: asyncio.Task) -> None:
        if task.cancelled():
            exc: BaseException | None = asyncio.CancelledError()
        else:
            exc = task.exception()
        if exc is None:
            return
        if env.current is not None:
            env.current.reject(exc)
        env.current = None
        env.kill("start failed")

    # ---------------------------------------------------- environment events
    def env_ready(self, env: ExecutionEnvironment) -> None:
        """Init finished with nothing assigned (provisioned environments)."""
        self.env_released(env)

    def env_released(self, env: ExecutionEnvironment) -> None:
        if env.state is State.DEAD:
            return
        if self.retired:
            env.shutdown(self.grace_s)
            return
        env.last_used = time.monotonic()
        if env.provisioned and env in self.provisioned:
            self.provisioned_idle.append(env)
        else:
            env.provisioned = False
            self.idle.append(env)

    def _xray_env(self, env: ExecutionEnvironment) -> dict[str, str]:
        """An Active-traced environment's X-Ray daemon address (lamb.invoke.xray_daemon)."""
        tracer = self.host.tracer
        return tracer.xray.env_vars(env.sandbox, env) if self.config.tracing and tracer is not None else {}

    def env_gone(self, env: ExecutionEnvironment) -> None:
        if self.host.tracer is not None:
            self.host.tracer.xray.release(env)
        if env in self.envs:  # the first notice: it left service, its memory is free
            self.envs.discard(env)
            self.memory.release(self.config.memory_mb)
        for idle in (self.idle, self.provisioned_idle):
            try:
                idle.remove(env)
            except ValueError:
                pass
        if env in self.provisioned:
            self.provisioned.discard(env)
            if not env.initialized:
                # Init failed: AWS reports the allocation as FAILED and does not retry forever.
                self.provision_error = "FUNCTION_ERROR_INIT_FAILURE"
            elif not self.retired and len(self.provisioned) < self.provisioned_target:
                self._start_provisioned()  # replace a provisioned environment that died
        if self.retired and not self.envs:
            self.on_empty(self)

    # ----------------------------------------------------------- lifecycle
    def retire(self) -> None:
        """Serve no new invocations; stop idle environments now."""
        self.retired = True
        grace = self.grace_s
        for env in list(self.idle):
            env.shutdown(grace)
        self.idle.clear()
        if not self.envs:
            self.on_empty(self)

    def reap_idle(self, now: float, keep_alive_s: float) -> None:
        expired = [e for e in self.idle if now - e.last_used >= keep_alive_s]
        for env in expired:
            env.shutdown(self.grace_s)

    def stop_all(self) -> None:
        """Lamb is stopping: kill every environment (provisioned ones are not replaced)."""
        self.retired = True
        for env in list(self.envs):
            env.kill("stop")

    # ----------------------------------------------------------- the spawn
    def spawn_spec(self, env: ExecutionEnvironment) -> dict:
        """What the zygote needs to turn a fork into ``env`` (``lamb.runtimes.spawn``)."""
        cfg = self.config
        rt = self.runtime
        view = env.sandbox.view
        bootstrap = ""
        if rt.family == "provided":
            bootstrap = find_bootstrap(cfg.code_dir, cfg.opt_dir, view.task_root, view.opt_root)
            if bootstrap is None:
                raise EntrypointMissing(
                    f"Couldn't find valid bootstrap(s): [{view.task_root}/bootstrap {view.opt_root}/bootstrap]"
                )
        return spawn_spec(SpawnInput(
            runtime=cfg.runtime, family=rt.family, handler=cfg.handler, function_name=cfg.function_name,
            version=cfg.version, memory_mb=cfg.memory_mb, region=cfg.region, log_group=cfg.log_group,
            log_stream=env.log_stream.name, runtime_api=env.runtime_api, provisioned=env.provisioned,
            task_root=view.task_root, runtime_dir=view.runtime_dir, opt_root=view.opt_root,
            interpreter=self.zygote.interpreter if rt.family == "python" else "", node=rt.node or "",
            node_entry=rt.entry, python_client=rt.python_client,
            bootstrap=bootstrap, log_format=cfg.log_format, log_level=cfg.log_level, variables=cfg.variables,
            extensions=tuple(f"{view.opt_root}/extensions/{n}" for n in self.extension_names),
            inherited=self.passthrough_env(), sandbox_env={**env.sandbox.env_vars(), **self._xray_env(env)},
            sandbox_plan=env.sandbox.child_plan(),
            debug_port=cfg.debug_port,
        ))
