"""What AWS's ``json`` protocol (awsJson1_0 / awsJson1_1) changes against REST-JSON.

Every request is ``POST /`` with ``X-Amz-Target: <targetPrefix>.<Operation>`` and the whole
input as a JSON body (``Content-Type: application/x-amz-json-1.1``); every answer is a JSON
body, errors ``{"__type": "<code>", "message": "..."}``
(https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html). Input and output shapes
have no locations, so the REST-JSON plans read and write them unchanged; only routing and
the error body differ, and they live here.
"""

from __future__ import annotations

from typing import Any

from .errors import AwsError, unknown_operation


def content_type(json_version: str | None) -> tuple[str, str]:
    return ("Content-Type", f"application/x-amz-json-{json_version or '1.1'}")


class TargetRouter:
    """``X-Amz-Target: Prefix.Operation`` → the operation."""

    def __init__(self, operations: list[Any], target_prefix: str) -> None:
        self._ops = {f"{target_prefix}.{op.name}": op for op in operations}

    def route(self, method: str, path: str, headers: dict[str, str] | None) -> tuple[Any, dict[str, str]]:
        target = (headers or {}).get("x-amz-target", "")
        op = self._ops.get(target)
        if op is None or method.upper() != "POST" or path.split("?", 1)[0] not in ("/", ""):
            raise unknown_operation()
        return op, {}


def error_body(err: AwsError, message_key: str, extra: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"__type": err.code, message_key: err.message}
    body.update(extra)
    return body


def query_error_header(err: AwsError, status: int) -> tuple[str, str]:
    """``x-amzn-query-error: <code>;<Sender|Receiver>``: a model with the ``awsQueryCompatible``
    trait (CloudWatch) names the query protocol's error code this way."""
    kind = "Receiver" if err.type == "Service" or status >= 500 else "Sender"
    return ("x-amzn-query-error", f"{err.code};{kind}")


def serialization_error(err: AwsError) -> AwsError:
    """An unreadable body: the json protocol's SerializationException (Lambda's REST-JSON says
    InvalidRequestContentException)."""
    return AwsError("SerializationException", err.message, 400)
