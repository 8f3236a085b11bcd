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
import os

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..limits import Limits
from ..logs.store import LogStore
from .. import runtimes
from ..runtimes import node
from ..sandbox.spec import SandboxSpec
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
    opt_dir: Path | None = None  # the function's layers merged in order (mounted at /opt)


class VersionPool:
    """The environments of one version. Collaborators: the host services environments use
    (``host``), the memory budget, Lamb's variables every function inherits (``passthrough_env``),
    the shutdown grace, and ``on_empty``, called once a retired pool has no environment left."""

    def __init__(self, config: EnvConfig, zygote: "Zygote", runtime: "Runtime", *, host: EnvironmentHost,
                 logs: LogStore, memory: "MemoryBudget", passthrough_env: Callable[[], dict[str, str]],
                 shutdown_grace_s: float, on_empty: Callable[["VersionPool"], None]):
        self.config = config
        self.zygote = zygote
        self.runtime = runtime
        self.host = host
        self.logs = logs
        self.memory = memory
        self.passthrough_env = passthrough_env
        self.grace_s = shutdown_grace_s
        self.on_empty = on_empty
        self._report = PoolCallbacks(self.env_ready, self.env_released, self.env_gone, self.init_again)
        # What the sandbox backend builds for each environment of this version (its own input type).
        self.sandbox_spec = SandboxSpec(config.memory_mb, config.ephemeral_mb, config.code_dir, config.opt_dir,
                                        config.limits)
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

    def env_gone(self, env: ExecutionEnvironment) -> None:
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
        """What the zygote needs to turn a fork into this environment.

        Paths are as the environment sees them (``env.sandbox.view``): /var/task,
        /var/runtime and /opt with the isolating backend, host folders without it.
        Variables are AWS's (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html);
        the function's own may not override the reserved ones (CreateFunction refuses them).
        """
        cfg = self.config
        rt = self.runtime
        view = env.sandbox.view
        paths = layer_paths(view.opt_root, cfg.runtime)
        if rt.family == "python":
            lang_bin = os.path.dirname(self.zygote.interpreter) + ":"
        elif rt.family == "nodejs":
            lang_bin = os.path.dirname(rt.node) + ":"
        else:
            lang_bin = ""
        reserved = {
            "_HANDLER": cfg.handler,
            "AWS_REGION": cfg.region,
            "AWS_DEFAULT_REGION": cfg.region,
            "AWS_EXECUTION_ENV": runtimes.execution_env(cfg.runtime),
            "AWS_LAMBDA_FUNCTION_NAME": cfg.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(cfg.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": cfg.version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency" if env.provisioned else "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": cfg.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": env.log_stream.name,
            "AWS_LAMBDA_RUNTIME_API": env.runtime_api,
            "LAMBDA_TASK_ROOT": view.task_root,
            "LAMBDA_RUNTIME_DIR": view.runtime_dir,
        }
        if cfg.log_format == "JSON":
            # What awslambdaric and aws-lambda-ric read to write JSON application logs
            # (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html).
            reserved["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            reserved["AWS_LAMBDA_LOG_LEVEL"] = cfg.log_level or "INFO"
        defaults = {
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": f"{lang_bin}/usr/local/bin:/usr/bin/:/bin:{paths['PATH']}",
            "LD_LIBRARY_PATH": f"/lib64:/usr/lib64:{view.runtime_dir}:{view.runtime_dir}/lib:"
            f"{view.task_root}:{view.task_root}/lib:{paths['LD_LIBRARY_PATH']}",
        }
        spec: dict = {"cwd": view.task_root, "handler": cfg.handler, "sandbox": env.sandbox.child_plan()}
        if rt.family == "python":
            defaults["PYTHONPATH"] = view.runtime_dir
            spec["sys_path"] = [view.task_root, *paths["sys_path"]]
        elif rt.family == "nodejs":
            defaults["NODE_PATH"] = ":".join([*paths["node_path"], f"{view.runtime_dir}/node_modules", view.runtime_dir, view.task_root])
            spec["exec"] = [rt.node, node.entry(view.runtime_dir), cfg.handler]
        else:
            spec["exec"] = [self._bootstrap(view)]
        spec["env"] = {**self.passthrough_env(), **defaults, **env.sandbox.env_vars(), **dict(cfg.variables), **reserved}
        return spec

    def _bootstrap(self, view) -> str:
        """A custom runtime's entry point: /var/task/bootstrap, else /opt/bootstrap (AWS's order)."""
        cfg = self.config
        candidates = [(cfg.code_dir / "bootstrap", f"{view.task_root}/bootstrap")]
        if cfg.opt_dir is not None:
            candidates.append((cfg.opt_dir / "bootstrap", f"{view.opt_root}/bootstrap"))
        for host, seen in candidates:
            if host.is_file():
                return seen
        raise EntrypointMissing(
            f"Couldn't find valid bootstrap(s): [{view.task_root}/bootstrap {view.opt_root}/bootstrap]"
        )



def layer_paths(opt_root: str, runtime: str) -> dict:
    """Where each runtime looks inside /opt (AWS: layers are extracted to /opt).

    https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html#packaging-layers-paths
    """
    out: dict = {"PATH": f"{opt_root}/bin", "LD_LIBRARY_PATH": f"{opt_root}/lib", "sys_path": [], "node_path": []}
    if runtime.startswith("python"):
        version = runtime[len("python"):]
        out["sys_path"] = [f"{opt_root}/python/lib/python{version}/site-packages", f"{opt_root}/python"]
    elif runtime.startswith("nodejs"):
        major = runtime[len("nodejs"):].split(".")[0]
        out["node_path"] = [f"{opt_root}/nodejs/node{major}/node_modules", f"{opt_root}/nodejs/node_modules"]
    return out
