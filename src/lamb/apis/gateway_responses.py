"""Gateway responses of REST APIs: what API Gateway answers for its own errors.

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gatewayResponse-definition.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html:
every error API Gateway makes has a response type (``MISSING_AUTHENTICATION_TOKEN``, ``UNAUTHORIZED``,
``BAD_REQUEST_BODY``, ``INTEGRATION_TIMEOUT``, ...) with a default status code. An API may customize a
type with PutGatewayResponse (``statusCode``, ``responseParameters`` ``gatewayresponse.header.<name>``
from ``'literal'``, ``method.request.header|querystring|path.<name>``, ``stageVariables.<name>`` or
``context.<name>``; ``responseTemplates`` by content type, evaluated by ``vtl`` with ``$context.error.
message``, ``messageString`` (the message as a JSON string), ``responseType`` and
``validationErrorString``). A type not customized falls back to ``DEFAULT_4XX``/``DEFAULT_5XX`` by its
status class when that one is customized (its ``statusCode``, when set, replaces the status); with
neither customized the error keeps API Gateway's own answer. Pure.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from . import vtl

DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'

# Response types and their default status codes (None: DEFAULT_4XX/DEFAULT_5XX have none).
TYPES: dict[str, str | None] = {
    "ACCESS_DENIED": "403", "API_CONFIGURATION_ERROR": "500", "AUTHORIZER_CONFIGURATION_ERROR": "500",
    "AUTHORIZER_FAILURE": "500", "BAD_REQUEST_PARAMETERS": "400", "BAD_REQUEST_BODY": "400",
    "DEFAULT_4XX": None, "DEFAULT_5XX": None, "EXPIRED_TOKEN": "403", "INTEGRATION_FAILURE": "504",
    "INTEGRATION_TIMEOUT": "504", "INVALID_API_KEY": "403", "INVALID_SIGNATURE": "403",
    "MISSING_AUTHENTICATION_TOKEN": "403", "QUOTA_EXCEEDED": "429", "REQUEST_TOO_LARGE": "413",
    "RESOURCE_NOT_FOUND": "404", "THROTTLED": "429", "UNAUTHORIZED": "401", "UNSUPPORTED_MEDIA_TYPE": "415",
    "WAF_FILTERED": "403",
}


def default(response_type: str) -> dict:
    """A response type as GetGatewayResponse shows it before any customization."""
    out: dict = {"responseType": response_type, "defaultResponse": True, "responseParameters": {},
                 "responseTemplates": {"application/json": DEFAULT_TEMPLATE}}
    if TYPES[response_type] is not None:
        out["statusCode"] = TYPES[response_type]
    return out


def effective(custom: Mapping[str, dict], response_type: str, status: int) -> dict | None:
    """The customized response that applies to an error of this type and status, or None."""
    found = custom.get(response_type)
    if found is not None:
        return dict(found, statusCode=found.get("statusCode") or TYPES.get(response_type) or str(status))
    fallback = custom.get("DEFAULT_4XX" if status < 500 else "DEFAULT_5XX")
    if fallback is not None:
        return dict(fallback, statusCode=fallback.get("statusCode") or str(status))
    return None


def _source(expression: str, params: Mapping[str, Mapping[str, str]], context: Mapping[str, Any],
            variables: Mapping[str, str]) -> str | None:
    if len(expression) >= 2 and expression[0] == expression[-1] == "'":
        return expression[1:-1]
    if expression.startswith("method.request."):
        where, _, name = expression[len("method.request."):].partition(".")
        values = params.get(where) or {}
        if where == "header":
            return next((v for k, v in values.items() if k.lower() == name.lower()), None)
        return values.get(name)
    if expression.startswith("stageVariables."):
        return variables.get(expression[len("stageVariables."):])
    if expression.startswith("context."):
        value: Any = context
        for part in expression[len("context."):].split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return None if value is None else str(value)
    return None


def render(response: Mapping, *, message: str | None, response_type: str, accept: str | None,
           params: Mapping[str, Mapping[str, str]], context: Mapping[str, Any], variables: Mapping[str, str],
           validation_error: str = "") -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of a customized gateway response; raises ``vtl.TemplateError``."""
    error = {"message": message, "messageString": json.dumps(message), "responseType": response_type,
             "validationErrorString": validation_error}
    ctx = dict(context, error=error)
    headers: list[tuple[str, str]] = []
    for key, expression in (response.get("responseParameters") or {}).items():
        if key.startswith("gatewayresponse.header."):
            value = _source(str(expression), params, ctx, variables)
            if value is not None:
                headers.append((key[len("gatewayresponse.header."):], value))
    templates = response.get("responseTemplates") or {"application/json": DEFAULT_TEMPLATE}
    media = (accept or "").split(",")[0].split(";")[0].strip()
    key = next((k for k in templates if k.lower() == media.lower()), None) or (
        "application/json" if "application/json" in templates else next(iter(templates)))
    body = vtl.render(templates[key], params=params, context=ctx, stage_variables=variables).encode()
    if not any(h.lower() == "content-type" for h, _ in headers):
        headers.insert(0, ("Content-Type", key))
    return int(response["statusCode"]), headers, body
