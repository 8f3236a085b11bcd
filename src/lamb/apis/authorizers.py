"""Lambda authorizers of HTTP APIs (REQUEST type).

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html:

- ``IdentitySource`` (``$request.header.<name>``, ``$request.querystring.<name>``,
  ``$stageVariables.<name>``, ``$context.identity.sourceIp``): when one is missing or empty
  the request answers 401 ``{"message":"Unauthorized"}`` without calling the authorizer;
- the authorizer gets a 1.0 event (``type: REQUEST``, ``methodArn``, ``identitySource`` and
  ``authorizationToken`` as comma-joined values, the request's 1.0 fields without a body)
  or a 2.0 event (``type: REQUEST``, ``routeArn``, ``identitySource`` as a list, the 2.0
  fields without a body), after its own invoke permission (``…:<api-id>/authorizers/<id>``);
- a simple response (``EnableSimpleResponses``, 2.0) is ``{"isAuthorized": bool, "context"}``;
  otherwise ``{"principalId", "policyDocument", "context"}``, evaluated for
  ``execute-api:Invoke`` on the route ARN with ``policy/evaluate.py``;
- deny: 403 ``{"message":"Forbidden"}``; a function error, a malformed answer or a missing
  permission: 500 ``{"message":"Internal Server Error"}``;
- with ``AuthorizerResultTtlInSeconds`` the answer is cached per identity-source values;
- the context reaches the function as ``requestContext.authorizer.lambda`` (2.0) or merged
  into ``requestContext.authorizer`` with ``principalId`` and ``integrationLatency`` (1.0).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..policy import evaluate as policy_eval


class Refused(Exception):
    """The request ends with this status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


UNAUTHORIZED = (401, "Unauthorized")
FORBIDDEN = (403, "Forbidden")
INTERNAL = (500, "Internal Server Error")


@dataclass(frozen=True)
class Authorized:
    """What an authorizer let through: reaches the function's event."""

    kind: str  # "lambda" | "jwt" | "cognito"
    context: dict = field(default_factory=dict)
    principal_id: str | None = None
    latency_ms: int = 0
    claims: dict | None = None
    scopes: list | None = None
    usage_key: str | None = None  # a REST Lambda authorizer's usageIdentifierKey (usage_plans)

    def for_event(self, version: str) -> dict:
        if self.kind == "cognito":  # REST APIs' Cognito user pool authorizers
            return {"claims": self.claims}
        if self.kind == "jwt":
            if version == "1.0":
                return {"claims": self.claims, "scopes": self.scopes}
            return {"jwt": {"claims": self.claims, "scopes": self.scopes}}
        if version == "1.0":
            out = dict(self.context)
            out["principalId"] = self.principal_id or ""
            out["integrationLatency"] = self.latency_ms
            return out
        return {"lambda": self.context}


# Where identity sources look: header, query string, stage variable prefixes.
HTTP_SOURCES = ("$request.header.", "$request.querystring.", "$stageVariables.")
REST_SOURCES = ("method.request.header.", "method.request.querystring.", "stageVariables.")


def identity_values(sources: list[str], headers: dict[str, str], query: dict[str, str], variables: dict[str, str],
                    source_ip: str, prefixes: tuple[str, str, str] = HTTP_SOURCES) -> list[str] | None:
    """The values of the identity sources, or None when one is missing or empty."""
    header, querystring, stage = prefixes
    values = []
    for src in sources or []:
        value: Any = None
        if src.startswith(header):
            value = headers.get(src[len(header):].lower())
        elif src.startswith(querystring):
            value = query.get(src[len(querystring):])
        elif src.startswith(stage):
            value = variables.get(src[len(stage):])
        elif src == "$context.identity.sourceIp":
            value = source_ip
        if not value:
            return None
        values.append(value)
    return values


def decide(response: Any, simple: bool, route_arn: str) -> tuple[bool, dict, str | None]:
    """(allowed, context, principalId) of an authorizer's answer; ``Refused(500)`` when malformed."""
    if not isinstance(response, dict):
        raise Refused(*INTERNAL)
    context = response.get("context") or {}
    if not isinstance(context, dict):
        raise Refused(*INTERNAL)
    if simple:
        allowed = response.get("isAuthorized")
        if not isinstance(allowed, bool):
            raise Refused(*INTERNAL)
        return allowed, context, None
    document = response.get("policyDocument")
    if not isinstance(document, dict) or "principalId" not in response:
        raise Refused(*INTERNAL)
    request = policy_eval.Request(policy_eval.Principal.anonymous(), "execute-api:Invoke", route_arn)
    allowed = policy_eval.evaluate([document], request) is policy_eval.Decision.ALLOW
    return allowed, context, str(response["principalId"])


class ResultCache:
    """Authorizer answers by (api, authorizer, identity values), for their TTL."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._entries: dict[tuple, tuple[float, Any]] = {}

    def get(self, key: tuple) -> Any:
        hit = self._entries.get(key)
        if hit is None:
            return None
        if hit[0] <= self.clock():
            del self._entries[key]
            return None
        return hit[1]

    def drop(self, prefix: tuple) -> None:
        """Forget the answers whose key starts with ``prefix`` (a REST stage's: FlushStageAuthorizersCache)."""
        for key in [k for k in self._entries if k[:len(prefix)] == prefix]:
            del self._entries[key]

    def put(self, key: tuple, ttl_s: int, value: Any) -> None:
        if ttl_s <= 0:
            return
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[key] = (self.clock() + ttl_s, value)


async def run_lambda(invoke: Callable[[bytes], "asyncio.Future"], payload: bytes) -> tuple[Any, int]:
    """Invoke the authorizer function: (its decoded answer, latency ms); ``Refused(500)`` on failure."""
    started = time.monotonic()
    try:
        result = await invoke(payload)
    except Exception:
        raise Refused(*INTERNAL) from None
    if result.function_error:
        raise Refused(*INTERNAL)
    try:
        value = json.loads(result.payload) if result.payload else None
    except ValueError:
        raise Refused(*INTERNAL) from None
    return value, int((time.monotonic() - started) * 1000)
