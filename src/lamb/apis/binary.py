"""Binary media types of REST APIs with Lambda proxy integrations.

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html and
…/lambda-proxy-binary-media.html: a request whose ``Content-Type`` matches one of the API's
``binaryMediaTypes`` reaches the function base64-encoded (``isBase64Encoded: true``); any other
body is passed as text. A response with ``isBase64Encoded: true`` is decoded to bytes only when the
request's ``Accept`` (its first media type) matches one of them; otherwise the client gets the
base64 text as the function returned it. Types match exactly, by ``type/*`` or by ``*/*``. Pure.
"""

from __future__ import annotations

import base64


def _media(value: str) -> str:
    return value.split(",", 1)[0].split(";", 1)[0].strip().lower()


def matches(types: list[str] | tuple[str, ...], header: str | None) -> bool:
    media = _media(header or "")
    if not media or not types:
        return False
    kind = media.split("/", 1)[0]
    for t in types:
        t = t.strip().lower()
        if t in (media, "*/*", f"{kind}/*"):
            return True
    return False


def request_body(body: bytes, content_type: str | None, types: list[str]) -> tuple[str, bool]:
    """The event's ``body`` and ``isBase64Encoded``."""
    if matches(types, content_type):
        return base64.b64encode(body).decode(), True
    return body.decode("utf-8", "replace"), False


def response_body(decoded: bytes, accept: str | None, types: list[str]) -> bytes:
    """What the client gets for a body the function sent base64-encoded (``decoded``: its bytes)."""
    return decoded if matches(types, accept) else base64.b64encode(decoded)
