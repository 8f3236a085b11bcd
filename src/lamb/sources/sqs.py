"""The SQS poller: queue messages in, synchronous invocations out.

Behaviour from "Using Lambda with Amazon SQS" (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html),
services-sqs-errorhandling.html, services-sqs-scaling.html and services-sqs-batchfailures.html:

* Long polling (``WaitTimeSeconds`` 20) in batches of up to 10 per ReceiveMessage; with
  ``MaximumBatchingWindowInSeconds`` the poller keeps receiving until ``BatchSize``
  messages, the window's end or 6 MB of payload. A batch whose event would pass the 6 MB
  invoke limit runs what fits; the rest goes back to the queue at once.
* A batch's messages are deleted only after the invocation succeeded. A function error
  (or a throttle, or any failure to invoke) deletes nothing: the messages become visible
  again after the queue's visibility timeout, and the queue's own redrive policy moves
  them to its dead-letter queue after ``maxReceiveCount`` receives.
* ``FunctionResponseTypes: [ReportBatchItemFailures]``: the function answers
  ``{"batchItemFailures": [{"itemIdentifier": <messageId>}]}`` and only the other
  messages are deleted; a response naming no valid id of the batch fails it whole; an
  empty or null list (or no JSON object) is a success.
* FIFO queues: messages of a group are passed in order. Once a message of a group
  fails, the group's later messages in the batch fail with it, and the group is blocked
  until the failed message comes back (or its visibility timeout has passed): messages of a
  blocked group, or of a group with a batch in flight, are hidden again for a moment
  rather than run out of order.
* Messages that match no filter (``FilterCriteria``) are deleted without an invocation.
* Scaling: one receive loop while the queue is idle; each full receive starts another,
  up to ``ScalingConfig.MaximumConcurrency`` (or ``ProvisionedPollerConfig.MaximumPollers``,
  else Lamb's limit); a loop whose receive came back empty, or whose invocation was
  throttled (the function's concurrency is used up), ends while more than the minimum run. Each loop has at most one invocation in flight, so the concurrency of a
  mapping never exceeds its maximum.
* Errors reaching the queue back off (doubling up to a ceiling) and are reported in
  ``LastProcessingResult``; received messages are never dropped: anything not deleted
  comes back after its visibility timeout.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Protocol

from ..protocol.errors import AwsError, invalid_parameter
from ..services.role_clients import refused
from .filtering import Criteria, compile_criteria, sqs_view
from .params import SQS, SQS_FIFO  # noqa: F401  (the kinds this module polls)
from .sqs_client import NON_EXISTENT, aws_code, error_code, error_message

log = logging.getLogger("lamb.sources")

OK = "OK"
FUNCTION_FAILED = "PROBLEM: Function call failed"
REPORT_ITEM_FAILURES = "ReportBatchItemFailures"


class InvokeResult(Protocol):
    payload: bytes
    function_error: str | None


# The one door into functions: (function name, qualifier or None, payload[, X-Ray header]) -> result.
Invoke = Callable[[str, "str | None", bytes, "str | None"], Awaitable[InvokeResult]]


class Queue(Protocol):
    """What the poller needs of a queue (``sqs_client.QueueClient``; a fake in unit tests)."""

    async def receive(self, max_messages: int, wait_s: int) -> list[dict]: ...
    async def delete(self, receipts: list[tuple[str, str]]) -> list[str]: ...
    async def change_visibility(self, receipts: list[str], seconds: int) -> None: ...
    async def attributes(self, names: list[str]) -> dict: ...


@dataclass(frozen=True)
class Timings:
    """AWS's timings by default; tests shorten them through settings."""

    wait_s: int = 20  # long poll
    backoff_s: tuple[float, float] = (1.0, 60.0)  # first delay and ceiling after errors
    fifo_defer_s: int = 1  # a message of a busy FIFO group is hidden this long again
    payload_max_bytes: int = 6 * 1024 * 1024


