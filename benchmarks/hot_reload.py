"""Hot reload: time from saving a file in a hot-reload folder to the new code's answer.

    python benchmarks/hot_reload.py [--n 50] [--warm 2000] [--runtime python3.12]

Starts its own ``lamb serve`` with ``LAMB_HOT_RELOAD_ROOTS`` set to a temporary folder and
creates a function whose code is that folder (``Code.S3Bucket`` "hot-reload"). Then, over one
keep-alive connection with raw HTTP:

* ``save_to_new_code_ms``: ``--n`` times, write a new ``app.py`` (same size, a new version
  string), then Invoke at once; the time from just before the write to the answer, which
  must carry the new version (the invocation retires the stale environment and starts one
  on the new files: a cold start is included);
* ``warm_ms``: Invoke p50 of that function with an unchanged folder (each invocation
  fingerprints the folder) against the same handler from a zip, interleaved in blocks of 100.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from invoke_latency import PATH, call, connect, pct, start_server, stop_server, wait_active, zip_of

SOURCE = "def handler(event, context):\n    return {{'v': '{v}'}}\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--warm", type=int, default=2000)
    ap.add_argument("--runtime", default="python3.12")
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="lamb-hot-")
    folder = Path(root) / "code"
    folder.mkdir()
    (folder / "app.py").write_text(SOURCE.format(v="v0000"))
    os.environ["LAMB_HOT_RELOAD_ROOTS"] = root
    proc, endpoint, data = start_server()
    try:
        conn = connect(endpoint)
        base = {"Runtime": args.runtime, "Handler": "app.handler", "Role": "arn:aws:iam::000000000000:role/bench"}
        for name, code in (("hot", {"S3Bucket": "hot-reload", "S3Key": str(folder)}),
                           ("zip", {"ZipFile": zip_of(SOURCE.format(v="v0000"))})):
            status, out = call(conn, "POST", "/2015-03-31/functions",
                               json.dumps({**base, "FunctionName": name, "Code": code}).encode())
            assert status == 201, out
            wait_active(conn, name)
            call(conn, "POST", PATH.format(name=name), b"{}")
        reload_ms = []
        for i in range(1, args.n + 1):
            version = f"v{i:04d}"
            t0 = time.perf_counter()
            (folder / "app.py").write_text(SOURCE.format(v=version))
            status, out = call(conn, "POST", PATH.format(name="hot"), b"{}")
            reload_ms.append((time.perf_counter() - t0) * 1000)
            assert status == 200 and json.loads(out) == {"v": version}, out
        warm: dict[str, list[float]] = {"hot": [], "zip": []}
        for _ in range(max(1, args.warm // 100)):
            for name in ("hot", "zip"):
                for _ in range(100):
                    t0 = time.perf_counter()
                    call(conn, "POST", PATH.format(name=name), b"{}")
                    warm[name].append((time.perf_counter() - t0) * 1000)
        print(json.dumps({
            "save_to_new_code_ms": {"p50": round(pct(reload_ms, 0.5), 1), "p90": round(pct(reload_ms, 0.9), 1),
                                    "max": round(max(reload_ms), 1), "n": len(reload_ms)},
            "warm_ms_p50": {k: round(pct(v, 0.5), 3) for k, v in warm.items()},
        }, indent=1))
    finally:
        stop_server(proc, data)


if __name__ == "__main__":
    main()
