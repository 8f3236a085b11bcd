"""A function's streamed response on its way from the runtime to the caller.

A runtime streams by posting ``/runtime/invocation/{id}/response`` with
``Lambda-Runtime-Function-Response-Mode: streaming`` and a chunked body; a failure
part-way is reported in the trailers ``Lambda-Runtime-Function-Error-Type`` and
``Lambda-Runtime-Function-Error-Body`` (base64 of the error JSON)
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming).
The environment hands the caller a ``ResponseStream`` as soon as the runtime's head
arrives (``Invocation.on_stream``); the caller reads ``chunks()`` as the runtime writes
them and then awaits the invocation's result (``on_done``), which carries the error,
if any, and the log tail.

Limits (https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html):
at most ``Limits.stream_response_max_bytes`` (200 MB) per response; the first
``stream_uncapped_bytes`` (6 MB) go as fast as the reader takes them, the rest at
most ``stream_bandwidth_bytes_per_s`` (``chunks`` paces them; 0 turns the cap off).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import AsyncIterator

from ..http.body import BodyStream

RESPONSE_MODE = "lambda-runtime-function-response-mode"
ERROR_TYPE = "lambda-runtime-function-error-type"
ERROR_BODY = "lambda-runtime-function-error-body"
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def is_streaming(method: str, path: str, headers: dict[str, str]) -> bool:
    """Whether a Runtime API request is a streamed ``/response`` (its body is read as it arrives)."""
    return (method == "POST" and path.endswith("/response")
            and headers.get(RESPONSE_MODE, "").lower() == "streaming")


class ResponseStream:
    """What the caller reads: the runtime's content type and its body, piece by piece."""

    __slots__ = ("content_type", "body", "uncapped_bytes", "bytes_per_s")

    def __init__(self, content_type: str, body: BodyStream, *, uncapped_bytes: int, bytes_per_s: int):
        self.content_type = content_type
        self.body = body
        self.uncapped_bytes = uncapped_bytes
        self.bytes_per_s = bytes_per_s

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's pieces as they arrive, paced by the bandwidth rule past the uncapped part."""
        loop = asyncio.get_running_loop()
        sent = 0
        capped_from: tuple[float, int] | None = None  # (time, bytes sent) when the cap began
        rate = self.bytes_per_s
        try:
            async for piece in self.body:
                yield piece
                sent += len(piece)
                if rate <= 0 or sent <= self.uncapped_bytes:
                    continue
                if capped_from is None:
                    capped_from = (loop.time(), sent)
                    continue
                due = capped_from[0] + (sent - capped_from[1]) / rate
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
        finally:
            if not self.body.ended:
                self.body.discard()  # the reader is gone: the runtime's writes are dropped, not buffered

    def close(self) -> None:
        """The invocation ended (timeout, crash) before the body did: end the reader's iteration."""
        self.body.abort()


def trailer_error(trailers: dict[str, str]) -> tuple[str, bytes] | None:
    """(error type, error JSON) from a streamed body's error trailers; None when it ended well."""
    error_type = trailers.get(ERROR_TYPE)
    raw = trailers.get(ERROR_BODY)
    if not error_type and not raw:
        return None
    error_type = error_type or "Unhandled"
    body = b""
    if raw:
        try:
            body = base64.b64decode(raw, validate=True)
            json.loads(body)
        except (binascii.Error, ValueError):
            body = b""
    if not body:
        body = json.dumps({"errorType": error_type, "errorMessage": raw or ""}, separators=(",", ":")).encode()
    return error_type, body


def error_parts(payload: bytes) -> tuple[str, str]:
    """(ErrorCode, ErrorDetails) of InvokeComplete from an error payload (``errorType``, ``errorMessage``)."""
    try:
        value = json.loads(payload)
    except ValueError:
        return "Unhandled", payload.decode("utf-8", "replace")
    if isinstance(value, dict):
        return str(value.get("errorType") or "Unhandled"), str(value.get("errorMessage") or "")
    return "Unhandled", payload.decode("utf-8", "replace")
