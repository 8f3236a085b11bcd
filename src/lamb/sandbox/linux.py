"""The isolating backend: namespaces, a private root, a uid per environment, cgroups.

What an environment gets (AWS's execution environment,
https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html):

* its own mount, PID, IPC and UTS namespaces; PID 1 is ``lamb-init`` (a few
  kilobytes of C that reaps orphans, ``lamb_init.c``), the runtime is forked from
  its zygote straight into that namespace and sees only its own processes;
* a root copied from its zygote's template root (a tmpfs built once per
  zygote) holding read-only binds of the host's /usr and /etc, the
  interpreter, the runtime at /var/runtime, the code at /var/task and the
  layers at /opt, a minimal /dev, a fresh /proc, and a /tmp of
  EphemeralStorage megabytes (writing past it fails with ENOSPC) that lives as
  long as the environment; Lamb's data folder, database, blobs and other
  functions' code are simply not in it;
* a uid of its own, named ``sbx_user1051`` as on AWS (``identity.py``: a passwd and group
  file per uid bound over /etc/passwd and /etc/group), with no capabilities, no_new_privs and a
  seccomp filter (``seccomp.py``), by which the shared
  Runtime API listener (lamb.invoke.runtime_api) tells its connections from
  everyone else's, so no other environment can take its events or post its
  results;
* a cgroup: memory limit at MemorySize, 1,024 processes/threads, CPU weight
  proportional to memory, and a freezer for idle times.

Network (``network.py``): by default (``--network isolated``) a network namespace per environment,
with Lamb's API and the Runtime API on its own loopback and egress through a veth
pair NATed by the host; no other environment, no link-local, and of the host's services only
the loopback ports the user allows, at ``host.lamb.internal``. ``none`` drops the egress;
``host`` shares the host's network namespace as before (then loopback services of the host
are reachable, and the Runtime API's routing by uid is what keeps environments apart there).

/tmp (``--tmp``): by default an ext4 filesystem of exactly EphemeralStorage megabytes on
disk per environment (``scratch.py``): writing past it fails with ENOSPC as on AWS, and its
page cache is reclaimable, so filling /tmp never kills the function for memory. Filesystems
are made ahead of demand, attached with move_mount, and wiped and reused after their
environment, so a start does no mkfs or mount. A host without loop devices or e2fsprogs (or
``--tmp tmpfs``) gets a tmpfs of that size instead, whose pages count toward MemorySize (on
AWS they do not); the start-up line says which.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import RuntimeInfo, View, cgroups, identity, init_binary, netns_socket, network, peer, scratch, seccomp

if TYPE_CHECKING:
    import socket

    from .spec import SandboxSpec

log = logging.getLogger("lamb.sandbox")

VIEW = View(task_root="/var/task", runtime_dir="/var/runtime", opt_root="/opt", tmp="/tmp")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
HOST_DIRS = ("usr", "etc")
HOST_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
HOSTNAME = "localhost"
SANDBOX_HOSTNAME, SANDBOX_ADDRESS = "sandbox.localdomain", "127.0.0.1"
HOST = "/.host"  # where a zygote (and, until it detaches it, an environment) sees the host's root
UID_BASE = 1_000_000
UIDS_PER_SERVER = 4096


def unavailable_reason() -> str | None:
    """Why the isolating backend cannot run here, or None when it can."""
    if sys.platform != "linux":
        return "not Linux"
    if os.geteuid() != 0:
        return "not running as root"
    if cgroups.detect() is None:
        return "no writable cgroup v1/v2 hierarchy with memory, pids and cpu controllers"
    if not peer.self_test():
        return "the kernel's sock_diag interface is unavailable"
    if not _probe_namespaces():
        return "cannot create mount/PID/IPC/UTS namespaces"
    return None


def _probe_namespaces() -> bool:
    code = (
        "import ctypes,os;l=ctypes.CDLL(None,use_errno=True);"
        "assert l.unshare(0x00020000|0x20000000|0x08000000|0x04000000)==0;"
        "assert l.mount(b'none',b'/',None,16384|(1<<18),None)==0"
    )
    try:
        return subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class LinuxHandle:
    view = VIEW
    stops_on_term = False  # its PID namespace ends with its init: SIGKILL is enough

    def __init__(self, sandbox: "LinuxSandbox", uid: int, group: cgroups.Group, plan: dict, cfg: "SandboxSpec",
                 netns: "network.Netns | None" = None, tmp: "scratch.Scratch | None" = None):
        self._sandbox = sandbox
        self.netns = netns
        self.tmp = tmp
        self.uid = uid
        self.peer_key = uid
        self.group = group
        self._plan = plan
        self._cfg = cfg
        self._oom_base = 0  # a new group: nothing in it was ever killed (reading the count costs ~0.1 ms)
        self.frozen = False
        self._gone = False

    def child_plan(self) -> dict:
        return self._plan

    def env_vars(self) -> dict[str, str]:
        return self._sandbox.network_env()

    def socket_inside(self, kind: int = 1) -> "socket.socket | None":
        """A socket (``kind``: 1 SOCK_STREAM, 2 SOCK_DGRAM) in this environment's network namespace;
        None when it shares the host's."""
        return netns_socket.socket_in(self.netns.fd, kind) if self.netns is not None else None

    def max_memory_mb(self) -> int | None:
        return self.group.peak_mb()

    def out_of_memory(self) -> bool:
        return self.group.oom_kills() > self._oom_base

    def freeze(self) -> None:
        if not self.frozen:
            self.group.freeze(True)
            self.frozen = True

    def thaw(self) -> None:
        if self.frozen:
            self.group.freeze(False)
            self.frozen = False

    async def ready(self) -> None:
        """Wait for what a burst of starts may have used up, without blocking the event loop: the
        environment's network namespace (``NetworkPool.acquire``: a spare, or the next one made)
        and its /tmp filesystem on disk, unless /tmp is a tmpfs (``ScratchPool.acquire``)."""
        pool = self._sandbox.network
        if pool is not None and self.netns is None and not self._gone:
            ns = await pool.acquire()
            if self._gone:  # destroyed while it waited
                pool.release(ns)
                return
            self.netns = ns
            self._sandbox.adopt_netns(ns, self.uid)
            self._plan["netns_fd"] = len(self._plan["fds"])
            self._plan["fds"].append(ns.fd)
        disks = self._sandbox.scratch
        if disks is not None and self.tmp is None and not self._gone:
            try:
                tmp = await disks.acquire(self._sandbox.tmp_mb(self._cfg))
            except Exception as e:  # noqa: BLE001 - e.g. loop devices that exist but cannot be used (a container)
                log.warning("linux: no /tmp filesystem on disk for this environment (%s); it gets a tmpfs", e)
                return
            if self._gone:
                tmp.close()
                return
            self.tmp = tmp
            for step in self._plan["mounts"]:
                if step["op"] == "tmpfs" and step["target"] == VIEW.tmp:
                    step.clear()
                    step.update(op="attach", fd=len(self._plan["fds"]), target=VIEW.tmp)
            self._plan["fds"].append(tmp.fd)

    async def open_connection(self, host: str, port: int) -> tuple:
        if self.netns is None or self._sandbox.network is None:
            return await asyncio.open_connection(host, port)  # the host's network
        return await self._sandbox.network.open_connection(self.netns, host, port)

    def destroy(self) -> None:
        self._gone = True
        self.group.destroy()
        self._sandbox.release_uid(self.uid)
        if self.netns is not None:
            self._sandbox.release_netns(self.netns)
            self.netns = None
        if self.tmp is not None:
            self.tmp.close()  # the filesystem goes once the environment's mount namespace has gone too
            self.tmp = None


