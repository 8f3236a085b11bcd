"""HTTP proxy integrations: API Gateway forwards the request to an HTTP(S) endpoint and relays its answer.

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-http.html,
…/http-api-parameter-mapping.html (HTTP APIs, ``HTTP_PROXY``) and
…/setup-http-integrations.html (REST APIs, ``HTTP_PROXY``):

- the request goes to the integration URI with its ``{name}`` path variables filled from the
  route's path parameters (``{proxy}`` from a ``{proxy+}`` route) and stage variables, with the
  client's query string, headers (hop-by-hop ones and ``Host`` dropped) and body; API Gateway adds
  ``X-Forwarded-For`` (the client's address appended), ``X-Forwarded-Port``, ``X-Forwarded-Proto``,
  ``X-Amzn-Trace-Id`` (and, for HTTP APIs, ``Forwarded``);
- HTTP APIs' ``RequestParameters`` change the request first (``append|overwrite|remove:header.<name>``,
  ``append|overwrite|remove:querystring.<name>``, ``overwrite:path``) and ``ResponseParameters``
  (by the backend's status code: ``append|overwrite|remove:header.<name>``, ``overwrite:statuscode``)
  change the answer — for Lambda proxy (``AWS_PROXY``) integrations too, whose event then
  describes the mapped request (``map_request``) and whose mapped result is mapped again; values
  are static text with ``$request.header.x``, ``$request.querystring.x``,
  ``$request.path``, ``$request.path.x``, ``$request.body.<JSONPath>``, ``$response.header.x``,
  ``$response.body.<JSONPath>``, ``$context.x`` and ``$stageVariables.x`` (or ``${…}``) in it;
- REST APIs' ``requestParameters`` map ``integration.request.path|querystring|header.<name>`` from
  ``method.request.path|querystring|header.<name>``, ``stageVariables.<name>``, ``context.<name>`` or
  a ``'literal'``;
- the backend's status, headers and body come back as they are;
- a private integration (``ConnectionType``/``connectionType`` VPC_LINK) is sent to the target its VPC
  link leads to (``Private``, resolved by apis/private_targets.py in the sending thread): HTTP APIs send
  the client's path (a named stage's name first, as AWS does) and query; REST APIs the URI's path.

The request is sent with the standard library's ``http.client`` in a thread of this module's own
pool (Lamb has no asynchronous HTTP client among its dependencies; the integration timeout bounds
each call, so a thread is never held longer than it). Errors: ``TimedOut`` past the timeout,
``Unreachable`` when the endpoint cannot be connected to or answers with no valid HTTP response.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Mapping, NamedTuple
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from . import vtl
from ..cpus import release_thread

# Not forwarded either way (RFC 9110 §7.6.1, and what the server or http.client set itself).
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "transfer-encoding", "upgrade", "host", "content-length", "expect", "proxy-connection"})
# Headers parameter mapping may not change (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html#http-api-mapping-reserved-headers).
RESERVED = frozenset({"access-control-allow-credentials", "access-control-allow-headers", "access-control-allow-methods",
                      "access-control-allow-origin", "access-control-expose-headers", "access-control-max-age",
                      "access-control-request-headers", "access-control-request-method", "connection",
                      "content-encoding", "content-length", "content-location", "forwarded", "keep-alive", "origin",
                      "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
                      "x-amz-security-token", "x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port",
                      "x-forwarded-proto", "via", "host", "expect", "max-forwards", "server", "date"})
_KEY = re.compile(r"(append|overwrite|remove):(header|querystring)\.([^\s]+)|overwrite:path")
_RESPONSE_KEY = re.compile(r"(append|overwrite|remove):header\.([^\s]+)|overwrite:statuscode")
_EXPR = re.compile(r"\$\{([^}]*)\}|\$((?:request|response|context|stageVariables)(?:\.[A-Za-z0-9_\-\[\]'*$@]+)+)")
_PATH_VAR = re.compile(r"\{([A-Za-z0-9_.\-]+)\+?\}")
_STAGE_VAR = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")


class TimedOut(Exception):
    """The endpoint did not answer within the integration timeout."""


class Unreachable(Exception):
    """The endpoint could not be connected to, or did not answer with HTTP."""


class NoTarget(Unreachable):
    """A private integration found no target behind its VPC link (HTTP APIs answer 503)."""


class Private(NamedTuple):
    """Where a private integration's request goes (apis/private_targets.py resolves it)."""

    link: str  # the VPC link's id (stage variables filled)
    target: str  # v2: the listener or Cloud Map service ARN (with its ``?`` filters); v1: ""
    v2: bool
    server_name: str | None = None  # v2 ``TlsConfig.ServerNameToVerify``


