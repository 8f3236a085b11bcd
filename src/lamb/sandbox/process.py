"""The plain-process backend: for hosts where Lamb may not create namespaces or cgroups.

What it enforces: at most 1,024 open files (RLIMIT_NOFILE), a data-size limit
near MemorySize (RLIMIT_DATA: allocations beyond it fail with MemoryError
rather than an OOM kill), timeouts, a private temporary folder (TMPDIR, removed
with the environment). What it cannot: a read-only /var/task (the code is read
where it was unpacked), a private /tmp (code writing to the literal path
``/tmp`` shares the host's), process isolation, a per-environment user, the
process/thread quota, CPU weights, freezing idle environments, and keeping a
function from reading Lamb's data folder. Processes a function starts do not
outlive its environment: the environment's init is a child subreaper that kills
every descendant when it is stopped or when Lamb dies. The seccomp filter
(``seccomp.py``) applies here too: it needs no privileges.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from . import RuntimeInfo, View, seccomp

if TYPE_CHECKING:
    from .spec import SandboxSpec

# Room for the interpreter's own data segment on top of what the function may use.
DATA_SLACK_MB = 64


class ProcessHandle:
    frozen = False
    # The environment's init kills every descendant on SIGTERM: stop it that way, not with SIGKILL.
    stops_on_term = True
    peer_key = None  # every environment runs as Lamb's own user: each gets a Runtime API port of its own

    def __init__(self, view: View, tmp: Path, cfg: "SandboxSpec"):
        self.view = view
        self._tmp = tmp
        self._cfg = cfg

    def child_plan(self) -> dict:
        nofile = self._cfg.limits.file_descriptors
        data = (self._cfg.memory_mb + DATA_SLACK_MB) * 1024 * 1024
        return {"rlimits": {"RLIMIT_NOFILE": [nofile, nofile], "RLIMIT_DATA": [data, data]}, "init": True,
                "seccomp": seccomp.program() is not None}

    def env_vars(self) -> dict[str, str]:
        return {"TMPDIR": str(self._tmp)}

    def socket_inside(self, kind: int = 1) -> None:
        return None  # processes share the host's network

    def max_memory_mb(self) -> int | None:
        return None  # the environment reads VmHWM of the runtime process instead

    def out_of_memory(self) -> bool:
        return False

    def freeze(self) -> None:
        pass

    def thaw(self) -> None:
        pass

    async def ready(self) -> None:
        pass  # nothing made ahead of demand

    async def open_connection(self, host: str, port: int) -> tuple:
        return await asyncio.open_connection(host, port)  # the host's network

    def destroy(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


class ProcessSandbox:
    name = "process"
    identifies_peers = False
    own_network = False

    def __init__(self, data_dir: Path, reason: str = ""):
        self.root = data_dir / "sandbox" / "tmp"
        self.reason = reason

    def describe(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        return (
            f"process{why}: enforces timeouts, 1024 open files, a data-size limit and a private TMPDIR; "
            "does not isolate files, processes, users or the network, and cannot freeze idle environments; "
            f"{seccomp.describe()}"
        )

    def prepare(self, env_id: str, cfg: "SandboxSpec", runtime: RuntimeInfo) -> ProcessHandle:
        tmp = self.root / env_id
        tmp.mkdir(parents=True, exist_ok=True)
        opt = str(cfg.opt_dir) if cfg.opt_dir else "/opt"
        view = View(task_root=str(cfg.code_dir), runtime_dir=runtime.runtime_root, opt_root=opt, tmp=str(tmp))
        return ProcessHandle(view, tmp, cfg)

    def peer_key(self, sock) -> None:
        return None

    def zygote_setup(self, prefixes: tuple[str, ...], runtime_root: str) -> dict:
        return {"mounts": [], "runtime_root": runtime_root, **seccomp.zygote_setup()}  # the host's view, unchanged

    def cleanup_stale(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def environment_caller(self) -> None:
        return None  # environments run as Lamb's own user: they cannot be told from the operator

    def start_network(self, loop, api: tuple, runtime: tuple, endpoints: dict | None = None) -> None:
        pass  # environments share the host's network
