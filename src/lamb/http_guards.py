"""What the public port answers before a request reaches an operation.

The HTTP server (``http/server.py``) ends a connection on input it cannot serve:
bytes that are not HTTP (400), a head larger than the server takes (431), a head
or body that does not arrive in time (408), and a request whose declared size
alone shows it is too large (413, before its body is read). AWS answers these at
its edge, where no operation has run; Lamb still answers them in AWS's error
shape (``x-amzn-ErrorType`` and a JSON body with ``Type`` and ``message``) so
every client reads one format. The codes of 400/408/431 are Lamb's names (AWS's
edge publishes none); the 413 is Lambda's own ``RequestEntityTooLargeException``
with the message of the operation's limit
(https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: 6 MB synchronous,
the asynchronous payload limit for ``Event`` and InvokeAsync).
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Callable

from .http.server import Response
from .limits import Limits
from .protocol.errors import AwsError

_CODES = {
    400: "SerializationException",
    408: "RequestTimeoutException",
    431: "RequestHeaderFieldsTooLargeException",
}

Serialize = Callable[[AwsError], tuple[int, list[tuple[str, str]], bytes]]
Route = Callable[[str, str], Any]


def protocol_error(status: int, message: str) -> Response:
    """The AWS-shaped answer that ends a connection (``HttpServer.protocol_error``)."""
    body = json.dumps({"Type": "User", "message": message}).encode()
    return Response(status, [("x-amzn-ErrorType", _CODES.get(status, "SerializationException")),
                             ("Content-Type", "application/json"), ("x-amzn-RequestId", str(uuid.uuid4()))], body)


def too_large(limit: int, operation: str) -> AwsError:
    return AwsError(
        "RequestEntityTooLargeException", f"Request must be smaller than {limit} bytes for the {operation} operation", 413
    )


def large_body(route: Route, serialize: Serialize, limits: Limits) -> Callable[[str, str, dict, int], Response | None]:
    """``HttpServer.large_body``: refuse by Content-Length alone, before the body is read.

    Called only for a Content-Length over ``smallest(limits)``. Invoke and InvokeAsync
    take their payload limits; every other operation the request-size ceiling.
    """

    def check(method: str, url: str, headers: dict[str, str], length: int) -> Response | None:
        try:
            op, _ = route(method, url)
        except AwsError:
            return None  # not an operation: answered normally once read (or dropped if too big)
        name = op.name
        if name == "Invoke":
            event = headers.get("x-amz-invocation-type") == "Event"
            limit = limits.async_payload_max_bytes if event else limits.sync_payload_max_bytes
            err = too_large(limit, "InvokeFunction") if length > limit else None
        elif name == "InvokeAsync":
            limit = limits.async_payload_max_bytes
            err = too_large(limit, "InvokeFunction") if length > limit else None
        else:
            limit = limits.request_body_max_bytes
            err = too_large(limit, name) if length > limit else None
        if err is None:
            return None
        status, hdrs, body = serialize(err)
        return Response(status, [*hdrs, ("x-amzn-RequestId", str(uuid.uuid4()))], body)

    return check


def smallest(limits: Limits) -> int:
    """The smallest body limit ``large_body`` enforces: below it, it is not asked."""
    return min(limits.async_payload_max_bytes, limits.sync_payload_max_bytes, limits.request_body_max_bytes)
