"""Durability and process hygiene: kill -9, restart, SIGTERM."""

from __future__ import annotations

import signal
import time
import urllib.request

from .conftest import _proc_alive, cmdline, create, invoke, make_zip, unique

SRC = "import os\nCOUNT = 0\ndef handler(e, c):\n    global COUNT\n    COUNT += 1\n    return {'name': c.function_name, 'count': COUNT, 'pid': os.getpid()}\n"


def _zygotes(server) -> set[int]:
    return {p for p in server.tree() if "lamb/runtimes/zygote.py" in cmdline(p)}


def test_kill9_and_restart(fresh_server):
    server = fresh_server()
    lam = server.client()
    names = sorted(unique(f"dur{i}") for i in range(3))
    zips = {}
    for i, n in enumerate(names):
        zips[n] = make_zip({"fn.py": SRC + f"# {i}\n"})
        create(lam, n, zips[n], runtime="python3.11" if i == 2 else "python3.12")
    _, out = invoke(lam, names[0], {})
    assert out["count"] == 1
    before = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    assert sorted(before) == names

    tree = server.tree()
    assert len(_zygotes(server)) >= 2, {p: cmdline(p) for p in tree}  # a zygote per runtime, the environment
    server.kill9()
    # the environments and zygotes die with the server
    server.assert_no_survivors(timeout=5)
    assert not [p for p in tree if _proc_alive(p)]

    server.restart()
    lam = server.client()
    after = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    assert sorted(after) == names
    for n in names:
        for key in ("CodeSha256", "RevisionId", "CodeSize", "LastModified", "FunctionArn", "Runtime", "Handler"):
            assert after[n][key] == before[n][key], (n, key)
        resp, out = invoke(lam, n, {})
        assert resp["StatusCode"] == 200 and "FunctionError" not in resp
        assert out["name"] == n and out["count"] == 1
        location = lam.get_function(FunctionName=n)["Code"]["Location"]
        with urllib.request.urlopen(location, timeout=10) as r:
            assert r.read() == zips[n]
    # and it can still change things
    lam.update_function_configuration(FunctionName=names[1], Description="after restart")
    assert lam.get_function_configuration(FunctionName=names[1])["Description"] == "after restart"


def test_sigterm_clean_shutdown(fresh_server):
    server = fresh_server()
    lam = server.client()
    name = unique("term")
    create(lam, name, SRC)
    slow = unique("slow")
    create(lam, slow, "import time\ndef handler(e, c):\n    time.sleep(e.get('s', 0))\n    return 1\n", Timeout=30)
    invoke(lam, name, {})
    invoke(lam, slow, {})
    assert len(server.tree()) >= 3  # a zygote and two environments
    t0 = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    rc = server.proc.wait(5)
    assert rc == 0, server.log_tail()
    assert time.monotonic() - t0 < 5
    server.assert_no_survivors(timeout=5)
    assert "Lamb stopped" in server.log_tail()


def test_sigterm_during_invocation(fresh_server):
    """An invocation in flight does not hold the shutdown up, and its environment goes too."""
    import threading

    server = fresh_server()
    lam = server.client()
    name = unique("busy")
    create(lam, name, "import os, time\ndef handler(e, c):\n    time.sleep(20)\n    return os.getpid()\n", Timeout=30)
    errors = []

    def call():
        try:
            server.client(read_timeout=30).invoke(FunctionName=name, Payload=b"{}")
        except Exception as e:  # expected: the connection goes away
            errors.append(e)

    t = threading.Thread(target=call)
    t.start()
    from .conftest import wait_for

    wait_for(lambda: any(e.get("state") == "busy" for e in server.get_json("/_lamb/environments")), 10,
             what="the invocation to be running")
    t0 = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(5) == 0
    assert time.monotonic() - t0 < 5
    server.assert_no_survivors(timeout=5)
    t.join(35)
    assert not t.is_alive()
