"""What destinations and dead-letter queues receive, in AWS's formats.

The invocation record
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html)::

    {"version": "1.0", "timestamp": "2019-11-14T18:16:05.568Z",
     "requestContext": {"requestId": "e4b46cbf-...", "functionArn": "arn:aws:lambda:...:function:my-function:$LATEST",
                        "condition": "RetriesExhausted", "approximateInvokeCount": 3},
     "requestPayload": {...the event...},
     "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
     "responsePayload": {...what the function returned or its error...}}

The event and the response are spliced in as the bytes they were (no JSON
re-encoding). ``responseContext``/``responsePayload`` describe the last attempt;
when the last attempt never reached the function (a throttle, a system error, a
stopped recursive loop) they carry that Invoke error's status and
``{"errorMessage", "errorType"}``, and they are absent when no attempt was made
at all (an event that expired while waiting).

A dead-letter queue receives the original event as the message body with the
attributes ``RequestID`` (String), ``ErrorCode`` (Number, the HTTP status) and
``ErrorMessage`` (String, the first 1 KB of the error message).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass

from ..clock import iso_ms

RECORD_VERSION = "1.0"
EVENTBRIDGE_SOURCE = "aws.lambda"
DETAIL_SUCCESS = "Lambda Function Invocation Result - Success"
DETAIL_FAILURE = "Lambda Function Invocation Result - Failure"


@dataclass
class Outcome:
    """How one attempt ended, as the Invoke API would have reported it."""

    status_code: int  # 200 when the function ran (even if it failed), else the Invoke error's status
    payload: bytes  # the function's response or error document
    executed_version: str | None = None
    function_error: str | None = None  # "Unhandled" / "Handled" when the function failed
    error_type: str | None = None  # the Invoke error code when the function never ran

    def to_meta(self) -> dict:
        return {
            "s": self.status_code,
            "v": self.executed_version,
            "f": self.function_error,
            "t": self.error_type,
        }

    @classmethod
    def from_meta(cls, meta: dict, payload: bytes) -> "Outcome":
        return cls(meta["s"], payload, meta.get("v"), meta.get("f"), meta.get("t"))

    @classmethod
    def api_error(cls, status: int, code: str, message: str) -> "Outcome":
        body = json.dumps({"errorMessage": message, "errorType": code}).encode()
        return cls(status, body, None, None, code)

    @property
    def ran(self) -> bool:
        return self.error_type is None


def json_bytes(raw: bytes) -> bytes:
    """``raw`` when it is a JSON document, else ``raw`` as a JSON string."""
    if raw:
        try:
            json.loads(raw)
            return raw
        except ValueError:
            pass
    return json.dumps(raw.decode("utf-8", "replace")).encode()


def invocation_record(
    *,
    request_id: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    request_payload: bytes,
    outcome: Outcome | None,
    timestamp: float | None = None,
) -> bytes:
    head = {
        "version": RECORD_VERSION,
        "timestamp": iso_ms(time.time() if timestamp is None else timestamp),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
    }
    parts = [json.dumps(head)[:-1].encode(), b', "requestPayload": ', json_bytes(request_payload)]
    if outcome is not None:
        ctx: dict = {"statusCode": outcome.status_code}
        if outcome.executed_version:
            ctx["executedVersion"] = outcome.executed_version
        if outcome.function_error:
            ctx["functionError"] = outcome.function_error
        parts += [b', "responseContext": ', json.dumps(ctx).encode(), b', "responsePayload": ', json_bytes(outcome.payload)]
    parts.append(b"}")
    return b"".join(parts)


def error_message(outcome: Outcome | None, limit: int = 1024) -> str:
    """The DLQ's ErrorMessage: the error document's ``errorMessage`` (or its text), first 1 KB."""
    if outcome is None:
        return ""
    text = None
    try:
        doc = json.loads(outcome.payload)
        if isinstance(doc, dict) and isinstance(doc.get("errorMessage"), str):
            text = doc["errorMessage"]
    except ValueError:
        pass
    if text is None:
        text = outcome.payload.decode("utf-8", "replace")
    data = text.encode()[:limit]
    return data.decode("utf-8", "ignore")


def dlq_attributes(request_id: str, outcome: Outcome | None, limit: int = 1024) -> dict:
    """SQS/SNS message attributes of a dead-letter message."""
    attrs = {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": str(outcome.status_code if outcome else 500)},
    }
    # An event that expired before any attempt has no error of its own.
    message = error_message(outcome, limit) if outcome else "Event age exceeded before the function was invoked."

    if message:  # SQS/SNS refuse an empty attribute value
        attrs["ErrorMessage"] = {"DataType": "String", "StringValue": message}
    return attrs


# ------------------------------------------------------------ destinations
_SQS = re.compile(r"arn:aws[a-zA-Z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}")
_SNS = re.compile(r"arn:aws[a-zA-Z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}")
_EVENTS = re.compile(r"arn:aws[a-zA-Z-]*:events:[a-z0-9-]+:\d{12}:event-bus/[A-Za-z0-9._\-/]+")
_S3 = re.compile(r"arn:aws[a-zA-Z-]*:s3:::[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_LAMBDA = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)


def destination_kind(arn: str, *, on_failure: bool) -> str | None:
    """``sqs``, ``sns``, ``events``, ``s3`` or ``lambda`` for a usable destination ARN, else None.

    Standard queues and topics only (FIFO ones are not supported as destinations);
    S3 buckets only on failure.
    """
    if _LAMBDA.fullmatch(arn):
        return "lambda"
    if _SQS.fullmatch(arn) and not arn.endswith(".fifo"):
        return "sqs"
    if _SNS.fullmatch(arn) and not arn.endswith(".fifo"):
        return "sns"
    if _EVENTS.fullmatch(arn):
        return "events"
    if on_failure and _S3.fullmatch(arn):
        return "s3"
    return None


def dead_letter_kind(arn: str) -> str | None:
    """``sqs`` or ``sns`` for a usable DeadLetterConfig TargetArn."""
    if _SQS.fullmatch(arn) and not arn.endswith(".fifo"):
        return "sqs"
    if _SNS.fullmatch(arn) and not arn.endswith(".fifo"):
        return "sns"
    return None


def arn_region(arn: str) -> str:
    return arn.split(":")[3]


def s3_key(function_name: str, t: float | None = None) -> str:
    """``aws/lambda/async/<function-name>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>``."""
    tm = time.gmtime(time.time() if t is None else t)
    return (
        f"aws/lambda/async/{function_name}/{time.strftime('%Y/%m/%d', tm)}/"
        f"{time.strftime('%Y-%m-%dT%H.%M.%S', tm)}-{uuid.uuid4()}"
    )
