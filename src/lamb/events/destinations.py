"""Sending invocation records and dead-letter messages to AWS-compatible services.

SQS queues, SNS topics, EventBridge buses and S3 buckets are reached with boto3's
standard configuration, exactly as any AWS tool would: ``AWS_ENDPOINT_URL_<SERVICE>`` /
``AWS_ENDPOINT_URL``, profiles, and as credentials the function's execution role where Lamb
holds them (an upstream STS: ``services.role_clients``), else the credentials chain. Real AWS
is the default; any compatible server works when configured. There is no Lamb-specific knob. The region comes from the target ARN (an S3 bucket ARN has none: Lamb's
region is used).

Every call here blocks (boto3), so the queue runs them on a small thread pool.
A call that raises is retried by the queue with backoff; see ``queue.py``.
"""

from __future__ import annotations

from ..services.role_clients import RoleClients
from . import record

# Delivery should fail fast and be retried by Lamb's own backoff rather than sit in
# botocore's retry loop holding a thread.
_CLIENT_CONFIG = dict(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"})


class Deliverer:
    """``clients`` (``RoleClients``) act as the function's execution role (``meta["role"]``) where
    Lamb has its credentials, as Lambda does; otherwise as Lamb (boto3's standard configuration)."""

    def __init__(self, default_region: str, clients: RoleClients | None = None):
        self.default_region = default_region
        self.clients = clients or RoleClients(None, _CLIENT_CONFIG)
        self._queue_urls: dict[tuple[str, str], str] = {}

    def client(self, service: str, region: str, role: str | None = None, session: str = ""):
        return self.clients.client(service, region, role, session)

    # ------------------------------------------------------------ targets
    def _queue_url(self, arn: str, role: str | None, session: str) -> str:
        url = self._queue_urls.get((arn, role or ""))  # looked up as the role: it needs sqs:GetQueueUrl
        if url is None:
            _, _, _, region, account, name = arn.split(":", 5)
            resp = self.client("sqs", region, role, session).get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)
            url = self._queue_urls[(arn, role or "")] = resp["QueueUrl"]
        return url

    def send(self, target: str, body: bytes, meta: dict) -> None:
        """Deliver one message; raises on failure.

        ``meta`` has ``kind`` (``record`` or ``dlq``), ``function_name``,
        ``function_arn``, ``success`` (records), ``attributes`` (dead letters) and
        ``trace`` (the X-Ray header of the invocation, passed on where the target keeps one) and
        ``role`` (the function's execution role, which sends it; none: Lamb's own configuration).
        """
        role, session = meta.get("role"), meta.get("function_name") or ""
        service = target.split(":")[2]
        text = body.decode("utf-8", "replace")
        if service == "sqs":
            self._send_sqs(target, text, meta)
        elif service == "sns":
            kw: dict = {"TopicArn": target, "Message": text}
            if meta.get("attributes"):
                kw["MessageAttributes"] = meta["attributes"]
            self.client("sns", record.arn_region(target), role, session).publish(**kw)
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
            resp = self.client("events", record.arn_region(target), role, session).put_events(Entries=[entry])
            if resp.get("FailedEntryCount"):
                failed = (resp.get("Entries") or [{}])[0]
                raise RuntimeError(f"PutEvents failed: {failed.get('ErrorCode')}: {failed.get('ErrorMessage')}")
        elif service == "s3":
            bucket = target.split(":::", 1)[1]
            self.client("s3", self.default_region, role, session).put_object(
                Bucket=bucket, Key=record.s3_key(meta["function_name"]), Body=body, ContentType="application/json"
            )
        else:
            raise ValueError(f"unsupported destination {target}")

    def _send_sqs(self, target: str, text: str, meta: dict) -> None:
        role, session = meta.get("role"), meta.get("function_name") or ""
        kw: dict = {"QueueUrl": self._queue_url(target, role, session), "MessageBody": text}
        if meta.get("attributes"):
            kw["MessageAttributes"] = meta["attributes"]
        if meta.get("trace"):
            kw["MessageSystemAttributes"] = {"AWSTraceHeader": {"DataType": "String", "StringValue": meta["trace"]}}
        client = self.client("sqs", record.arn_region(target), role, session)
        try:
            client.send_message(**kw)
        except Exception as e:
            code = getattr(e, "response", {}).get("Error", {}).get("Code", "")
            if "NonExistentQueue" in code or code == "QueueDoesNotExist":
                self._queue_urls.pop((target, role or ""), None)  # look it up again next time
            raise


def describe_error(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response["Error"]
        return f"{err.get('Code')}: {err.get('Message')}"
    return f"{type(exc).__name__}: {exc}"

