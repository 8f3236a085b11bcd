"""Inside the environment (issue 19, item 10), with the isolating backend: the handler's user
has AWS's name, /var/task and /opt are root's with mode 755, /lambda-entrypoint.sh exists, and
Architectures the host cannot run are refused at create with State Failed."""

from __future__ import annotations

import platform

import pytest
from botocore.exceptions import ClientError

from .conftest import ROLE, create, invoke, make_zip, unique

PROBE = r'''
import getpass, grp, os, pathlib, platform, stat, subprocess
def handler(event, context):
    pathlib.Path("/tmp/mine").write_text("x")
    tmp = pathlib.Path("/tmp/mine")
    modes = {}
    for p in ("/var/task", "/opt", "/lambda-entrypoint.sh"):
        st = os.stat(p)
        modes[p] = [st.st_uid, st.st_gid, oct(stat.S_IMODE(st.st_mode))]
    usage = subprocess.run(["/lambda-entrypoint.sh"], capture_output=True, text=True)
    return {"getuser": getpass.getuser(), "whoami": subprocess.run(["whoami"], capture_output=True, text=True).stdout.strip(),
            "owner": tmp.owner(), "group": tmp.group(), "uid_name": __import__("pwd").getpwuid(os.getuid()).pw_name,
            "modes": modes, "entry": [usage.returncode, usage.stderr.strip()], "machine": platform.machine(),
            "opt": sorted(os.listdir("/opt"))}
'''
HOST = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine().lower()]
OTHER = "arm64" if HOST == "x86_64" else "x86_64"


def test_the_handler_runs_as_sbx_user1051(sandbox_server):
    server = sandbox_server("linux")
    lam = server.client()
    layer = lam.publish_layer_version(LayerName=unique("idl"), Content={"ZipFile": make_zip({"python/m.py": "X = 1\n"})})
    name = unique("ident")
    create(lam, name, PROBE, Layers=[layer["LayerVersionArn"]], Architectures=[HOST])
    out = invoke(lam, name, {})[1]
    assert out["getuser"] == out["whoami"] == out["owner"] == out["group"] == out["uid_name"] == "sbx_user1051"
    assert out["modes"] == {"/var/task": [0, 0, "0o755"], "/opt": [0, 0, "0o755"], "/lambda-entrypoint.sh": [0, 0, "0o755"]}
    assert out["entry"] == [142, "entrypoint requires the handler name to be the first argument"]
    assert out["machine"] == platform.machine() and out["opt"] == ["python"]
    # without layers /opt is still root's, 755
    bare = unique("ident-bare")
    create(lam, bare, PROBE)
    assert invoke(lam, bare, {})[1]["modes"]["/opt"] == [0, 0, "0o755"]


def test_an_architecture_the_host_cannot_run_fails_at_create(lam):
    name = unique("arch")
    created = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="fn.handler",
                                  Code={"ZipFile": make_zip({"fn.py": "def handler(e, c):\n    return 1\n"})},
                                  Architectures=[OTHER])
    assert created["State"] == "Pending" and created["Architectures"] == [OTHER]
    with pytest.raises(Exception) as e:  # the waiter stops at Failed
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert "Failed" in str(e.value)
    cfg = lam.get_function_configuration(FunctionName=name)
    reason = f"Lamb cannot run {OTHER} functions on this {HOST} host; use Architectures [{HOST}]."
    assert (cfg["State"], cfg["StateReasonCode"], cfg["StateReason"]) == ("Failed", "InvalidConfiguration", reason)
    assert cfg["LastUpdateStatus"] == "Failed"
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name)
    assert e.value.response["Error"]["Code"] == "ResourceConflictException"
    assert e.value.response["Error"]["Message"] == (
        f"Lambda is unable to invoke the function because it is in the Failed state: {reason}")
