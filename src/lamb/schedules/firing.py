"""Firing a tick: the targets' payloads, the asynchronous invocation, retries and dead letters.

EventBridge invokes Lambda asynchronously (an ``Event`` invocation,
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html), and so does EventBridge
Scheduler; both go through ``Invocations.invoke_async`` like every trigger. A delivery that
fails with a retryable error (throttling, a 5xx, a function still Pending) is retried with
back-off under the target's ``RetryPolicy`` (``MaximumRetryAttempts``, default 185;
``MaximumEventAgeInSeconds``, default 86 400,
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html). One that
cannot be delivered goes to the target's ``DeadLetterConfig`` queue, with the error in message
attributes, or is logged when there is none. A rule's target is first checked against the
function's resource policy (``authorize``, ``permission.py``): without an Allow for
``events.amazonaws.com`` the tick is not delivered (``AccessDeniedException``, not retried).
Function errors are the async queue's business (the function's event invoke config), as on AWS.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any, Awaitable, Callable

from ..protocol.errors import AwsError
from .payloads import rule_target_input, scheduled_event, scheduler_input
from .store import RULE, Item

log = logging.getLogger("lamb.schedules")

InvokeAsync = Callable[..., Awaitable[dict]]  # Invocations.invoke_async(function, qualifier, payload)
# (queue ARN, body, attributes, role ARN that sends it or None, its session name)
DeadLetter = Callable[[str, bytes, dict[str, str], "str | None", str], Awaitable[None]]
Authorize = Callable[[str, str, str], None]  # (function ARN, principal, source ARN); raises AwsError

DEFAULT_RETRY_ATTEMPTS = 185
DEFAULT_EVENT_AGE_S = 86_400
BACKOFF_S = (1.0, 60.0)  # first delay, ceiling (doubling), before the time scale
EVENTS_PRINCIPAL = "events.amazonaws.com"


def allow_all(function_arn: str, principal: str, source_arn: str) -> None:
    """No permission check: for a ``Firing`` used on its own (unit tests). Lamb's schedules
    ask ``permission.InvokePermission`` (the function's resource policy, as on AWS)."""


def retryable(err: BaseException) -> bool:
    if not isinstance(err, AwsError):
        return True
    return err.code == "ResourceConflictException" or (err.status or 400) == 429 or (err.status or 400) >= 500


class Firing:
    """``await firing(item, tick)``: one tick of a rule or schedule, first attempts awaited."""

    def __init__(self, invoke_async: InvokeAsync, *, region: str, account: str, scale: float = 1.0,
                 dead_letter: DeadLetter | None = None, authorize: Authorize = allow_all,
                 clock: Callable[[], float] | None = None) -> None:
        self.invoke_async = invoke_async
        self.region = region
        self.account = account
        self.scale = scale
        self.dead_letter = dead_letter
        self.authorize = authorize
        self.clock = clock or time.monotonic
        self._tasks: set[asyncio.Task] = set()

    async def __call__(self, item: Item, tick: float) -> None:
        if item.kind == RULE:
            await self.rule_event(item.data, scheduled_event(item.data["Arn"], tick, region=self.region,
                                                             account=self.account))
            return
        target = item.data["Target"]
        arn = item.data["Arn"]
        execution_id = str(uuid.uuid4())

        def payload(attempt: int) -> bytes:
            return scheduler_input(target, schedule_arn=arn, tick=tick, execution_id=execution_id, attempt=attempt)

        attrs = {"X-Amz-Scheduler-Schedule-Arn": arn, "X-Amz-Scheduler-Target-Arn": target["Arn"]}
        await self._start(target, payload, "scheduler.amazonaws.com", arn, attrs)

    def rule_event(self, rule: dict, event: dict) -> asyncio.Future:
        """Deliver ``event`` (a tick's Scheduled Event, or one PutEvents matched to the rule) to
        each of the rule's targets; the future is done when every first attempt is."""
        firsts = []
        for target in rule.get("Targets") or []:
            payload = rule_target_input(target, event, rule_name=rule["Name"], rule_arn=rule["Arn"])
            attrs = {"RULE_ARN": rule["Arn"], "TARGET_ARN": target["Arn"]}
            firsts.append(self._start(target, lambda attempt, p=payload: p, EVENTS_PRINCIPAL, rule["Arn"], attrs))
        return asyncio.gather(*firsts)

    def _start(self, target: dict, payload: Callable[[int], bytes], principal: str, source_arn: str,
               attrs: dict[str, str]) -> asyncio.Future:
        first: asyncio.Future = asyncio.get_running_loop().create_future()
        task = asyncio.ensure_future(self._deliver(target, payload, principal, source_arn, attrs, first))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return first

    async def _deliver(self, target: dict, payload: Callable[[int], bytes], principal: str, source_arn: str,
                       attrs: dict[str, str], first: asyncio.Future) -> None:
        policy = target.get("RetryPolicy") or {}
        attempts_left = int(policy.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS))
        deadline = self.clock() + float(policy.get("MaximumEventAgeInSeconds", DEFAULT_EVENT_AGE_S)) * self.scale
        delay = BACKOFF_S[0] * self.scale
        attempt = 1
        try:
            while True:
                body = payload(attempt)
                try:
                    self.authorize(target["Arn"], principal, source_arn)
                    await self.invoke_async(target["Arn"], None, body)
                    return
                except Exception as err:  # noqa: BLE001 - every failure is retried or dead-lettered
                    if not first.done():
                        first.set_result(None)
                    if retryable(err) and attempts_left > 0 and self.clock() + delay <= deadline:
                        attempts_left -= 1
                        attempt += 1
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, BACKOFF_S[1] * self.scale)
                        continue
                    await self._dead_letter(target, body, err, attrs)
                    return
        finally:
            if not first.done():
                first.set_result(None)

    async def _dead_letter(self, target: dict, body: bytes, err: BaseException, attrs: dict[str, str]) -> None:
        code = err.code if isinstance(err, AwsError) else type(err).__name__
        message = err.message if isinstance(err, AwsError) else str(err)
        queue = (target.get("DeadLetterConfig") or {}).get("Arn")
        if queue is None or self.dead_letter is None:
            log.warning("schedule target %s not invoked: %s: %s", target["Arn"], code, message)
            return
        # A rule's DLQ is sent by EventBridge itself (the queue's policy allows events.amazonaws.com);
        # a schedule's by its execution role (RoleArn needs sqs:SendMessage), under the schedule's name.
        role, session = None, ""
        if "RULE_ARN" in attrs:
            extra = {"ERROR_CODE": code, "ERROR_MESSAGE": message}
        else:
            extra = {"X-Amz-Scheduler-Error-Code": code, "X-Amz-Scheduler-Error-Message": message}
            role, session = target.get("RoleArn") or None, attrs["X-Amz-Scheduler-Schedule-Arn"].rsplit("/", 1)[-1]
        try:
            await self.dead_letter(queue, body, {**attrs, **extra}, role, session)
        except Exception:  # noqa: BLE001
            log.exception("dead letter for %s to %s failed", target["Arn"], queue)

    def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()


def sqs_attributes(attrs: dict[str, str]) -> dict[str, Any]:
    """Message attributes as SQS's SendMessage takes them."""
    return {k: {"DataType": "String", "StringValue": v or "-"} for k, v in attrs.items()}  # SQS refuses empty values
