"""lamb.sources.sqs: the SQS poller against a fake queue (SQS is an external service).

The fake hands out scripted batches, in any order a server might (moto redelivers a FIFO
group's expired messages out of order), and records deletes and visibility changes; the
function is a fake ``invoke`` callable, the poller's one door into Lamb.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass

import pytest

from lamb.protocol.errors import AwsError
from lamb.sources.sqs import FUNCTION_FAILED, OK, SqsPoller, Timings, check_queue, failed_items, record

ARN = "arn:aws:sqs:us-east-1:123456789012:q"
FIFO_ARN = ARN + ".fifo"
FAST = Timings(wait_s=0, backoff_s=(0.01, 0.05), fifo_defer_s=1)


def msg(mid: str, body: str = "{}", group: str | None = None, seq: int = 0, **attrs) -> dict:
    a = {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183", "SenderId": "AID",
         "ApproximateFirstReceiveTimestamp": "1545082649185", **attrs}
    if group is not None:
        a.update(MessageGroupId=group, SequenceNumber=str(seq), MessageDeduplicationId=mid)
    return {"MessageId": mid, "ReceiptHandle": f"rh-{mid}", "Body": body,
            "MD5OfBody": hashlib.md5(body.encode()).hexdigest(), "Attributes": a}


class FakeQueue:
    def __init__(self, batches: list[list[dict]], visibility: int = 30):
        self.batches = list(batches)
        self.visibility = visibility
        self.deleted: list[str] = []
        self.hidden: list[tuple[str, int]] = []
        self.errors: list[Exception] = []
        self.receives = 0
        self.out: dict[str, dict] = {}  # receipt handle -> message received

    async def receive(self, max_messages: int, wait_s: int) -> list[dict]:
        self.receives += 1
        if self.errors:
            raise self.errors.pop(0)
        await asyncio.sleep(0.001)
        if self.batches:
            batch = self.batches.pop(0)
            assert len(batch) <= max_messages
            self.out.update({m["ReceiptHandle"]: m for m in batch})
            return batch
        return []

    async def delete(self, receipts):
        self.deleted += [mid for mid, _ in receipts]
        return []

    async def change_visibility(self, receipts, seconds):
        self.hidden += [(r, seconds) for r in receipts]
        if seconds == 0:  # visible again at once: the next receive returns it
            self.batches.append([self.out[r] for r in receipts])

    async def attributes(self, names):
        return {"VisibilityTimeout": str(self.visibility)}


@dataclass
class Result:
    payload: bytes = b"null"
    function_error: str | None = None


class Function:
    """Records each batch; ``answer(records) -> Result`` (or raises)."""

    def __init__(self, answer=lambda records: Result(), delay: float = 0.0):
        self.answer = answer
        self.delay = delay
        self.batches: list[list[dict]] = []
        self.calls: list[tuple] = []

    async def __call__(self, function, qualifier, payload, trace):
        records = json.loads(payload)["Records"]
        self.batches.append(records)
        self.calls.append((function, qualifier, trace))
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.answer(records)

    def ids(self) -> list[list[str]]:
        return [[r["messageId"] for r in b] for b in self.batches]


def poller(queue, fn, arn=ARN, reports=None, max_concurrency=1250, **cfg) -> SqsPoller:
    config = {"EventSourceArn": arn, "BatchSize": 10, "_Function": "fn", "_Qualifier": None, **cfg}
    return SqsPoller(config, queue, fn, (reports if reports is not None else []).append, region="us-east-1",
                     timings=FAST, max_concurrency=max_concurrency)


async def run_until(p: SqsPoller, cond, timeout: float = 5.0) -> None:
    p.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not cond():
            assert asyncio.get_running_loop().time() < deadline, "condition not reached"
            await asyncio.sleep(0.005)
    finally:
        await p.stop()


def run(coro):
    return asyncio.run(coro)


# ------------------------------------------------------------------ event shape
def test_record_has_aws_shape():
    m = msg("m1", "hello", AWSTraceHeader="Root=1-abc")
    m["MessageAttributes"] = {"Author": {"StringValue": "John", "DataType": "String"},
                              "Blob": {"BinaryValue": b"\x01", "DataType": "Binary"}}
    m["MD5OfMessageAttributes"] = "d25a"
    r = record(m, ARN, "us-east-1")
    assert list(r) == ["messageId", "receiptHandle", "body", "attributes", "messageAttributes",
                       "md5OfMessageAttributes", "md5OfBody", "eventSource", "eventSourceARN", "awsRegion"]
    assert r["messageAttributes"]["Author"] == {"stringValue": "John", "stringListValues": [], "binaryListValues": [],
                                                "dataType": "String"}
    assert r["messageAttributes"]["Blob"]["binaryValue"] == "AQ=="
    assert r["eventSource"] == "aws:sqs" and r["eventSourceARN"] == ARN and r["awsRegion"] == "us-east-1"
    assert r["md5OfBody"] == hashlib.md5(b"hello").hexdigest()
    assert record(msg("m2"), ARN, "us-east-1")["md5OfMessageAttributes"] is None


# ------------------------------------------------------------------ success and failure
def test_batch_is_deleted_after_success_and_trace_is_passed_on():
    q = FakeQueue([[msg("a"), msg("b", AWSTraceHeader="Root=1-x;Lineage=1:abcd:0")]])
    fn, reports = Function(), []
    run(run_until(poller(q, fn, reports=reports), lambda: len(q.deleted) == 2))
    assert fn.ids() == [["a", "b"]]
    assert fn.calls == [("fn", None, "Root=1-x;Lineage=1:abcd:0")]
    assert reports[-1] == OK


def test_function_error_deletes_nothing():
    q = FakeQueue([[msg("a"), msg("b")]])
    fn, reports = Function(lambda r: Result(b'{"errorMessage": "boom"}', "Unhandled")), []
    run(run_until(poller(q, fn, reports=reports), lambda: fn.batches and reports))
    assert q.deleted == []
    assert reports == [FUNCTION_FAILED]


def test_invoke_error_such_as_a_throttle_deletes_nothing():
    def throttle(records):
        raise AwsError("TooManyRequestsException", "Rate Exceeded.", 429)
    q = FakeQueue([[msg("a")]])
    reports: list[str] = []
    run(run_until(poller(q, Function(throttle), reports=reports), lambda: reports))
    assert q.deleted == [] and reports == ["PROBLEM: Rate Exceeded."]


def test_report_batch_item_failures_deletes_only_successes():
    q = FakeQueue([[msg("a"), msg("b"), msg("c")]])
    fn = Function(lambda r: Result(json.dumps({"batchItemFailures": [{"itemIdentifier": "b"}]}).encode()))
    run(run_until(poller(q, fn, FunctionResponseTypes=["ReportBatchItemFailures"]), lambda: len(q.deleted) == 2))
    assert sorted(q.deleted) == ["a", "c"]


@pytest.mark.parametrize("payload,failed", [
    (b'{"batchItemFailures": []}', set()),
    (b'{"batchItemFailures": null}', set()),
    (b"{}", set()),
    (b"null", set()),
    (b'"text"', set()),
    (b'{"batchItemFailures": [{"foo": "notvalid"}]}', None),
    (b'{"batchItemFailures": [{"itemIdentifier": "zzz"}]}', None),
    (b'{"batchItemFailures": [{"itemIdentifier": ""}]}', None),
    (b'{"batchItemFailures": "a"}', None),
    (b'{"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "b"}]}', {"a", "b"}),
])
def test_batch_item_failure_responses(payload, failed):
    assert failed_items(payload, ["a", "b"]) == failed


def test_without_report_batch_item_failures_the_response_is_ignored():
    q = FakeQueue([[msg("a"), msg("b")]])
    fn = Function(lambda r: Result(b'{"batchItemFailures": [{"itemIdentifier": "a"}]}'))
    run(run_until(poller(q, fn), lambda: len(q.deleted) == 2))


# ------------------------------------------------------------------ filtering
def test_messages_matching_no_filter_are_deleted_without_invocation():
    q = FakeQueue([[msg("a", '{"kind": "keep"}'), msg("b", '{"kind": "drop"}'), msg("c", "plain text")],
                   [msg("d", '{"kind": "drop"}')]])
    fn = Function()
    crit = {"Filters": [{"Pattern": json.dumps({"body": {"kind": ["keep"]}})}]}
    run(run_until(poller(q, fn, FilterCriteria=crit), lambda: len(q.deleted) == 4))
    assert fn.ids() == [["a"]]


# ------------------------------------------------------------------ FIFO
def test_fifo_failure_fails_the_rest_of_its_group_and_blocks_it_until_it_returns():
    a1, a2, b1 = msg("a1", group="A", seq=1), msg("a2", group="A", seq=2), msg("b1", group="B", seq=3)
    # The server then redelivers a2 before a1 (out of order), then both.
    q = FakeQueue([[a1, a2, b1], [dict(a2, ReceiptHandle="rh-a2-2")], [a1, a2]])
    answers = iter([
        Result(json.dumps({"batchItemFailures": [{"itemIdentifier": "a1"}]}).encode()),
        Result(b"null"),
    ])
    fn = Function(lambda r: next(answers))
    run(run_until(poller(q, fn, arn=FIFO_ARN, FunctionResponseTypes=["ReportBatchItemFailures"]),
                  lambda: len(q.deleted) == 3))
    assert fn.ids() == [["a1", "a2", "b1"], ["a1", "a2"]]  # a2 never ran before a1 succeeded
    assert q.deleted == ["b1", "a1", "a2"]
    assert q.hidden and q.hidden[0][0] == "rh-a2-2" and q.hidden[0][1] >= 1  # hidden until the block ends


def test_fifo_function_error_blocks_every_group_of_the_batch():
    a1, b1, a2 = msg("a1", group="A", seq=1), msg("b1", group="B", seq=2), msg("a2", group="A", seq=3)
    q = FakeQueue([[a1, b1], [a2], [a1, b1, a2]])
    answers = iter([Result(b"{}", "Unhandled"), Result()])
    fn = Function(lambda r: next(answers))
    run(run_until(poller(q, fn, arn=FIFO_ARN), lambda: len(q.deleted) == 3))
    assert fn.ids() == [["a1", "b1"], ["a1", "b1", "a2"]]
    assert [r for r, _ in q.hidden] == ["rh-a2"]


def test_fifo_orders_a_batch_by_sequence_number():
    q = FakeQueue([[msg("x3", group="G", seq=3), msg("x1", group="G", seq=1), msg("x2", group="G", seq=2)]])
    fn = Function()
    run(run_until(poller(q, fn, arn=FIFO_ARN), lambda: len(q.deleted) == 3))
    assert fn.ids() == [["x1", "x2", "x3"]]


def test_fifo_group_busy_in_another_batch_is_deferred():
    p = poller(FakeQueue([]), Function(), arn=FIFO_ARN)
    p._busy_groups.add("A")
    run_, busy, blocked = p._admit([msg("a1", group="A", seq=1), msg("b1", group="B", seq=2)])
    assert [m["MessageId"] for m in run_] == ["b1"] and [m["MessageId"] for m in busy] == ["a1"] and not blocked


# ------------------------------------------------------------------ scaling, batching window
def test_maximum_concurrency_caps_concurrent_batches_and_pollers_scale_with_depth():
    batches = [[msg(f"m{i}-{j}") for j in range(10)] for i in range(12)]
    q = FakeQueue(batches)
    fn = Function(delay=0.05)
    p = poller(q, fn, ScalingConfig={"MaximumConcurrency": 3})
    run(run_until(p, lambda: len(q.deleted) == 120))
    assert p.peak_in_flight == 3


def test_idle_queue_keeps_one_loop():
    q = FakeQueue([[msg(f"m{j}") for j in range(10)] for _ in range(4)])
    p = poller(q, Function(delay=0.02))

    async def scenario():
        p.start()
        while len(q.deleted) < 40:
            await asyncio.sleep(0.005)
        while p.loops > 1:
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)
        assert p.loops == 1
        await p.stop()
    run(scenario())
    assert p.peak_in_flight > 1


def test_batching_window_gathers_up_to_batch_size():
    q = FakeQueue([[msg(f"a{j}") for j in range(10)], [msg(f"b{j}") for j in range(10)], [msg("c0")]])
    fn = Function()
    p = poller(q, fn, BatchSize=25, MaximumBatchingWindowInSeconds=1)
    run(run_until(p, lambda: len(q.deleted) == 21))
    assert [len(b) for b in fn.batches] == [21]


# ------------------------------------------------------------------ sources that fail or disappear
class NoQueue(Exception):
    response = {"Error": {"Code": "AWS.SimpleQueueService.NonExistentQueue", "Message": "The specified queue does not exist."}}


def test_unreachable_queue_is_reported_backed_off_and_recovered():
    q = FakeQueue([[msg("a")]])
    q.errors = [NoQueue(), NoQueue()]
    reports: list[str] = []
    run(run_until(poller(q, Function(), reports=reports), lambda: q.deleted == ["a"]))
    assert reports[0] == ("PROBLEM: Error occurred while ReceiveMessage. SQS Error Code: "
                          "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist.")
    assert reports[-1] == OK


def test_stopping_gives_received_messages_back():
    q = FakeQueue([[msg("a")]])
    p = poller(q, Function())
    p._stopping = True  # stop requested while the receive was out

    async def scenario():
        p.loops += 1
        q_batch = await p._gather()
        await p._give_back(q_batch)
    run(scenario())
    assert q.hidden == [("rh-a", 0)] and q.deleted == []


def test_check_queue_visibility_rule():
    run(check_queue(FakeQueue([], visibility=30), 30))
    with pytest.raises(AwsError) as e:
        run(check_queue(FakeQueue([], visibility=30), 60))
    assert e.value.message == "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds"


def test_throttles_shrink_the_loops_to_the_functions_concurrency():
    q = FakeQueue([[msg(f"m{i}-{j}") for j in range(10)] for i in range(30)])
    state = {"running": 0}

    async def fn(function, qualifier, payload, trace):
        if state["running"] >= 2:
            raise AwsError("TooManyRequestsException", "Rate Exceeded.", 429)
        state["running"] += 1
        await asyncio.sleep(0.02)
        state["running"] -= 1
        return Result()

    p = poller(q, fn)
    peak = []

    async def scenario():
        p.start()
        while q.batches:
            await asyncio.sleep(0.001)
            peak.append(p.loops)
        await p.stop()
    run(scenario())
    # Without shrinking every full receive would add a loop (~22 here); a loop ends after
    # each throttle, so they stay near the function's concurrency of 2.
    assert max(peak) <= 10, max(peak)


def test_a_batch_beyond_the_payload_limit_runs_what_fits_and_gives_the_rest_back():
    big = "x" * 400
    q = FakeQueue([[msg(f"m{i}", big) for i in range(5)]])
    fn = Function()
    p = SqsPoller({"EventSourceArn": ARN, "BatchSize": 10, "_Function": "fn"}, q, fn, [].append, region="us-east-1",
                  timings=Timings(wait_s=0, backoff_s=(0.01, 0.05), payload_max_bytes=2500), max_concurrency=10)
    run(run_until(p, lambda: len(q.deleted) == 5))
    assert 1 <= len(fn.batches[0]) < 5 and all(len(json.dumps({"Records": b})) <= 2500 for b in fn.batches)
    assert sorted(q.deleted) == [f"m{i}" for i in range(5)]
    assert any(seconds == 0 for _, seconds in q.hidden)  # the rest went back at once


def test_a_receive_error_inside_the_batching_window_runs_what_was_gathered():
    class Flaky(FakeQueue):
        async def receive(self, max_messages, wait_s):
            if self.receives == 1:
                self.receives += 1
                raise NoQueue()
            return await super().receive(max_messages, wait_s)

    q = Flaky([[msg("a"), msg("b")]])
    fn = Function()
    run(run_until(poller(q, fn, BatchSize=20, MaximumBatchingWindowInSeconds=5), lambda: len(q.deleted) == 2))
    assert fn.ids() == [["a", "b"]]
