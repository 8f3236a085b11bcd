"""lamb.schedules.firing: payloads per target, retries under RetryPolicy, dead letters.

The invoke collaborator is a recording stand-in for ``Invocations.invoke_async`` (the door
itself is exercised by tests/integration/test_schedules.py)."""

from __future__ import annotations

import asyncio
import json

from lamb.protocol.errors import AwsError
from lamb.schedules.firing import Firing, retryable
from lamb.schedules.store import RULE, SCHEDULE, Item

FN = "arn:aws:lambda:us-east-1:000000000000:function:f"
TICK = 1_800_000_060.0


class Recorder:
    def __init__(self, failures: list[BaseException] = ()) -> None:
        self.calls: list[tuple[str, bytes]] = []
        self.failures = list(failures)

    async def __call__(self, function: str, qualifier, payload: bytes) -> dict:
        self.calls.append((function, payload))
        if self.failures:
            raise self.failures.pop(0)
        return {"StatusCode": 202}


def run(coro_fn):
    return asyncio.run(coro_fn())


def test_rule_targets_get_the_scheduled_event_or_their_input():
    invoke = Recorder()
    rule = Item(RULE, "r", {"Name": "r", "Arn": "arn:aws:events:us-east-1:000000000000:rule/r",
                            "Targets": [{"Id": "1", "Arn": FN}, {"Id": "2", "Arn": FN + ":live", "Input": '{"k":1}'}]},
                None)

    async def main():
        await Firing(invoke, region="us-east-1", account="000000000000")(rule, TICK)

    run(main)
    event = json.loads(invoke.calls[0][1])
    assert event["detail-type"] == "Scheduled Event" and event["resources"] == [rule.data["Arn"]]
    assert invoke.calls[1] == (FN + ":live", b'{"k":1}')


ROLE = "arn:aws:iam::000000000000:role/scheduler"


def test_retryable_errors_are_retried_then_dead_lettered():
    throttled = AwsError("TooManyRequestsException", "Rate Exceeded.", 429)
    invoke = Recorder([throttled, throttled, throttled])
    letters = []

    async def dead_letter(queue, body, attrs, role, session):
        letters.append((queue, body, attrs, role, session))

    target = {"Arn": FN, "Input": '{"n": "<aws.scheduler.attempt-number>"}', "RoleArn": ROLE,
              "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 86400},
              "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:000000000000:dlq"}}
    sched = Item(SCHEDULE, "default/s", {"Arn": "arn:aws:scheduler:us-east-1:000000000000:schedule/default/s",
                                         "Target": target}, None)

    async def main():
        firing = Firing(invoke, region="us-east-1", account="000000000000", scale=0.001, dead_letter=dead_letter)
        await firing(sched, TICK)
        assert len(invoke.calls) == 1  # the first attempt is awaited, retries go on in the background
        while firing._tasks:
            await asyncio.sleep(0.005)

    run(main)
    assert [json.loads(p)["n"] for _, p in invoke.calls] == ["1", "2", "3"]
    queue, body, attrs, role, session = letters[0]
    assert queue.endswith(":dlq") and json.loads(body) == {"n": "3"}
    assert (role, session) == (ROLE, "s")  # the schedule's execution role sends its dead letter
    assert attrs["X-Amz-Scheduler-Error-Code"] == "TooManyRequestsException"
    assert attrs["X-Amz-Scheduler-Target-Arn"] == FN


def test_not_found_is_not_retried():
    assert not retryable(AwsError("ResourceNotFoundException", "Function not found: x", 404))
    assert retryable(AwsError("ResourceConflictException", "Pending", 409))
    assert retryable(AwsError("ServiceException", "boom", 500))
    invoke = Recorder([AwsError("ResourceNotFoundException", "Function not found", 404)])
    rule = Item(RULE, "r", {"Name": "r", "Arn": "arn:r", "Targets": [{"Id": "1", "Arn": FN}]}, None)

    async def main():
        firing = Firing(invoke, region="us-east-1", account="1", scale=0.001)
        await firing(rule, TICK)
        await asyncio.sleep(0.01)

    run(main)
    assert len(invoke.calls) == 1
