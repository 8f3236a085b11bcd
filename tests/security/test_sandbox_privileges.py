"""Promise: no new privileges inside an environment (Docker's default seccomp denials, and more).

Each call is made with arguments the kernel itself would refuse with another error (or
accept), so EPERM proves the filter answered (``lamb.sandbox.seccomp``). Ordinary process
work (fork, threads, subprocesses) still works.
"""

from __future__ import annotations

import pytest

from .conftest import create, invoke, unique

PROBE = r'''
import ctypes, errno, os, platform, subprocess, threading

# (x86_64, aarch64) system call numbers
NR = {
    "unshare": (272, 97), "setns": (308, 268), "mount": (165, 40), "umount2": (166, 39),
    "ptrace": (101, 117), "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218),
    "bpf": (321, 280), "perf_event_open": (298, 241), "pivot_root": (155, 41), "kexec_load": (246, 104),
    "init_module": (175, 105), "userfaultfd": (323, 282), "clone": (56, 220), "clone3": (435, 435),
    "open_by_handle_at": (304, 265), "process_vm_readv": (310, 270), "fsopen": (430, 430),
    "io_uring_setup": (425, 425), "kcmp": (312, 272), "reboot": (169, 142),
}
CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWNS = 0x10000000, 0x40000000, 0x00020000
SIGCHLD = 17
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
ARCH = {"x86_64": 0, "aarch64": 1}[platform.machine()]

def call(name, *args):
    ctypes.set_errno(0)
    rc = libc.syscall(ctypes.c_long(NR[name][ARCH]), *[ctypes.c_long(a) for a in args])
    if rc == 0 and name == "clone":
        os._exit(0)  # a child in a new namespace: the filter let it through
    return "ok" if rc >= 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))

def handler(event, context):
    child = subprocess.Popen(["/bin/sleep", "30"])
    try:
        out = {
            "unshare_user": call("unshare", CLONE_NEWUSER),
            "unshare_net": call("unshare", CLONE_NEWNET),
            "clone_user": call("clone", CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0),
            "clone_mount_ns": call("clone", CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0),
            "clone3": call("clone3", 0, 0),
            "setns_bad_fd": call("setns", -1, 0),
            "mount_missing_target": call("mount", 0, 0, 0, 0, 0),
            "umount2_missing": call("umount2", 0, 0),
            "pivot_root_null": call("pivot_root", 0, 0),
            "ptrace_attach_own_child": call("ptrace", 16, child.pid, 0, 0),  # PTRACE_ATTACH
            "ptrace_traceme": call("ptrace", 0, 0, 0, 0),
            "process_vm_readv_null": call("process_vm_readv", child.pid, 0, 0, 0, 0, 0),
            "kcmp_self": call("kcmp", os.getpid(), child.pid, 0, 0, 0),
            "keyctl_bad_op": call("keyctl", 9999, 0, 0, 0, 0),
            "add_key_null": call("add_key", 0, 0, 0, 0, 0),
            "request_key_null": call("request_key", 0, 0, 0, 0),
            "bpf_bad_cmd": call("bpf", 9999, 0, 0),
            "perf_event_open_null": call("perf_event_open", 0, 0, -1, -1, 0),
            "userfaultfd": call("userfaultfd", 0),
            "io_uring_setup_null": call("io_uring_setup", 1, 0),
            "fsopen_null": call("fsopen", 0, 0),
            "open_by_handle_at_bad": call("open_by_handle_at", -1, 0, 0),
            "kexec_load_null": call("kexec_load", 0, 0, 0, 0),
            "init_module_null": call("init_module", 0, 0, 0),
            "reboot_bad_magic": call("reboot", 0, 0, 0, 0),
        }
    finally:
        child.kill()
        child.wait()
    # What must still work.
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    _, status = os.waitpid(pid, 0)
    box = []
    t = threading.Thread(target=lambda: box.append(1))
    t.start()
    t.join()
    out["fork_exit"] = os.WEXITSTATUS(status)
    out["thread"] = box == [1]
    out["subprocess"] = subprocess.run(["/bin/sh", "-c", "echo hi"], capture_output=True, text=True).stdout
    return out
'''


def _probe(server) -> dict:
    lam = server.client()
    name = unique("privs")
    create(lam, name, PROBE, Timeout=30)
    resp, out = invoke(lam, name, {})
    assert resp.get("FunctionError") is None, out
    return out


@pytest.fixture(params=["linux", "process"])
def probed(request, _server_pool):
    from .conftest import server_for

    flags = ("--network", "isolated") if request.param == "linux" else ()
    return _probe(server_for(_server_pool, request.param, *flags))


def test_no_new_namespaces_mounts_keyrings_bpf_perf_or_ptrace(probed):
    refused = {k: v for k, v in probed.items() if k not in ("clone3", "fork_exit", "thread", "subprocess")}
    assert {k: v for k, v in refused.items() if v != "EPERM"} == {}
    assert probed["clone3"] == "ENOSYS"  # as Docker: C libraries fall back to clone, whose flags are filtered


def test_ordinary_process_work_still_works(probed):
    assert probed["fork_exit"] == 7
    assert probed["thread"] is True
    assert probed["subprocess"] == "hi\n"


def test_python_init_fallback_installs_the_filter_too(tmp_path):
    """Without a C compiler (LAMB_INIT=python) the runtime is forked by a Python PID 1: same filter."""
    from .conftest import LambServer

    server = LambServer(tmp_path, env={"LAMB_INIT": "python"}, extra_args=["--sandbox", "linux"]).start()
    try:
        assert "Python init" in server.get_json("/_lamb/health")["sandbox_detail"]
        out = _probe(server)
        assert out["unshare_user"] == out["mount_missing_target"] == out["ptrace_traceme"] == "EPERM"
    finally:
        server.close()
