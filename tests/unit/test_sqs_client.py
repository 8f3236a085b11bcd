"""lamb.sources.sqs_client: the daemon thread pool and SQS error codes."""

from __future__ import annotations

import asyncio
import threading
import time

from lamb.sources.sqs_client import DaemonExecutor, aws_code


def test_daemon_executor_runs_work_on_daemon_threads_up_to_its_size():
    ex = DaemonExecutor(2)
    seen: set[str] = set()
    lock = threading.Lock()

    def work(i):
        with lock:
            seen.add(threading.current_thread().name)
            assert threading.current_thread().daemon
        time.sleep(0.01)
        return i * 2

    async def main():
        loop = asyncio.get_running_loop()
        return await asyncio.gather(*[loop.run_in_executor(ex, work, i) for i in range(8)])

    assert asyncio.run(main()) == [i * 2 for i in range(8)]
    assert 1 <= len(seen) <= 2
    ex.shutdown()


def test_errors_pass_to_the_awaiting_side():
    ex = DaemonExecutor(1)

    def boom():
        raise ValueError("x")

    async def main():
        try:
            await asyncio.get_running_loop().run_in_executor(ex, boom)
        except ValueError as e:
            return str(e)

    assert asyncio.run(main()) == "x"


class E(Exception):
    def __init__(self, code):
        self.response = {"Error": {"Code": code, "Message": "m"}}


def test_non_existent_queue_codes_read_as_aws_says_them():
    assert aws_code(E("QueueDoesNotExist")) == "AWS.SimpleQueueService.NonExistentQueue"
    assert aws_code(E("AWS.SimpleQueueService.NonExistentQueue")) == "AWS.SimpleQueueService.NonExistentQueue"
    assert aws_code(E("AccessDenied")) == "AccessDenied"
    assert aws_code(OSError("no route")) == "OSError"
