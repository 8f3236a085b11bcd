"""A function's result as a function URL's HTTP response, and the URL's own errors.

https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-response-payload:
a JSON object with ``statusCode`` is a structured response (``headers``, ``cookies``
as Set-Cookie headers, ``body``, base64-decoded when ``isBase64Encoded``); any other
JSON value is the body of a 200 ``application/json`` response, a string as its text and
anything else as compact JSON (what AWS answered in LocalStack's AWS-validated
``test_lambda.snapshot.json``, ``TestLambdaURL::test_lambda_url_invocation``). A
function error or a result that is not such a response is a 502 with the body
``Internal Server Error``.
"""

from __future__ import annotations

import base64
import binascii
import json

import orjson

INTERNAL = b"Internal Server Error"
FORBIDDEN = ("Forbidden. For troubleshooting Function URL authorization issues, see: "
             "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html")


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)


class Malformed(Exception):
    """The function's result is not a response a URL can send."""


def read_result(payload: bytes):
    """A function's result (``ValueError`` when it is not JSON) as ``json.loads`` reads it, for what a
    response takes from it; with orjson (a tenth of the time, on every answer's path) when that reads it
    the same (``_as_read``), else, and for what orjson refuses (NaN, Infinity), with ``json.loads``."""
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return json.loads(payload)
    return value if _as_read(value) else json.loads(payload)


def _as_read(value) -> bool:
    """Whether orjson's reading is json.loads's for what a response reads. orjson reads an integer past
    64 bits as a float: a float where a response reads a value (status, header values, cookies), a body
    that is not text, or a result that is written back whole as JSON, is read again by json.loads."""
    if type(value) is str:
        return True
    if type(value) is not dict or "statusCode" not in value or type(value["statusCode"]) is float:
        return False
    body = value.get("body")
    if body is not None and type(body) is not str:
        return False
    for key in ("headers", "multiValueHeaders", "cookies"):
        part = value.get(key)
        values = part.values() if type(part) is dict else part if type(part) is list else ()
        for v in values:
            if type(v) is float or (type(v) is list and any(type(x) is float for x in v)):
                return False
    return True


def _scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (str, int, float)):
        return str(v)
    raise Malformed(f"header value {v!r}")


def from_result(payload: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) for a successful invocation's payload; ``Malformed`` otherwise."""
    try:
        value = read_result(payload) if payload else None
    except ValueError:
        raise Malformed("not JSON")
    if isinstance(value, dict) and "statusCode" in value:
        return _structured(value)
    if isinstance(value, str):
        body = value.encode()
    else:
        body = _COMPACT.encode(value).encode()
    return 200, [("Content-Type", "application/json")], body


def _structured(value: dict) -> tuple[int, list[tuple[str, str]], bytes]:
    try:
        status = int(value["statusCode"])
    except (TypeError, ValueError):
        raise Malformed("statusCode")
    if not 100 <= status <= 599:
        raise Malformed("statusCode")
    headers = head_fields(value, "application/json")
    body = value.get("body")
    if body is None:
        data = b""
    elif isinstance(body, str):
        if value.get("isBase64Encoded"):
            try:
                data = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                raise Malformed("body is not base64")
        else:
            data = body.encode()
    else:
        data = _COMPACT.encode(body).encode()
    return status, headers, data


def head_fields(value: dict, default_type: str) -> list[tuple[str, str]]:
    """The headers of a response object's ``headers`` and ``cookies`` (Set-Cookie each), with a
    Content-Type of ``default_type`` unless it has one; ``Malformed`` when they are not so shaped.
    Shared by structured responses and the streaming metadata prelude (``stream.py``)."""
    headers_in = value.get("headers")
    headers_in = {} if headers_in is None else headers_in
    cookies = value.get("cookies")
    cookies = [] if cookies is None else cookies
    if not isinstance(headers_in, dict) or not isinstance(cookies, list):
        raise Malformed("headers or cookies")
    headers = [(str(k), _scalar(v)) for k, v in headers_in.items()]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.insert(0, ("Content-Type", default_type))
    headers += [("Set-Cookie", _scalar(c)) for c in cookies]
    return headers


def error_body(message: str | None) -> bytes:
    """The JSON body of the URL's own errors: ``{"Message": ...}``."""
    return json.dumps({"Message": message}, separators=(",", ":")).encode()
