"""boto3 clients for stream sources, made with boto3's standard configuration.

Credentials chain, ``AWS_ENDPOINT_URL_<SERVICE>`` / ``AWS_ENDPOINT_URL`` and profiles
apply as for any AWS tool: ``AWS_ENDPOINT_URL_KINESIS`` for ``kinesis``,
``AWS_ENDPOINT_URL_DYNAMODB_STREAMS`` for ``dynamodbstreams`` (boto3 derives the
name from the service id "DynamoDB Streams"). Real AWS is the default.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import Executor
from typing import Any, Callable

# Fail fast and let the poller's own backoff retry, rather than holding a thread in botocore's retries.
CLIENT_CONFIG = dict(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"})


def client(service: str, region: str) -> Any:
    """``service`` is ``kinesis`` or ``dynamodbstreams``; ``region`` the stream ARN's."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(service, region_name=region, config=Config(**CLIENT_CONFIG))


def arn_region(arn: str) -> str:
    return arn.split(":")[3]


async def call(executor: Executor | None, fn: Callable[..., Any], **kw: Any) -> Any:
    """Run a blocking boto3 call on ``executor`` (the loop's default when None)."""
    return await asyncio.get_running_loop().run_in_executor(executor, functools.partial(fn, **kw))
