"""The event a function URL request becomes: AWS's payload format version 2.0.

https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads:
``version`` "2.0", ``routeKey`` and ``requestContext.stage`` "$default", the raw path
and query string, ``cookies`` (from the Cookie header, which is then left out of
``headers``), ``headers`` with lower-case names and repeated values joined with commas,
``queryStringParameters`` (repeated values joined with commas), ``requestContext``
(account, url id as ``apiId``, domain, the ``http`` block, request id, time) and
``body``, base64-encoded unless the content type is text (``isBase64Encoded``).
``cookies``, ``queryStringParameters`` and ``body`` are left out when the request has
none. ``requestContext.authorizer.iam`` describes the signer of an AWS_IAM request.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

import orjson

_TEXT_TYPES = ("text/", "json", "xml", "javascript", "yaml", "x-www-form-urlencoded-text")


@dataclass(frozen=True)
class Caller:
    """The signer of an AWS_IAM request (requestContext.authorizer.iam)."""

    access_key: str
    account_id: str
    user_arn: str
    user_id: str


def is_text(content_type: str) -> bool:
    ct = content_type.lower()
    return any(t in ct for t in _TEXT_TYPES)


def body_of(body: bytes, content_type: str) -> tuple[str, bool]:
    """The event's ``body`` and ``isBase64Encoded`` for a request body."""
    if is_text(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode(), True


_last_time: tuple[int, str] = (-1, "")


def http_time(epoch_ms: int) -> str:
    """``12/Mar/2020:19:03:58 +0000`` (formatted once per second)."""
    global _last_time
    second = epoch_ms // 1000
    if _last_time[0] != second:
        _last_time = (second, time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(second)))
    return _last_time[1]


def query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """``parse_qsl(raw_query, keep_blank_values=True)``, without its decoding steps for a query that has
    nothing to decode (no ``%``, no ``+``): the usual query, on every request's path."""
    if "%" in raw_query or "+" in raw_query:
        return parse_qsl(raw_query, keep_blank_values=True)
    return [(k, v) for k, _, v in (p.partition("=") for p in raw_query.split("&") if p)]


def build(*, method: str, raw_path: str, raw_query: str, headers: dict[str, str], body: bytes, url_id: str,
          domain: str, account_id: str, source_ip: str, request_id: str, extra_headers: dict[str, str],
          caller: Caller | None = None, now_ms: int | None = None, route_key: str = "$default",
          stage: str = "$default", owner_account: str | None = None, path_parameters: dict | None = None,
          stage_variables: dict | None = None, authorizer: dict | None = None) -> dict:
    """The 2.0 event. Function URLs use the defaults; HTTP APIs (``lamb.apis``) name the
    route, stage, the API's account (``owner_account``), path parameters, stage variables
    and what an authorizer returned."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    event_headers = dict(headers)
    cookie = event_headers.pop("cookie", None)
    event_headers.update(extra_headers)
    event: dict = {"version": "2.0", "routeKey": route_key, "rawPath": raw_path, "rawQueryString": raw_query}
    if cookie:
        event["cookies"] = [c.strip() for c in cookie.replace(",", ";").split(";") if c.strip()]
    event["headers"] = event_headers
    if raw_query:
        params: dict[str, str] = {}
        for k, v in query_pairs(raw_query):
            params[k] = f"{params[k]},{v}" if k in params else v
        event["queryStringParameters"] = params
    if authorizer is None and caller is not None:
        authorizer = {"iam": {
            "accessKey": caller.access_key, "accountId": caller.account_id, "callerId": caller.user_id,
            "cognitoIdentity": None, "principalOrgId": None, "userArn": caller.user_arn, "userId": caller.user_id,
        }}
    context: dict = {
        "accountId": owner_account or (caller.account_id if caller else "anonymous"), "apiId": url_id,
        "authorizer": authorizer, "domainName": domain, "domainPrefix": url_id,
        "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                 "userAgent": headers.get("user-agent", "")},
        "requestId": request_id, "routeKey": route_key, "stage": stage, "time": http_time(now_ms),
        "timeEpoch": now_ms,
    }
    if authorizer is None:
        del context["authorizer"]
    event["requestContext"] = context
    if path_parameters:
        event["pathParameters"] = path_parameters
    if stage_variables:
        event["stageVariables"] = stage_variables
    if body:
        event["body"], event["isBase64Encoded"] = body_of(body, headers.get("content-type", ""))
    else:
        event["isBase64Encoded"] = False
    return event


# What orjson refuses (an integer past 64 bits from an authorizer's context, a lone surrogate) the standard
# encoder writes, as it wrote every event before: one encoder for all (json.dumps builds one per call).
_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def encode(event: dict) -> bytes:
    """An event as compact JSON, UTF-8 (orjson: an HTTP API request's event in a tenth of the time)."""
    try:
        return orjson.dumps(event)
    except TypeError:  # orjson.JSONEncodeError
        return _ENCODER.encode(event).encode()
