"""An Application Load Balancer listener's rules, applied to a private integration's request as the load
balancer applies them (elbv2's DescribeRules, read by apis/private_targets.py).

https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html and
…/rule-action-types.html: rules are evaluated by priority, lowest first, the default rule last; a rule matches
when all its conditions do, and a condition when any of its values does. Conditions:

- ``host-header``: the Host, case-insensitive, with ``*`` and ``?`` wildcards;
- ``path-pattern``: the path (not the query), case-sensitive, with wildcards;
- ``http-header``: the named header (its name case-insensitive), values case-insensitive, with wildcards;
- ``http-request-method``: the method, exactly;
- ``query-string``: ``key=value`` pairs (a pair without ``Key`` matches any key's value), case-insensitive,
  with wildcards, compared as the request carries them (percent-encoded);
- ``source-ip``: the address the load balancer sees is the VPC link's network interface, which Lamb does
  not have, so this condition never matches.

Both the legacy ``Values`` and the ``*Config`` forms are read. Actions (their ``Order`` sorted, the last
one decides): ``forward`` (one target group, or ``ForwardConfig``'s weighted groups), ``redirect``
(``RedirectConfig`` with its ``#{protocol}``, ``#{host}``, ``#{port}``, ``#{path}``, ``#{query}``
placeholders) and ``fixed-response``. ``authenticate-oidc``/``authenticate-cognito`` need a browser session
with the identity provider, which an API Gateway integration cannot carry: a rule with one is not served.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

FORWARD, REDIRECT, FIXED = "forward", "redirect", "fixed-response"


class Seen(NamedTuple):
    """What the load balancer reads of a request."""

    method: str
    host: str
    path: str
    query: str  # as sent (percent-encoded)
    headers: dict[str, str]  # names lower-cased


class Rule(NamedTuple):
    priority: int  # the default rule: after every other
    conditions: list[dict]
    actions: list[dict]


class Unsupported(Exception):
    """A rule's action Lamb cannot perform (an authenticate action)."""


def rules_of(described: list[dict]) -> list[Rule]:
    """DescribeRules' ``Rules``, in the order the load balancer evaluates them."""
    out = []
    for r in described:
        default = r.get("IsDefault") or r.get("Priority") == "default"
        out.append(Rule(1 << 31 if default else int(r.get("Priority") or 0), r.get("Conditions") or [],
                        sorted(r.get("Actions") or [], key=lambda a: a.get("Order", 0))))
    return sorted(out, key=lambda r: r.priority)


@lru_cache(maxsize=1024)
def _pattern(value: str, case: bool) -> "re.Pattern[str]":
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in value)
    return re.compile(body, 0 if case else re.IGNORECASE | re.DOTALL)


def _like(pattern: str, text: str, case: bool = False) -> bool:
    return _pattern(pattern, case).fullmatch(text) is not None


def _values(cond: dict, config: str) -> list:
    return (cond.get(config) or {}).get("Values") or cond.get("Values") or []


def _condition(cond: dict, seen: Seen) -> bool:
    field = cond.get("Field")
    if field == "host-header":
        host = seen.host.rsplit(":", 1)[0] if not seen.host.endswith("]") else seen.host
        return any(_like(v, host) for v in _values(cond, "HostHeaderConfig"))
    if field == "path-pattern":
        return any(_like(v, seen.path, case=True) for v in _values(cond, "PathPatternConfig"))
    if field == "http-header":
        config = cond.get("HttpHeaderConfig") or {}
        value = seen.headers.get((config.get("HttpHeaderName") or "").lower())
        return value is not None and any(_like(v, value) for v in config.get("Values") or [])
    if field == "http-request-method":
        return seen.method in _values(cond, "HttpRequestMethodConfig")
    if field == "query-string":
        pairs = [p.partition("=")[::2] for p in seen.query.split("&") if p]
        return any(any((kv.get("Key") is None or _like(kv["Key"], k)) and _like(kv.get("Value", ""), v)
                       for k, v in pairs)
                   for kv in (cond.get("QueryStringConfig") or {}).get("Values") or [])
    return False  # source-ip (see above), or a type Lamb does not know


def action_for(rules: list[Rule], seen: Seen) -> tuple[Rule | None, dict | None]:
    """The first rule whose conditions all match and its deciding action ((None, None): none matched)."""
    for rule in rules:
        if all(_condition(c, seen) for c in rule.conditions):
            other = sorted({a.get("Type", "?") for a in rule.actions} - {FORWARD, REDIRECT, FIXED})
            if other:
                raise Unsupported(f"listener rule {rule.priority}: {', '.join(other)} actions are not served by Lamb")
            return rule, (rule.actions[-1] if rule.actions else None)
    return None, None


def groups_of(action: dict) -> list[tuple[str, int]]:
    """A forward action's target groups and weights (those of weight 0 left out)."""
    groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
    if groups:
        return [(g["TargetGroupArn"], int(g.get("Weight", 1))) for g in groups if int(g.get("Weight", 1)) > 0]
    return [(action["TargetGroupArn"], 1)] if action.get("TargetGroupArn") else []


class Weighted:
    """Smooth weighted round-robin over a forward action's groups: over every ``sum(weights)`` requests each
    group gets exactly its weight, interleaved (Lamb's choice; AWS documents the shares, not the order)."""

    def __init__(self, groups: list[tuple[str, int]]) -> None:
        self.groups = groups
        self.current = [0] * len(groups)

    def next(self) -> str:
        total = sum(w for _, w in self.groups)
        for i, (_, w) in enumerate(self.groups):
            self.current[i] += w
        best = max(range(len(self.groups)), key=lambda i: self.current[i])
        self.current[best] -= total
        return self.groups[best][0]


def fixed_response(action: dict) -> tuple[int, list[tuple[str, str]], bytes]:
    config = action.get("FixedResponseConfig") or {}
    headers = [("Content-Type", config["ContentType"])] if config.get("ContentType") else []
    return int(config.get("StatusCode") or 200), headers, (config.get("MessageBody") or "").encode()


def redirect(action: dict, seen: Seen, listener_protocol: str, listener_port: int) -> tuple[int, list[tuple[str, str]], bytes]:
    """The 301/302 a redirect action answers, its ``Location`` built from ``RedirectConfig``."""
    config = action.get("RedirectConfig") or {}
    original_host = urlsplit("//" + seen.host).hostname or seen.host
    values = {"protocol": listener_protocol.lower(), "host": original_host, "port": str(listener_port),
              "path": seen.path.lstrip("/"), "query": seen.query}

    def fill(template: str) -> str:
        return re.sub(r"#\{(protocol|host|port|path|query)\}", lambda m: values[m.group(1)], template)

    protocol = fill(config.get("Protocol") or "#{protocol}").lower()
    host = fill(config.get("Host") or "#{host}")
    port = fill(config.get("Port") or "#{port}")
    path = fill(config.get("Path") or "/#{path}")
    query = fill(config["Query"] if config.get("Query") is not None else "#{query}")  # "" empties it
    # AWS's form, protocol://hostname:port/path?query: the port always named
    location = f"{protocol}://{host}:{port}{path}{'?' + query if query else ''}"
    status = 301 if config.get("StatusCode") == "HTTP_301" else 302
    return status, [("Location", location)], b""
