"""/tmp on disk: an ext4 filesystem of EphemeralStorage MB per environment, made ahead and reused.

AWS: /tmp holds 512 MB to 10,240 MB (EphemeralStorage), writing past it fails with
ENOSPC, and it does not count toward MemorySize
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html).
A tmpfs has the right size but its pages are charged to the environment's memory
cgroup; page cache of a disk filesystem is charged too, but is written back and
reclaimed under pressure, so filling /tmp never kills the function.

A ``Disk`` is a sparse image file holding an ext4 filesystem (no journal, no reserved blocks,
sized so that exactly EphemeralStorage MB of data fit): a copy of the written blocks of a
template formatted once per size with ``mkfs.ext4``, attached to a loop device
(``LOOP_CONFIGURE`` with autoclear, the image unlinked at once: its space goes back when Lamb
is gone, even after a crash) and mounted as a detached mount (``fsopen``/``fsmount``: never
in any mount namespace) that the maker holds. Nothing of that happens on a start: a maker
process (``ScratchPool``) makes disks ahead of demand per size (the sizes last asked for), and
prepares each for one environment: a fresh, empty directory in it, cloned as a detached
mount of its own (``open_tree``), sent to Lamb as a descriptor. A start takes one and sends
it with the spawn request; the environment attaches it at /tmp (``move_mount``, ~30 µs).
When the environment is gone its directory is removed, the freed blocks are given back to
the host's disk (``FITRIM``: the loop device punches holes in the image), and once the
filesystem is as empty as it was made the disk is prepared again for the next environment
of that size: no ``mkfs`` or mount while environments come and go. A new environment never
sees the previous one's files, not even through a process of it that is still dying: its
/tmp is another directory, and a disk whose free space did not come back in full is not
handed out. Project quotas would be cheaper but need a quota format this kernel may lack
(see docs/performance.md).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import ctypes
import errno
import fcntl
import json
import logging
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import prioritize_maker
from ..cpus import release, release_thread

log = logging.getLogger("lamb.sandbox")

SYS_OPEN_TREE, SYS_MOVE_MOUNT = 428, 429  # the same on x86_64 and aarch64
SYS_FSOPEN, SYS_FSCONFIG, SYS_FSMOUNT = 430, 431, 432
OPEN_TREE_CLONE = 1
O_CLOEXEC = 0o2000000
AT_FDCWD = -100
FSOPEN_CLOEXEC = FSMOUNT_CLOEXEC = 1
FSCONFIG_SET_STRING, FSCONFIG_CMD_CREATE = 1, 6
MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV = 2, 4
LOOP_CTL_GET_FREE, LOOP_CONFIGURE = 0x4C82, 0x4C0A
LO_FLAGS_AUTOCLEAR = 4
FITRIM = 0xC0185879  # _IOWR('X', 121, struct fstrim_range)
BLOCK = 4096
SPARES_PER_SIZE = 8  # disks of a size prepared ahead of demand (as many as network namespaces)
LOW_SPARES = 2  # fewer left than this: the maker makes more at once, burst or not
QUIET_S = 0.1  # else it waits until Lamb has asked nothing for this long
KEEP_PER_SIZE = 64  # idle disks of a size kept for reuse (beyond them, a finished one is unmounted)
WIPE_RETRY_S = 1.0  # a disk whose space has not come back (a dying process holds a file) is looked at again
WIPE_GIVE_UP_S = 120.0  # ... until then; after that it is dropped


def unavailable_reason() -> str | None:
    """Why /tmp cannot be on disk here (then it stays a tmpfs), or None."""
    if os.geteuid() != 0:
        return "not running as root"
    if shutil.which("mkfs.ext4") is None or shutil.which("dumpe2fs") is None:
        return "no mkfs.ext4 (install e2fsprogs)"
    if not os.path.exists("/dev/loop-control"):
        return "no loop devices"
    if os.uname().machine not in ("x86_64", "aarch64"):
        return "open_tree/move_mount numbers unknown on this machine"
    return None


@dataclass(eq=False)
class Disk:
    """One loop-mounted ext4 filesystem, held by Lamb as a detached mount of its root."""
    root: int  # O_PATH descriptor of the detached mount (open_tree clone)
    size_mb: int
    free: tuple[int, int]  # (free blocks, free inodes) as made: the state a wiped disk returns to
    uses: int = 0

    def close(self) -> None:
        if self.root >= 0:
            os.close(self.root)  # the last reference: the filesystem is unmounted, the loop device detaches
            self.root = -1

    def counts(self) -> tuple[int, int]:
        st = os.statvfs(self.root)
        return st.f_bfree, st.f_ffree


@dataclass(eq=False)
class Scratch:
    """One environment's /tmp: a detached mount of a fresh directory of a disk."""
    fd: int  # attached at /tmp by the environment (move_mount)
    size_mb: int
    disk: Disk | None = None  # in the process that made it (None in Lamb when the maker did)
    name: str = ""
    id: int = 0  # the maker's number for it
    _done: object = field(default=None, repr=False)  # the pool's release(), called once by close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
            if self._done is not None:
                self._done(self)


