"""The isolating sandbox: each check runs inside a real environment and asserts what AWS promises.

Skipped where the host cannot run the linux backend (not root, no cgroups).
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time

import pytest

from .conftest import create, invoke, unique

PROBE = r'''
import errno, json, os, socket, sys, time

STATE = {"n": 0}

def handler(event, context):
    STATE["n"] += 1
    op = event.get("op")
    if op == "ids":
        return {"uid": os.getuid(), "gid": os.getgid(), "pid": os.getpid(), "init": open("/proc/1/comm").read().strip(),
                "procs": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
                "root": sorted(os.listdir("/")), "task": sorted(os.listdir("/var/task")),
                "cwd": os.getcwd(), "env": {k: os.environ.get(k) for k in ("LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR")}}
    if op == "write_task":
        try:
            open("/var/task/new.txt", "w").write("x")
            return "wrote"
        except OSError as e:
            return errno.errorcode[e.errno]
    if op == "exists":
        return {p: os.path.exists(p) for p in event["paths"]}
    if op == "read":
        try:
            return open(event["path"]).read()[:100]
        except OSError as e:
            return errno.errorcode[e.errno]
    if op == "tmp_put":
        open("/tmp/" + event["name"], "w").write(event["value"])
        return sorted(os.listdir("/tmp"))
    if op == "tmp_put_slow":
        open("/tmp/" + event["name"], "w").write("x")
        time.sleep(1)
        return sorted(os.listdir("/tmp"))
    if op == "tmp_list":
        return sorted(os.listdir("/tmp"))
    if op == "tmp_fill":
        st = os.statvfs("/tmp")
        written = 0
        try:
            with open("/tmp/fill", "wb") as f:
                chunk = b"\0" * (1 << 20)
                while written < event["mb"] << 20:
                    f.write(chunk)
                    f.flush()
                    written += len(chunk)
            return {"size_mb": st.f_blocks * st.f_frsize >> 20, "error": None, "written_mb": written >> 20}
        except OSError as e:
            return {"size_mb": st.f_blocks * st.f_frsize >> 20, "error": errno.errorcode[e.errno], "written_mb": written >> 20}
        finally:
            try:
                os.unlink("/tmp/fill")
            except OSError:
                pass
    if op == "alloc":
        hog = []
        for _ in range(event["mb"] // 8):
            hog.append(bytearray(8 << 20))
        return "allocated"
    if op == "fds":
        fds = []
        try:
            while len(fds) < 5000:
                fds.append(os.open("/dev/null", os.O_RDONLY))
            return {"opened": len(fds), "error": None}
        except OSError as e:
            return {"opened": len(fds), "error": errno.errorcode[e.errno]}
        finally:
            for f in fds:
                os.close(f)
    if op == "forkbomb":
        children = []
        try:
            while len(children) < 5000:
                pid = os.fork()
                if pid == 0:
                    time.sleep(30)
                    os._exit(0)
                children.append(pid)
            return {"forked": len(children), "error": None}
        except OSError as e:
            return {"forked": len(children), "error": errno.errorcode[e.errno]}
        finally:
            for pid in children:
                try:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                except OSError:
                    pass
    if op == "orphans":
        import subprocess
        for _ in range(20):
            subprocess.run(["/bin/sh", "-c", "sleep 0.2 &"], check=True)
        time.sleep(1.0)
        states = {}
        for p in os.listdir("/proc"):
            if p.isdigit():
                try:
                    states[p] = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0]
                except OSError:
                    pass
        return {"zombies": sorted(p for p, st in states.items() if st == "Z"), "procs": len(states)}
    if op == "runtime_api":
        return os.environ["AWS_LAMBDA_RUNTIME_API"]
    if op == "steal":
        host, port = event["addr"].rsplit(":", 1)
        try:
            s = socket.create_connection((host, int(port)), timeout=2)
            s.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
            data = s.recv(100)
            return {"got": data.decode("latin-1")}
        except OSError as e:
            return {"error": type(e).__name__}
    return {"n": STATE["n"]}
'''


@pytest.fixture(scope="module")
def linux(lamb_server):
    health = lamb_server.get_json("/_lamb/health")
    if health["sandbox"] != "linux":
        pytest.fail(f"linux sandbox unavailable: {health.get('sandbox_detail')}")
    return lamb_server


@pytest.fixture(scope="module")
def probe(linux, lam):
    name = unique("iso")
    create(lam, name, PROBE, MemorySize=1024, Timeout=30, EphemeralStorage={"Size": 600})
    return name


def call(lam, fn, **event):
    resp, out = invoke(lam, fn, event)
    assert resp["StatusCode"] == 200
    return resp, out


def test_identity_view_and_processes(lam, probe, linux):
    resp, out = call(lam, probe, op="ids")
    assert resp.get("FunctionError") is None, out
    assert out["uid"] != 0 and out["gid"] != 0
    # Its own PID namespace: PID 1 is the environment's init (it reaps orphans), then the runtime.
    assert out["procs"] == sorted({1, out["pid"]})
    # The C init (lamb_init.c) when the host could build it, as Lamb announces; else the Python init.
    c_init = "PID 1: lamb-init" in linux.get_json("/_lamb/health").get("sandbox_detail", "")
    assert (out["init"] == "lamb-init") == c_init
    assert c_init or shutil.which("cc") is None
    assert out["cwd"] == "/var/task"
    assert out["task"] == ["fn.py"]
    assert out["env"] == {"LAMBDA_TASK_ROOT": "/var/task", "LAMBDA_RUNTIME_DIR": "/var/runtime"}
    assert {"var", "tmp", "opt", "proc", "dev", "usr", "etc"} <= set(out["root"])


def test_var_task_is_read_only(lam, probe):
    assert call(lam, probe, op="write_task")[1] == "EROFS"


def test_no_access_to_lamb_data_or_other_code(lam, probe, linux):
    other = unique("other")
    create(lam, other, "SECRET = 1\ndef handler(e, c):\n    return 1\n")
    data = str(linux.data_dir)
    paths = [data, f"{data}/lamb.db", f"{data}/blobs", f"{data}/code", str(linux.base)]
    _, out = call(lam, probe, op="exists", paths=paths)
    assert out == {p: False for p in paths}
    assert call(lam, probe, op="read", path="/etc/shadow")[1] in ("EACCES", "ENOENT")


def test_tmp_size_limit_is_enospc(lam, probe):
    resp, out = call(lam, probe, op="tmp_fill", mb=700)
    assert resp.get("FunctionError") is None, out
    assert out["size_mb"] == 600
    assert out["error"] == "ENOSPC"
    assert 590 <= out["written_mb"] <= 600


def test_tmp_persists_in_an_environment_and_is_private(lam, probe, linux):
    assert "mine.txt" in call(lam, probe, op="tmp_put", name="mine.txt", value="1")[1]
    assert "mine.txt" in call(lam, probe, op="tmp_list")[1]  # same warm environment
    other = unique("tmpother")
    create(lam, other, PROBE)
    assert call(lam, other, op="tmp_list")[1] == []


def test_memory_limit_is_out_of_memory(lam, linux):
    name = unique("oom")
    create(lam, name, PROBE, MemorySize=128, Timeout=30)
    resp, out = invoke(lam, name, {"op": "alloc", "mb": 1024}, LogType="Tail")
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Runtime.OutOfMemory"
    assert out["errorMessage"].endswith("Error: Runtime exited with error: signal: killed")
    import base64

    log = base64.b64decode(resp["LogResult"]).decode()
    assert "Max Memory Used: 128 MB" in log
    assert "Status: error\tError Type: Runtime.OutOfMemory" in log
    # A new environment serves the next invocation.
    resp, out = call(lam, name, op="count")
    assert resp.get("FunctionError") is None and out == {"n": 1}


def test_file_descriptor_limit(lam, probe):
    resp, out = call(lam, probe, op="fds")
    assert out["error"] == "EMFILE"
    assert 1000 <= out["opened"] <= 1024


def test_fork_bomb_is_contained(lam, linux):
    name = unique("bomb")
    create(lam, name, PROBE, MemorySize=3008, Timeout=60)
    resp, out = invoke(lam, name, {"op": "forkbomb"})
    # Either the process quota stops it (EAGAIN) or memory does: never the host.
    if resp.get("FunctionError") is None:
        assert out["error"] == "EAGAIN" and 900 < out["forked"] < 1024
    else:
        assert out["errorType"] in ("Runtime.OutOfMemory", "Runtime.ExitError")
    assert linux.get_json("/_lamb/health")["status"] == "ok"
    resp, out = call(lam, name, op="count")
    assert resp.get("FunctionError") is None, out
    assert out["n"] >= 1


def test_runtime_api_only_serves_its_environment(lam, linux):
    """Every environment sees the same AWS_LAMBDA_RUNTIME_API (as on AWS); connections reach their own only.

    The probe asks the Runtime API for the next event while the victim is busy. Had that
    connection reached the victim's environment, the victim's invocation would end
    without its response (a runtime asking for more work has finished, as AWS treats
    it); it reaches the probe's own environment instead.
    """
    victim, thief = unique("victim"), unique("thief")
    create(lam, victim, PROBE)
    create(lam, thief, PROBE)  # not the shared probe: its own invocation ends when it asks for more work
    addr = call(lam, victim, op="runtime_api")[1]
    assert call(lam, thief, op="runtime_api")[1] == addr
    results = {}

    def busy_victim():
        results["victim"] = invoke(linux.client(), victim, {"op": "tmp_put_slow", "name": "mine"})[1]

    t = threading.Thread(target=busy_victim)
    t.start()
    time.sleep(0.3)
    invoke(lam, thief, {"op": "steal", "addr": addr})
    t.join(10)
    assert results.get("victim") == ["mine"], results
    # A process of the host other than an environment gets nothing.
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=2)
    try:
        s.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(100) == b""
    except ConnectionResetError:
        pass
    finally:
        s.close()
    # The victim is unharmed.
    assert call(lam, victim, op="count")[1] == {"n": 3}


def test_concurrent_environments_do_not_share_tmp(lam, linux):
    name = unique("par")
    create(lam, name, PROBE)
    results = []

    def run(i):
        results.append(invoke(linux.client(), name, {"op": "tmp_put_slow", "name": f"f{i}"})[1])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [1, 1], results


def test_orphans_are_reaped(lam, probe):
    """Grandchildren whose parent exited are adopted and reaped by the environment's init."""
    resp, out = call(lam, probe, op="orphans")
    assert resp.get("FunctionError") is None, out
    assert out["zombies"] == []
    assert out["procs"] == 2  # init and the runtime


def test_python_init_fallback(tmp_path):
    """Without a C compiler (forced here by LAMB_INIT=python) PID 1 is a forked Python init that does the same."""
    from .conftest import LambServer

    server = LambServer(tmp_path, env={"LAMB_INIT": "python"}).start()
    try:
        if server.get_json("/_lamb/health")["sandbox"] != "linux":
            pytest.fail("linux sandbox unavailable")
        lam = server.client()
        name = unique("pyinit")
        create(lam, name, PROBE)
        _, out = call(lam, name, op="ids")
        assert out["procs"] == sorted({1, out["pid"]})
        assert out["init"] != "lamb-init"
        _, out = call(lam, name, op="orphans")
        assert out["zombies"] == []
    finally:
        server.close()
