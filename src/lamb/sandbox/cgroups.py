"""cgroup v1 and v2, behind one small interface.

Lamb puts each execution environment in a cgroup of its own, below the cgroup
Lamb itself runs in (so a container's or a systemd unit's limits still bound
the whole tree), named ``lamb-<server pid>/<env id>``:

* memory: hard limit at the function's MemorySize; peak usage for REPORT's
  Max Memory Used; OOM kills counted to tell Runtime.OutOfMemory.
* pids: at most 1,024 processes and threads (AWS's quota).
* cpu: a weight proportional to memory (1,769 MB = one vCPU), as AWS allots CPU.
* freezer: idle environments are frozen and thawed on the next invocation.

v1 has one hierarchy per controller (``/sys/fs/cgroup/<controller>/...``); v2
one unified tree with ``memory.max``, ``pids.max``, ``cpu.weight``,
``cgroup.freeze`` and ``memory.peak``. ``detect`` returns whichever this host
mounts with the controllers available, or None.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from pathlib import Path

from ..cpus import release_thread

CONTROLLERS_V1 = ("memory", "pids", "cpu", "freezer")
CGROUP_ROOT = Path("/sys/fs/cgroup")


def _write(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _read(path: Path) -> str:
    with open(path) as f:
        return f.read()


def _own_paths(root: Path) -> dict[str, str]:
    """This process's cgroup path per controller ('' key for v2), from /proc/self/cgroup."""
    out: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, ctrls, path = line.split(":", 2)
        for c in (ctrls.split(",") if ctrls else [""]):
            out[c] = path
    return out


class CgroupV1:
    version = 1

    def __init__(self, root: Path = CGROUP_ROOT, own: dict[str, str] | None = None):
        own = own if own is not None else _own_paths(root)
        self.bases = {c: root / c / own.get(c, "/").lstrip("/") for c in CONTROLLERS_V1}
        self.swap_accounting: bool | None = None  # whether memory.memsw.* exists (None: not yet known)

    @classmethod
    def available(cls, root: Path = CGROUP_ROOT) -> bool:
        return all((root / c / "cgroup.procs").exists() for c in CONTROLLERS_V1) and os.access(root / "memory", os.W_OK)

    def create(self, group: str, memory_mb: int, pids: int, cpu_weight_1024: int) -> "Group":
        g = self.make(group, pids)
        self.size(g, memory_mb, cpu_weight_1024)
        return g

    def make(self, group: str, pids: int) -> "Group":
        """The folders, with the limits every environment shares (its size comes with ``size``)."""
        paths = {}
        for c, base in self.bases.items():
            p = base / group
            p.mkdir(parents=True, exist_ok=True)
            paths[c] = p
        _write(paths["pids"] / "pids.max", str(pids))
        return Group(self, paths)

    def size(self, g: "Group", memory_mb: int, cpu_weight_1024: int) -> None:
        """Memory limit at MemorySize (no swap beyond it), CPU weight proportional to it."""
        mem = g.paths["memory"]
        value = str(memory_mb * 1024 * 1024)
        files = ["memory.limit_in_bytes"]
        if self.swap_accounting is not False:
            # memory+swap may never be below memory: raise it first, lower it last.
            growing = g.memory_mb is not None and memory_mb > g.memory_mb
            files.insert(0 if growing else 1, "memory.memsw.limit_in_bytes")
        for name in files:
            try:
                _write(mem / name, value)
            except FileNotFoundError:
                if "memsw" not in name:
                    raise
                self.swap_accounting = False  # the kernel does not account swap
        _write(g.paths["cpu"] / "cpu.shares", str(max(2, cpu_weight_1024)))
        g.memory_mb, g.cpu_weight = memory_mb, cpu_weight_1024

    def procs_files(self, g: "Group") -> list[str]:
        return [str(p / "cgroup.procs") for p in g.paths.values()]

    def peak_file(self, g: "Group") -> Path:
        return g.paths["memory"] / "memory.max_usage_in_bytes"

    def oom_kills(self, g: "Group") -> int:
        for line in _read(g.paths["memory"] / "memory.oom_control").splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0  # kernels before 4.13 do not count OOM kills

    def freeze(self, g: "Group", frozen: bool) -> None:
        _write(g.paths["freezer"] / "freezer.state", "FROZEN" if frozen else "THAWED")


    def group_dirs(self, prefix: str) -> list[Path]:
        return [base / prefix for base in self.bases.values()]


