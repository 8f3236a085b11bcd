"""Deliveries kept on disk until sent: retried with backoff, dropped past their max age, recovered.

The boto3 sender is the one seam replaced (the integration tests send to moto): it
plays back failures and successes."""

from __future__ import annotations

import asyncio
import time

from lamb.config import Settings
from lamb.events.deliveries import Deliveries
from lamb.events.journal import Journal
from lamb.events.queue import SCHEMA


class ScriptedSender:
    def __init__(self, script):
        self.script = list(script)
        self.sent: list[tuple[str, bytes]] = []

    def send(self, target, body, meta):
        step = self.script.pop(0) if self.script else None
        if isinstance(step, BaseException):
            raise step
        self.sent.append((target, body))


def build(tmp_path, script, **settings):
    s = Settings(data_dir=tmp_path, async_backoff=(0.01, 0.05), **settings)
    journal = Journal(tmp_path / "events.db", SCHEMA)
    stats = {k: 0 for k in ("destination_deliveries", "dead_letter_deliveries", "destination_delivery_failures",
                            "dead_letter_errors", "delivery_retries")}
    holder = {}
    deliveries = Deliveries(s, journal, stats, lambda: holder["loop"].call_soon(deliveries.pump, time.time()))
    deliveries.deliverer = ScriptedSender(script)
    return deliveries, journal, stats, holder


async def drain(deliveries, timeout=5.0):
    deadline = time.monotonic() + timeout
    while len(deliveries):
        assert time.monotonic() < deadline
        deliveries.pump(time.time())
        await asyncio.sleep(0.01)


def test_retried_until_sent_then_removed_from_disk(tmp_path):
    deliveries, journal, stats, holder = build(tmp_path, [OSError("down"), OSError("down")])

    async def main():
        loop = holder["loop"] = asyncio.get_running_loop()
        journal.start(loop)
        deliveries.start(loop)
        d = deliveries.new("arn:aws:sqs:us-east-1:000000000000:q", b"{}", {"kind": "record"}, time.time())
        done = loop.create_future()
        journal.submit([d.insert()], lambda r, e: done.set_result(e))
        assert await done is None
        deliveries.add(d)
        await drain(deliveries)
        deliveries.stop()
        journal.close()

    asyncio.run(main())
    assert deliveries.deliverer.sent == [("arn:aws:sqs:us-east-1:000000000000:q", b"{}")]
    assert stats["delivery_retries"] == 2 and stats["destination_deliveries"] == 1
    again, journal2, _, _ = build(tmp_path, [])
    again.recover()
    assert len(again) == 0  # the sent row is gone from disk
    journal2.close()


def test_dead_letter_dropped_past_its_max_age_and_recovered_unsent(tmp_path):
    deliveries, journal, stats, holder = build(tmp_path, [OSError("down")] * 100, async_delivery_max_age_s=0.0)

    async def main():
        loop = holder["loop"] = asyncio.get_running_loop()
        journal.start(loop)
        deliveries.start(loop)
        d = deliveries.new("arn:aws:sqs:us-east-1:000000000000:dlq", b"x", {"kind": "dlq"}, time.time())
        kept = deliveries.new("arn:aws:sns:us-east-1:000000000000:t", b"y", {"kind": "record"}, time.time() + 3600)
        done = loop.create_future()
        journal.submit([d.insert(), kept.insert()], lambda r, e: done.set_result(e))
        await done
        deliveries.add(d)
        deadline = time.monotonic() + 5
        while stats["dead_letter_errors"] == 0:
            assert time.monotonic() < deadline
            deliveries.pump(time.time())
            await asyncio.sleep(0.01)
        deliveries.stop()
        journal.close()

    asyncio.run(main())
    assert stats["dead_letter_errors"] == 1 and stats["dead_letter_deliveries"] == 0
    again, journal2, _, _ = build(tmp_path, [])
    again.recover()
    assert len(again) == 1  # the one never tried is still on disk, the dropped one is not
    journal2.close()
