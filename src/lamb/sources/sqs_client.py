"""An SQS queue as the poller sees it: a few awaitable calls over boto3.

The queue is reached with boto3's standard configuration (``AWS_ENDPOINT_URL_SQS`` /
``AWS_ENDPOINT_URL``, profiles), so real AWS and any compatible server work alike, as the
mapping's function role where Lamb holds its credentials (``services.role_clients``), else
with the credentials chain. boto3 blocks, and a long poll holds its thread for up to
20 s, so calls run on ``DaemonExecutor``: daemon threads, started on demand, that never
delay Lamb's exit (a long poll cut short by exit loses nothing: its messages become
visible again after their visibility timeout).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from typing import Callable

from ..services.role_clients import RoleClients

# SQS's error codes for a queue that does not exist (query and JSON protocols).
NON_EXISTENT = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
CLIENT_CONFIG = _CLIENT_CONFIG = dict(connect_timeout=5, read_timeout=40, retries={"max_attempts": 2, "mode": "standard"})


class DaemonExecutor(concurrent.futures.Executor):
    """A thread pool of daemon threads (at most ``max_workers``), started as work arrives."""

    def __init__(self, max_workers: int, name: str = "lamb-sources"):
        self.max_workers = max_workers
        self.name = name
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0
        self._shutdown = False

    def submit(self, fn: Callable, /, *args, **kwargs) -> concurrent.futures.Future:
        if self._shutdown:
            raise RuntimeError("executor shut down")
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._work.put((fut, fn, args, kwargs))
        with self._lock:
            if self._idle > 0:
                self._idle -= 1  # a waiting thread takes it
            elif self._threads < self.max_workers:
                self._threads += 1
                threading.Thread(target=self._run, name=f"{self.name}-{self._threads}", daemon=True).start()
        return fut

    def _run(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            fut, fn, args, kwargs = item
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn(*args, **kwargs))
                except BaseException as e:  # noqa: BLE001 - handed to the awaiting side
                    fut.set_exception(e)
            with self._lock:
                self._idle += 1

    def shutdown(self, wait: bool = False, *, cancel_futures: bool = True) -> None:
        self._shutdown = True
        for _ in range(self._threads):
            self._work.put(None)


class Clients:
    """SQS clients per region (``RoleClients``): as a mapping's function role, or as Lamb."""

    def __init__(self, clients: RoleClients | None = None) -> None:
        self.clients = clients or RoleClients(None, _CLIENT_CONFIG)

    def sqs(self, region: str, role: str | None = None, session: str = ""):
        return self.clients.client("sqs", region, role, session)

    def acts_as(self, role: str | None) -> bool:
        return self.clients.acts_as(role)


def error_code(exc: BaseException) -> str:
    return (getattr(exc, "response", None) or {}).get("Error", {}).get("Code", "") or type(exc).__name__


def error_message(exc: BaseException) -> str:
    return (getattr(exc, "response", None) or {}).get("Error", {}).get("Message", "") or str(exc)


def aws_code(exc: BaseException) -> str:
    """The code as AWS's own SQS answers it (JSON-protocol servers say ``QueueDoesNotExist``)."""
    code = error_code(exc)
    return NON_EXISTENT[0] if code in NON_EXISTENT else code


class QueueClient:
    """One queue (by ARN): receive, delete, change visibility, attributes, all awaitable.
    ``role()`` is the execution role of the mapping's function (read at each call: the
    function's current one; None: Lamb's own configuration), ``session`` its name."""

    def __init__(self, arn: str, clients: Clients, executor: concurrent.futures.Executor,
                 role: Callable[[], str | None] = lambda: None, session: str = ""):
        _, _, _, self.region, self.account, self.name = arn.split(":", 5)
        self.arn = arn
        self._clients = clients
        self._executor = executor
        self._role, self._session = role, session
        self._url: str | None = None

    @property
    def as_role(self) -> bool:
        """Whether calls act as the mapping's function role (its refusals are the role's)."""
        return self._clients.acts_as(self._role())

    async def _call(self, fn: Callable, *args, **kw):
        return await asyncio.get_running_loop().run_in_executor(self._executor, lambda: fn(*args, **kw))

    def _sqs(self):
        return self._clients.sqs(self.region, self._role(), self._session)

    def _queue_url(self) -> str:
        if self._url is None:
            self._url = self._sqs().get_queue_url(QueueName=self.name, QueueOwnerAWSAccountId=self.account)["QueueUrl"]
        return self._url

    def _forget_on_missing(self, fn: Callable) -> Callable:
        def run():
            try:
                return fn()
            except Exception as e:
                if error_code(e) in NON_EXISTENT:
                    self._url = None  # look it up again: the queue may come back
                raise
        return run

    async def attributes(self, names: list[str]) -> dict:
        def run():
            return self._sqs().get_queue_attributes(QueueUrl=self._queue_url(), AttributeNames=names).get("Attributes", {})
        return await self._call(self._forget_on_missing(run))

    async def receive(self, max_messages: int, wait_s: int) -> list[dict]:
        def run():
            resp = self._sqs().receive_message(
                QueueUrl=self._queue_url(), MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait_s,
                AttributeNames=["All"], MessageAttributeNames=["All"],
            )
            return resp.get("Messages", [])
        return await self._call(self._forget_on_missing(run))

    async def delete(self, receipts: list[tuple[str, str]]) -> list[str]:
        """Delete ``(message id, receipt handle)`` pairs; returns the ids that failed."""
        def run():
            failed: list[str] = []
            for i in range(0, len(receipts), 10):
                chunk = receipts[i:i + 10]
                entries = [{"Id": str(n), "ReceiptHandle": r} for n, (_, r) in enumerate(chunk)]
                resp = self._sqs().delete_message_batch(QueueUrl=self._queue_url(), Entries=entries)
                failed += [chunk[int(f["Id"])][0] for f in resp.get("Failed", [])]
            return failed
        return await self._call(self._forget_on_missing(run))

    async def change_visibility(self, receipts: list[str], seconds: int) -> None:
        def run():
            for i in range(0, len(receipts), 10):
                entries = [{"Id": str(n), "ReceiptHandle": r, "VisibilityTimeout": seconds}
                           for n, r in enumerate(receipts[i:i + 10])]
                self._sqs().change_message_visibility_batch(QueueUrl=self._queue_url(), Entries=entries)
        await self._call(self._forget_on_missing(run))
