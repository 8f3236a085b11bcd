"""lamb.sandbox.scratch: a disk filesystem for /tmp, handed over as a detached mount, reused after a wipe
(needs root and loop devices)."""

from __future__ import annotations

import ctypes
import errno
import os
import time
import traceback

from lamb.sandbox import scratch


def _fill_in_a_mount_namespace(fd: int, target, size_mb: int) -> None:
    """Attach ``fd`` at ``target`` in a mount namespace of a child, as an environment does; write
    ``size_mb`` MB as an unprivileged user, then one byte more (which must fail with ENOSPC)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
            assert libc.unshare(0x00020000) == 0  # a mount namespace of its own, as an environment
            assert libc.mount(None, b"/", None, (1 << 14) | (1 << 18), None) == 0
            target.mkdir()
            assert libc.syscall(scratch.SYS_MOVE_MOUNT, fd, b"", scratch.AT_FDCWD, str(target).encode(), 4) == 0
            st = os.statvfs(target)
            assert st.f_blocks * st.f_frsize >> 20 == size_mb
            assert os.listdir(target) == []
            os.chdir(target)  # the test's folder above it is root's only
            os.setgid(1051)
            os.setuid(1051)  # no root privilege over the filesystem's blocks
            with open("fill", "wb") as f:
                for _ in range(size_mb):
                    f.write(b"\0" * (1 << 20))
                f.flush()
                os.fsync(f.fileno())
            try:
                with open("fill", "ab") as f:
                    f.write(b"x")
                    f.flush()
                    os.fsync(f.fileno())
                code = 2
            except OSError as e:
                code = 0 if e.errno == errno.ENOSPC else 3
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def _until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def _listing(fd: int) -> list[str]:
    dirfd = os.open(".", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)  # fd is an O_PATH descriptor
    try:
        return os.listdir(dirfd)
    finally:
        os.close(dirfd)


def test_a_filesystem_of_the_size_asked_for_holds_exactly_that_size(tmp_path):
    assert scratch.unavailable_reason() is None
    pool = scratch.ScratchPool(tmp_path / "scratch")  # from the maker process
    pool.start(sizes=())
    fs = pool.take(512)  # AWS's smallest /tmp
    try:
        assert pool.describe()["maker"] is True
        _fill_in_a_mount_namespace(fs.fd, tmp_path / "tmp", 512)
    finally:
        fs.close()
        pool.close()


def test_a_wiped_filesystem_is_handed_out_again_empty_and_whole(tmp_path):
    pool = scratch.LocalPool(tmp_path / "scratch", spares=0)
    pool.start(sizes=())
    try:
        first = pool.take(512)
        dev = os.stat(first.fd).st_dev
        os.mkdir("left", dir_fd=first.fd)
        fd = os.open("left/secret", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=first.fd)
        os.write(fd, b"\1" * (3 << 20))
        os.close(fd)
        first.close()  # the environment is gone: wiped in the background, then ready again
        _until(lambda: pool.describe()["reused"] >= 1)
        assert pool.describe()["made"] == 1 and pool.describe()["reused"] == 1
        again = pool.take(512)
        try:
            assert os.stat(again.fd).st_dev == dev  # the same filesystem
            assert _listing(again.fd) == []
            _fill_in_a_mount_namespace(again.fd, tmp_path / "tmp", 512)
        finally:
            again.close()
    finally:
        pool.close()


def test_without_its_maker_the_pool_makes_its_own(tmp_path):
    pool = scratch.ScratchPool(tmp_path / "scratch")
    pool.start(sizes=())
    try:
        assert pool._maker is not None
        pool._maker.kill()
        _until(lambda: not pool.describe()["maker"])
        assert pool.describe()["maker"] is False
        fs = pool.take(64)
        assert os.statvfs(fs.fd).f_blocks * 4096 >> 20 == 64
        fs.close()
    finally:
        pool.close()


def test_a_disk_is_not_handed_out_while_a_file_of_the_old_environment_is_still_open(tmp_path):
    pool = scratch.LocalPool(tmp_path / "scratch", spares=0)
    pool.start(sizes=())
    try:
        first = pool.take(512)
        held = os.open("held", os.O_CREAT | os.O_RDWR, 0o644, dir_fd=first.fd)  # a process still dying holds it
        os.write(held, b"\1" * (2 << 20))
        first.close()
        deadline = time.monotonic() + 3 * scratch.WIPE_RETRY_S
        while time.monotonic() < deadline:
            assert pool.describe()["reused"] == 0  # its blocks have not come back
            time.sleep(0.1)
        os.close(held)
        _until(lambda: pool.describe()["reused"] >= 1)
        assert pool.describe()["reused"] == 1
    finally:
        pool.close()


def test_a_tree_deeper_than_rmtree_recurses_is_removed_or_its_disk_dropped(tmp_path):
    pool = scratch.LocalPool(tmp_path / "scratch", spares=0)
    pool.start(sizes=())
    try:
        first = pool.take(512)
        fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY, dir_fd=first.fd)
        for _ in range(1500):  # deeper than shutil.rmtree recurses
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
        os.close(fd)
        first.close()
        _until(lambda: not pool.describe()["disks"].get(512) or pool.describe()["reused"])
        if pool.describe()["reused"]:  # a Python whose rmtree does not recurse removed it all
            again = pool.take(512)
            assert _listing(again.fd) == []
            again.close()
        else:  # dropped: never handed out again (Python 3.11's rmtree, RecursionError)
            assert pool.describe()["disks"][512] == 0
    finally:
        pool.close()