class Outgoing(NamedTuple):
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    via: Private | None = None  # a private integration's: the URL's host is resolved through its VPC link
    host: str | None = None  # the Host header when not the URL's (a resolved v1 private target)
    # What the load balancer does to the target's answer (a sticky session's cookies: apis/stickiness.py).
    after: "Callable[[Answer], Answer] | None" = None


class Answer(NamedTuple):
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def is_http_url(uri: object) -> bool:
    if not isinstance(uri, str):
        return False
    parts = urlsplit(_STAGE_VAR.sub("x", uri))
    return parts.scheme in ("http", "https") and bool(parts.hostname)


# ------------------------------------------------------------------ building the request
def private_v2(integration: Mapping, variables: Mapping[str, str]) -> Private | None:
    """An HTTP API integration's VPC link target, or None for one over the internet."""
    if integration.get("ConnectionType") != "VPC_LINK":
        return None
    return Private(_STAGE_VAR.sub(lambda m: variables.get(m.group(1), ""), integration.get("ConnectionId") or ""),
                   _STAGE_VAR.sub(lambda m: variables.get(m.group(1), ""), integration.get("IntegrationUri") or ""),
                   True, (integration.get("TlsConfig") or {}).get("ServerNameToVerify"))


def private_v1(integration: Mapping, variables: Mapping[str, str]) -> Private | None:
    """A REST API integration's VPC link (``connectionId``, or ``${stageVariables.x}``), or None."""
    if integration.get("connectionType") != "VPC_LINK":
        return None
    return Private(_STAGE_VAR.sub(lambda m: variables.get(m.group(1), ""), integration.get("connectionId") or ""),
                   "", False)


def private_url(path: str, raw_query: str) -> str:
    """An HTTP API private integration's request before its target is resolved: the client's path (a named
    stage's name included, as AWS sends it) and query."""
    return urlunsplit(("http", "private.invalid", path or "/", raw_query, ""))


def target_url(uri: str, path_parameters: Mapping[str, str], variables: Mapping[str, str], raw_query: str) -> str:
    """The integration URI with its path variables and stage variables filled, and the client's query."""
    url = _STAGE_VAR.sub(lambda m: variables.get(m.group(1), ""), uri)
    url = _PATH_VAR.sub(lambda m: quote(path_parameters.get(m.group(1), ""), safe="/~!$&'()*+,;=:@"), url)
    if raw_query:
        parts = urlsplit(url)
        url = urlunsplit(parts._replace(query=f"{parts.query}&{raw_query}" if parts.query else raw_query))
    return url


def forward_headers(headers: Mapping[str, str], *, source_ip: str, port: int, proto: str, trace: str,
                    host: str | None = None) -> list[tuple[str, str]]:
    """The client's headers as the endpoint gets them (``host``: the API's host, for ``Forwarded``)."""
    out = [(k, v) for k, v in headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "x-amzn-trace-id"]
    prior = next((v for k, v in out if k.lower() == "x-forwarded-for"), None)
    out = [(k, v) for k, v in out if k.lower() not in ("x-forwarded-for", "x-forwarded-port", "x-forwarded-proto")]
    out += [("X-Forwarded-For", f"{prior}, {source_ip}" if prior else source_ip), ("X-Forwarded-Port", str(port)),
            ("X-Forwarded-Proto", proto), ("X-Amzn-Trace-Id", trace)]
    if host is not None:
        out.append(("Forwarded", f"for={source_ip};host={host};proto={proto}"))
    return out


