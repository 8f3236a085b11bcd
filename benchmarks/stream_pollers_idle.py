"""CPU that idle stream pollers cost Lamb's process.

    python benchmarks/stream_pollers_idle.py [--mappings 100] [--seconds 30] [--poll 1.0] [--idle-max S]

Starts moto's server (``python -m moto.server``, its own process on a free
loopback port), creates ``--mappings`` one-shard Kinesis streams with no records,
and runs one ``StreamPoller`` per stream in this process on one event loop, at
AWS's idle rate (one GetRecords per shard per ``--poll`` seconds; boto3 calls on a
thread pool), with a checkpoint store on a temporary SQLite file. After a 5 s
warm-up it reports this process's CPU time (user + system, all threads) over
``--seconds`` as a share of one core. moto's own CPU is not counted (it is the
stream service). The function is never invoked: the streams stay empty.
``--idle-max`` turns on Lamb's idle backoff (``LAMB_STREAM_IDLE_POLL_MAX_S``): empty
reads double the interval up to that many seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import boto3  # noqa: E402

from lamb.sources.checkpoints import CheckpointStore  # noqa: E402
from lamb.sources.kinesis import KinesisSource  # noqa: E402
from lamb.sources.stream_poller import StreamPoller  # noqa: E402
from lamb.sources.streams import StreamConfig, Timings  # noqa: E402
from lamb.store.db import Database  # noqa: E402

CREDS = {"aws_access_key_id": "AKIDBENCH", "aws_secret_access_key": "bench", "region_name": "us-east-1"}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def never(payload: bytes):
    raise AssertionError("the streams are empty")


async def main(args) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        kinesis = boto3.client("kinesis", endpoint_url=url, **CREDS)
        arns = []
        for i in range(args.mappings):
            kinesis.create_stream(StreamName=f"idle-{i}", ShardCount=1)
            arns.append(kinesis.describe_stream_summary(StreamName=f"idle-{i}")["StreamDescriptionSummary"]["StreamARN"])
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(Path(tmp) / "lamb.db")
            store = CheckpointStore(db)
            executor = ThreadPoolExecutor(8)
            timings = Timings(poll_interval_s=args.poll, idle_poll_max_s=args.idle_max)
            pollers = [StreamPoller(config=StreamConfig(mapping_uuid=f"m-{i}", function_arn="f"),
                                    source=KinesisSource(kinesis, arn, invoke_identity_arn="r", executor=executor),
                                    invoke=never, checkpoints=store, send_failure=never, timings=timings)
                       for i, arn in enumerate(arns)]
            for p in pollers:
                p.start()
            await asyncio.sleep(5)
            t0, c0 = time.monotonic(), time.process_time()
            await asyncio.sleep(args.seconds)
            t1, c1 = time.monotonic(), time.process_time()
            for p in pollers:
                await p.stop()
            executor.shutdown()
            db.close()
        share = (c1 - c0) / (t1 - t0) * 100
        backoff = f", idle backoff to {args.idle_max} s" if args.idle_max else ""
        print(f"{args.mappings} idle Kinesis mappings, poll every {args.poll} s{backoff}: "
              f"{share:.2f} % of one core ({(c1 - c0) * 1000 / (t1 - t0) / args.mappings:.2f} ms CPU/s per mapping)")
    finally:
        moto.terminate()
        moto.wait(10)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--mappings", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--poll", type=float, default=1.0)
    ap.add_argument("--idle-max", type=float, default=None)
    asyncio.run(main(ap.parse_args()))