class LinuxSandbox:
    name = "linux"
    identifies_peers = True  # a uid per environment

    def __init__(self, data_dir: Path, cache_dir: Path | None = None, network_mode: str | None = None,
                 tmp_mode: str | None = None, network_spares: int = network.DEFAULT_SPARES, host_ports: str = "",
                 dns: str = ""):
        self.cg = cgroups.detect()
        # A network namespace per environment ("isolated", "none"), or the host's ("host").
        self.network_mode, self.network_note = network.choose_mode(network_mode)
        self.network = None if self.network_mode == "host" else network.NetworkPool(
            self.network_mode, network_spares, network.parse_ports(host_ports), network.dns_resolvers(dns))
        self._endpoints: dict[str, str] = {}  # the endpoints every environment inherits, as reached from inside
        self._netns_uids: dict[int, int] = {}  # namespace inode -> the uid of the environment in it
        self._api_port = 0
        # /tmp on disk (an ext4 filesystem of EphemeralStorage MB each) where the host can, else a tmpfs.
        if tmp_mode == "tmpfs":
            self.tmp_note: str | None = "as configured; counts toward MemorySize"
        else:
            reason = scratch.unavailable_reason()
            self.tmp_note = reason and f"{reason}: falls back, counts toward MemorySize"
        self.scratch = scratch.ScratchPool(data_dir / "sandbox" / "scratch") if self.tmp_note is None else None
        if self.scratch is not None:
            self.scratch.start()
        # PID 1 of every environment: lamb-init (C) when it can be built, else a forked Python init.
        self.init_path = init_binary.build(cache_dir or data_dir / "sandbox" / "bin")
        assert self.cg is not None
        self.tuning = cgroups.favor_dynamic_modifications()
        self.prefix = f"lamb-{os.getpid()}"
        self.root_dir = data_dir / "sandbox" / "root"
        self.root_dir.mkdir(parents=True, exist_ok=True)
        base = UID_BASE + (os.getpid() % 4096) * UIDS_PER_SERVER
        self._uids = itertools.cycle(range(base, base + UIDS_PER_SERVER))
        self._in_use: set[int] = set()
        self._groups: cgroups.SpareGroups | None = None  # made ahead of demand, sized at start
        self.identities = identity.Identities(data_dir / "sandbox" / "etc")  # sbx_user1051 per uid
        self.entrypoint = identity.entrypoint(data_dir / "sandbox")  # /lambda-entrypoint.sh

    def describe(self) -> str:
        return (
            f"linux (namespaces + cgroup v{self.cg.version}): read-only /var/task and /opt, private /tmp, "
            "own PID/IPC/UTS/mount namespaces, a uid per environment, memory/pids/CPU limits, freezing; "
            f"{self._network_line()}; /tmp: {self._tmp_line()}; "
            f"cgroup {self.tuning}; PID 1: {'lamb-init' if self.init_path else 'Python init (no C compiler)'}; "
            f"{seccomp.describe()}"
        )

    def _tmp_line(self) -> str:
        if self.scratch is not None:
            return "ext4 on disk, EphemeralStorage MB each, made ahead and reused"
        return f"tmpfs ({self.tmp_note})"

    @property
    def own_network(self) -> bool:
        """Whether environments have network namespaces of their own (``isolated``, ``none``)."""
        return self.network is not None

    def _network_line(self) -> str:
        if self.network is not None:
            return self.network.describe()
        return "network: host (" + (self.network_note or "as configured") + ")"

    # ---------------------------------------------------------- network
    def start_network(self, loop, api: tuple[int, "network.Serve"], runtime: tuple[int, "network.Serve"],
                      endpoints: dict[str, str] | None = None) -> None:
        """Open Lamb's API and the Runtime API inside every environment's namespace from now on.

        ``endpoints``: the ``AWS_ENDPOINT_URL_*`` every function inherits. Those on the host's
        loopback are the user's own services (a local moto, LocalStack): their ports are allowed
        and the variables name ``host.lamb.internal``'s address instead (Lamb's own port stays 127.0.0.1,
        where its listener inside the namespace is)."""
        if self.network is not None:
            self._api_port = api[0]
            if self.network.mode == "isolated":
                self._endpoints, ports = network.inside_endpoints(endpoints or {}, api[0])
                self.network.host_ports += [(p, p) for p in ports]
            self.network.start(loop, [api, runtime])

    def environment_caller(self):
        """On the host's network, a connection whose client socket belongs to a sandbox uid (any
        Lamb's) is an environment's; with a namespace each, environments never reach Lamb's own
        listener (theirs are inside their namespace), so there is nothing to test."""
        if self.network is not None:
            return None
        return lambda sock: (peer.peer_uid(sock) or 0) >= UID_BASE

    def network_env(self) -> dict[str, str]:
        """Lamb's API as an environment with a namespace of its own reaches it: on its loopback."""
        if self.network is None or not self._api_port:
            return {}
        return {**self._endpoints, "AWS_ENDPOINT_URL_LAMBDA": f"http://127.0.0.1:{self._api_port}"}

    def adopt_netns(self, ns: "network.Netns", uid: int) -> None:
        """``ns`` is the namespace of the environment of ``uid`` (``peer_key`` answers it for its sockets)."""
        self._netns_uids[ns.ino] = uid

    def release_netns(self, ns: "network.Netns") -> None:
        self._netns_uids.pop(ns.ino, None)
        assert self.network is not None
        self.network.release(ns)

    # ------------------------------------------------------------- uids
    def _alloc_uid(self) -> int:
        for _ in range(UIDS_PER_SERVER):
            uid = next(self._uids)
            if uid not in self._in_use:
                self._in_use.add(uid)
                return uid
        raise RuntimeError("no free sandbox uid")

    def release_uid(self, uid: int) -> None:
        self._in_use.discard(uid)

    def peer_key(self, sock) -> int | None:
        """The uid of the environment a connection comes from: by its network namespace when each
        environment has one, else by the owner of the client socket."""
        if self.network is not None:
            return self._netns_uids.get(network.socket_netns(sock) or 0)
        return peer.peer_uid(sock)

    # ----------------------------------------------------------- prepare
    def prepare(self, env_id: str, cfg: "SandboxSpec", runtime: RuntimeInfo) -> LinuxHandle:
        limits = cfg.limits
        uid = self._alloc_uid()
        try:
            if self._groups is None or self._groups.pids != limits.processes_threads:
                if self._groups is not None:
                    self._groups.close()  # made for another process limit
                self._groups = cgroups.SpareGroups(self.cg, self.prefix, limits.processes_threads)
            group = self._groups.take(cfg.memory_mb, cfg.memory_mb * 1024 // limits.mb_per_vcpu)
        except BaseException:
            self.release_uid(uid)
            raise
        plan = {
            "rlimits": {
                "RLIMIT_NOFILE": [limits.file_descriptors, limits.file_descriptors],
                "RLIMIT_NPROC": [limits.processes_threads, limits.processes_threads],
            },
            "cgroup_procs": [HOST + p for p in group.procs_files()],
            "host_proc": HOST + "/proc",
            "hostname": HOSTNAME,
            "mounts": self.mount_plan(cfg, runtime, uid),
            "uid": uid,
            "gid": uid,
            "seccomp": seccomp.program() is not None,
        }
        plan["fds"] = []  # the network namespace's and the /tmp filesystem's come in LinuxHandle.ready()
        if self.init_path:
            # lamb-init is PID 1 of a new PID namespace; the runtime is forked into it.
            plan["init_exec"] = HOST + str(self.init_path)
            plan["unshare"] = ["mnt", "ipc", "uts"]
        else:
            plan["unshare"] = ["mnt", "pid", "ipc", "uts"]  # the clone is PID 1 (a Python init)
        return LinuxHandle(self, uid, group, plan, cfg)

    def zygote_setup(self, prefixes: tuple[str, ...], runtime_root: str) -> dict:
        """The template root every environment of a zygote starts from (built once per zygote).

        Read-only binds of the host's /usr, /etc and library folders, the
        interpreter's folders, the runtime at /var/runtime, the device nodes and
        the mount points an environment fills in; the host stays reachable at
        ``/.host`` until each environment detaches it. Building this per
        environment cost ~1 ms of every cold start.
        """
        r = str(self.root_dir)
        steps: list[dict] = [{"op": "private"}, {"op": "tmpfs", "target": r, "options": "size=16m,mode=755"}]

        def bind(source: str, target: str, recursive: bool = False) -> None:
            steps.append({"op": "mkdir", "path": r + target})
            steps.append({"op": "bind", "source": source, "target": r + target, "ro": True, "recursive": recursive})

        for d in HOST_DIRS:
            bind(f"/{d}", f"/{d}", recursive=True)
        hosts = self._hosts_file()
        if hosts is not None:  # over the host's file, which the /etc bind brought in
            steps.append({"op": "bind", "source": str(hosts), "target": r + "/etc/hosts", "ro": True})
        resolv = self._resolv_file()
        if resolv is not None:  # over the host's file (or where its symlink points, inside the root)
            target = os.path.realpath("/etc/resolv.conf")
            if not os.path.isfile(target) or target.split("/")[1] not in HOST_DIRS:
                steps.append({"op": "mkdir", "path": r + os.path.dirname(target)})
                steps.append({"op": "touch", "path": r + target})
            steps.append({"op": "bind", "source": str(resolv), "target": r + target, "ro": True})
        for name in HOST_LINKS:
            host = Path("/") / name
            if host.is_symlink():
                steps.append({"op": "symlink", "target": os.readlink(host), "path": f"{r}/{name}"})
            elif host.is_dir():
                bind(str(host), f"/{name}", recursive=True)
        for prefix in _outside_host_dirs(prefixes):
            bind(prefix, prefix)
        if runtime_root:
            bind(runtime_root, VIEW.runtime_dir)
        else:
            steps.append({"op": "mkdir", "path": r + VIEW.runtime_dir})
        for path in (VIEW.task_root, VIEW.opt_root, "/proc", "/var/lang", "/dev"):
            steps.append({"op": "mkdir", "path": r + path})
        steps.append({"op": "touch", "path": r + identity.ENTRYPOINT_PATH})
        steps.append({"op": "bind", "source": str(self.entrypoint), "target": r + identity.ENTRYPOINT_PATH, "ro": True})
        steps.append({"op": "mkdir", "path": r + VIEW.tmp, "mode": 0o1777})
        for dev in DEVICES:
            if Path(f"/dev/{dev}").exists():
                steps.append({"op": "touch", "path": f"{r}/dev/{dev}"})
                steps.append({"op": "bind", "source": f"/dev/{dev}", "target": f"{r}/dev/{dev}", "ro": False})
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
            steps.append({"op": "symlink", "target": target, "path": f"{r}/dev/{name}"})
        steps.append({"op": "pivot", "root": r, "keep": HOST})
        plan = {"mounts": steps, "runtime_root": VIEW.runtime_dir if runtime_root else "", **seccomp.zygote_setup()}
        if self.init_path:
            plan["init_exec"] = HOST + str(self.init_path)  # the zygote starts its lamb-init server
        return plan

    def _hosts_file(self) -> Path | None:
        """The host's /etc/hosts plus ``sandbox.localdomain``, the name AWS gives an environment's
        own address (extensions bind their Telemetry API listeners to it: 127.0.0.1, its own
        loopback), and ``host.lamb.internal``, the host's loopback services as environments reach
        them (``network.HOST_ADDRESS`` with a namespace each, else 127.0.0.1)."""
        try:
            text = Path("/etc/hosts").read_text() if Path("/etc/hosts").is_file() else ""
        except OSError:
            return None
        path = self.root_dir.parent / "hosts"
        host = network.HOST_ADDRESS if self.network is not None else "127.0.0.1"
        path.write_text(text.rstrip("\n") + f"\n{SANDBOX_ADDRESS}\t{SANDBOX_HOSTNAME} sandbox\n"
                        f"{host}\t{network.HOST_NAME}\n")
        return path

    def _resolv_file(self) -> Path | None:
        """With a namespace each and egress (``isolated``): the host's resolv.conf with its resolvers
        at ``network.DNS_ADDRESSES``, which the host forwards to them (a resolver on the host's
        loopback is out of an environment's reach otherwise)."""
        if self.network is None or self.network.mode != "isolated":
            return None
        path = self.root_dir.parent / "resolv.conf"
        path.write_text(network.resolv_conf(self.network.resolvers))
        return path

    def mount_plan(self, cfg: "SandboxSpec", runtime: RuntimeInfo, uid: int) -> list[dict]:
        """One environment's mounts, on a copy of its zygote's template root."""
        steps: list[dict] = []

        def bind(source: str, target: str) -> None:
            steps.append({"op": "bind", "source": HOST + os.path.realpath(source), "target": target, "ro": True})

        # Exec'd runtimes (Node.js) share one zygote: their own folders are bound here.
        for prefix in _outside_host_dirs(runtime.interpreter_prefixes):
            if prefix not in runtime.zygote_prefixes:
                steps.append({"op": "mkdir", "path": prefix})
                bind(prefix, prefix)
        if runtime.runtime_root and runtime.runtime_root != runtime.zygote_root:
            bind(runtime.runtime_root, VIEW.runtime_dir)
        bind(str(cfg.code_dir), VIEW.task_root)
        opt_dir = cfg.opt_dir
        if opt_dir:
            bind(str(opt_dir), VIEW.opt_root)
        passwd, group = self.identities.files(uid)  # the handler's user has a name: sbx_user1051
        bind(str(passwd), "/etc/passwd")
        bind(str(group), "/etc/group")
        steps.append({"op": "tmpfs", "target": VIEW.tmp, "options": f"size={self.tmp_mb(cfg)}m,mode=1777,uid={uid},gid={uid}"})
        steps.append({"op": "proc", "target": "/proc"})
        steps.append({"op": "detach", "path": HOST})
        return steps

    @staticmethod
    def tmp_mb(cfg: "SandboxSpec") -> int:
        return cfg.ephemeral_mb or cfg.limits.ephemeral_storage_default_mb

    # ----------------------------------------------------------- cleanup
    def cleanup_stale(self) -> None:
        """Remove cgroups left by Lamb processes that died (kill -9), with anything still in them."""
        stale: dict[str, list[Path]] = {}
        for base in self.cg.group_dirs(""):
            if not base.exists():
                continue
            for d in base.glob("lamb-*"):
                try:
                    pid = int(d.name.split("-", 1)[1])
                except ValueError:
                    continue
                if pid == os.getpid() or not _alive(pid):
                    stale.setdefault(d.name, []).append(d)
        for dirs in stale.values():
            cgroups.remove_tree(dirs, self.cg)

    def cleanup_own(self) -> None:
        if self.network is not None:
            self.network.close()
        if self.scratch is not None:
            self.scratch.close()
        if self._groups is not None:
            self._groups.close()
        cgroups.remove_tree(self.cg.group_dirs(self.prefix), self.cg)
        shutil.rmtree(self.root_dir, ignore_errors=True)


def _outside_host_dirs(prefixes) -> list[str]:
    """Folders not already visible through the host folders every root has (/usr, /etc)."""
    return [p for p in dict.fromkeys(prefixes)
            if not any(p == f"/{d}" or p.startswith(f"/{d}/") for d in HOST_DIRS)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"lamb" in f.read()
    except OSError:
        return False