# ------------------------------------------------------------------ create-time check
def receive_error(exc: BaseException) -> AwsError:
    return invalid_parameter(
        f"Error occurred while ReceiveMessage. SQS Error Code: {aws_code(exc)}. "
        f"SQS Error Message: {error_message(exc) if error_code(exc) not in NON_EXISTENT else 'The specified queue does not exist.'}"
    )


# CreateEventSourceMapping when the function's role may not read the queue (AWS's text, 400).
ROLE_REFUSED = "The function execution role does not have permissions to call ReceiveMessage on SQS"


async def check_queue(queue: Queue, function_timeout_s: int) -> None:
    """AWS's create-time rules: the queue exists (as the function's role sees it, where Lamb
    acts as the role) and its visibility timeout is at least the function's timeout."""
    try:
        attrs = await queue.attributes(["VisibilityTimeout"])
    except Exception as e:
        if getattr(queue, "as_role", False) and refused(e):
            raise invalid_parameter(ROLE_REFUSED)
        raise receive_error(e)
    visibility = int(attrs.get("VisibilityTimeout", 30))
    if visibility < function_timeout_s:
        raise invalid_parameter(
            f"Queue visibility timeout: {visibility} seconds is less than Function timeout: {function_timeout_s} seconds"
        )


# ------------------------------------------------------------------ event shape
def _attribute(value: dict) -> dict:
    out = {
        "stringValue": value.get("StringValue"),
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": [base64.b64encode(b).decode() for b in value.get("BinaryListValues", [])],
        "dataType": value.get("DataType"),
    }
    if "BinaryValue" in value:
        out["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    if out["stringValue"] is None:
        out.pop("stringValue")
    return out


def record(message: dict, arn: str, region: str) -> dict:
    """One message as AWS's ``Records[]`` entry (with-sqs.html, "Example message event")."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {k: _attribute(v) for k, v in (message.get("MessageAttributes") or {}).items()},
        "md5OfMessageAttributes": message.get("MD5OfMessageAttributes"),
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    }


def failed_items(payload: bytes, ids: list[str]) -> set[str] | None:
    """The message ids a ReportBatchItemFailures response names; None when the response
    fails the whole batch (an item without a valid ``itemIdentifier`` of the batch)."""
    try:
        doc = json.loads(payload or b"null")
    except ValueError:
        return set()
    if not isinstance(doc, dict):
        return set()
    items = doc.get("batchItemFailures")
    if items is None:
        return set()
    if not isinstance(items, list):
        return None
    known = set(ids)
    out: set[str] = set()
    for item in items:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(ident, str) or ident not in known:
            return None
        out.add(ident)
    return out


def _group(m: dict) -> str:
    return m.get("Attributes", {}).get("MessageGroupId", "")


def _number(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


# ------------------------------------------------------------------ the poller
class SqsPoller:
    """Polls one queue for one mapping. ``start()`` then ``await stop()``."""

    def __init__(self, cfg: dict, queue: Queue, invoke: Invoke, report: Callable[[str], None], *,
                 region: str, timings: Timings, max_concurrency: int, receive_max: int = 10,
                 max_filters: int = 5, count: Callable[[str, int], None] | None = None):
        self.cfg = cfg
        self.count = count or (lambda metric, n: None)  # MetricsConfig EventCount (esm_metrics)
        self.queue = queue
        self.invoke = invoke
        self.report = report
        self.arn = cfg["EventSourceArn"]
        self.region = region
        self.timings = timings
        self.fifo = self.arn.endswith(".fifo")
        self.batch_size = int(cfg.get("BatchSize") or 10)
        self.window = int(cfg.get("MaximumBatchingWindowInSeconds") or 0)
        self.receive_n = min(receive_max, self.batch_size)
        self.criteria: Criteria = compile_criteria(cfg.get("FilterCriteria"), max_filters)
        self.item_failures = REPORT_ITEM_FAILURES in (cfg.get("FunctionResponseTypes") or [])
        scaling = (cfg.get("ScalingConfig") or {}).get("MaximumConcurrency")
        pollers = cfg.get("ProvisionedPollerConfig") or {}
        self.max_loops = max(1, min(scaling or pollers.get("MaximumPollers") or max_concurrency, max_concurrency))
        self.min_loops = max(1, min(pollers.get("MinimumPollers") or 1, self.max_loops))
        self.loops = 0
        self.in_flight = 0  # invocations running now (tests and health read it)
        self.peak_in_flight = 0
        self._stopping = False
        self._tasks: set[asyncio.Task] = set()
        self._backoff = 0.0
        self._throttled = False  # the last invocation was throttled (429)
        self._visibility_s = 30
        self._busy_groups: set[str] = set()
        self._blocked: dict[str, tuple[tuple, float]] = {}  # group -> (order of its first failed message, until)
        self._seen: dict[str, int] = {}  # FIFO message id -> when this poller first saw it

    # -- lifecycle
    def start(self) -> None:
        self._track(self._visibility())
        for _ in range(self.min_loops):
            self._spawn(self._loop())

    def _spawn(self, coro) -> None:
        self.loops += 1
        self._track(coro)

    def _track(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Stop receiving; a batch in flight finishes (and is deleted or left) first."""
        self._stopping = True
        while self._tasks:  # loops may still add the delete of their last batch
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def cancel(self) -> None:
        """Lamb is shutting down: stop at once (anything not deleted comes back by itself)."""
        self._stopping = True
        for t in list(self._tasks):
            t.cancel()

    # -- loops
    async def _visibility(self) -> None:
        """The queue's visibility timeout (how long a failed FIFO group stays blocked)."""
        try:
            attrs = await self.queue.attributes(["VisibilityTimeout"])
            self._visibility_s = int(attrs.get("VisibilityTimeout", 30))
        except Exception:
            pass  # the loops report why the queue cannot be reached

    async def _loop(self) -> None:
        try:
            while not self._stopping:
                try:
                    messages = await self._gather()
                except asyncio.CancelledError:
                    raise
                except Exception as e:
                    await self._failed_to_receive(e)
                    if self.loops > self.min_loops:
                        return  # one loop is enough to find out when the queue is back
                    continue
                self._backoff = 0.0
                if self._stopping:
                    await self._give_back(messages)
                    return
                if not messages:
                    if self.loops > self.min_loops:
                        return  # scale down
                    continue
                if len(messages) >= self.receive_n and self.loops < self.max_loops:
                    self._spawn(self._loop())  # scale up with the queue's depth
                await self._process(messages)
                if self._throttled and self.loops > self.min_loops:
                    self._throttled = False
                    return  # the function's concurrency is used up: one loop fewer
        finally:
            self.loops -= 1

    async def _failed_to_receive(self, exc: BaseException) -> None:
        reason = receive_error(exc).message
        self.report(f"PROBLEM: {reason}")
        log.warning("event source %s: %s", self.arn, reason)
        first, ceiling = self.timings.backoff_s
        self._backoff = min(ceiling, self._backoff * 2) if self._backoff else first
        deadline = time.monotonic() + self._backoff
        while not self._stopping and time.monotonic() < deadline:
            await asyncio.sleep(min(0.2, deadline - time.monotonic()))

    async def _gather(self) -> list[dict]:
        messages = await self.queue.receive(self.receive_n, self.timings.wait_s)
        if not messages or not self.window:
            return messages
        deadline = time.monotonic() + self.window
        size = sum(len(m.get("Body", "")) for m in messages)
        while len(messages) < self.batch_size and size < self.timings.payload_max_bytes and not self._stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            wait = min(int(remaining), self.timings.wait_s)  # WaitTimeSeconds is whole seconds
            try:
                more = await self.queue.receive(min(self.receive_n, self.batch_size - len(messages)), wait)
            except Exception as e:  # run what was gathered; the next receive reports the problem
                log.warning("event source %s: receive failed while batching: %s", self.arn, e)
                break
            if not more and wait == 0:
                await asyncio.sleep(min(remaining, 0.05))
            messages += more
            size += sum(len(m.get("Body", "")) for m in more)
        return messages

    async def _give_back(self, messages: list[dict]) -> None:
        if messages:
            try:
                await self.queue.change_visibility([m["ReceiptHandle"] for m in messages], 0)
            except Exception:
                pass  # they come back after their visibility timeout anyway

    # -- one batch
    def _order(self, m: dict) -> tuple:
        """A FIFO message's place in its queue: its SequenceNumber, or (servers without one)
        its SentTimestamp and the order this poller first received it in."""
        a = m.get("Attributes", {})
        if "SequenceNumber" in a:
            return (_number(a["SequenceNumber"]), 0)
        if len(self._seen) > 100_000:
            self._seen.clear()
        rank = self._seen.setdefault(m["MessageId"], len(self._seen))
        return (_number(a.get("SentTimestamp")), rank)

    def _admit(self, messages: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
        """FIFO: (messages to run in order, messages to hide again for a moment, of blocked groups)."""
        if not self.fifo:
            return messages, [], []
        ordered = sorted(messages, key=self._order)
        first: dict[str, dict] = {}
        for m in ordered:
            first.setdefault(_group(m), m)
        admitted: set[str] = set()
        busy: list[dict] = []
        blocked: list[dict] = []
        now = time.monotonic()
        for group, head in first.items():
            block = self._blocked.get(group)
            if group in self._busy_groups:
                busy += [m for m in ordered if _group(m) == group]
            elif block is not None and now < block[1] and self._order(head) > block[0]:
                blocked += [m for m in ordered if _group(m) == group]  # the failed message must run first
            else:
                self._blocked.pop(group, None)
                admitted.add(group)
        run = [m for m in ordered if _group(m) in admitted]
        return run, busy, blocked

    async def _defer(self, busy: list[dict], blocked: list[dict]) -> None:
        now = time.monotonic()
        if busy:
            await self._give_back_after(busy, self.timings.fifo_defer_s)
        for m in blocked:
            until = self._blocked.get(_group(m), (0, now))[1]
            await self._give_back_after([m], max(1, int(until - now + 0.999)))

    async def _give_back_after(self, messages: list[dict], seconds: int) -> None:
        try:
            await self.queue.change_visibility([m["ReceiptHandle"] for m in messages], seconds)
        except Exception as e:
            log.warning("event source %s: could not hide messages of a busy FIFO group: %s", self.arn, e)

    async def _process(self, messages: list[dict]) -> None:
        self.count("PolledEventCount", len(messages))
        run, busy, blocked = self._admit(messages)
        if busy or blocked:
            await self._defer(busy, blocked)
        if not run:
            return
        records = [record(m, self.arn, self.region) for m in run]
        keep = [r for r in records if self.criteria.matches(sqs_view(r))] if self.criteria else records
        dropped = [r for r in records if r not in keep] if len(keep) != len(records) else []
        if self.criteria:
            self.count("FilteredOutEventCount", len(dropped))
        failed: set[str] = set()
        if keep:
            keep, payload, spilled = self._fit(keep)
            if spilled:  # beyond the invoke payload limit: back to the queue for a later batch
                failed |= spilled
                await self._give_back([m for m in run if m["MessageId"] in spilled])
            failed |= await self._invoke(keep, run, payload)
        done = [(r["messageId"], r["receiptHandle"]) for r in records if r["messageId"] not in failed]
        for mid, _ in done:
            self._seen.pop(mid, None)
        if done:
            # The next receive need not wait for the delete (stop() waits for it).
            self._track(self._delete(done))
        if dropped:
            log.debug("event source %s: %d message(s) matched no filter and were deleted", self.arn, len(dropped))

    async def _delete(self, done: list[tuple[str, str]]) -> None:
        try:
            not_deleted = await self.queue.delete(done)
            self.count("DeletedEventCount", len(done) - len(not_deleted or []))
            if not_deleted:
                log.warning("event source %s: %d message(s) not deleted; they come back", self.arn, len(not_deleted))
        except Exception as e:
            log.warning("event source %s: delete failed (%s); the messages come back", self.arn, e)

    def _fit(self, records: list[dict]) -> tuple[list[dict], bytes, set[str]]:
        """The records that fit in one invocation's payload (6 MB), their payload, and the ids left out."""
        keep = list(records)
        payload = json.dumps({"Records": keep}).encode()
        spilled: set[str] = set()
        while len(payload) > self.timings.payload_max_bytes and len(keep) > 1:
            spilled.add(keep.pop()["messageId"])
            payload = json.dumps({"Records": keep}).encode()
        return keep, payload, spilled

    async def _invoke(self, records: list[dict], messages: list[dict], payload: bytes) -> set[str]:
        """Run the function on a batch; the ids of the messages that failed."""
        ids = [r["messageId"] for r in records]
        groups = {_group(m) for m in messages} if self.fifo else set()
        self._busy_groups |= groups
        trace = next((r["attributes"].get("AWSTraceHeader") for r in records if r["attributes"].get("AWSTraceHeader")), None)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        self.count("InvokedEventCount", len(ids))
        try:
            result = await self.invoke(self.cfg["_Function"], self.cfg.get("_Qualifier"), payload, trace)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            reason = e.message if isinstance(e, AwsError) else f"{type(e).__name__}: {e}"
            self._throttled = isinstance(e, AwsError) and e.status == 429
            self.report(f"PROBLEM: {reason}")
            failed = set(ids)
        else:
            if result.function_error:
                failed = set(ids)
            elif self.item_failures:
                named = failed_items(result.payload, ids)
                failed = set(ids) if named is None else named
            else:
                failed = set()
            self.report(FUNCTION_FAILED if failed else OK)
        finally:
            self.in_flight -= 1
            self._busy_groups -= groups
        self.count("FailedInvokeEventCount", len(failed))
        if self.fifo and failed:
            failed = self._fail_rest_of_groups(records, messages, failed)
        return failed

    def _fail_rest_of_groups(self, records: list[dict], messages: list[dict], failed: set[str]) -> set[str]:
        """FIFO: a group's messages after its first failure fail too; the group is blocked."""
        by_id = {m["MessageId"]: m for m in messages}
        until = time.monotonic() + self._visibility_s + 1
        out = set(failed)
        first_failed: dict[str, tuple] = {}
        for r in records:
            m = by_id[r["messageId"]]
            g = _group(m)
            if g in first_failed:
                out.add(r["messageId"])
            elif r["messageId"] in failed:
                first_failed[g] = self._order(m)
        for g, seq in first_failed.items():
            self._blocked[g] = (seq, until)
        return out




def sqs_kind(invoke: Invoke, queue_for: Callable[[str, dict | None], Queue], timings: Timings, *,
             max_concurrency: int, receive_max: int, max_filters: int, count_for: Callable[[dict], Any] | None = None):
    """The SQS (standard and FIFO) ``SourceKind`` for the source manager. ``queue_for(arn, cfg)``
    is the queue as a mapping (``cfg``, its ``FunctionArn`` at least) reads it, or as Lamb (None)."""
    from .manager import SourceKind

    async def check(arn: str, function_timeout_s: int, cfg: dict | None = None) -> None:
        await check_queue(queue_for(arn, cfg), function_timeout_s)

    def poller(cfg: dict, report: Callable[[str], None]) -> SqsPoller:
        arn = cfg["EventSourceArn"]
        return SqsPoller(cfg, queue_for(arn, cfg), invoke, report, region=arn.split(":")[3], timings=timings,
                         max_concurrency=max_concurrency, receive_max=receive_max, max_filters=max_filters,
                         count=count_for(cfg) if count_for else None)

    return SourceKind(check, poller)
