"""lamb.sources.rabbitmq: batching, filtering, acknowledgement and requeueing, with fake deliveries.

The broker side is proven against a real RabbitMQ in tests/integration/test_rabbitmq_source.py;
these pin the poller's own rules (the 6 MB cut, a message too large alone, filters, ack/nack)."""

from __future__ import annotations

import asyncio
import json
import types

from lamb.sources.rabbitmq import FUNCTION_FAILED, OK, RabbitPoller, Timings, problem

ARN = "arn:aws:mq:us-east-1:123456789012:broker:B:b-1"


class Message:
    def __init__(self, body: bytes, log: list):
        self.body, self.redelivered, self.log = body, False, log
        self.properties = types.SimpleNamespace()

    async def ack(self, multiple: bool = False):
        self.log.append(("ack", self.body, multiple))

    async def nack(self, multiple: bool = False, requeue: bool = True):
        self.log.append(("nack", self.body, multiple, requeue))


class Conn:
    is_closed = False


def poller(invoke, reports, counts=None, **cfg) -> RabbitPoller:
    base = {"EventSourceArn": ARN, "FunctionArn": "f", "Queues": ["q"], "BatchSize": 10,
            "SourceAccessConfigurations": [{"Type": "BASIC_AUTH", "URI": "s"}]}
    timings = Timings(window_default_s=0.0, idle_check_s=0.01, payload_max_bytes=2500)
    return RabbitPoller({**base, **cfg}, invoke=invoke, broker=None, report=reports.append, timings=timings,
                        max_filters=5, count=(lambda m, n: counts.append((m, n))) if counts is not None else None)


async def _batches(p: RabbitPoller, bodies: list[bytes], log: list, n: int) -> list[list[bytes]]:
    inbox: asyncio.Queue = asyncio.Queue()
    for body in bodies:
        inbox.put_nowait(Message(body, log))
    out = []
    for _ in range(n):
        batch = await p._collect(inbox, Conn())
        out.append([m.body for m, _ in batch])
        await p._process(batch)
    return out


def run(p, bodies, log, n):
    return asyncio.run(_batches(p, bodies, log, n))


def test_batches_stop_before_the_payload_limit_and_the_rest_starts_the_next():
    log, reports, seen = [], [], []

    async def invoke(fn, payload):
        seen.append(len(payload))
        return types.SimpleNamespace(function_error=None)

    bodies = [bytes([65 + i]) * 500 for i in range(4)]  # ~1,000 bytes each once base64-encoded with their properties
    batches = run(poller(invoke, reports), bodies, log, 2)
    assert batches == [bodies[:2], bodies[2:]] and all(n <= 2500 for n in seen)
    assert [entry[0] for entry in log] == ["ack", "ack"] and reports == [OK, OK]


def test_a_message_too_large_alone_is_dropped_and_reported():
    log, reports, counts = [], [], []

    async def invoke(fn, payload):
        return types.SimpleNamespace(function_error=None)

    batches = run(poller(invoke, reports, counts), [b"x" * 3000, b"small"], log, 1)
    assert batches == [[b"small"]]
    assert log[0] == ("ack", b"x" * 3000, False) and "dropped" in reports[0]
    assert ("DroppedEventCount", 1) in counts and ("InvokedEventCount", 1) in counts


def test_a_failed_batch_is_nacked_with_requeue_and_filters_ack_what_they_drop():
    log, reports, counts = [], [], []

    async def invoke(fn, payload):
        return types.SimpleNamespace(function_error="Unhandled")

    pattern = {"Filters": [{"Pattern": json.dumps({"data": {"k": ["keep"]}})}]}
    run(poller(invoke, reports, counts, FilterCriteria=pattern), [b'{"k":"drop"}', b'{"k":"keep"}'], log, 1)
    assert log == [("ack", b'{"k":"drop"}', False), ("nack", b'{"k":"keep"}', True, True)]
    assert reports == [FUNCTION_FAILED]
    assert ("FilteredOutEventCount", 1) in counts and ("FailedInvokeEventCount", 1) in counts


def test_an_invoke_that_raises_requeues_the_batch_and_reports_why():
    log, reports = [], []

    async def invoke(fn, payload):
        raise RuntimeError("Rate Exceeded.")

    run(poller(invoke, reports), [b"a"], log, 1)
    assert log == [("nack", b"a", True, True)] and reports == ["PROBLEM: Rate Exceeded."]


def test_problems_name_awss_troubleshooting_codes():
    class ProbableAuthenticationError(Exception):
        pass

    assert problem(ProbableAuthenticationError("ACCESS_REFUSED")).startswith("PROBLEM: EVENT_SOURCE_AUTHN_ERROR")
    assert problem(Exception("NOT_FOUND - no queue 'q'")).startswith("PROBLEM: ESM_CONFIG_NOT_VALID")
    assert problem(OSError("refused")).startswith("PROBLEM: Connection error")
