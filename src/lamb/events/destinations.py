"""Sending invocation records and dead-letter messages to AWS-compatible services.

SQS queues, SNS topics, EventBridge buses and S3 buckets are reached with boto3's
standard configuration, exactly as any AWS tool would: the credentials chain,
``AWS_ENDPOINT_URL_<SERVICE>`` / ``AWS_ENDPOINT_URL``, profiles. Real AWS is the
default; any compatible server works when configured. There is no Lamb-specific
knob. The region comes from the target ARN (an S3 bucket ARN has none: Lamb's
region is used).

Every call here blocks (boto3), so the queue runs them on a small thread pool.
A call that raises is retried by the queue with backoff; see ``queue.py``.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from . import record

# Delivery should fail fast and be retried by Lamb's own backoff rather than sit in
# botocore's retry loop holding a thread.
_CLIENT_CONFIG = dict(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"})


class Deliverer:
    def __init__(self, default_region: str):
        self.default_region = default_region
        self._lock = threading.Lock()
        self._session = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._queue_urls: dict[str, str] = {}

    def client(self, service: str, region: str):
        key = (service, region)
        c = self._clients.get(key)
        if c is not None:
            return c
        with self._lock:  # boto3 sessions are not thread-safe; clients are
            c = self._clients.get(key)
            if c is None:
                import boto3
                from botocore.config import Config

                if self._session is None:
                    self._session = boto3.session.Session()
                c = self._session.client(service, region_name=region, config=Config(**_CLIENT_CONFIG))
                self._clients[key] = c
        return c

    # ------------------------------------------------------------ targets
    def _queue_url(self, arn: str) -> str:
        url = self._queue_urls.get(arn)
        if url is None:
            _, _, _, region, account, name = arn.split(":", 5)
            resp = self.client("sqs", region).get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)
            url = self._queue_urls[arn] = resp["QueueUrl"]
        return url

    def send(self, target: str, body: bytes, meta: dict) -> None:
        """Deliver one message; raises on failure.

        ``meta`` has ``kind`` (``record`` or ``dlq``), ``function_name``,
        ``function_arn``, ``success`` (records), ``attributes`` (dead letters) and
        ``trace`` (the X-Ray header of the invocation, passed on where the target keeps one).
        """
        service = target.split(":")[2]
        text = body.decode("utf-8", "replace")
        if service == "sqs":
            self._send_sqs(target, text, meta)
        elif service == "sns":
            kw: dict = {"TopicArn": target, "Message": text}
            if meta.get("attributes"):
                kw["MessageAttributes"] = meta["attributes"]
            self.client("sns", record.arn_region(target)).publish(**kw)
        elif service == "events":
            entry = {
                "Source": record.EVENTBRIDGE_SOURCE,
                "DetailType": record.DETAIL_SUCCESS if meta.get("success") else record.DETAIL_FAILURE,
                "Detail": text,
                "Resources": [meta["function_arn"], target],
                "EventBusName": target,
            }
            if meta.get("trace"):
                entry["TraceHeader"] = meta["trace"]
            resp = self.client("events", record.arn_region(target)).put_events(Entries=[entry])
            if resp.get("FailedEntryCount"):
                failed = (resp.get("Entries") or [{}])[0]
                raise RuntimeError(f"PutEvents failed: {failed.get('ErrorCode')}: {failed.get('ErrorMessage')}")
        elif service == "s3":
            bucket = target.split(":::", 1)[1]
            self.client("s3", self.default_region).put_object(
                Bucket=bucket, Key=record.s3_key(meta["function_name"]), Body=body, ContentType="application/json"
            )
        else:
            raise ValueError(f"unsupported destination {target}")

    def _send_sqs(self, target: str, text: str, meta: dict) -> None:
        kw: dict = {"QueueUrl": self._queue_url(target), "MessageBody": text}
        if meta.get("attributes"):
            kw["MessageAttributes"] = meta["attributes"]
        if meta.get("trace"):
            kw["MessageSystemAttributes"] = {"AWSTraceHeader": {"DataType": "String", "StringValue": meta["trace"]}}
        client = self.client("sqs", record.arn_region(target))
        try:
            client.send_message(**kw)
        except Exception as e:
            code = getattr(e, "response", {}).get("Error", {}).get("Code", "")
            if "NonExistentQueue" in code or code == "QueueDoesNotExist":
                self._queue_urls.pop(target, None)  # look it up again next time
            raise


def describe_error(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response["Error"]
        return f"{err.get('Code')}: {err.get('Message')}"
    return f"{type(exc).__name__}: {exc}"