class CgroupV2:
    version = 2

    def __init__(self, root: Path = CGROUP_ROOT, own: dict[str, str] | None = None):
        own = own if own is not None else _own_paths(root)
        self.root = root
        self.base = root / own.get("", "/").lstrip("/")

    @classmethod
    def available(cls, root: Path = CGROUP_ROOT) -> bool:
        ctrl = root / "cgroup.controllers"
        if not ctrl.exists():
            return False
        have = set(_read(ctrl).split())
        return {"memory", "pids", "cpu"} <= have and os.access(root, os.W_OK)

    def _enable(self, parent: Path) -> None:
        """Delegate memory, pids and cpu to children of ``parent`` (no-internal-process rule permitting)."""
        try:
            _write(parent / "cgroup.subtree_control", "+memory +pids +cpu")
        except OSError:
            pass

    def create(self, group: str, memory_mb: int, pids: int, cpu_weight_1024: int) -> "Group":
        g = self.make(group, pids)
        self.size(g, memory_mb, cpu_weight_1024)
        return g

    def make(self, group: str, pids: int) -> "Group":
        """The folder, with the limits every environment shares (its size comes with ``size``)."""
        path = self.base / group
        # Every level from our base down must delegate the controllers.
        parts = Path(group).parts
        cur = self.base
        for part in parts:
            self._enable(cur)
            cur = cur / part
            cur.mkdir(exist_ok=True)
        try:
            _write(path / "memory.swap.max", "0")
        except OSError:
            pass
        _write(path / "pids.max", str(pids))
        return Group(self, {"": path})

    def size(self, g: "Group", memory_mb: int, cpu_weight_1024: int) -> None:
        """Memory limit at MemorySize, CPU weight proportional to it."""
        path = g.paths[""]
        _write(path / "memory.max", str(memory_mb * 1024 * 1024))
        # cpu.weight is 1..10000 with 100 the default; v1 shares are 1024-based.
        _write(path / "cpu.weight", str(max(1, min(10000, cpu_weight_1024 * 100 // 1024))))
        g.memory_mb, g.cpu_weight = memory_mb, cpu_weight_1024

    def procs_files(self, g: "Group") -> list[str]:
        return [str(g.paths[""] / "cgroup.procs")]

    def peak_file(self, g: "Group") -> Path:
        peak = g.paths[""] / "memory.peak"  # Linux 5.19+; before it, the current usage is the best there is
        return peak if peak.exists() else g.paths[""] / "memory.current"

    def oom_kills(self, g: "Group") -> int:
        for line in _read(g.paths[""] / "memory.events").splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def freeze(self, g: "Group", frozen: bool) -> None:
        _write(g.paths[""] / "cgroup.freeze", "1" if frozen else "0")


    def group_dirs(self, prefix: str) -> list[Path]:
        return [self.base / prefix]


class Group:
    """One environment's cgroup (one folder per v1 controller, one for v2)."""

    def __init__(self, tree: "CgroupV1 | CgroupV2", paths: dict[str, Path]):
        self.tree = tree
        self.paths = paths
        self._peak_fd = -1  # kept open: read once per invocation for REPORT's Max Memory Used
        self.memory_mb: int | None = None  # as sized (None: the kernel's defaults)
        self.cpu_weight: int | None = None

    def procs_files(self) -> list[str]:
        return self.tree.procs_files(self)

    def peak_mb(self) -> int:
        try:
            if self._peak_fd < 0:
                self._peak_fd = os.open(self.tree.peak_file(self), os.O_RDONLY | os.O_CLOEXEC)
            return max(1, round(int(os.pread(self._peak_fd, 64, 0)) / (1024 * 1024)))
        except (OSError, ValueError):
            return 0

    def oom_kills(self) -> int:
        try:
            return self.tree.oom_kills(self)
        except OSError:
            return 0

    def freeze(self, frozen: bool) -> None:
        try:
            self.tree.freeze(self, frozen)
        except OSError:
            pass

    def destroy(self) -> None:
        """Kill whatever is left inside and remove the folders."""
        if self._peak_fd >= 0:
            os.close(self._peak_fd)
            self._peak_fd = -1
        remove_tree(list(self.paths.values()), self.tree)


class SpareGroups:
    """Environment cgroups made ahead of demand: a cold start only sizes one.

    Making a group (a folder per v1 hierarchy, its shared limits) costs ~0.5 ms
    on this machine; a background thread keeps ``keep`` of them ready under
    ``prefix`` and a start takes one, or makes its own when a burst has used
    them all. Spares are sized like the last group taken (setting a v1 memory
    limit alone costs ~0.2 ms), so starts of a function need no write at all;
    a spare of another size is resized.
    """

    REFILL_DELAY_S = 0.01
    keep_default = 8

    def __init__(self, tree: "CgroupV1 | CgroupV2", prefix: str, pids: int, keep: int = keep_default):
        self.tree = tree
        self.prefix = prefix
        self.pids = pids
        self.keep = keep
        self._cond = threading.Condition()
        self._spares: list[Group] = []
        self._serial = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._size: tuple[int, int] | None = None  # what spares are sized for

    def take(self, memory_mb: int, cpu_weight_1024: int) -> Group:
        size = (memory_mb, cpu_weight_1024)
        with self._cond:
            self._size = size
            g = next((x for x in self._spares if (x.memory_mb, x.cpu_weight) == size), None)
            if g is not None:
                self._spares.remove(g)
            elif self._spares:
                g = self._spares.pop()
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._fill, name="lamb-cgroups", daemon=True)
                self._thread.start()
            self._cond.notify()
        if g is None:
            g = self._make()
        if (g.memory_mb, g.cpu_weight) != size:
            try:
                self.tree.size(g, memory_mb, cpu_weight_1024)
            except BaseException:
                g.destroy()
                raise
        return g

    def _make(self) -> Group:
        return self.tree.make(f"{self.prefix}/e{next(self._serial)}", self.pids)

    def _fill(self) -> None:
        """The background thread: keep ``keep`` spares until closed."""
        release_thread()
        while True:
            with self._cond:
                while not self._closed and len(self._spares) >= self.keep:
                    self._cond.wait()
                if self._closed:
                    return
            # Let the start that took a spare finish first: this thread competes for the GIL.
            time.sleep(self.REFILL_DELAY_S)
            while True:
                with self._cond:
                    if self._closed:
                        return
                    if len(self._spares) >= self.keep:
                        break
                    size = self._size
                try:
                    g = self._make()
                except OSError:
                    time.sleep(1.0)
                    continue
                try:
                    if size is not None:
                        self.tree.size(g, *size)
                except OSError:
                    g.destroy()
                    time.sleep(1.0)
                    continue
                with self._cond:
                    closed = self._closed
                    if not closed:
                        self._spares.append(g)
                if closed:
                    g.destroy()
                    return

    def close(self) -> None:
        """No more spares; remove the ones made."""
        with self._cond:
            self._closed = True
            thread = self._thread
            spares, self._spares = self._spares, []
            self._cond.notify_all()
        if thread is not None:
            thread.join(5)
        for g in spares:
            g.destroy()


def remove_tree(paths: list[Path], tree: "CgroupV1 | CgroupV2", wait_s: float = 2.0) -> bool:
    """Empty and remove cgroup folders (all controllers' copies at once).

    Thaw first (a frozen task cannot die), then SIGKILL every member, then rmdir
    bottom-up, retrying briefly while killed tasks exit. Returns whether all went.
    """
    dirs = []
    for path in paths:
        # Another Lamb starting at the same moment may be removing the same stale tree.
        try:
            found = [p for p in path.rglob("*") if p.is_dir()]
        except OSError:
            found = []
        dirs.extend(sorted(found, key=lambda p: len(p.parts), reverse=True))
        dirs.append(path)
    for d in dirs:
        for name, value in (("freezer.state", "THAWED"), ("cgroup.freeze", "0")):
            try:
                _write(d / name, value)
            except OSError:
                pass
    deadline = time.monotonic() + wait_s
    while True:
        for d in dirs:
            try:
                pids = [int(x) for x in _read(d / "cgroup.procs").split()]
            except OSError:
                pids = []
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        left = []
        for d in dirs:
            try:
                d.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                left.append(d)
        dirs = left
        if not dirs or time.monotonic() > deadline:
            return not dirs
        time.sleep(0.01)


def favor_dynamic_modifications() -> str:
    """Remount the host's cgroup2 hierarchy with ``favordynmods``; returns what happened.

    Moving a task into a cgroup takes the kernel's global threadgroup rwsem for
    writing, and each isolated write waits a full RCU grace period: 4-20 ms
    measured here, on every cold start (each environment joins a new cgroup).
    ``favordynmods`` (Linux 6.0+) keeps that lock in its writer-friendly mode:
    0.2 ms, for slightly dearer fork/exit host-wide. Lamb turns it on unless
    ``LAMB_CGROUP_FAVORDYNMODS=0``. Applies to cgroup v1 controllers too, since
    the lock is shared by every hierarchy.
    """
    if os.environ.get("LAMB_CGROUP_FAVORDYNMODS", "1") == "0":
        return "favordynmods left off (LAMB_CGROUP_FAVORDYNMODS=0)"
    target = None
    try:
        for line in Path("/proc/self/mounts").read_text().splitlines():
            dev, mnt, fstype, opts = line.split()[:4]
            if fstype == "cgroup2":
                if "favordynmods" in opts.split(","):
                    return "favordynmods on"
                target = mnt
                break
    except OSError:
        return "favordynmods unknown (no /proc/self/mounts)"
    if target is None:
        return "favordynmods unavailable (no cgroup2 mount)"
    import subprocess

    proc = subprocess.run(["mount", "-o", "remount,favordynmods", target], capture_output=True, text=True)
    if proc.returncode != 0:
        return f"favordynmods unavailable ({(proc.stderr or proc.stdout).strip()})"
    return "favordynmods turned on"


def detect(root: Path = CGROUP_ROOT) -> "CgroupV1 | CgroupV2 | None":
    if CgroupV2.available(root):
        return CgroupV2(root)
    if CgroupV1.available(root):
        return CgroupV1(root)
    return None
