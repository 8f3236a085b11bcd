"""/tmp on disk: a small ext4 filesystem of EphemeralStorage MB per environment.

AWS: /tmp holds 512 MB to 10,240 MB (EphemeralStorage), writing past it fails with
ENOSPC, and it does not count toward MemorySize
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html).
A tmpfs has the right size but its pages are charged to the environment's memory
cgroup; page cache of a disk filesystem is charged too, but is written back and
reclaimed under pressure, so filling /tmp never kills the function.

Each filesystem is a sparse image file formatted with ``mkfs.ext4`` (no journal, no
reserved blocks), attached to a loop device (``LOOP_CONFIGURE`` with autoclear, the image
unlinked at once: the disk space goes back when the environment is gone, even after a
crash), mounted in Lamb's namespace, cloned as a detached mount (``open_tree``), and
unmounted again. That takes 20–60 ms, so a background thread makes them ahead of demand
per size (the sizes last asked for); a start takes one and sends the descriptor with the
spawn request, and the environment attaches it at /tmp (``move_mount``, ~30 µs). Projects
quotas would be cheaper but need a quota format this kernel may lack (see docs/performance.md).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import shutil
import struct
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("lamb.sandbox")

SYS_OPEN_TREE, SYS_MOVE_MOUNT = 428, 429  # the same on x86_64 and aarch64
OPEN_TREE_CLONE = 1
O_CLOEXEC = 0o2000000
AT_FDCWD = -100
MNT_DETACH = 2
MS_NOSUID, MS_NODEV = 2, 4
LOOP_CTL_GET_FREE, LOOP_CONFIGURE = 0x4C82, 0x4C0A
LO_FLAGS_AUTOCLEAR = 4
SPARES_PER_SIZE = 4


def unavailable_reason() -> str | None:
    """Why /tmp cannot be on disk here (then it stays a tmpfs), or None."""
    if os.geteuid() != 0:
        return "not running as root"
    if shutil.which("mkfs.ext4") is None:
        return "no mkfs.ext4 (install e2fsprogs)"
    if not os.path.exists("/dev/loop-control"):
        return "no loop devices"
    if os.uname().machine not in ("x86_64", "aarch64"):
        return "open_tree/move_mount numbers unknown on this machine"
    return None


@dataclass
class Scratch:
    fd: int  # a detached mount of the filesystem (open_tree); attached at /tmp by the environment
    size_mb: int

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class ScratchPool:
    """Disk filesystems for /tmp, made ahead of demand per size."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._ready: dict[int, list[Scratch]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._seq = 0

    def start(self, sizes: tuple[int, ...] = (512,)) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            for size in sizes:
                self._ready.setdefault(size, [])
        self._thread = threading.Thread(target=self._fill, name="lamb-scratch", daemon=True)
        self._thread.start()

    def take(self, size_mb: int) -> Scratch:
        """A filesystem of ``size_mb`` (made on the spot, 20–60 ms, when none is ready)."""
        scratch = self._spare(size_mb)
        return scratch if scratch is not None else self._make(size_mb)

    async def acquire(self, size_mb: int) -> Scratch:
        """As ``take``, but one made on the spot is made in a worker thread: the event loop and
        other starts go on meanwhile (a burst that has used the spares up)."""
        scratch = self._spare(size_mb)
        if scratch is not None:
            return scratch
        return await asyncio.get_running_loop().run_in_executor(None, self._make, size_mb)

    def _spare(self, size_mb: int) -> Scratch | None:
        with self._lock:
            spares = self._ready.setdefault(size_mb, [])
            scratch = spares.pop() if spares else None
        self._wake.set()
        return scratch

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        with self._lock:
            for spares in self._ready.values():
                for s in spares:
                    s.close()
            self._ready.clear()

    # ------------------------------------------------------------ making
    def _fill(self) -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # mkfs inherits it
        except OSError:
            pass
        while not self._stop:
            with self._lock:
                short = [size for size, spares in self._ready.items() if len(spares) < SPARES_PER_SIZE]
            if not short:
                self._wake.wait()
                self._wake.clear()
                continue
            try:
                scratch = self._make(short[0])
            except Exception as e:  # noqa: BLE001 - logged; starts make their own
                log.warning("scratch: could not make a /tmp filesystem: %s", e)
                self._wake.wait(5)
                self._wake.clear()
                continue
            with self._lock:
                if self._stop:
                    scratch.close()
                    return
                self._ready.setdefault(scratch.size_mb, []).append(scratch)

    def _make(self, size_mb: int) -> Scratch:
        with self._lock:
            self._seq += 1
            n = self._seq
        image = self.folder / f"tmp-{n}.img"
        mnt = self.folder / f"mnt-{n}"
        with open(image, "wb") as f:
            f.truncate(size_mb << 20)
        try:
            # No journal, no reserved blocks, few inodes: nearly all of it is usable, as on AWS.
            subprocess.run(["mkfs.ext4", "-q", "-F", "-O", "^has_journal,^resize_inode", "-m", "0", "-I", "128",
                            "-N", str(max(1024, size_mb * 8)),
                            "-E", "lazy_itable_init=1,nodiscard,root_owner=0:0", str(image)],
                           check=True, capture_output=True, timeout=120)
            dev, loop = _attach_loop(image)
        finally:
            image.unlink()  # the loop device holds it open; its space goes back when the loop detaches
        mnt.mkdir()
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        try:
            _check(libc.mount(dev.encode(), str(mnt).encode(), b"ext4", MS_NOSUID | MS_NODEV, b"minixdf"), "mount")
            try:
                # ext4 keeps 2 % back for delayed allocation; /tmp gets all of its size, as on AWS.
                try:
                    Path(f"/sys/fs/ext4/{os.path.basename(dev)}/reserved_clusters").write_text("0")
                except OSError:
                    pass
                os.chmod(mnt, 0o1777)
                os.rmdir(mnt / "lost+found")
                fd = libc.syscall(ctypes.c_long(SYS_OPEN_TREE), ctypes.c_int(AT_FDCWD), str(mnt).encode(),
                                  ctypes.c_uint(OPEN_TREE_CLONE | O_CLOEXEC))
                if fd < 0:
                    _check(-1, "open_tree")
            finally:
                libc.umount2(str(mnt).encode(), MNT_DETACH)  # the detached clone keeps it alive
        finally:
            mnt.rmdir()
            os.close(loop)  # autoclear: the loop detaches once the filesystem on it is gone
        return Scratch(fd=fd, size_mb=size_mb)


def _attach_loop(image: Path) -> tuple[str, int]:
    """A free loop device backed by ``image`` and an open descriptor of it; with autoclear it
    detaches once that descriptor is closed and nothing mounted uses it."""
    import fcntl

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
                    if e.errno == 16:  # EBUSY: taken meanwhile by someone else
                        continue
                    raise
                return dev, loop
            raise OSError(16, "no free loop device")
        finally:
            os.close(backing)
    finally:
        os.close(ctl)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
