"""Non-proxy integrations of WebSocket APIs: request templates, request parameters, integration responses.

https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-data-transformations.html,
…/apigateway-websocket-api-integration-responses.html, …/apigateway-websocket-api-selection-expressions.html:

- **Request.** The integration's ``TemplateSelectionExpression`` (static text, ``${request.body.<JSONPath>}``,
  ``\\$default``; ``$context.x``/``$stageVariables.x`` as in HTTP APIs' mapping expressions) gives a key of
  its ``RequestTemplates``; a key without a template takes the ``$default`` template; with neither,
  ``PassthroughBehavior`` decides: ``WHEN_NO_MATCH`` (the default) passes the message through,
  ``WHEN_NO_TEMPLATES`` only when there are no templates, ``NEVER`` refuses (``Unsupported``). A template
  is evaluated by ``vtl`` with the message as ``$input`` and the event's ``requestContext`` as ``$context``
  (``$context.connectionId``, ``routeKey``, ``eventType``, ``messageId``, ``requestId``, …).
- ``RequestParameters`` map ``integration.request.header|querystring|path.<name>`` from
  ``route.request.header|querystring.<name>`` (the ``$connect`` request's), ``route.request.body.<JSONPath>``,
  ``context.<name>``, ``stageVariables.<name>`` or a ``'literal'`` (``http_proxy.rest_request_parameters``).
- **Response.** The integration response whose ``IntegrationResponseKey`` (``/<regex>/`` matching the whole
  text) matches the integration's ``IntegrationResponseSelectionExpression`` evaluated on the backend's
  answer, else the ``$default`` one; none: the integration failed. Without an expression AWS fixes it by
  integration type: a Lambda function's ``$integration.response.body.errorMessage`` (so a success, which has
  none, takes ``$default``), the status code for HTTP and MOCK (and, Lamb's reading, AWS services). The
  response's ``TemplateSelectionExpression`` (``${request.body.<JSONPath>}``, ``${integration.response.
  statuscode}``, ``${integration.response.header|multivalueheader.<name>}``, static text) picks a key of its
  ``ResponseTemplates`` (else ``$default``); without a template the payload passes through.
  ``ContentHandlingStrategy`` converts binary and base64 text both ways.

Pure: ``websocket.py`` sends and receives.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Mapping, NamedTuple

from . import http_proxy, vtl

DEFAULT = "$default"
CONVERT_TO_TEXT, CONVERT_TO_BINARY = "CONVERT_TO_TEXT", "CONVERT_TO_BINARY"
PASSTHROUGH = ("WHEN_NO_MATCH", "NEVER", "WHEN_NO_TEMPLATES")
_SOURCE = re.compile(r"'[^']*'|route\.request\.(?:header|querystring)\.[^\s]+|route\.request\.body\.[^\s]+|"
                     r"context\.[A-Za-z0-9_.]+|stageVariables\.[A-Za-z0-9_]+")
_TARGET = re.compile(r"integration\.request\.(?:header|querystring|path)\.[^\s]+")
# ``$integration.response.<statuscode|body.<path>|header.<name>|multivalueheader.<name>>`` (or ``${…}``)
_RESPONSE_VAR = re.compile(r"\$\{integration\.response\.(statuscode|(?:body|header|multivalueheader)\.[^}\s]+)\}|"
                           r"\$integration\.response\.(statuscode|body\.[A-Za-z0-9_.]+|"
                           r"(?:header|multivalueheader)\.[A-Za-z0-9_\-]+)")
# An integration's IntegrationResponseSelectionExpression when it has none: "fixed depending on the
# integrationType" (AWS): a Lambda function's error message, else the status code.
STATUS_SELECTION = "${integration.response.statuscode}"
ERROR_SELECTION = "${integration.response.body.errorMessage}"


class Unsupported(Exception):
    """No request template for the key and no passthrough (``PassthroughBehavior``)."""


class Seen(NamedTuple):
    """What a WebSocket integration's templates and parameters read of the request."""

    body: bytes | str  # the message ("" for $connect and $disconnect)
    headers: Mapping[str, str]  # the $connect request's
    query: Mapping[str, str]  # the $connect request's
    context: Mapping[str, Any]  # the event's requestContext
    variables: Mapping[str, str]  # stage variables

    def text(self) -> str:
        return self.body.decode("utf-8", "replace") if isinstance(self.body, bytes) else self.body

    def params(self) -> dict:
        return {"path": {}, "querystring": dict(self.query), "header": dict(self.headers)}


