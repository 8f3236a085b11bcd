"""The Amazon MQ for RabbitMQ poller: a queue's messages in, synchronous invocations out.

Behaviour from "Using Lambda with Amazon MQ" (https://docs.aws.amazon.com/lambda/latest/dg/with-mq.html),
services-mq-params.html and services-mq-errors.html:

* Lambda consumes with AMQP 0-9-1 and PLAIN authentication: the user name and password of the
  ``BASIC_AUTH`` secret, the ``VIRTUAL_HOST`` (``/`` by default), the one queue of ``Queues``.
  The broker's address comes from DescribeBroker, or from ``LAMB_MQ_ENDPOINTS``
  (``mq_broker``).
* Batches: messages are gathered until ``BatchSize`` (default 100, at most 10,000), the batching
  window (``MaximumBatchingWindowInSeconds``, 500 ms when not set) has passed since the first one,
  or the next message would take the event past the 6 MB invoke limit; that message starts the
  next batch. A message too large to be invoked alone is dropped (acknowledged and reported), as
  AWS drops records over 6 MB.
* One invocation at a time per mapping (AWS's RabbitMQ concurrency of 1): the consumer's
  prefetch is the batch size, so the broker hands over at most one batch of unacknowledged messages.
* Success acknowledges the batch. A function error, a throttle or any failure to invoke
  negatively acknowledges it with ``requeue``: the broker puts the messages back at the head of
  the queue and delivers them again (``redelivered: true``), so the whole batch is retried, after
  a backoff, until it succeeds or the messages expire (their TTL, or a quorum queue's
  ``x-delivery-limit`` with its dead-letter exchange: the broker's own redelivery policy, as the
  troubleshooting page advises).
* ``FilterCriteria`` on ``data`` (base64-decoded, JSON parsed): messages that match no pattern
  are acknowledged without an invocation.
* A broker that cannot be reached, refuses the credentials, or lacks the queue: the poller backs
  off (doubling to a ceiling) and tries again; ``LastProcessingResult`` says why (AWS's
  ``EVENT_SOURCE_AUTHN_ERROR`` / ``ESM_CONFIG_NOT_VALID`` codes named). Nothing received is lost:
  whatever was not acknowledged goes back to the queue when the channel closes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from .. import aio
from . import mq_broker
from .filtering import compile_criteria, mq_view
from .mq_broker import Credentials, Endpoint, access, credentials_of, parse_endpoints
from .stream_clients import client
from .rabbitmq_event import Delivery, envelope_bytes, payload, record, record_bytes

log = logging.getLogger("lamb.sources")

OK = "OK"
FUNCTION_FAILED = "PROBLEM: Function call failed"
_CLOSED = object()  # put in the inbox when the connection closes
_PROPERTY_NAMES = ("content_type", "content_encoding", "headers", "delivery_mode", "priority", "correlation_id",
                   "reply_to", "expiration", "message_id", "timestamp", "message_type", "user_id", "app_id",
                   "cluster_id")

# invoke(function ARN as the mapping names it, payload) -> result with .function_error
Invoke = Callable[[str, bytes], Awaitable[Any]]
# count(metric, value): the mapping's event counts (``metrics_config``), a no-op when not asked for
Count = Callable[[str, int], None]


@dataclass(frozen=True)
class Timings:
    backoff_s: tuple[float, float] = (1.0, 60.0)  # after a broker error: first delay and ceiling
    retry_s: tuple[float, float] = (1.0, 60.0)  # before a failed batch is tried again
    idle_check_s: float = 5.0  # how often an idle consumer looks whether its connection still lives
    window_default_s: float = 0.5
    payload_max_bytes: int = 6 * 1024 * 1024


@dataclass(frozen=True)
class Broker:
    """What the kind resolves for a poller: where the broker is and who to be there."""

    endpoint: Endpoint
    credentials: Credentials


def problem(exc: BaseException) -> str:
    """``LastProcessingResult`` for a broker-side failure, with AWS's troubleshooting code."""
    text = f"{type(exc).__name__}: {exc}"
    name = type(exc).__name__
    if name in ("ProbableAuthenticationError", "AuthenticationError") or "ACCESS_REFUSED" in text:
        return f"PROBLEM: EVENT_SOURCE_AUTHN_ERROR: {text}"
    if "NOT_FOUND" in text or name == "ChannelNotFoundEntity":
        return f"PROBLEM: ESM_CONFIG_NOT_VALID: {text}"
    return f"PROBLEM: Connection error: {text}"


