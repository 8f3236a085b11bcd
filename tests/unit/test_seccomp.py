"""lamb.sandbox.seccomp: the filter libseccomp compiles, installed the way a zygote's child does."""

from __future__ import annotations

import base64
import ctypes
import errno
import os

from lamb.runtimes import zygote
from lamb.sandbox import seccomp

CLONE_NEWUSER = 0x10000000


def test_program_is_classic_bpf():
    bpf = seccomp.program()
    assert bpf is not None, "libseccomp is part of every supported host"
    assert len(bpf) % 8 == 0 and len(bpf) // 8 > len(seccomp.DENIED)
    assert seccomp.zygote_setup() == {"seccomp": base64.b64encode(bpf).decode()}
    assert "libseccomp" in seccomp.describe()


def _in_filtered_child(check) -> int:
    """Run ``check()`` in a forked child under the filter; its exit code (0: as expected)."""
    pid = os.fork()
    if pid == 0:
        try:
            zygote.load_filter(seccomp.zygote_setup()["seccomp"])
            ctypes.CDLL(None).prctl(zygote.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            zygote.install_filter()
            os._exit(0 if check() else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_installed_filter_refuses_new_user_namespaces_and_allows_fork():
    libc = ctypes.CDLL(None, use_errno=True)

    def check() -> bool:
        refused = libc.unshare(CLONE_NEWUSER) == -1 and ctypes.get_errno() == errno.EPERM
        child = os.fork()
        if child == 0:
            os._exit(3)
        _, status = os.waitpid(child, 0)
        return refused and os.waitstatus_to_exitcode(status) == 3

    assert _in_filtered_child(check) == 0


def test_off_switch(monkeypatch):
    monkeypatch.setenv("LAMB_SECCOMP", "off")
    seccomp.program.cache_clear()
    try:
        assert seccomp.program() is None
        assert seccomp.zygote_setup() == {}
        assert "LAMB_SECCOMP=off" in seccomp.describe()
    finally:
        monkeypatch.delenv("LAMB_SECCOMP")
        seccomp.program.cache_clear()
