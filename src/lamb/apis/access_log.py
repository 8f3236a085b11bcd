"""Access logs of API Gateway stages, written to a log group in Lamb's logs.

A stage with access logging (HTTP APIs: ``AccessLogSettings``; REST APIs: ``accessLogSettings``,
both ``DestinationArn``/``destinationArn`` and ``Format``/``format``) gets one line per request
in the log group its ARN names (``arn:aws:logs:<region>:<account>:log-group:<name>[:*]``), in the
stream ``<api-id>_<stage>``: the format with each ``$context.<name>`` replaced by its value, ``-``
for a variable without one (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html).
Variables with values (``context_values``), for both kinds unless said: ``requestId``,
``extendedRequestId``, ``apiId``, ``stage``, ``httpMethod``, ``path``, ``protocol``, ``status``,
``responseLength``, ``requestTime``, ``requestTimeEpoch``, ``responseLatency``, ``domainName``,
``domainPrefix``, ``accountId``, ``routeKey`` (HTTP), ``resourcePath``/``resourceId``/``deploymentId``
(REST), ``dataProcessed`` (HTTP), ``customDomain.basePathMatched`` (a mapping's key), ``customDomain.routingRuleIdMatched`` (a routing
rule's id); ``identity.sourceIp``, ``identity.userAgent``, and for AWS_IAM
callers ``identity.accountId``/``caller``/``user``/``userArn``, for REST methods with an API key
``identity.apiKey``/``apiKeyId``; ``authorizer.principalId``, ``authorizer.<key>`` (a Lambda
authorizer's context: stringified for REST APIs, JSON values for HTTP APIs), ``authorizer.claims.<claim>``
(JWT or Cognito), ``authorizer.error`` and ``authorizer.status`` (a refused request's), for Lambda
authorizers ``authorizer.status``/``latency``/``requestId`` (when it ran, not from its cache) and (REST)
``integrationStatus``/``integrationLatency``; ``error.message``,
``error.messageString`` (quoted), ``error.responseType`` and (a validator's refusal)
``error.validationErrorString`` when API Gateway itself answered;
``integration.status``/``integrationStatus`` (Lambda's status; ``integration.integrationStatus``),
``integration.error``/``integrationErrorMessage``, ``integration.latency``/``integrationLatency`` and
``integration.requestId``/``awsEndpointRequestId`` for a request that reached its integration. Others are
``-``: ``waf*``/``webaclArn`` (no web ACL can be associated), ``xrayTraceId`` (stages are not traced),
``identity.cognito*``/``principalOrgId``, ``identity.clientCert.*`` but over a mutual TLS custom domain
(``mutual_tls.access_values``), ``authorize.*``/``authenticate.*`` (but REST AWS_IAM
methods', written by rest.py),
``isCanaryRequest``, ``requestOverride.*``/``responseOverride.*``, ``customDomain.basePathMatched`` of the
``(none)`` mapping,
``awsEndpointRequestId2``.
The rendering is pure; ``AccessLogs`` writes through the collaborator it is given.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Callable

_VAR = re.compile(r"\$(?:\{context\.([^}]+)\}|context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*))")

Write = Callable[[str, str, int, str], None]  # (log group, log stream, epoch ms, line)


def group_name(destination_arn: str | None) -> str | None:
    """The log group a destination ARN names (None for anything else, e.g. a Firehose stream)."""
    if not destination_arn or not destination_arn.startswith("arn:"):
        return None
    parts = destination_arn.split(":", 6)
    if len(parts) < 7 or parts[2] != "logs" or not parts[5] == "log-group":
        return None
    name = parts[6]
    return name[:-2] if name.endswith(":*") else name


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(fmt: str, values: dict[str, Any]) -> str:
    def one(m: re.Match) -> str:
        value = values.get(m.group(1) or m.group(2))
        return "-" if value is None or value == "" else _text(value)

    return _VAR.sub(one, fmt).rstrip("\r\n").replace("\n", " ")


def context_values(base: dict[str, Any], *, rest: bool, event: dict | None = None, authorized: Any = None,
                   identity: dict | None = None, error: tuple | None = None,
                   unauthorized: bool = False, authorizer_error: str | None = None,
                   integration: dict | None = None) -> dict[str, Any]:
    """``base`` (the request's own variables) with what the request met: ``event`` (a REST request's
    Lambda proxy event: identity, authorizer), ``authorized`` (``authorizers.Authorized``), ``identity``
    (an AWS_IAM caller's ``requestContext.identity`` members), ``error`` (the gateway response type,
    message and validation detail when API Gateway answered itself), ``unauthorized``/``authorizer_error`` (the authorizer
    refused), ``integration`` (``status``, ``integrationStatus``, ``error``, ``requestId``)."""
    values = dict(base)
    ctx = (event or {}).get("requestContext") or {}
    for k, v in (ctx.get("identity") or {}).items():
        if k not in ("accessKey", "clientCert") and v is not None and not isinstance(v, dict):
            values.setdefault(f"identity.{k}", v)
    for k, v in (identity or {}).items():
        if k != "accessKey":
            values[f"identity.{k}"] = v
    if rest and ctx.get("resourceId"):
        values["resourceId"] = ctx["resourceId"]
    if authorized is not None:
        if authorized.principal_id is not None:
            values["authorizer.principalId"] = authorized.principal_id
        for k, v in (authorized.context or {}).items():
            values[f"authorizer.{k}"] = json_text(v) if isinstance(v, (dict, list)) else _text(v) if rest else v
        for k, v in (authorized.claims or {}).items():
            values[f"authorizer.claims.{k}"] = v if isinstance(v, str) else json_text(v)
        if authorized.kind == "lambda":
            values["authorizer.status"] = 200
            values["authorizer.latency"] = authorized.latency_ms
            if rest:
                values["authorizer.integrationStatus"] = 200
                values["authorizer.integrationLatency"] = authorized.latency_ms
    if error is not None:
        kind, message, detail = (tuple(error) + ("",))[:3]
        values["error.responseType"] = kind
        if detail:  # a REST request validator's refusal (validation.py)
            values["error.validationErrorString"] = detail
        if message is not None:
            values["error.message"] = message
            values["error.messageString"] = json_text(message)
        if unauthorized or authorizer_error is not None:
            values["authorizer.error"] = authorizer_error if authorizer_error is not None else message
            values["authorizer.status"] = base.get("status")
    if integration:
        for k in ("status", "integrationStatus", "error", "requestId"):
            if integration.get(k) is not None:
                values[f"integration.{k}"] = integration[k]
        values["integrationStatus"] = integration.get("integrationStatus")
        values["integrationErrorMessage"] = integration.get("error")
        values["awsEndpointRequestId"] = integration.get("requestId")
    return values


def json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def format_problem(fmt: str, http: bool) -> str | None:
    """Why CreateStage/UpdateStage refuse an access log format (BadRequestException), or None: one line
    (REST APIs allow a final newline) naming ``$context.requestId`` or ``$context.extendedRequestId``."""
    prefix = "The following errors are found in Access Log Format: " if http else ""
    line = fmt if http else fmt.removesuffix("\n").removesuffix("\r")
    if "\n" in line or "\r" in line:
        rest = "" if http else ", new line character is allowed only at end of the format"
        return f"{prefix}Access Log format must be single line{rest}: '{fmt}'"
    if not {m.group(1) or m.group(2) for m in _VAR.finditer(fmt)} & {"requestId", "extendedRequestId"}:
        return f"{prefix}Access Log format must include either $context.requestId or $context.extendedRequestId : '{fmt}'"
    return None


def settings(stage: dict) -> tuple[str, str] | None:
    """(log group, format) of a stage that logs access to a log group, else None."""
    conf = stage.get("AccessLogSettings") or stage.get("accessLogSettings") or {}
    group = group_name(conf.get("DestinationArn") or conf.get("destinationArn"))
    fmt = conf.get("Format") or conf.get("format")
    return (group, fmt) if group and fmt else None


class AccessLogs:
    def __init__(self, write: Write, clock: Callable[[], float] = time.time) -> None:
        self.write = write
        self.clock = clock

    def record(self, stage: dict, api_id: str, stage_name: str, values: dict[str, Any]) -> None:
        found = settings(stage)
        if found is None:
            return
        group, fmt = found
        self.write(group, f"{api_id}_{stage_name}", int(self.clock() * 1000), render(fmt, values))


def store_writer(stream: Callable[[str, str], Any]) -> Write:
    """A ``Write`` into Lamb's log store (``LogStore.stream``): streams kept open, one write per line."""
    open_streams: dict[tuple[str, str], Any] = {}

    def write(group: str, name: str, ts_ms: int, line: str) -> None:
        s = open_streams.get((group, name))
        if s is None:
            s = open_streams[(group, name)] = stream(group, name)
        s.write(ts_ms, line)
        s.flush()

    return write
