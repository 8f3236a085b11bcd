"""Promise: /tmp is on disk, sized by EphemeralStorage, and not charged to MemorySize (``--tmp disk``).

AWS: writing up to EphemeralStorage never kills a function for memory; writing past it
fails with ENOSPC (https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html).
"""

from __future__ import annotations

from .conftest import create, invoke, unique

WRITER = r'''
import errno, os

def handler(event, context):
    st = os.statvfs("/tmp")
    written = 0
    error = None
    chunk = b"\1" * (1 << 20)
    try:
        with open("/tmp/fill", "wb") as f:
            while written < event["mb"] << 20:
                f.write(chunk)
                written += len(chunk)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        error = errno.errorcode[e.errno]
    finally:
        try:
            os.unlink("/tmp/fill")
        except OSError:
            pass
    return {"size_mb": st.f_blocks * st.f_frsize >> 20, "written_mb": written >> 20, "error": error}
'''


def test_writing_600_mb_to_tmp_of_a_128_mb_function_does_not_run_out_of_memory(disk_tmp_server):
    assert "/tmp: ext4 on disk" in disk_tmp_server.get_json("/_lamb/health")["sandbox_detail"]
    lam = disk_tmp_server.client()
    name = unique("tmpdisk")
    create(lam, name, WRITER, MemorySize=128, Timeout=60, EphemeralStorage={"Size": 1024})
    resp, out = invoke(lam, name, {"mb": 600})
    assert resp.get("FunctionError") is None, out
    assert out == {"size_mb": 1024, "written_mb": 600, "error": None}


def test_writing_past_ephemeral_storage_is_enospc(disk_tmp_server):
    lam = disk_tmp_server.client()
    name = unique("tmpfull")
    create(lam, name, WRITER, MemorySize=128, Timeout=60, EphemeralStorage={"Size": 512})
    resp, out = invoke(lam, name, {"mb": 600})
    assert resp.get("FunctionError") is None, out
    assert out["size_mb"] == 512 and out["error"] == "ENOSPC" and 500 <= out["written_mb"] < 512