class Answer(NamedTuple):
    """The backend's answer, as integration response expressions read it."""

    status: int
    payload: bytes
    headers: tuple = ()  # (name, value) pairs: an HTTP endpoint's or an AWS service's


def _response_value(ref: str, answer: Answer) -> str:
    if ref == "statuscode":
        return str(answer.status)
    kind, _, name = ref.partition(".")
    if kind == "body":
        try:
            value = vtl.json_path(json.loads(answer.payload), "$." + name)
        except (ValueError, vtl.TemplateError):
            return ""
        return "" if value is None else value if isinstance(value, str) else json.dumps(value)
    values = [v for k, v in answer.headers if k.lower() == name.lower()]
    return ",".join(values) if kind == "multivalueheader" else (values[0] if values else "")


def _response_variables(text: str, answer: Answer) -> str:
    return _RESPONSE_VAR.sub(lambda m: _response_value(m.group(1) or m.group(2), answer), text)


def selection_text(integration: Mapping, answer: Answer, lambda_based: bool) -> str:
    """What integration response keys are matched against: the integration's
    ``IntegrationResponseSelectionExpression`` (else a Lambda function's ``errorMessage``, an empty text
    for a success, or the status code) evaluated on the backend's answer."""
    expression = integration.get("IntegrationResponseSelectionExpression") or response_selection(lambda_based)
    return _response_variables(expression.replace("\\$", "\x00"), answer).replace("\x00", "$")


def response_selection(lambda_based: bool) -> str:
    """The ``IntegrationResponseSelectionExpression`` of a non-proxy integration (AWS fixes it by type)."""
    return ERROR_SELECTION if lambda_based else STATUS_SELECTION


def select_key(expression: str | None, seen: Seen, answer: Answer | None = None) -> str:
    """A template selection expression's value (``$default`` without an expression); an integration
    response's reads the backend's ``answer`` too (``$integration.response.*``)."""
    if not expression:
        return DEFAULT
    text = expression.replace("\\$", "\x00")
    if answer is not None:
        text = _response_variables(text, answer)
    body = seen.body if isinstance(seen.body, bytes) else seen.body.encode()
    value = http_proxy.expression(text, http_proxy.Seen(seen.headers, "", "", {}, body, seen.context, seen.variables))
    return value.replace("\x00", "$")


def _template(templates: Mapping[str, str], key: str) -> str | None:
    if key in templates:
        return templates[key]
    return templates.get(DEFAULT)


def _converted(body: bytes | str, strategy: str | None) -> bytes | str:
    """A payload converted by ``ContentHandlingStrategy`` (binary → base64 text, base64 text → binary)."""
    if strategy == CONVERT_TO_TEXT and isinstance(body, bytes):
        return base64.b64encode(body).decode()
    if strategy == CONVERT_TO_BINARY and isinstance(body, str):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise vtl.TemplateError("the payload is not base64 text (CONVERT_TO_BINARY)") from None
    return body


def request_payload(integration: Mapping, seen: Seen) -> bytes:
    """The integration request's body; raises ``Unsupported`` or ``vtl.TemplateError``."""
    templates = integration.get("RequestTemplates") or {}
    body = _converted(seen.body, integration.get("ContentHandlingStrategy"))
    template = _template(templates, select_key(integration.get("TemplateSelectionExpression"), seen)) \
        if templates else None
    if template is None:
        behavior = integration.get("PassthroughBehavior") or "WHEN_NO_MATCH"
        if behavior == "NEVER" or (behavior == "WHEN_NO_TEMPLATES" and templates):
            raise Unsupported()
        return body if isinstance(body, bytes) else body.encode()
    return vtl.render(template, body=body if isinstance(body, str) else body.decode("utf-8", "replace"),
                      params=seen.params(), context=seen.context, stage_variables=seen.variables).encode()


