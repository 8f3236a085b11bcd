"""Delivering stream failure records to an on-failure destination (SQS, SNS, S3).

AWS sends the record (``requestContext``, ``responseContext``, ``version``,
``timestamp``, ``KinesisBatchInfo`` / ``DDBStreamBatchInfo``) to an SQS queue or
SNS topic; an S3 bucket gets the same document plus ``payload``, the whole event
as a JSON string, under ``aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/...``
(https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html).
Targets are reached through the async queue's ``Deliverer``, as the function's execution role
(``role_of(function ARN)``) where Lamb has its credentials; a failed send raises and the shard
processor retries it.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from typing import Callable

from ..events.destinations import Deliverer
from .streams import FailureRecord


class FailureSender:
    """``await sender(destination_arn, record)``: the ``send_failure`` callable of a stream poller."""

    def __init__(self, deliverer: Deliverer, executor: Executor | None = None,
                 role_of: Callable[[str], str | None] | None = None):
        self.deliverer = deliverer
        self.executor = executor
        self.role_of = role_of  # function ARN -> its execution role ("" / None: Lamb's own configuration)

    def _send(self, destination: str, record: FailureRecord, role: str | None, function: str) -> None:
        service = destination.split(":")[2]
        if service == "s3":
            bucket = destination.split(":::", 1)[1]
            self.deliverer.client("s3", self.deliverer.default_region, role, function).put_object(
                Bucket=bucket, Key=record.s3_key, Body=record.body(with_payload=True), ContentType="application/json")
        elif service in ("sqs", "sns"):
            self.deliverer.send(destination, record.body(with_payload=False),
                                {"kind": "record", "role": role, "function_name": function})
        else:
            raise ValueError(f"unsupported on-failure destination {destination}")

    async def __call__(self, destination: str, record: FailureRecord) -> None:
        function_arn = (record.document.get("requestContext") or {}).get("functionArn") or ""
        role = self.role_of(function_arn) if self.role_of is not None and function_arn else None
        function = function_arn.split(":")[6] if function_arn.count(":") >= 6 else ""
        await asyncio.get_running_loop().run_in_executor(self.executor, self._send, destination, record, role or None,
                                                         function)
