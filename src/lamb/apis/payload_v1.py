"""Payload format version 1.0: the event a request becomes and the response a function returns.

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
(the 1.0 example, the same shape as REST APIs' Lambda proxy integration:
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format):
``resource``, ``path``, ``httpMethod``, ``headers`` and ``multiValueHeaders``,
``queryStringParameters`` and ``multiValueQueryStringParameters`` (null when there are
none), ``pathParameters``, ``stageVariables`` (null when none), ``requestContext``
(with ``identity.sourceIp``, ``resourcePath``, ``stage``, ``requestId``,
``accountId``, ``apiId``), ``body`` (null when empty) and ``isBase64Encoded``.

A 1.0 response is ``{"statusCode", "headers", "multiValueHeaders", "body",
"isBase64Encoded"}``; anything without a valid ``statusCode`` is malformed.
"""

from __future__ import annotations

import base64
import binascii

from ..urls.event import body_of, http_time, query_pairs
from ..urls.response import Malformed, read_result

_IDENTITY_NULLS = ("accessKey", "accountId", "caller", "cognitoAuthenticationProvider", "cognitoAuthenticationType",
                   "cognitoIdentityId", "cognitoIdentityPoolId", "principalOrgId", "user", "userArn")


def build(*, method: str, path: str, raw_query: str, headers: dict[str, str], body: bytes, resource: str,
          route_key: str, stage: str, api_id: str, domain: str, account_id: str, source_ip: str, request_id: str,
          extra_headers: dict[str, str], path_parameters: dict | None, stage_variables: dict | None,
          authorizer: dict | None, now_ms: int) -> dict:
    event_headers = dict(headers)
    event_headers.update(extra_headers)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for k, v in query_pairs(raw_query):
        query[k] = v  # the last value, as AWS does
        multi_query.setdefault(k, []).append(v)
    identity: dict = {k: None for k in _IDENTITY_NULLS}
    identity.update(sourceIp=source_ip, userAgent=headers.get("user-agent", ""))
    context = {
        "accountId": account_id, "apiId": api_id,
        "authorizer": authorizer if authorizer is not None else {"claims": None, "scopes": None},
        "domainName": domain, "domainPrefix": api_id, "extendedRequestId": request_id, "httpMethod": method,
        "identity": identity, "path": path, "protocol": "HTTP/1.1", "requestId": request_id,
        "requestTime": http_time(now_ms), "requestTimeEpoch": now_ms, "resourceId": route_key,
        "resourcePath": resource, "routeKey": route_key, "stage": stage,
    }
    event: dict = {
        "version": "1.0", "resource": resource, "path": path, "httpMethod": method,
        "headers": event_headers, "multiValueHeaders": {k: [v] for k, v in event_headers.items()},
        "queryStringParameters": query or None, "multiValueQueryStringParameters": multi_query or None,
        "requestContext": context, "pathParameters": path_parameters or None,
        "stageVariables": stage_variables or None,
    }
    if body:
        event["body"], event["isBase64Encoded"] = body_of(body, headers.get("content-type", ""))
    else:
        event["body"], event["isBase64Encoded"] = None, False
    return event


def response(payload: bytes) -> tuple[int, list[tuple[str, str]], bytes, bool]:
    """(status, headers, body, whether the body came base64-encoded) of a 1.0 response; ``Malformed`` when it
    is not one."""
    try:
        value = read_result(payload) if payload else None
    except ValueError:
        raise Malformed("not JSON") from None
    if not isinstance(value, dict) or "statusCode" not in value:
        raise Malformed("no statusCode")
    try:
        status = int(value["statusCode"])
    except (TypeError, ValueError):
        raise Malformed("statusCode") from None
    if not 100 <= status <= 599:
        raise Malformed("statusCode")
    single = value.get("headers") or {}
    multi = value.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise Malformed("headers")
    headers: list[tuple[str, str]] = []
    for k, vs in multi.items():
        if not isinstance(vs, list):
            raise Malformed("multiValueHeaders")
        headers += [(str(k), str(v)) for v in vs]
    named = {k.lower() for k, _ in headers}
    headers += [(str(k), str(v)) for k, v in single.items() if k.lower() not in named]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.insert(0, ("Content-Type", "application/json"))
    body = value.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        raise Malformed("body is not a string")
    elif value.get("isBase64Encoded"):
        try:
            return status, headers, base64.b64decode(body, validate=True), True
        except (binascii.Error, ValueError):
            raise Malformed("body is not base64") from None
    else:
        data = body.encode()
    return status, headers, data, False
