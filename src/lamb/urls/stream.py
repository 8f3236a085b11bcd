"""A streamed response to a function URL with ``InvokeMode: RESPONSE_STREAM``.

https://docs.aws.amazon.com/lambda/latest/dg/config-rs-write-functions.html: the
function's bytes go to the client as a chunked body as the function writes them. A
stream of content type ``application/vnd.awslambda.http-integration-response``
(what Node's ``awslambda.HttpResponseStream.from`` sets) begins with a metadata
prelude, a JSON object with ``statusCode``, ``headers`` and ``cookies``, ended by 8
null bytes; the status line and headers come from it. Any other stream is a 200
with the stream's content type. A function that fails before writing anything gets
a 502, as a buffered one; a failure after the head was sent (error trailers, a timeout,
an oversized response) cuts the body: the connection closes without the last chunk, so
the client sees an incomplete response.
"""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator

from ..invoke.stream import ResponseStream
from .response import Malformed, head_fields

PRELUDE_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
DELIMITER = b"\0" * 8


class StreamFailed(Exception):
    """The function failed after its response began: the server cuts the body."""


def prelude_head(raw: bytes) -> tuple[int, list[tuple[str, str]]]:
    """(status, headers) from a metadata prelude; ``Malformed`` when it is not one."""
    try:
        value = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise Malformed("prelude is not JSON")
    if not isinstance(value, dict):
        raise Malformed("prelude is not an object")
    try:
        status = int(value.get("statusCode", 200))
    except (TypeError, ValueError):
        raise Malformed("statusCode")
    if not 100 <= status <= 599:
        raise Malformed("statusCode")
    return status, head_fields(value, "application/octet-stream")


async def open_stream(stream: ResponseStream, result: asyncio.Future
                      ) -> tuple[int, list[tuple[str, str]], AsyncIterator[bytes]]:
    """The response head (from the prelude, if any) and the body still to come.

    The head waits for the function's first bytes (the prelude's end, with a prelude), so
    that a function failing before it wrote anything is answered 502 (``StreamFailed``)
    like a buffered one, not as a 200 with a cut body."""
    chunks = stream.chunks()
    with_prelude = stream.content_type.split(";")[0].strip().lower() == PRELUDE_CONTENT_TYPE
    buf = bytearray()
    found = -1
    async for piece in chunks:
        buf += piece
        if not with_prelude:
            break
        found = buf.find(DELIMITER)
        if found >= 0:
            break
    if not buf:  # the stream ended before any byte: failed, or an empty 200
        res = await result
        if res.function_error:
            raise StreamFailed(res.payload[:200])
    if not with_prelude:
        return 200, [("Content-Type", stream.content_type)], _body(chunks, bytes(buf), result)
    if found < 0:  # ended before the delimiter: all of it was the prelude
        found = len(buf)
    try:
        status, headers = prelude_head(bytes(buf[:found]))
    except Malformed:
        await chunks.aclose()  # type: ignore[attr-defined]
        raise
    return status, headers, _body(chunks, bytes(buf[found + len(DELIMITER):]), result)


async def _body(chunks: AsyncIterator[bytes], first: bytes, result: asyncio.Future) -> AsyncIterator[bytes]:
    try:
        if first:
            yield first
        async for piece in chunks:
            yield piece
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
    res = await result
    if res.function_error:
        raise StreamFailed(res.payload[:200])
