"""Processes a function starts belong to its execution environment and end with it.

On AWS an execution environment is a microVM: when it is shut down (timeout,
crash, scale-in, or the host going away) nothing that ran inside it survives.
Each test runs against both sandbox backends (``--sandbox linux`` where the host
allows it, and the plain ``--sandbox process``). The function starts
``sleep <unique number>``, which the test finds on the host by its command line
(pids inside the linux sandbox are namespace-local).
"""

from __future__ import annotations

import os
import random
import signal

import pytest

from .conftest import _proc_alive, all_pids, cmdline, create, invoke, start_sandboxed, unique, wait_for

SPAWNER = """
import subprocess, time
def handler(event, context):
    subprocess.Popen(["sleep", event["arg"]], start_new_session=event.get("setsid", False))
    time.sleep(event.get("hang", 0))
    return "started"
"""


def _start(fresh_server, sandbox: str):
    return start_sandboxed(fresh_server, sandbox)


def _sleepers(arg: str) -> list[int]:
    want = f"sleep {arg}"
    return [p for p in all_pids() if _proc_alive(p) and cmdline(p) == want]


def _spawn(lam, name, *, setsid=False, hang=0) -> tuple[dict, str]:
    arg = f"{300 + random.randint(1, 10**6) / 1000:.3f}"
    resp, out = invoke(lam, name, {"arg": arg, "setsid": setsid, "hang": hang})
    if hang == 0:
        assert out == "started", out
        wait_for(lambda: _sleepers(arg), 5, what=f"'sleep {arg}' to start")
    return out, arg


def _leftovers(arg: str, timeout: float) -> list[str]:
    """Wait up to ``timeout`` for ``sleep arg`` to be gone; kill and report what is left."""
    try:
        wait_for(lambda: not _sleepers(arg), timeout, what=f"'sleep {arg}' to exit")
        return []
    except AssertionError:
        left = _sleepers(arg)
        for p in left:  # processes this test caused: do not leave them running
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        return [f"{p}: sleep {arg}" for p in left]


BACKENDS = ["linux", "process"]


@pytest.mark.parametrize("sandbox", BACKENDS)
def test_child_dies_on_timeout(fresh_server, sandbox):
    server = _start(fresh_server, sandbox)
    lam = server.client()
    name = unique("kid-timeout")
    create(lam, name, SPAWNER, Timeout=1)
    out, arg = _spawn(lam, name, hang=30)
    assert out["errorType"] == "Sandbox.Timedout"
    assert _leftovers(arg, 5) == []
    # the next invocation gets a new environment and works
    out, arg = _spawn(lam, name)
    assert server.terminate() == 0
    assert _leftovers(arg, 5) == []


@pytest.mark.parametrize("sandbox", BACKENDS)
def test_child_dies_on_sigterm_shutdown(fresh_server, sandbox):
    server = _start(fresh_server, sandbox)
    lam = server.client()
    name = unique("kid-term")
    create(lam, name, SPAWNER)
    _, arg = _spawn(lam, name)
    assert server.terminate() == 0
    assert _leftovers(arg, 5) == []


@pytest.mark.parametrize("sandbox", ["linux", "process"])
def test_setsid_child_dies_on_timeout_and_shutdown(fresh_server, sandbox):
    server = _start(fresh_server, sandbox)
    lam = server.client()
    name = unique("kid-setsid")
    create(lam, name, SPAWNER, Timeout=1)
    out, timed_out_arg = _spawn(lam, name, setsid=True, hang=30)
    assert out["errorType"] == "Sandbox.Timedout"
    _, arg = _spawn(lam, name, setsid=True)
    assert server.terminate() == 0
    assert _leftovers(timed_out_arg, 2) + _leftovers(arg, 2) == []


@pytest.mark.parametrize("sandbox", ["linux", "process"])
def test_children_die_with_killed_server(fresh_server, sandbox):
    server = _start(fresh_server, sandbox)
    lam = server.client()
    name = unique("kid-kill9")
    create(lam, name, SPAWNER)
    _, arg = _spawn(lam, name)
    _, arg2 = _spawn(lam, name, setsid=True)
    server.kill9()
    try:
        left = _leftovers(arg, 2) + _leftovers(arg2, 2)
    finally:
        server.restart()  # so that the fixture stops a server that exits normally
    assert left == [], "processes started by the function outlived the killed server"
