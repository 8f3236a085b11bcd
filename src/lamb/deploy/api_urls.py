"""Invoke URLs in a stack's Outputs, made reachable on Lamb.

Templates write an API's address as AWS names it: ``https://<api-id>.execute-api.<region>.amazonaws.com/<stage>/…``
(``wss://`` for a WebSocket API, rewritten to ``ws://`` when Lamb speaks plain HTTP)
(https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html). Lamb serves the API
on its own port: by ``Host`` (``<api-id>.execute-api.<region>.localhost:<port>``, which curl and browsers
resolve to loopback) when Lamb is reached on a loopback address, otherwise through the path form
``/_lamb/apis/<api-id>/<stage>/…`` (an HTTP API's ``$default`` stage named when the URL names no stage).
Only the ids of APIs the stack made are rewritten. Custom domain names the stack made
(``https://<domain>/…``) are rewritten the same way: by name when the name ends in ``.localhost`` and Lamb
is reached on a loopback address, else through ``/_lamb/domains/<domain>/…``. Pure.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

_AWS = re.compile(r"(https|wss)://([a-z0-9]+)\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?(/[^\s\"']*)?")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def _loopback(host: str) -> bool:
    return host in _LOOPBACK or host.endswith(".localhost") or host.startswith("127.")


def localize(value: Any, endpoint: str, apis: dict[str, set[str] | None], domains: frozenset[str] = frozenset()) -> Any:
    """``value`` with AWS invoke URLs of ``apis`` (and URLs of the custom ``domains``) rewritten. ``apis``:
    id → stage names of an HTTP API (None for a REST API, whose URLs always name the stage)."""
    if isinstance(value, list):
        return [localize(v, endpoint, apis, domains) for v in value]
    if isinstance(value, str) and domains:
        value = _localize_domains(value, endpoint, domains)
    if not isinstance(value, str) or "execute-api" not in value:
        return value
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)

    def one(m: re.Match) -> str:
        api_id, region, path = m.group(2), m.group(3), m.group(5) or "/"
        if api_id not in apis:
            return m.group(0)
        # A WebSocket API's wss:// address: ws:// where Lamb speaks plain HTTP.
        scheme = parts.scheme if m.group(1) == "https" else ("ws" if parts.scheme == "http" else "wss")
        if _loopback(host):
            return f"{scheme}://{api_id}.execute-api.{region}.localhost:{port}{path}"
        stages = apis[api_id]
        first = path.lstrip("/").split("/", 1)[0]
        if stages is not None and first not in stages:
            path = "/$default" + path
        return f"{scheme}://{parts.netloc}/_lamb/apis/{api_id}{path}"

    return _AWS.sub(one, value)


def _localize_domains(value: str, endpoint: str, domains: frozenset[str]) -> str:
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)

    def one(m: re.Match) -> str:
        name, path = m.group(1).lower(), m.group(3) or "/"
        if name not in domains:
            return m.group(0)
        if _loopback(host) and name.endswith(".localhost"):
            return f"{parts.scheme}://{name}:{port}{path}"
        return f"{parts.scheme}://{parts.netloc}/_lamb/domains/{name}{path}"

    return _DOMAIN_URL.sub(one, value)


_DOMAIN_URL = re.compile(r"https?://([A-Za-z0-9.-]+)(:\d+)?(/[^\s\"']*)?")


def stack_domains(state: dict) -> frozenset[str]:
    """The custom domain names a stack record holds (v1 and v2)."""
    return frozenset(entry["PhysicalId"].lower() for entry in state.values() if entry.get("Status") != "SKIPPED"
                     and entry["Type"] in ("AWS::ApiGateway::DomainName", "AWS::ApiGatewayV2::DomainName"))


def stack_apis(state: dict) -> dict[str, set[str] | None]:
    """The APIs a stack record holds: REST API ids (None) and HTTP API ids with their stages."""
    out: dict[str, set[str] | None] = {}
    for entry in state.values():
        if entry.get("Status") == "SKIPPED":
            continue
        if entry["Type"] == "AWS::ApiGateway::RestApi":
            out[entry["PhysicalId"]] = None
        elif entry["Type"] == "AWS::ApiGatewayV2::Api":
            out.setdefault(entry["PhysicalId"], set())
    for entry in state.values():
        if entry["Type"] == "AWS::ApiGatewayV2::Stage":
            stages = out.get(entry["Properties"].get("ApiId", ""))
            if stages is not None:
                stages.add(entry["PhysicalId"])
    return out
