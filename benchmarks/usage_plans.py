"""What a REST method with ``apiKeyRequired`` pays for its API key and usage plan, in-process (no server).

    python benchmarks/usage_plans.py [--number 20000] [--writes 300]

* ``UsagePlans.admit``: the key looked up by value, its plan for the API stage, the plan's throttle (a token
  bucket of ``throttle.Buckets``) and quota, the counts bumped: on the serving path of every keyed request;
* ``UsagePlans.write``: the counts written to SQLite (one transaction, ``synchronous=FULL``): after the
  answer, once for every request counted since the last write (``write_later``), so under load one write
  serves many requests; timed here once per request, its worst case.

``admit`` is timed with ``timeit`` over ``--number`` calls, best of 3; ``admit`` + ``write`` over ``--writes``
pairs, best of 3; microseconds per call. The database is in a temporary folder under /tmp.
"""

from __future__ import annotations

import argparse
import pathlib
import tempfile
import timeit

from lamb.apis.throttle import Buckets
from lamb.apis.usage_plans import UsagePlans
from lamb.sealing import Sealer
from lamb.store.db import Database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--writes", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Database(pathlib.Path(folder) / "lamb.db")
        usage = UsagePlans(db, Sealer(b"k" * 32))
        value = "v" * 40
        usage.put_key({"id": "k1", "name": "n", "enabled": True}, value)
        usage.plans.put("p1", {"id": "p1", "name": "p", "apiStages": [{"apiId": "a", "stage": "s"}], "_keys": ["k1"],
                               "throttle": {"rateLimit": 1e9, "burstLimit": 10**9},
                               "quota": {"limit": 10**9, "period": "MONTH", "offset": 0}})
        buckets = Buckets()

        def admit():
            return usage.admit(value, "a", "s", "/x", "GET", buckets)

        def admit_and_write():
            admit()
            usage.write()

        admit_us = min(timeit.repeat(admit, number=args.number, repeat=3)) / args.number * 1e6
        write_us = min(timeit.repeat(admit_and_write, number=args.writes, repeat=3)) / args.writes * 1e6
        print(f"{'UsagePlans.admit':40s} {admit_us:9.1f} µs/call")
        print(f"{'UsagePlans.admit + write':40s} {write_us:9.1f} µs/call")
        db.close()


if __name__ == "__main__":
    main()
