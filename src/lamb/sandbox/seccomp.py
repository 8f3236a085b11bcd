"""The seccomp filter of every environment: no new privileges inside.

AWS's execution environments refuse the system calls that open kernel surface a
function has no use for (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html;
its Firecracker jailer filters system calls). The reference list is Docker's
default seccomp profile (https://docs.docker.com/engine/security/seccomp/,
moby/profiles ``seccomp/default.json``) as it applies to a process without
capabilities: what it does not allow, this filter refuses with EPERM. Lamb goes
further than Docker in one place: ``ptrace``, ``process_vm_readv/writev``,
``kcmp`` and ``pidfd_getfd`` are refused outright (Docker allows them on kernels
≥ 4.8), so no process reads or steers another, even of its own environment.
``clone3`` answers ENOSYS, as in Docker: its flags are in memory a filter cannot
read, and C libraries then fall back to ``clone``, whose namespace flags are
refused.

The filter is compiled by libseccomp (the maintained library behind every
container runtime's filters; the system's ``libseccomp.so.2``, called through
ctypes: its Python bindings are built for one interpreter only, and this runs in
Lamb's) to classic BPF once, when Lamb starts. Lamb hands the program to each
zygote; the zygote's child installs it (``PR_SET_SECCOMP``) as the last step of
becoming an environment, after dropping to its uid with no_new_privs, in both
backends and whichever init is PID 1 (lamb-init or the Python fallback). Every
process the function starts inherits it. PID 1 is not filtered: it only reaps.
Without libseccomp there is no filter, and ``Sandbox.describe`` says so.
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import errno
import functools
import logging
import os
import tempfile

log = logging.getLogger("lamb.sandbox")

# Docker's default profile, for a process without capabilities: what it does not allow.
DENIED = (
    # accounting, clocks, reboot, swap, system logging
    "acct", "clock_adjtime", "clock_settime", "settimeofday", "stime", "adjtimex", "reboot", "swapon", "swapoff",
    "syslog", "vhangup",
    # kernel modules and kexec
    "create_module", "delete_module", "finit_module", "init_module", "get_kernel_syms", "query_module",
    "kexec_file_load", "kexec_load",
    # kernel keyrings (not namespaced)
    "add_key", "keyctl", "request_key",
    # BPF, performance events, userfaultfd, io_uring
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    # namespaces and mounts
    "unshare", "setns", "mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick",
    "move_mount", "open_tree", "mount_setattr", "quotactl", "quotactl_fd", "fanotify_init",
    # other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    # file handles, NUMA policy, I/O ports, legacy
    "name_to_handle_at", "open_by_handle_at", "get_mempolicy", "set_mempolicy", "mbind", "move_pages",
    "ioperm", "iopl", "lookup_dcookie", "nfsservctl", "sysfs", "_sysctl", "uselib", "ustat", "vm86", "vm86old",
)
# clone(2) with any of these flags makes a new namespace (its flags are argument 0 on
# every architecture Lamb runs on; s390 swaps the first two arguments).
CLONE_NAMESPACE_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_MASKED_EQ = 7
SCMP_FLTATR_CTL_OPTIMIZE = 8


def _errno_action(code: int) -> int:
    return 0x00050000 | code  # SCMP_ACT_ERRNO(code)


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


class _Version(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint)]


@functools.lru_cache(maxsize=1)
def _library() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.restype = ctypes.c_int
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_ArgCmp)]
    lib.seccomp_export_bpf.restype = ctypes.c_int
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_version.restype = ctypes.POINTER(_Version)
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    return lib


@functools.lru_cache(maxsize=1)
def program() -> bytes | None:
    """The filter as classic BPF (``struct sock_filter`` array), or None without libseccomp.

    ``LAMB_SECCOMP=off`` turns it off (for debugging a function that needs a refused call).
    """
    if os.environ.get("LAMB_SECCOMP") == "off":
        return None
    lib = _library()
    if lib is None:
        log.warning("seccomp: no libseccomp (libseccomp.so.2) on this host; environments run without a system call filter")
        return None
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        return None
    try:
        # A binary tree of system call numbers instead of a list: fewer instructions per
        # call, and a quicker install (the kernel runs the filter over every call number then).
        lib.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)
        deny = _errno_action(errno.EPERM)
        for name in DENIED:
            _add(lib, ctx, deny, name)
        _add(lib, ctx, _errno_action(errno.ENOSYS), "clone3")
        for flag in CLONE_NAMESPACE_FLAGS:
            _add(lib, ctx, deny, "clone", _ArgCmp(0, SCMP_CMP_MASKED_EQ, flag, flag))
        with tempfile.TemporaryFile() as f:
            rc = lib.seccomp_export_bpf(ctx, f.fileno())
            if rc != 0:
                raise OSError(-rc, f"seccomp_export_bpf: {os.strerror(-rc)}")
            f.seek(0)
            return f.read()
    finally:
        lib.seccomp_release(ctx)


def _add(lib: ctypes.CDLL, ctx: int, action: int, name: str, *cmps: _ArgCmp) -> None:
    nr = lib.seccomp_syscall_resolve_name(name.encode())
    if nr == -1:  # __NR_SCMP_ERROR: a name this libseccomp does not know
        log.debug("seccomp: libseccomp does not know %s", name)
        return
    array = (_ArgCmp * len(cmps))(*cmps) if cmps else None
    rc = lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), array)
    # A system call this architecture does not have (a negative pseudo number) is simply absent.
    if rc != 0 and nr >= 0:
        raise OSError(-rc, f"seccomp_rule_add({name}): {os.strerror(-rc)}")


def describe() -> str:
    """For the start-up line: which filter environments get."""
    if program() is None:
        why = "LAMB_SECCOMP=off" if os.environ.get("LAMB_SECCOMP") == "off" else "no libseccomp"
        return f"no seccomp filter ({why})"
    v = _library().seccomp_version().contents  # type: ignore[union-attr]
    return f"seccomp filter of Docker's default denials (libseccomp {v.major}.{v.minor}.{v.micro})"


def zygote_setup() -> dict:
    """What a zygote's setup message carries for the filter (``{"seccomp": base64}``, or nothing)."""
    bpf = program()
    return {"seccomp": base64.b64encode(bpf).decode()} if bpf is not None else {}
