"""Isolation backends for execution environments, behind one interface.

A ``Sandbox`` turns an environment's configuration into a *plan* the zygote
child executes (``spec["sandbox"]``) plus host-side state (cgroups, folders)
that a ``Handle`` owns until the environment is gone. Two backends:

* ``linux``: namespaces (mount, PID, IPC, UTS), a private root with the code
  read-only at /var/task, layers at /opt, the runtime at /var/runtime, a /tmp of
  EphemeralStorage size, a uid per environment, and cgroups (v1 or v2) for
  memory, processes, CPU weight and freezing. Used when Lamb runs as root on
  Linux with cgroups it may write.
* ``process``: plain processes. Enforces what it can without privileges:
  file-descriptor and data-size rlimits, timeouts, a private TMPDIR.

``choose`` picks one (``LAMB_SANDBOX=process|linux`` forces it) and Lamb says
at start which one runs and what it cannot enforce.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .spec import SandboxSpec

log = logging.getLogger("lamb.sandbox")


@dataclass(frozen=True)
class View:
    """Where the environment sees its files (paths inside the environment)."""

    task_root: str  # /var/task
    runtime_dir: str  # /var/runtime
    opt_root: str  # /opt
    tmp: str  # /tmp


@dataclass(frozen=True)
class RuntimeInfo:
    """What the sandbox needs to know about the runtime's files on the host."""

    interpreter_prefixes: tuple[str, ...]  # host folders the interpreter needs (sys.base_prefix …)
    runtime_root: str  # awslambdaric & co (host path)
    # What the zygote's own view already holds (see ``Sandbox.zygote_setup``).
    zygote_prefixes: tuple[str, ...] = ()
    zygote_root: str = ""


class Handle(Protocol):
    view: View
    frozen: bool
    stops_on_term: bool  # stop the environment with SIGTERM to its init (which kills the rest)
    # What ``Sandbox.peer_key`` answers for connections from this environment's processes
    # (its uid); None when they cannot be told apart from other processes.
    peer_key: int | None

    def child_plan(self) -> dict: ...

    def env_vars(self) -> dict[str, str]: ...

    def socket_inside(self, kind: int = 1):
        """A socket (``kind``: 1 SOCK_STREAM, 2 SOCK_DGRAM) in the environment's own network namespace,
        or None when it shares the host's."""
        ...

    def max_memory_mb(self) -> int | None: ...

    def out_of_memory(self) -> bool: ...

    def freeze(self) -> None: ...

    def thaw(self) -> None: ...

    async def ready(self) -> None:
        """Wait (without blocking the event loop) for what the environment takes from pools made
        ahead of demand and a burst may have emptied; called once, before it is spawned."""
        ...

    async def open_connection(self, host: str, port: int) -> tuple:
        """``asyncio.open_connection`` from the environment's network (to a listener of its own)."""
        ...

    def destroy(self) -> None: ...


class Sandbox(Protocol):
    name: str
    identifies_peers: bool  # whether ``peer_key`` tells environments apart (then they share one Runtime API)
    own_network: bool  # whether each environment has a network namespace of its own (its own loopback)

    def describe(self) -> str: ...

    def prepare(self, env_id: str, cfg: "SandboxSpec", runtime: RuntimeInfo) -> Handle: ...

    def peer_key(self, sock) -> int | None:
        """Which environment's processes opened this accepted loopback connection (``Handle.peer_key``)."""
        ...

    def zygote_setup(self, prefixes: tuple[str, ...], runtime_root: str) -> dict:
        """The view a zygote builds before preloading: ``{"mounts": [...], "runtime_root": path}``.

        ``prefixes`` are the zygote interpreter's folders, ``runtime_root`` the host
        folder of the runtime it preloads; ``runtime_root`` in the answer is where
        the zygote (and so its environments) sees it. ``init_exec``, when present, is
        the lamb-init the zygote starts to make each environment's PID 1.
        """
        ...

    def cleanup_stale(self) -> None: ...

    def environment_caller(self):
        """A test ``(sock) -> bool`` of whether a connection to Lamb's own port comes from an
        environment, when environments reach that port and can be told apart; else None."""
        ...

    def start_network(self, loop, api: tuple, runtime: tuple, endpoints: dict | None = None) -> None:
        """Lamb's API and the Runtime API are up: ``(port, serve)`` each, ``serve(sock)`` serving one more
        listening socket. A backend with a network namespace per environment opens them inside it;
        ``endpoints`` (the ``AWS_ENDPOINT_URL_*`` functions inherit) tells it which host services they use."""
        ...


def prioritize_maker(pid: int, urgent: bool) -> bool:
    """A maker process (network namespaces, /tmp filesystems) at nice 0 while a start waits for it,
    else 19: spares are made with what is left. Whether it could be set."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, 0 if urgent else 19)
    except OSError:
        return False
    return True


def choose(data_dir: Path, forced: str | None = None, cache_dir: Path | None = None,
           network: str | None = None, tmp: str | None = None, **network_options) -> Sandbox:
    """The isolating backend where the host allows it, else the plain-process one."""
    from .linux import LinuxSandbox, unavailable_reason
    from .process import ProcessSandbox

    forced = forced or os.environ.get("LAMB_SANDBOX") or None
    reason = "forced by configuration" if forced == "process" else unavailable_reason()
    if network not in (None, "host") and reason is not None:
        raise RuntimeError(f"network mode {network} needs the linux sandbox ({reason})")
    if forced == "process":
        return ProcessSandbox(data_dir, reason=reason)
    if reason is None:
        return LinuxSandbox(data_dir, cache_dir, network, tmp, **network_options)
    if forced == "linux":
        raise RuntimeError(f"the linux sandbox is not available here: {reason}")
    return ProcessSandbox(data_dir, reason=reason)