class Seen(NamedTuple):
    """What HTTP APIs' mapping expressions read."""

    headers: Mapping[str, str]
    query: str
    path: str  # without the stage
    path_parameters: Mapping[str, str]
    body: bytes
    context: Mapping[str, object]
    variables: Mapping[str, str]


def _body_path(body: bytes, path: str) -> str | None:
    try:
        value = vtl.json_path(json.loads(body), "$." + path if not path.startswith("$") else path)
    except (ValueError, vtl.TemplateError):
        return None
    return None if value is None else value if isinstance(value, str) else json.dumps(value)


def _lookup(ref: str, seen: Seen, answer: Answer | None) -> str:
    where, _, rest = ref.partition(".")
    if where == "stageVariables":
        return seen.variables.get(rest, "")
    if where == "context":
        value: object = seen.context
        for part in rest.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return "" if value is None else str(value)
    kind, _, name = rest.partition(".")
    if where == "request":
        if kind == "header":
            return next((v for k, v in seen.headers.items() if k.lower() == name.lower()), "")
        if kind == "querystring":
            return ",".join(v for k, v in parse_qsl(seen.query, keep_blank_values=True) if k == name)
        if kind == "path":
            return seen.path_parameters.get(name, "") if name else seen.path
        if kind == "body":
            return (seen.body.decode("utf-8", "replace") if not name else _body_path(seen.body, name)) or ""
    if where == "response" and answer is not None:
        if kind == "header":
            return ",".join(v for k, v in answer.headers if k.lower() == name.lower())
        if kind == "body":
            return (answer.body.decode("utf-8", "replace") if not name else _body_path(answer.body, name)) or ""
    return ""


def expression(value: str, seen: Seen, answer: Answer | None = None) -> str:
    """A mapping value: static text with ``$request.…``/``$response.…``/``$context.…``/``$stageVariables.…``."""
    return _EXPR.sub(lambda m: _lookup(m.group(1) or m.group(2), seen, answer), value)


def check_request_parameters(params: Mapping[str, str]) -> str | None:
    """Why HTTP APIs' ``RequestParameters`` (of an HTTP or a Lambda proxy) are invalid, or None."""
    for key in params:
        m = _KEY.fullmatch(key)
        if m is None:
            return f"Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: {key}]"
        if m.group(2) == "header" and m.group(3).lower() in RESERVED:
            return f"Invalid mapping expression specified: Validation Result: warnings : [], errors : [Operations on header {m.group(3)} are restricted]"
    return None


def check_response_parameters(params: Mapping[str, Mapping[str, str]]) -> str | None:
    for code, mapping in params.items():
        if not (code.isdigit() and 200 <= int(code) <= 599):
            return f"Invalid status code specified: {code}"
        for key in mapping or {}:
            m = _RESPONSE_KEY.fullmatch(key)
            if m is None or (m.group(2) or "").lower() in RESERVED:
                return f"Invalid mapping expression specified: {key}"
    return None


def _set(items: list[tuple[str, str]], name: str, op: str, value: str, *, fold: bool) -> list[tuple[str, str]]:
    same = (lambda k: k.lower() == name.lower()) if fold else (lambda k: k == name)
    if op == "remove":
        return [(k, v) for k, v in items if not same(k)]
    if op == "overwrite":
        return [(k, v) for k, v in items if not same(k)] + [(name, value)]
    return items + [(name, value)]  # append


class Mapped(NamedTuple):
    """A request after HTTP APIs' request parameter mapping."""

    path: str
    query: str  # encoded
    headers: list[tuple[str, str]]