def request_parameters(integration: Mapping, seen: Seen) -> dict[str, dict[str, str]]:
    """``{"path": …, "querystring": …, "header": …}`` of the integration's ``RequestParameters``."""
    params: dict[str, str] = {}
    for key, source in (integration.get("RequestParameters") or {}).items():
        if source.startswith("route.request.body."):
            try:
                doc = json.loads(seen.text())
                value = vtl.json_path(doc, "$." + source[len("route.request.body."):])
            except (ValueError, vtl.TemplateError):
                value = None
            if value is None:
                continue
            source = "'" + (value if isinstance(value, str) else json.dumps(value)) + "'"
        elif source.startswith("route.request."):
            source = "method.request." + source[len("route.request."):]
        params[key] = source
    return http_proxy.rest_request_parameters(params, seen.params(), seen.variables, seen.context)


def check(integration: Mapping) -> str | None:
    """Why a WebSocket integration's templates, parameters or strategies are not accepted, else None."""
    behavior = integration.get("PassthroughBehavior")
    if behavior is not None and behavior not in PASSTHROUGH:
        return f"Invalid PassthroughBehavior {behavior}: use one of {', '.join(PASSTHROUGH)}."
    strategy = integration.get("ContentHandlingStrategy")
    if strategy is not None and strategy not in (CONVERT_TO_TEXT, CONVERT_TO_BINARY):
        return f"Invalid ContentHandlingStrategy {strategy}: use CONVERT_TO_TEXT or CONVERT_TO_BINARY."
    for key, source in (integration.get("RequestParameters") or {}).items():
        if not _TARGET.fullmatch(key):
            return (f"Invalid mapping expression specified: {key}. Keys are integration.request.header|querystring|"
                    "path.<name>.")
        if not isinstance(source, str) or not _SOURCE.fullmatch(source):
            return (f"Invalid mapping expression specified: {source}. Values are route.request.header|querystring."
                    "<name>, route.request.body.<JSONPath>, context.<name>, stageVariables.<name> or 'literal'.")
    return None


def response_key_problem(key: str) -> str | None:
    """Why ``key`` is not an integration response key (``$default`` or ``/<regex>/``), else None."""
    if key == DEFAULT:
        return None
    if len(key) < 3 or not key.startswith("/") or not key.endswith("/"):
        return f"Invalid IntegrationResponseKey {key}: use $default or a /<regular expression>/."
    try:
        re.compile(key[1:-1])
    except re.error as e:
        return f"Invalid IntegrationResponseKey {key}: {e}."
    return None


def select_response(responses: Mapping[str, Mapping], text: str) -> Mapping | None:
    """The integration response whose key's pattern matches ``text`` (the whole of it), else ``$default``."""
    for response in responses.values():
        key = response.get("IntegrationResponseKey") or ""
        if key != DEFAULT and len(key) >= 2 and key.startswith("/") and key.endswith("/"):
            try:
                if re.fullmatch(key[1:-1], text):
                    return response
            except re.error:
                continue
    return next((r for r in responses.values() if r.get("IntegrationResponseKey") == DEFAULT), None)


def response_payload(chosen: Mapping, answer: Answer, seen: Seen) -> bytes | str:
    """The message an integration response makes of the backend's payload: through the template its
    ``TemplateSelectionExpression`` picks, then converted by its ``ContentHandlingStrategy``; text
    (``str``) or binary (``bytes``). Raises ``vtl.TemplateError``."""
    templates = chosen.get("ResponseTemplates") or {}
    out: bytes | str = answer.payload
    if templates:
        template = _template(templates, select_key(chosen.get("TemplateSelectionExpression"), seen, answer))
        if template:
            out = vtl.render(template, body=answer.payload, params=seen.params(), context=seen.context,
                             stage_variables=seen.variables)
    if isinstance(out, bytes) and chosen.get("ContentHandlingStrategy") != CONVERT_TO_TEXT:
        try:
            out = out.decode("utf-8")
        except UnicodeDecodeError:
            return out
    return _converted(out, chosen.get("ContentHandlingStrategy"))


__all__ = ["DEFAULT", "Seen", "Answer", "Unsupported", "select_key", "request_payload", "request_parameters",
           "check", "response_key_problem", "select_response", "selection_text", "response_selection",
           "response_payload"]
