"""MOCK integrations of REST APIs: API Gateway answers without a backend (SAM's CORS preflights).

https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-mock-integration.html: the
request template (``application/json``) sets the ``statusCode``; the integration response whose
``selectionPattern`` matches it (else the one without a pattern) gives the method response:
its status, the ``method.response.header.*`` parameters whose values are static (``'value'``)
and the ``application/json`` response template as the body. Lamb does not evaluate Velocity
templates: a request template that is not plain JSON selects status 200, and a response
template with Velocity directives (``$``, ``#``) answers an empty body. Pure.
"""

from __future__ import annotations

import json
import re


def _template(templates: dict | None) -> str | None:
    templates = templates or {}
    return templates.get("application/json", next(iter(templates.values()), None))


def status_of(integration: dict) -> str:
    text = _template(integration.get("requestTemplates"))
    try:
        value = json.loads(text) if text else {}
        return str(int(value.get("statusCode", 200)))
    except (ValueError, TypeError, AttributeError):
        return "200"


def pick(integration: dict, status: str) -> dict | None:
    responses = integration.get("integrationResponses") or {}
    for response in responses.values():
        pattern = response.get("selectionPattern")
        if pattern and re.fullmatch(pattern, status):
            return response
    return next((r for r in responses.values() if not r.get("selectionPattern")), None)


def answer(integration: dict) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """(status, headers, body) of a MOCK integration, or None when no integration response is set
    (API Gateway then answers 500 ``Internal server error``)."""
    response = pick(integration, status_of(integration))
    if response is None:
        return None
    headers = [("Content-Type", "application/json")]
    for name, value in (response.get("responseParameters") or {}).items():
        if name.startswith("method.response.header.") and len(value) >= 2 and value[0] == value[-1] == "'":
            headers.append((name[len("method.response.header."):], value[1:-1]))
    body = _template(response.get("responseTemplates")) or ""
    if "$" in body or "#" in body:
        body = ""
    return int(response["statusCode"]), headers, body.encode()