def map_request(path: str, query: str, headers: list[tuple[str, str]], params: Mapping[str, str],
                seen: Seen) -> Mapped:
    """HTTP APIs' request parameter mapping (``append|overwrite|remove:header.<name>``,
    ``…:querystring.<name>``, ``overwrite:path``) on a path, an encoded query string and headers:
    the request an HTTP proxy sends or the one a Lambda proxy's event describes. The query string
    is re-encoded only when a ``querystring`` key changes it."""
    pairs = None
    for key, value in params.items():
        if key == "overwrite:path":
            path = expression(value, seen)
            path = path if path.startswith("/") else "/" + path
            continue
        op, _, target = key.partition(":")
        kind, _, name = target.partition(".")
        text = expression(value, seen)
        if kind == "header":
            headers = _set(headers, name, op, text, fold=True)
        else:
            pairs = _set(parse_qsl(query, keep_blank_values=True) if pairs is None else pairs, name, op, text,
                         fold=False)
    if pairs is not None:
        query = urlencode(pairs, quote_via=quote, safe="/,:@")
    return Mapped(path, query, list(headers))


def apply_request_parameters(out: Outgoing, params: Mapping[str, str], seen: Seen) -> Outgoing:
    """HTTP APIs' request parameter mapping on the request about to be sent."""
    parts = urlsplit(out.url)
    mapped = map_request(parts.path, parts.query, list(out.headers), params, seen)
    url = urlunsplit(parts._replace(path=mapped.path, query=mapped.query))
    return out._replace(url=url, headers=mapped.headers)


def apply_response_parameters(answer: Answer, params: Mapping[str, Mapping[str, str]], seen: Seen) -> Answer:
    """HTTP APIs' response parameter mapping for the backend's status code."""
    mapping = params.get(str(answer.status)) or {}
    status, headers = answer.status, list(answer.headers)
    for key, value in mapping.items():
        text = expression(value, seen, answer)
        if key == "overwrite:statuscode":
            if text.isdigit() and 100 <= int(text) <= 599:
                status = int(text)
            continue
        op, _, target = key.partition(":")
        headers = _set(headers, target.partition(".")[2], op, text, fold=True)
    return Answer(status, headers, answer.body)


def rest_request_parameters(params: Mapping[str, str], method_params: Mapping[str, Mapping[str, str]],
                            variables: Mapping[str, str], context: Mapping[str, object]) -> dict[str, dict[str, str]]:
    """REST APIs' ``integration.request.<where>.<name>`` values: {"path": …, "querystring": …, "header": …}."""
    out: dict[str, dict[str, str]] = {"path": {}, "querystring": {}, "header": {}}
    for key, source in params.items():
        where, _, name = key.removeprefix("integration.request.").partition(".")
        if where not in out or not name:
            continue
        value: object = None
        if len(source) >= 2 and source[0] == source[-1] == "'":
            value = source[1:-1]
        elif source.startswith("method.request."):
            kind, _, ref = source[len("method.request."):].partition(".")
            values = method_params.get(kind) or {}
            value = next((v for k, v in values.items() if k.lower() == ref.lower()), None) if kind == "header" \
                else values.get(ref)
        elif source.startswith("stageVariables."):
            value = variables.get(source[len("stageVariables."):])
        elif source.startswith("context."):
            value = context
            for part in source[len("context."):].split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None:
            out[where][name] = str(value)
    return out


def response_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]


# Response headers of a REST API's Lambda proxy or HTTP proxy integration that API Gateway renames to
# ``x-amzn-Remapped-<name>`` ("Remapped" in the REST API table of
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html).
REST_REMAPPED = frozenset({"authorization", "connection", "content-md5", "date", "max-forwards", "server",
                           "user-agent", "www-authenticate"})
# ... and those it drops ("Dropped").
REST_DROPPED = frozenset({"expect", "host", "proxy-authenticate", "te", "transfer-encoding", "trailer", "upgrade"})