class LocalPool:
    """Disk filesystems for /tmp, made ahead of demand per size by a thread and reused after their
    environment: the maker process's pool, and Lamb's own when the maker is gone."""

    def __init__(self, folder: Path, spares: int = SPARES_PER_SIZE):
        self.folder = folder
        self.spares = spares
        self._ready: dict[int, list[Scratch]] = {}  # prepared for the next start, by size
        self._kept: collections.Counter = collections.Counter()  # disks alive, by size
        self._dirty: collections.deque = collections.deque()  # (Scratch, first try, next try) to wipe
        self._templates: dict[int, Path] = {}  # size -> a formatted image that leaves exactly that much free
        self._template_lock = threading.Lock()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._seq = 0
        self.made = 0  # disks formatted (for tests and the health page)
        self.reused = 0  # disks handed out again after a wipe

    def start(self, sizes: tuple[int, ...] = (512,), clean: bool = True) -> None:
        if clean:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            for size in sizes:
                self._ready.setdefault(size, [])
        self._thread = threading.Thread(target=self._work, name="lamb-scratch", daemon=True)
        self._thread.start()

    def take(self, size_mb: int) -> Scratch:
        """A /tmp of ``size_mb``: a wiped or spare disk, else one made on the spot (~2 ms)."""
        scratch = self._spare(size_mb)
        return scratch if scratch is not None else self._make_ready(size_mb)

    def _spare(self, size_mb: int) -> Scratch | None:
        with self._lock:
            spares = self._ready.setdefault(size_mb, [])
            scratch = spares.pop(0) if spares else None  # the oldest first: a wiped disk is used again soon
        self._wake.set()
        return scratch

    def _release(self, scratch: Scratch) -> None:
        """An environment is done with its /tmp: wipe the disk in the background, then reuse it."""
        now = time.monotonic()
        with self._lock:
            if self._stop:
                assert scratch.disk is not None
                scratch.disk.close()
                return
            self._dirty.append((scratch, now, now))
        self._wake.set()

    def describe(self) -> dict:
        with self._lock:
            return {"ready": {size: len(s) for size, s in self._ready.items()}, "disks": dict(self._kept),
                    "made": self.made, "reused": self.reused, "to_wipe": len(self._dirty)}

    def close(self) -> None:
        with self._lock:
            self._stop = True
            ready = [s for spares in self._ready.values() for s in spares]
            self._ready.clear()
            dirty = [s for s, _, _ in self._dirty]
            self._dirty.clear()
        self._wake.set()
        for s in ready:
            s._done = None
            s.close()
        for s in ready + dirty:
            if s.disk is not None:
                s.disk.close()

    # ------------------------------------------------------------ the background thread
    def _work(self) -> None:
        release_thread()
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # mkfs inherits it
        except OSError:
            pass
        while not self._stop:
            try:
                busy = self._wipe_one() or self._make_one()
            except Exception as e:  # noqa: BLE001 - logged; starts make their own
                log.warning("scratch: %s", e)
                busy = False
                self._wake.wait(5)
            if not busy and not self._stop:
                self._wake.wait(WIPE_RETRY_S if self._dirty else None)
                self._wake.clear()

    def _wipe_one(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if not self._dirty or self._dirty[0][2] > now:
                return False
            scratch, first, _ = self._dirty.popleft()
        disk = scratch.disk
        assert disk is not None
        try:
            clean = _wipe(disk, scratch.name)
        except Exception as e:  # noqa: BLE001 - e.g. a tree deeper than rmtree recurses: a new disk instead
            log.warning("scratch: could not wipe a /tmp filesystem, it is dropped: %r", e)
            self._drop(disk)
            return True
        if not clean:
            if now - first < WIPE_GIVE_UP_S:  # something of the old environment still holds a file
                with self._lock:
                    self._dirty.append((scratch, first, now + WIPE_RETRY_S))
                return True
            self._drop(disk)
            return True
        with self._lock:
            keep = not self._stop and len(self._ready.get(disk.size_mb, ())) < KEEP_PER_SIZE
        if not keep:
            self._drop(disk)
            return True
        ready = self._prepare(disk)
        with self._lock:
            self.reused += 1
            if self._stop:
                ready._done = None
                ready.close()
                disk.close()
            else:
                self._ready.setdefault(disk.size_mb, []).append(ready)
        return True

    def _make_one(self) -> bool:
        with self._lock:
            short = [size for size, spares in self._ready.items() if len(spares) < self.spares]
        if not short:
            return False
        scratch = self._make_ready(short[0])
        with self._lock:
            if not self._stop:
                self._ready.setdefault(scratch.size_mb, []).append(scratch)
                return True
        scratch._done = None
        scratch.close()
        assert scratch.disk is not None
        scratch.disk.close()
        return False

    def _drop(self, disk: Disk) -> None:
        with self._lock:
            self._kept[disk.size_mb] -= 1
        disk.close()

    # ------------------------------------------------------------ making and preparing
    def _make_ready(self, size_mb: int) -> Scratch:
        disk = self._make(size_mb)
        with self._lock:
            self._kept[size_mb] += 1
            self.made += 1
        return self._prepare(disk)

    def _prepare(self, disk: Disk) -> Scratch:
        """A fresh directory of ``disk`` (owned by root, sticky and writable by all, as /tmp is),
        as a detached mount."""
        disk.uses += 1
        name = f"t{disk.uses}"
        os.mkdir(name, 0o700, dir_fd=disk.root)
        os.chmod(name, 0o1777, dir_fd=disk.root)
        fd = _open_tree(disk.root, name)
        return Scratch(fd=fd, size_mb=disk.size_mb, disk=disk, name=name, _done=self._release)

    def _make(self, size_mb: int) -> Disk:
        with self._lock:
            self._seq += 1
            n = self._seq
        image = self.folder / f"tmp-{n}.img"
        try:
            self._format(image, size_mb)
            dev, loop = _attach_loop(image)
        finally:
            image.unlink(missing_ok=True)  # the loop device holds it open; its space goes back when the loop detaches
        try:
            root = _fsmount_ext4(dev)  # a detached mount from the start: nothing is mounted in Lamb's namespace
        finally:
            os.close(loop)  # autoclear: the loop detaches once the filesystem on it is gone
        try:
            # ext4 keeps 2 % back for delayed allocation; /tmp gets all of its size, as on AWS.
            try:
                Path(f"/sys/fs/ext4/{os.path.basename(dev)}/reserved_clusters").write_text("0")
            except OSError:
                pass
            os.rmdir("lost+found", dir_fd=root)
            disk = Disk(root=root, size_mb=size_mb, free=(0, 0))
            disk.free = disk.counts()
        except BaseException:
            os.close(root)
            raise
        return disk

    def _format(self, image: Path, size_mb: int) -> None:
        """An ext4 image that leaves exactly ``size_mb`` MB for a file in a fresh directory of it: a
        copy of the size's template (its few written blocks; the rest stays a hole)."""
        with self._template_lock:  # the thread and a start making on the spot
            template = self._templates.get(size_mb)
            if template is None:
                template = self._templates[size_mb] = self._make_template(size_mb)
        _copy_sparse(template, image)

    def _make_template(self, size_mb: int) -> Path:
        """``mkfs.ext4`` once per size: the metadata's blocks are added to the size until exactly
        ``size_mb`` MB are free for data. Every disk of the size is a copy of it: filesystems made
        alike differ only in their UUID, which nothing inside an environment relies on."""
        image = self.folder / f"template-{size_mb}.img"
        # What a fresh filesystem must have free: the data, one block of the file's extent tree and
        # one of its directory, less lost+found's blocks (removed after mounting).
        want = (size_mb << 20) // BLOCK + 1 + 1 - 4
        blocks = (size_mb << 20) // BLOCK
        for _ in range(4):
            with open(image, "wb") as f:
                f.truncate(blocks * BLOCK)
            # No journal, no reserved blocks, few inodes: nearly all of it is usable, as on AWS.
            subprocess.run(["mkfs.ext4", "-q", "-F", "-b", str(BLOCK), "-O", "^has_journal,^resize_inode", "-m", "0",
                            "-I", "128", "-N", str(max(1024, size_mb * 8)),
                            "-E", "lazy_itable_init=1,nodiscard,root_owner=0:0", str(image)],
                           check=True, capture_output=True, timeout=120)
            free = _free_blocks(image)
            if free == want:
                return image
            blocks += want - free
        raise OSError(errno.EINVAL, f"could not size a {size_mb} MB filesystem")


class ScratchPool:
    """Lamb's side: prepared /tmp filesystems, received from a maker process.

    Making, wiping and preparing disks is done by ``python -m lamb.sandbox.scratch`` (a
    ``LocalPool`` at nice 19, normal priority while a start waits), which sends each prepared
    /tmp as a descriptor over a unix socket: a thread of Lamb's would hold the GIL that the
    event loop needs for the very starts it serves (measured: +1.5 ms p50 of cold start against
    −0.9 ms with no making at all, docs/performance.md). Lamb keeps ``spares`` per size ready
    and tells the maker when an environment is done with its /tmp. Without a maker (it failed
    to start, or died) Lamb falls back to a ``LocalPool`` of its own.
    """

    def __init__(self, folder: Path, spares: int = SPARES_PER_SIZE):
        self.folder = folder
        self.spares = spares
        self._ready: dict[int, list[Scratch]] = {}
        self._waiters: dict[int, collections.deque] = {}  # size -> futures of starts waiting, in order
        self._pending: collections.Counter = collections.Counter()  # size -> asked of the maker, not received
        self._lock = threading.Lock()
        self._maker: subprocess.Popen | None = None
        self._channel: socket.socket | None = None
        self._local: LocalPool | None = None
        self._urgent = False
        self._stop = False

    def start(self, sizes: tuple[int, ...] = (512,)) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._maker = subprocess.Popen(
                [sys.executable, "-m", "lamb.sandbox.scratch", str(theirs.fileno()), str(self.folder)],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, preexec_fn=_nice,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH")]))},
            )
            release(self._maker.pid)
        except OSError as e:
            log.warning("scratch: no maker process (%s); /tmp filesystems are made by a thread of Lamb's", e)
            ours.close()
            self._fall_back()
        else:
            self._channel = ours
            threading.Thread(target=self._receive, name="lamb-scratch-rx", daemon=True).start()
        finally:
            theirs.close()
        for size in sizes:
            self._ask(size)

    def take(self, size_mb: int, timeout: float = 120) -> Scratch:
        """A /tmp of ``size_mb``: a spare, or the next one the maker sends."""
        return self._get(size_mb).result(timeout)

    async def acquire(self, size_mb: int) -> Scratch:
        """As ``take``, without blocking the event loop while it waits."""
        return await asyncio.wrap_future(self._get(size_mb))

    def _get(self, size_mb: int) -> concurrent.futures.Future:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            local = self._local
            spares = self._ready.setdefault(size_mb, [])
            if local is None and spares:
                fut.set_result(spares.pop(0))
            elif local is None:
                self._waiters.setdefault(size_mb, collections.deque()).append(fut)
        if local is not None:
            scratch = local._spare(size_mb)
            if scratch is not None:
                fut.set_result(scratch)
            else:
                threading.Thread(target=_settle, args=(fut, local._make_ready, size_mb), daemon=True).start()
            return fut
        self._ask(size_mb)
        return fut

    def _ask(self, size_mb: int) -> None:
        """Ask the maker for as many as the spares and the waiting starts of ``size_mb`` miss."""
        with self._lock:
            waiting = len(self._waiters.get(size_mb, ()))
            ready = len(self._ready.setdefault(size_mb, []))
            want = self.spares + waiting - ready - self._pending[size_mb]
            urgent = any(self._waiters.values())
            hurry = waiting > 0 or ready + self._pending[size_mb] < LOW_SPARES
            channel = self._channel
            if want > 0 and channel is not None:
                self._pending[size_mb] += want
        if want > 0 and channel is not None:
            try:
                channel.send(json.dumps({"take": size_mb, "n": want, "urgent": hurry}).encode())
            except OSError:
                pass
        self._prioritize(urgent)

    def _prioritize(self, urgent: bool) -> None:
        if urgent != self._urgent and self._maker is not None and prioritize_maker(self._maker.pid, urgent):
            self._urgent = urgent

    def _receive(self) -> None:
        release_thread()
        channel = self._channel
        assert channel is not None
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(channel, 4096, 1)
            except OSError:
                data, fds = b"", []
            if not data:
                break
            info = json.loads(data)
            size = info["size"]
            with self._lock:
                self._pending[size] -= 1
                if "error" in info:
                    log.warning("scratch: the maker could not make a /tmp filesystem: %s", info["error"])
                    waiters = self._waiters.get(size)
                    if waiters:  # one start fails with the maker's reason, the others wait on
                        waiters.popleft().set_exception(OSError(errno.EAGAIN, f"no /tmp: {info['error']}"))
                    scratch = None
                else:
                    scratch = Scratch(fd=fds[0], size_mb=size, id=info["id"], _done=self._done)
                    waiters = self._waiters.get(size)
                    if self._stop:
                        scratch._done = None
                        scratch.close()
                    elif waiters:
                        waiters.popleft().set_result(scratch)
                    else:
                        self._ready.setdefault(size, []).append(scratch)
            if scratch is None:
                time.sleep(1)  # do not ask again at once
            self._ask(size)
        if not self._stop:
            log.warning("scratch: the maker process ended; /tmp filesystems are made by a thread of Lamb's")
            self._fall_back()

    def _fall_back(self) -> None:
        local = LocalPool(self.folder / "local", self.spares)
        local.start(tuple(self._ready) or (512,))
        with self._lock:
            self._local, self._channel = local, None
            waiting = [(size, w) for size, ws in self._waiters.items() for w in ws]
            self._waiters.clear()
        for size, waiter in waiting:
            threading.Thread(target=_settle, args=(waiter, local.take, size), daemon=True).start()

    def _done(self, scratch: Scratch) -> None:
        """An environment is done with ``scratch`` (its descriptor is closed): the maker wipes it."""
        channel = self._channel
        if channel is not None:
            try:
                channel.send(json.dumps({"done": scratch.id}).encode())
            except OSError:
                pass

    def describe(self) -> dict:
        with self._lock:
            if self._local is not None:
                return {**self._local.describe(), "maker": False}
            return {"ready": {size: len(s) for size, s in self._ready.items()}, "maker": True}

    def close(self) -> None:
        with self._lock:
            self._stop = True
            ready = [s for spares in self._ready.values() for s in spares]
            self._ready.clear()
            channel, self._channel = self._channel, None
            local = self._local
        for s in ready:
            s._done = None
            s.close()
        if channel is not None:
            try:
                channel.shutdown(socket.SHUT_RDWR)  # wakes the receiving thread
            except OSError:
                pass
            channel.close()
        if self._maker is not None:
            self._maker.kill()
            self._maker.wait()
        if local is not None:
            local.close()


def _settle(fut: concurrent.futures.Future, make, size_mb: int) -> None:
    release_thread()
    try:
        fut.set_result(make(size_mb))
    except Exception as e:  # noqa: BLE001 - the start that waits reports it
        fut.set_exception(e)


def _nice() -> None:
    os.setpriority(os.PRIO_PROCESS, 0, 19)


def maker_main(argv: list[str]) -> None:
    """The maker process: ``{"take": size, "n": k, "urgent": bool}`` answers k prepared /tmp
    filesystems of that size (``{"id", "size"}`` with the descriptor, ``SCM_RIGHTS``, or
    ``{"size", "error"}``); ``{"done": id}`` wipes that one's disk for reuse.

    Spares that no start waits for are made once Lamb has sent nothing for ``QUIET_S``: making a
    disk (a new loop device, a mount) costs the kernel more than its ~2 ms here, and a burst of
    cold starts is served faster without it; a wiped disk is prepared again at once."""
    fd, folder = int(argv[0]), Path(argv[1])
    ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL: never outlive Lamb
    channel = socket.socket(fileno=fd)
    pool = LocalPool(folder / "maker", spares=0)  # Lamb keeps the spares; this pool's thread only wipes
    pool.start(())
    out: dict[int, Scratch] = {}
    wanted: collections.deque = collections.deque()  # sizes asked for, in order
    urgent = 0  # how many of them starts wait for
    ids = 0
    while True:
        # Nothing asked: wait for Lamb. Asked, and a start waits: only look for more news. Else: quiet.
        channel.settimeout(None if not wanted else 0 if urgent else QUIET_S)
        try:
            data = channel.recv(4096)
        except (TimeoutError, BlockingIOError):
            data = None  # quiet (or in a hurry): make the next one asked for
        except OSError:
            return
        if data is not None:
            if not data:
                return  # Lamb is gone
            ask = json.loads(data)
            if "done" in ask:
                scratch = out.pop(ask["done"], None)
                if scratch is not None:
                    pool._release(scratch)
                continue
            wanted.extend([int(ask["take"])] * int(ask["n"]))
            if ask.get("urgent"):
                urgent = len(wanted)  # everything asked so far, at once
            if not urgent:
                continue
        size = wanted.popleft()
        urgent = max(0, urgent - 1)
        try:
            scratch = pool.take(size)
        except Exception as e:  # noqa: BLE001 - Lamb logs it
            channel.send(json.dumps({"size": size, "error": str(e)}).encode())
            continue
        ids += 1
        scratch.id = ids
        try:
            socket.send_fds(channel, [json.dumps({"id": ids, "size": size}).encode()], [scratch.fd])
        except OSError:
            return
        os.close(scratch.fd)  # Lamb holds its own copy; the disk is wiped when Lamb says it is done
        scratch.fd = -1
        out[ids] = scratch


def _wipe(disk: Disk, name: str) -> bool:
    """Remove an environment's directory from ``disk``; whether the disk is as empty as it was made."""
    before = disk.counts()
    shutil.rmtree(name, dir_fd=disk.root, ignore_errors=True)
    if disk.counts()[0] - before[0] > 256:  # more than a megabyte freed: give it back to the host's disk
        fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=disk.root)
        try:
            fcntl.ioctl(fd, FITRIM, struct.pack("=QQQ", 0, (1 << 64) - 1, 0))
        except OSError:
            pass  # no discard: the image keeps its blocks until the disk goes
        finally:
            os.close(fd)
    return disk.counts() == disk.free