def delivery_of(message: Any) -> Delivery:
    props = message.properties
    return Delivery(bytes(message.body), bool(message.redelivered),
                    {n: getattr(props, n, None) for n in _PROPERTY_NAMES})


class RabbitPoller:
    def __init__(self, cfg: dict, *, invoke: Invoke, broker: Callable[[], Awaitable[Broker]],
                 report: Callable[[str], None], timings: Timings, max_filters: int, count: Count | None = None):
        self.arn = cfg["EventSourceArn"]
        self.function = cfg["FunctionArn"]
        self.queue = cfg["Queues"][0]
        self.vhost = access(cfg)[1]
        self.batch_size = int(cfg.get("BatchSize") or 100)
        window = cfg.get("MaximumBatchingWindowInSeconds")
        self.window_s = timings.window_default_s if window is None else float(window)
        self.criteria = compile_criteria(cfg.get("FilterCriteria"), max_filters)
        self.invoke, self.broker, self.report, self.timings = invoke, broker, report, timings
        self.count: Count = count or (lambda metric, n: None)
        self.envelope = envelope_bytes(self.arn, self.queue, self.vhost)
        self._task: asyncio.Task | None = None
        self._carry: list[tuple[Any, dict]] = []  # a message that did not fit the last batch

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop consuming; what was received and not acknowledged goes back to the queue."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    # ------------------------------------------------------------ the loop
    async def _run(self) -> None:
        delay = self.timings.backoff_s[0]
        while True:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.report(problem(e))
                log.info("event source %s: %s; again in %.1f s", self.arn, problem(e), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.timings.backoff_s[1])

    async def _consume(self) -> None:
        import aio_pika

        broker = await self.broker()
        conn = await aio_pika.connect(host=broker.endpoint.host, port=broker.endpoint.port, ssl=broker.endpoint.tls,
                                      login=broker.credentials.username, password=broker.credentials.password,
                                      virtualhost=self.vhost, timeout=30,
                                      client_properties={"connection_name": f"lamb-esm {self.function}"})
        self._carry = []
        inbox: asyncio.Queue = asyncio.Queue()
        try:
            conn.close_callbacks.add(lambda *_: inbox.put_nowait(_CLOSED))
            channel = await conn.channel()
            await channel.set_qos(prefetch_count=self.batch_size)
            queue = await channel.get_queue(self.queue, ensure=True)  # passive: a missing queue is an error
            await queue.consume(inbox.put, no_ack=False)
            retry = self.timings.retry_s[0]
            while True:
                batch = await self._collect(inbox, conn)
                if await self._process(batch):
                    retry = self.timings.retry_s[0]
                else:
                    await asyncio.sleep(retry)
                    retry = min(retry * 2, self.timings.retry_s[1])
        finally:
            await asyncio.shield(self._close(conn))

    @staticmethod
    async def _close(conn: Any) -> None:
        try:
            await conn.close()
        except Exception:
            pass

    async def _next(self, inbox: asyncio.Queue, conn: Any, timeout: float | None) -> Any:
        """The next delivery, None when ``timeout`` passed; ConnectionError once the connection is gone."""
        if not inbox.empty():  # what the broker already handed over joins the batch at once
            item = inbox.get_nowait()
            if item is _CLOSED:
                raise ConnectionError("connection to the broker closed")
            return item
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = self.timings.idle_check_s if deadline is None else min(self.timings.idle_check_s,
                                                                          max(0.0, deadline - time.monotonic()))
            try:
                item = await aio.wait_for(inbox.get(), wait)
            except TimeoutError:
                if conn.is_closed:
                    raise ConnectionError("connection to the broker closed")
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                continue
            if item is _CLOSED:
                raise ConnectionError("connection to the broker closed")
            return item

    async def _collect(self, inbox: asyncio.Queue, conn: Any) -> list[tuple[Any, dict]]:
        """One batch: (message, its record) pairs, at least one."""
        batch: list[tuple[Any, dict]] = []
        size = self.envelope
        pending = list(self._carry)
        self._carry = []
        deadline: float | None = None
        while len(batch) < self.batch_size:
            if pending:
                message, rec = pending.pop(0)
            else:
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                message = await self._next(inbox, conn, timeout)
                if message is None:
                    break
                rec = record(delivery_of(message))
                self.count("PolledEventCount", 1)
            if deadline is None:
                deadline = time.monotonic() + self.window_s
            grown = size + record_bytes(rec)
            if grown > self.timings.payload_max_bytes:
                if not batch:  # too large to be invoked even alone: dropped, as AWS drops records over 6 MB
                    await message.ack()
                    self.count("DroppedEventCount", 1)
                    self.report(f"PROBLEM: a message of {len(rec['data'])} base64 bytes is over the invoke "
                                f"payload limit; dropped")
                    continue
                self._carry.append((message, rec))
                break
            batch.append((message, rec))
            size = grown
        return batch

    async def _process(self, batch: list[tuple[Any, dict]]) -> bool:
        """Invoke with the batch's matching messages; True when the batch is done with."""
        kept = []
        for message, rec in batch:
            if self.criteria and not self.criteria.matches(mq_view(rec)):
                await message.ack()
                self.count("FilteredOutEventCount", 1)
            else:
                kept.append((message, rec))
        if not kept:
            return True
        body = payload(self.arn, self.queue, self.vhost, [rec for _, rec in kept])
        last = kept[-1][0]
        self.count("InvokedEventCount", len(kept))
        try:
            result = await self.invoke(self.function, body)
            failed = bool(getattr(result, "function_error", None))
            outcome = FUNCTION_FAILED if failed else OK
        except Exception as e:  # throttled, function gone, not ready: the batch is retried
            failed, outcome = True, f"PROBLEM: {getattr(e, 'message', None) or e}"
        if failed:
            self.count("FailedInvokeEventCount", len(kept))
            await last.nack(multiple=True, requeue=True)
        else:
            await last.ack(multiple=True)
        self.report(outcome)
        return not failed


