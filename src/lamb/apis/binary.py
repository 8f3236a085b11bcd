"""Binary media types of REST APIs with Lambda proxy integrations.

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html and
…/lambda-proxy-binary-media.html: a request whose ``Content-Type`` matches one of the API's
``binaryMediaTypes`` reaches the function base64-encoded (``isBase64Encoded: true``); any other
body is passed as text. A response with ``isBase64Encoded: true`` is decoded to bytes only when the
request's ``Accept`` (its first media type) matches one of them; otherwise the client gets the
base64 text as the function returned it. Types match exactly, by ``type/*`` or by ``*/*``.

Non-proxy integrations (``AWS``, ``MOCK``) convert payloads by ``contentHandling`` as
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html
tabulates (``convert_request``, ``convert_response``): a payload is binary when its media type
matches ``binaryMediaTypes``; ``CONVERT_TO_BINARY`` base64-decodes text, ``CONVERT_TO_TEXT``
base64-encodes binary, and without ``contentHandling`` a response is converted to what the
request's first ``Accept`` type asks for (text decoded for a binary type, binary encoded for a
text type) while a request passes through. Base64 is decoded leniently (characters outside the
alphabet are skipped, as a MIME decoder does); what still does not decode raises ``Unconvertible``. Pure.
"""

from __future__ import annotations

import base64
import binascii
import re

CONTENT_HANDLING = ("CONVERT_TO_BINARY", "CONVERT_TO_TEXT")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")


class Unconvertible(ValueError):
    """A payload CONVERT_TO_BINARY cannot base64-decode."""


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


def decode(text: bytes) -> bytes:
    """Base64 text to bytes, skipping characters outside the alphabet (padding and line breaks too)."""
    data = _NOT_BASE64.sub(b"", text)
    if len(data) % 4 == 1:
        raise Unconvertible("not base64")
    try:
        return base64.b64decode(data + b"=" * (-len(data) % 4))
    except binascii.Error as e:  # pragma: no cover - the alphabet is checked above
        raise Unconvertible(str(e)) from None


def convert_request(body: bytes, content_type: str | None, types: list[str] | tuple[str, ...],
                    handling: str | None) -> bytes:
    """The integration request's payload for a method request's ``body`` (the request table)."""
    binary = matches(types, content_type)
    if handling == "CONVERT_TO_BINARY" and not binary:
        return decode(body)
    if handling == "CONVERT_TO_TEXT" and binary:
        return base64.b64encode(body)
    return body


def convert_response(payload: bytes, payload_type: str | None, accept: str | None,
                     types: list[str] | tuple[str, ...], handling: str | None) -> bytes:
    """The method response's payload for an integration response's (the response table);
    ``payload_type``: the integration payload's media type (binary when it matches ``types``)."""
    binary, wants_binary = matches(types, payload_type), matches(types, accept)
    if binary:
        if handling == "CONVERT_TO_TEXT" or (handling is None and not wants_binary):
            return base64.b64encode(payload)
        return payload
    if handling == "CONVERT_TO_BINARY" or (handling is None and wants_binary):
        return decode(payload)
    return payload
