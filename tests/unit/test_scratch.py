"""lamb.sandbox.scratch: a disk filesystem for /tmp, handed over as a detached mount (needs root)."""

from __future__ import annotations

import ctypes
import errno
import os

from lamb.sandbox import scratch


def test_a_filesystem_of_the_size_asked_for_attaches_and_fills_to_enospc(tmp_path):
    assert scratch.unavailable_reason() is None
    pool = scratch.ScratchPool(tmp_path / "scratch")
    pool.start(sizes=())
    fs = pool.take(64)
    try:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                libc.syscall.restype = ctypes.c_long
                assert libc.unshare(0x00020000) == 0  # a mount namespace of its own, as an environment
                assert libc.mount(None, b"/", None, (1 << 14) | (1 << 18), None) == 0
                target = tmp_path / "tmp"
                target.mkdir()
                assert libc.syscall(scratch.SYS_MOVE_MOUNT, fs.fd, b"", scratch.AT_FDCWD, str(target).encode(), 4) == 0
                st = os.statvfs(target)
                assert st.f_blocks * st.f_frsize >> 20 == 64
                assert os.listdir(target) == []
                written = 0
                try:
                    with open(target / "fill", "wb") as f:
                        while True:
                            f.write(b"\0" * (1 << 20))
                            f.flush()
                            written += 1
                except OSError as e:
                    assert e.errno == errno.ENOSPC
                assert 60 <= written <= 64
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        fs.close()
        pool.close()