def remapped(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """An integration's response headers as a REST API answers them (reserved ones renamed or dropped)."""
    out = []
    for k, v in headers:
        low = k.lower()
        if low in REST_REMAPPED:
            out.append((f"x-amzn-Remapped-{k}", v))
        elif low not in REST_DROPPED:
            out.append((k, v))
    return out


# ------------------------------------------------------------------ sending
class _NamedTls(http.client.HTTPSConnection):
    """HTTPS to an address, SNI naming another name (``None``: none)."""

    def __init__(self, host: str, port: int | None, *, server_name: str | None, **kw) -> None:
        super().__init__(host, port, **kw)
        self.server_name = server_name

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.server_name)


def _tls_to_target(out: Outgoing) -> tuple[str | None, ssl.SSLContext]:
    """A resolved private target's TLS: with v2's ``ServerNameToVerify``, the certificate is checked against
    that name (which SNI sends); otherwise it is taken unchecked, as a load balancer takes its targets'
    ("The load balancer does not validate these certificates", Elastic Load Balancing's guide), SNI sending the
    Host the request names (v1: the URI's host)."""
    context = ssl.create_default_context()
    if out.via is not None and out.via.server_name:
        return out.via.server_name, context
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return (urlsplit("//" + out.host).hostname if out.host is not None else None), context


def send(out: Outgoing, timeout_s: float, max_body: int) -> Answer:
    """One request (blocking): raises ``TimedOut`` or ``Unreachable``."""
    parts = urlsplit(out.url)
    timeout = max(timeout_s, 0.001)
    if parts.scheme != "https":
        conn: http.client.HTTPConnection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    elif out.via is not None:  # a private integration's target, its address resolved
        name, context = _tls_to_target(out)
        conn = _NamedTls(parts.hostname, parts.port, server_name=name, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout,
                                           context=ssl.create_default_context())
    target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    try:
        conn.request(out.method, target, body=out.body or None, headers=dict(
            [("Host", out.host or parts.netloc)] + [(k, v) for k, v in out.headers]))
        resp = conn.getresponse()
        body = resp.read(max_body + 1)
        if len(body) > max_body:
            raise Unreachable(f"the endpoint's answer is over {max_body} bytes")
        return Answer(resp.status, [(k, v) for k, v in resp.getheaders()], body)
    except (socket.timeout, TimeoutError) as e:
        raise TimedOut(str(e)) from None
    except (OSError, http.client.HTTPException) as e:
        raise Unreachable(f"{type(e).__name__}: {e}") from None
    finally:
        conn.close()


class Sender:
    """``sender(outgoing, timeout_s)`` → a future of the ``Answer`` (threads of its own pool). A private
    integration's request is first aimed at a target by ``resolve`` (apis/private_targets.py), in the same
    thread; without ``resolve`` it fails (``Unreachable``)."""

    def __init__(self, workers: int, max_body: int, send_one: Callable[..., Answer] = send,
                 resolve: Callable[[Outgoing], "Outgoing | Answer"] | None = None) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="lamb-http-integration", initializer=release_thread)
        self.max_body = max_body
        self._send = send_one
        self.resolve = resolve

    def __call__(self, out: Outgoing, timeout_s: float) -> "asyncio.Future[Answer]":
        if out.via is not None:
            return asyncio.wrap_future(self._pool.submit(self._private, out, timeout_s))
        return asyncio.wrap_future(self._pool.submit(self._send, out, timeout_s, self.max_body))

    def _private(self, out: Outgoing, timeout_s: float) -> Answer:
        if self.resolve is None:
            raise Unreachable("VPC links are not served")
        aimed = self.resolve(out)  # or a listener rule's own answer (a fixed response, a redirect)
        if isinstance(aimed, Answer):
            return aimed
        answer = self._send(aimed, timeout_s, self.max_body)
        return aimed.after(answer) if aimed.after is not None else answer

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
