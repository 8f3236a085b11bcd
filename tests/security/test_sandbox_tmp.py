"""Promise: /tmp is on disk, sized by EphemeralStorage, and not charged to MemorySize (the default).

AWS: writing up to EphemeralStorage never kills a function for memory; writing past it
fails with ENOSPC (https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html).
Lamb reuses a filesystem after its environment is gone (lamb.sandbox.scratch): the next
environment to get it sees nothing of the previous one.
"""

from __future__ import annotations

import time

from .conftest import create, invoke, unique

WRITER = r'''
import errno, os

def handler(event, context):
    st = os.statvfs("/tmp")
    written = 0
    error = after = None
    chunk = b"\1" * (1 << 20)
    try:
        with open("/tmp/fill", "wb") as f:
            while written < event["mb"] << 20:
                f.write(chunk)
                written += len(chunk)
            f.flush()
            os.fsync(f.fileno())
        try:  # one byte more
            with open("/tmp/fill", "ab") as f:
                f.write(b"x")
                f.flush()
                os.fsync(f.fileno())
            after = "written"
        except OSError as e:
            after = errno.errorcode[e.errno]
    except OSError as e:
        error = errno.errorcode[e.errno]
    finally:
        try:
            os.unlink("/tmp/fill")
        except OSError:
            pass
    return {"size_mb": st.f_blocks * st.f_frsize >> 20, "written_mb": written >> 20, "error": error,
            "one_byte_more": after}
'''

LOOKER = r'''
import os

def handler(event, context):
    if event.get("leave"):
        os.makedirs("/tmp/left/behind", exist_ok=True)
        with open("/tmp/left/secret.txt", "w") as f:
            f.write("previous environment")
        with open("/tmp/big", "wb") as f:
            f.write(b"\1" * (4 << 20))
    st = os.statvfs("/tmp")
    return {"device": os.stat("/tmp").st_dev, "listing": sorted(os.listdir("/tmp")), "free_mb": st.f_bavail * st.f_frsize >> 20}
'''


def test_tmp_is_on_disk_by_default(disk_tmp_server):
    assert "/tmp: ext4 on disk" in disk_tmp_server.get_json("/_lamb/health")["sandbox_detail"]


def test_writing_ephemeral_storage_to_tmp_of_a_128_mb_function_does_not_run_out_of_memory(disk_tmp_server):
    lam = disk_tmp_server.client()
    name = unique("tmpdisk")
    create(lam, name, WRITER, MemorySize=128, Timeout=120, EphemeralStorage={"Size": 1024})
    resp, out = invoke(lam, name, {"mb": 1024})
    assert resp.get("FunctionError") is None, out
    assert out == {"size_mb": 1024, "written_mb": 1024, "error": None, "one_byte_more": "ENOSPC"}


def test_one_byte_past_ephemeral_storage_is_enospc(disk_tmp_server):
    lam = disk_tmp_server.client()
    name = unique("tmpfull")
    create(lam, name, WRITER, MemorySize=128, Timeout=60, EphemeralStorage={"Size": 512})
    resp, out = invoke(lam, name, {"mb": 512})
    assert resp.get("FunctionError") is None, out
    assert out == {"size_mb": 512, "written_mb": 512, "error": None, "one_byte_more": "ENOSPC"}
    resp, out = invoke(lam, name, {"mb": 600})
    assert out["error"] == "ENOSPC" and out["written_mb"] == 512, out


def test_a_reused_tmp_shows_nothing_of_the_previous_environment(disk_tmp_server):
    lam = disk_tmp_server.client()
    size = 777  # a size no other test asks for: only this test's environments use these filesystems
    first = unique("tmpprev")
    create(lam, first, LOOKER, EphemeralStorage={"Size": size})
    resp, left = invoke(lam, first, {"leave": True})
    assert resp.get("FunctionError") is None, left
    assert left["listing"] == ["big", "left"]
    lam.delete_function(FunctionName=first)  # its environment ends; its filesystem is wiped and reused
    later, found = [], None
    deadline = time.monotonic() + 90
    try:
        while found is None and time.monotonic() < deadline:
            name = unique("tmpnext")
            create(lam, name, LOOKER, EphemeralStorage={"Size": size})
            later.append(name)  # kept alive: each takes the next filesystem of the pool, the oldest first
            resp, out = invoke(lam, name, {})
            assert resp.get("FunctionError") is None, out
            if out["device"] == left["device"]:  # the same filesystem (its loop device)
                found = out
            elif len(later) % 8 == 0:
                time.sleep(1)
    finally:
        for name in later:
            lam.delete_function(FunctionName=name)
    assert found is not None, f"the first environment's filesystem was not handed out again ({len(later)} starts)"
    assert found["listing"] == []
    assert found["free_mb"] == size