def _copy_sparse(source: Path, target: Path) -> None:
    """Copy ``source``'s data and keep its holes (SEEK_DATA/SEEK_HOLE)."""
    src = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(src).st_size
        dst = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.ftruncate(dst, size)
            pos = 0
            while pos < size:
                try:
                    start = os.lseek(src, pos, os.SEEK_DATA)
                except OSError as e:
                    if e.errno == errno.ENXIO:  # only a hole from here on
                        break
                    raise
                end = os.lseek(src, start, os.SEEK_HOLE)
                while start < end:
                    done = os.copy_file_range(src, dst, end - start, start, start)
                    if done <= 0:
                        raise OSError(errno.EIO, "copy_file_range copied nothing")
                    start += done
                pos = end
        finally:
            os.close(dst)
    finally:
        os.close(src)


def _free_blocks(image: Path) -> int:
    out = subprocess.run(["dumpe2fs", "-h", str(image)], check=True, capture_output=True, text=True, timeout=60).stdout
    for line in out.splitlines():
        if line.startswith("Free blocks:"):
            return int(line.split()[-1])
    raise OSError(errno.EINVAL, "dumpe2fs: no free block count")


def _fsmount_ext4(dev: str) -> int:
    """``dev``'s ext4 filesystem as a detached mount (fsopen, fsconfig, fsmount): nosuid, nodev."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    fs = libc.syscall(ctypes.c_long(SYS_FSOPEN), b"ext4", ctypes.c_uint(FSOPEN_CLOEXEC))
    if fs < 0:
        _check(-1, "fsopen")
    try:
        _check(libc.syscall(ctypes.c_long(SYS_FSCONFIG), ctypes.c_int(fs), ctypes.c_uint(FSCONFIG_SET_STRING),
                            b"source", dev.encode(), ctypes.c_int(0)), "fsconfig source")
        _check(libc.syscall(ctypes.c_long(SYS_FSCONFIG), ctypes.c_int(fs), ctypes.c_uint(FSCONFIG_CMD_CREATE),
                            None, None, ctypes.c_int(0)), "fsconfig create")
        fd = libc.syscall(ctypes.c_long(SYS_FSMOUNT), ctypes.c_int(fs), ctypes.c_uint(FSMOUNT_CLOEXEC),
                          ctypes.c_uint(MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV))
        if fd < 0:
            _check(-1, "fsmount")
        return fd
    finally:
        os.close(fs)


def _open_tree(dirfd: int, path: str) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    fd = libc.syscall(ctypes.c_long(SYS_OPEN_TREE), ctypes.c_int(dirfd), path.encode(),
                      ctypes.c_uint(OPEN_TREE_CLONE | O_CLOEXEC))
    if fd < 0:
        _check(-1, "open_tree")
    return fd


def _attach_loop(image: Path) -> tuple[str, int]:
    """A free loop device backed by ``image`` and an open descriptor of it; with autoclear it
    detaches once that descriptor is closed and nothing mounted uses it."""
    ctl = os.open("/dev/loop-control", os.O_RDWR | os.O_CLOEXEC)
    try:
        backing = os.open(image, os.O_RDWR | os.O_CLOEXEC)
        try:
            for _ in range(16):
                n = fcntl.ioctl(ctl, LOOP_CTL_GET_FREE)
                dev = f"/dev/loop{n}"
                loop = os.open(dev, os.O_RDWR | os.O_CLOEXEC)
                # struct loop_config: fd, block_size, loop_info64 (232 bytes), 8 reserved u64
                info = bytearray(232)
                struct.pack_into("=I", info, 52, LO_FLAGS_AUTOCLEAR)  # lo_flags
                config = struct.pack("=II", backing, 0) + bytes(info) + bytes(64)
                try:
                    fcntl.ioctl(loop, LOOP_CONFIGURE, config)
                except OSError as e:
                    os.close(loop)
                    if e.errno == errno.EBUSY:  # taken meanwhile by someone else
                        continue
                    raise
                return dev, loop
            raise OSError(errno.EBUSY, "no free loop device")
        finally:
            os.close(backing)
    finally:
        os.close(ctl)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


if __name__ == "__main__":
    maker_main(sys.argv[1:])