def rabbitmq_kind(invoke: Invoke, *, resolve: Callable[..., Awaitable[Endpoint]],
                  credentials: Callable[..., Awaitable[Credentials]], timings: Timings, max_filters: int,
                  count_for: Callable[[dict], Count | None] | None = None):
    """The ``SourceKind`` of Amazon MQ (RabbitMQ) mappings. ``resolve(broker ARN, cfg)`` is
    ``mq_broker.resolve`` bound to DescribeBroker and ``LAMB_MQ_ENDPOINTS``; ``credentials(secret
    ARN, region, cfg)`` reads the BASIC_AUTH secret (``cfg``: the mapping a poller reads for, whose
    function's role makes both calls; None for the check on CreateEventSourceMapping)."""
    from .manager import SourceKind

    async def check(arn: str, function_timeout_s: int, cfg: dict | None = None) -> None:
        await resolve(arn, None)  # as Lamb: the broker is described again, as the role, when polled

    def poller(cfg: dict, report: Callable[[str], None]) -> RabbitPoller:
        secret = access(cfg)[0]
        region = cfg["EventSourceArn"].split(":")[3]

        async def broker() -> Broker:
            return Broker(await resolve(cfg["EventSourceArn"], cfg), await credentials(secret, region, cfg))

        return RabbitPoller(cfg, invoke=invoke, broker=broker, report=report, timings=timings,
                            max_filters=max_filters, count=count_for(cfg) if count_for else None)

    return SourceKind(check, poller)


def default_kind(invoke: Invoke, *, endpoints: str, executor: Executor | None, timings: Timings, max_filters: int,
                 count_for: Callable[[dict], Count | None] | None = None,
                 client_for: Callable[[str, str, dict | None], Any] | None = None):
    """The kind with boto3's standard configuration: DescribeBroker (``AWS_ENDPOINT_URL_MQ``) and
    GetSecretValue (``AWS_ENDPOINT_URL_SECRETS_MANAGER``), and ``LAMB_MQ_ENDPOINTS``'s table.
    ``client_for(service, region, cfg)`` makes the client (the mapping's function role); Lamb's own without."""
    table = parse_endpoints(endpoints)
    make = client_for or (lambda service, region, _cfg: client(service, region))

    async def aws(service: str, region: str, cfg: dict | None, operation: str, **kw: Any) -> dict:
        def run() -> dict:
            return getattr(make(service, region, cfg), operation)(**kw)
        return await asyncio.get_running_loop().run_in_executor(executor, run)

    async def resolve(arn: str, cfg: dict | None) -> Endpoint:
        return await mq_broker.resolve(arn, table, lambda broker_id: aws("mq", arn.split(":")[3], cfg, "describe_broker",
                                                                         BrokerId=broker_id))

    async def credentials(secret_arn: str, region: str, cfg: dict | None) -> Credentials:
        return credentials_of(await aws("secretsmanager", region, cfg, "get_secret_value", SecretId=secret_arn))

    return rabbitmq_kind(invoke, resolve=resolve, credentials=credentials, timings=timings, max_filters=max_filters,
                         count_for=count_for)
