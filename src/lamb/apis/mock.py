"""MOCK integrations of REST APIs: API Gateway answers without a backend (SAM's CORS preflights).

https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-mock-integration.html: the
request template (picked by the request's Content-Type, evaluated by ``vtl``) sets the
``statusCode``; the integration response whose ``selectionPattern`` matches it (else the one
without a pattern) gives the method response: its status, its ``method.response.header.*``
parameters and its response template, evaluated with an empty ``$input`` (``mapped.response``).
A request template that does not evaluate to JSON with a ``statusCode`` selects status 200. Pure.
"""

from __future__ import annotations

import json

from . import mapped, vtl


def status_of(integration: dict, content_type: str | None = None, seen: mapped.Templated | None = None,
              body: bytes = b"") -> str:
    seen = seen or mapped.Templated({}, {}, {})
    templates = integration.get("requestTemplates") or {}
    template = vtl.pick(templates, content_type) or vtl.pick(templates, None) or next(iter(templates.values()), None)
    if not template:
        return "200"
    return status_in(vtl.render(template, body=body, params=seen.params, context=seen.context,
                                stage_variables=seen.variables))


def status_in(text: str) -> str:
    """The ``statusCode`` a MOCK integration's evaluated request template sets ("200" without one);
    WebSocket APIs' MOCK integrations (``websocket.py``) read it the same way."""
    try:
        return str(int(json.loads(text).get("statusCode", 200)))
    except (ValueError, TypeError, AttributeError):
        return "200"


def answer(integration: dict, content_type: str | None = None, accept: str | None = None,
           seen: mapped.Templated | None = None, body: bytes = b"",
           binary_types: tuple[str, ...] = ()) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """(status, headers, body) of a MOCK integration, or None when no integration response is set
    (API Gateway then answers 500 ``Internal server error``); raises ``vtl.TemplateError``."""
    seen = seen or mapped.Templated({}, {}, {})
    chosen = mapped.select(integration, status_of(integration, content_type, seen, body))
    if chosen is None:
        return None
    return mapped.response(chosen, b"", accept, seen, binary_types)
