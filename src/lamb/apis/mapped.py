"""Non-proxy integrations of REST APIs: mapping templates on the way in and out (``vtl``).

https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-custom-integrations.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html:

- **Request.** The request template is picked by the request's ``Content-Type`` (``application/json``
  without one). ``passthroughBehavior``: ``WHEN_NO_MATCH`` passes the body through when no template
  matches; ``WHEN_NO_TEMPLATES`` only when the integration has no templates at all; ``NEVER`` never:
  otherwise 415 ``{"message": "Unsupported Media Type"}``.
- **Response.** For a Lambda integration, an integration response's ``selectionPattern`` (a regular
  expression matching the whole text) is tried on a function error's ``errorMessage``; a success, or an
  error no pattern matches, takes the default response (the one without a pattern). For a MOCK
  integration the pattern is tried on the status code. No response: 500 ``Internal server error``.
  The response template is picked by the request's ``Accept`` (else ``application/json``, else the
  first) and its key is the answer's ``Content-Type``; without templates the payload passes through.
  ``responseParameters`` set ``method.response.header.*`` from a literal (``'v'``),
  ``integration.response.body`` (or ``.body.<JSONPath>``), ``stageVariables.*`` or ``context.*``.

The Lambda Invoke call's ``X-Amz-Invocation-Type`` header comes from the integration's
``requestParameters`` (``integration.request.header.X-Amz-Invocation-Type``: a literal ``'Event'``
or a ``method.request.header|querystring|path.*`` or ``stageVariables.*`` value): ``Event`` invokes
asynchronously and the integration response maps an empty payload
(https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-integration-async.html).
Other request parameters (``X-Amz-Client-Context``, …) are stored, not applied.

Pure: the caller invokes the function and builds the HTTP response.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping, NamedTuple

from . import binary, vtl


class Templated(NamedTuple):
    """What a template sees of the request besides the payload."""

    params: Mapping[str, Mapping[str, str]]  # path, querystring, header
    context: Mapping[str, Any]
    variables: Mapping[str, str]


class Unsupported(Exception):
    """No request template for the content type and no passthrough (415)."""


def request_payload(integration: Mapping, body: bytes, content_type: str | None, seen: Templated) -> bytes:
    """The integration's request: the body through its template or passed through; raises
    ``Unsupported`` (415) or ``vtl.TemplateError`` (500)."""
    templates = integration.get("requestTemplates") or {}
    template = vtl.pick(templates, content_type)
    if template is None:
        behavior = integration.get("passthroughBehavior") or "WHEN_NO_MATCH"
        if behavior == "NEVER" or (behavior == "WHEN_NO_TEMPLATES" and templates):
            raise Unsupported()
        return body
    return vtl.render(template, body=body, params=seen.params, context=seen.context,
                      stage_variables=seen.variables).encode()


INVOCATION_TYPE = "integration.request.header.X-Amz-Invocation-Type"


def invocation_type(integration: Mapping, seen: Templated) -> str:
    """``RequestResponse`` unless the request parameters map the Invoke call's invocation type."""
    source = (integration.get("requestParameters") or {}).get(INVOCATION_TYPE)
    if not source:
        return "RequestResponse"
    if len(source) >= 2 and source[0] == source[-1] == "'":
        return source[1:-1]
    where, _, name = source.removeprefix("method.request.").partition(".")
    if source.startswith("stageVariables."):
        return seen.variables.get(source[len("stageVariables."):]) or "RequestResponse"
    values = seen.params.get(where) or {}
    if where == "header":
        return next((v for k, v in values.items() if k.lower() == name.lower()), None) or "RequestResponse"
    return values.get(name) or "RequestResponse"


def error_message(payload: bytes) -> str:
    """A function error's ``errorMessage`` (the payload's text when it is not an error object)."""
    try:
        value = json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")
    if isinstance(value, dict) and "errorMessage" in value:
        return str(value["errorMessage"])
    return payload.decode("utf-8", "replace")


def select(integration: Mapping, text: str | None) -> dict | None:
    """The integration response for ``text`` (an error message or status code; None: the default)."""
    responses = integration.get("integrationResponses") or {}
    if text is not None:
        for response in responses.values():
            pattern = response.get("selectionPattern")
            if pattern:
                try:
                    if re.fullmatch(pattern, text):
                        return response
                except re.error:
                    continue
    return next((r for r in responses.values() if not r.get("selectionPattern")), None)


def _parameter(source: str, payload: bytes, seen: Templated, headers: tuple = ()) -> str | None:
    if len(source) >= 2 and source[0] == source[-1] == "'":
        return source[1:-1]
    if source.startswith("integration.response.header."):  # an HTTP integration's answer
        name = source[len("integration.response.header."):].lower()
        return next((v for k, v in headers if k.lower() == name), None)
    if source == "integration.response.body":
        return payload.decode("utf-8", "replace")
    if source.startswith("integration.response.body."):
        try:
            value = vtl.json_path(json.loads(payload), "$." + source[len("integration.response.body."):])
        except (ValueError, vtl.TemplateError):
            return None
        return None if value is None else value if isinstance(value, str) else json.dumps(value)
    if source.startswith("stageVariables."):
        return seen.variables.get(source[len("stageVariables."):])
    if source.startswith("context."):
        value: Any = seen.context
        for part in source[len("context."):].split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return None if value is None else str(value)
    return None


def response(chosen: Mapping, payload: bytes, accept: str | None, seen: Templated,
             binary_types: tuple[str, ...] = (), payload_type: str = "application/json",
             integration_headers: tuple = ()) -> tuple[int, list, bytes]:
    """(status, headers, body) of an integration response for the integration's ``payload`` (of
    ``payload_type``: JSON for Lambda's answer or a MOCK's empty one; an HTTP endpoint's Content-Type,
    whose ``integration_headers`` ``integration.response.header.*`` reads), its template applied, then converted by its
    ``contentHandling`` and the API's binary media types (``binary``); raises ``vtl.TemplateError``
    or ``binary.Unconvertible``."""
    templates = chosen.get("responseTemplates") or {}
    content_type, body = "application/json", payload
    if templates:
        wanted = [t.split(";", 1)[0].strip().lower() for t in (accept or "").split(",") if t.strip()]
        key = next((k for k in templates if k.lower() in wanted), None)
        if key is None:
            key = next((k for k in templates if k.lower() == "application/json"), next(iter(templates)))
        content_type = key
        template = templates[key]
        if template:  # an empty template passes the payload through
            body = vtl.render(template, body=payload, params=seen.params, context=seen.context,
                              stage_variables=seen.variables).encode()
    headers = [("Content-Type", content_type)]
    for name, source in (chosen.get("responseParameters") or {}).items():
        if name.startswith("method.response.header."):
            value = _parameter(source, payload, seen, integration_headers)
            if value is not None:
                header = name[len("method.response.header."):]
                headers = [h for h in headers if h[0].lower() != header.lower()] + [(header, value)]
    body = binary.convert_response(body, payload_type, accept, binary_types, chosen.get("contentHandling"))
    return int(chosen["statusCode"]), headers, body


__all__ = ["Templated", "Unsupported", "INVOCATION_TYPE", "invocation_type", "request_payload", "error_message",
           "select", "response"]
