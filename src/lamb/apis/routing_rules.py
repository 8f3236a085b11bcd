"""Routing rules of an API Gateway custom domain name: checking them and matching a request against them.

As AWS documents (https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-routing-rules.html,
…/rest-api-routing-mode.html, the apigatewayv2 ``RoutingRule`` reference): a rule has up to two
``MatchHeaders`` conditions and one ``MatchBasePaths`` condition (each ``AnyOf`` holds one entry), all
of which must hold (AND; a rule with no condition matches every request), one ``InvokeApi`` action (a REST
API's stage, ``StripBasePath``) and a priority 1–1,000,000 unique on its domain (the lowest is evaluated
first). Header names match case-insensitively, header value globs case-sensitively; a glob's ``*`` may
stand only at its start and/or end (``*suffix``, ``prefix*``, ``*contains*``). A base path matches a
request whose path is the base path or continues it with ``/`` (whole levels, case-sensitive, no
wildcards). At most 50 rules per domain name (AWS's default quota, ``Limits.api_routing_rules_per_domain``).

The domain's ``routingMode`` says how rules and API mappings combine: ``API_MAPPING_ONLY`` (rules
ignored), ``ROUTING_RULE_ONLY`` (no rule matches: 403), ``ROUTING_RULE_THEN_API_MAPPING`` (the
mappings when no rule matches).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..protocol.errors import AwsError

MODES = ("API_MAPPING_ONLY", "ROUTING_RULE_ONLY", "ROUTING_RULE_THEN_API_MAPPING")
MAX_PRIORITY = 1_000_000
_BASE_PATH = re.compile(r"^[A-Za-z0-9$\-_.+!*'()]+(/[A-Za-z0-9$\-_.+!*'()]+)*$")
_HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")  # an RFC 9110 token
# Headers a condition may not name (AWS's "Restrictions" for routing rules): hop-by-hop, CORS, forwarding,
# authorization and AWS's own headers.
RESTRICTED = frozenset({"authorization", "connection", "content-encoding", "content-length", "content-location",
                        "forwarded", "keep-alive", "origin", "proxy-authenticate", "proxy-authorization", "te",
                        "trailers", "transfer-encoding", "upgrade", "x-forwarded-for", "x-forwarded-host",
                        "x-forwarded-proto", "via", "host"})
RESTRICTED_PREFIXES = ("access-control-", "apigw-", "x-amz-", "x-amzn-")


def bad(message: str) -> AwsError:
    return AwsError("BadRequestException", message, 400)


class Rule(NamedTuple):
    """A rule as served: checked, header names lowered, ready to match."""

    id: str
    priority: int
    headers: tuple  # ((lowered name, kind, text), …): kind "=", "^" (prefix), "$" (suffix), "~" (contains), "*"
    base_path: str | None
    api_id: str
    stage: str
    strip: bool


def _glob(glob: str) -> tuple[str, str]:
    """A value glob as (kind, text)."""
    if glob == "*":
        return "*", ""
    inner = glob[1 if glob.startswith("*") else 0:len(glob) - 1 if glob.endswith("*") else len(glob)]
    if not inner or "*" in inner:
        raise bad(f"Invalid valueGlob {glob}: a wildcard (*) may only be at the start or the end of the value.")
    if glob.startswith("*") and glob.endswith("*"):
        return "~", inner
    return ("$" if glob.startswith("*") else "^" if glob.endswith("*") else "="), inner


def check(conditions: list | None, actions: list | None, priority, max_base_path: int = 300) -> None:
    """AWS's refusals of a rule's conditions, actions and priority (the API and stage are checked by the caller)."""
    if not isinstance(priority, int) or isinstance(priority, bool) or not 1 <= priority <= MAX_PRIORITY:
        raise bad(f"Invalid priority {priority}: the priority must be between 1 and {MAX_PRIORITY}.")
    if not actions or len(actions) != 1 or not (actions[0] or {}).get("InvokeApi"):
        raise bad("A routing rule must have exactly one action, and the only supported action is InvokeApi.")
    invoke = actions[0]["InvokeApi"]
    if not invoke.get("ApiId") or not invoke.get("Stage"):
        raise bad("An InvokeApi action requires ApiId and Stage.")
    headers = paths = 0
    for cond in conditions or []:
        cond = cond or {}
        if bool(cond.get("MatchHeaders")) == bool(cond.get("MatchBasePaths")):
            raise bad("Each condition must have exactly one of MatchHeaders or MatchBasePaths.")
        if cond.get("MatchHeaders"):
            headers += 1
            any_of = cond["MatchHeaders"].get("AnyOf") or []
            if len(any_of) != 1:
                raise bad("MatchHeaders AnyOf must contain exactly one header.")
            name, glob = any_of[0].get("Header") or "", any_of[0].get("ValueGlob")
            lowered = name.lower()
            if not _HEADER.match(name) or lowered in RESTRICTED or lowered.startswith(RESTRICTED_PREFIXES):
                raise bad(f"Invalid header {name}: this header cannot be used in a routing rule condition.")
            if not glob:
                raise bad(f"Invalid valueGlob for header {name}: a value is required.")
            _glob(glob)
        else:
            paths += 1
            any_of = cond["MatchBasePaths"].get("AnyOf") or []
            if len(any_of) != 1:
                raise bad("MatchBasePaths AnyOf must contain exactly one base path.")
            path = any_of[0] or ""
            if len(path) > max_base_path or not _BASE_PATH.match(path):
                raise bad(f"Invalid base path {path}: a base path may contain only letters, numbers and "
                          f"$-_.+!*'()/ without empty levels, at most {max_base_path} characters.")
    if headers > 2 or paths > 1:
        raise bad("A routing rule supports up to two header conditions and one base path condition.")


def compile_rule(rule: dict) -> Rule:
    """A stored rule (``view``'s shape plus ``id``) as a ``Rule``."""
    headers: list = []
    base_path = None
    for cond in rule.get("Conditions") or []:
        if cond.get("MatchHeaders"):
            entry = cond["MatchHeaders"]["AnyOf"][0]
            headers.append((entry["Header"].lower(), *_glob(entry["ValueGlob"])))
        else:
            base_path = cond["MatchBasePaths"]["AnyOf"][0]
    invoke = rule["Actions"][0]["InvokeApi"]
    return Rule(rule["id"], rule["Priority"], tuple(headers), base_path, invoke["ApiId"], invoke["Stage"],
                bool(invoke.get("StripBasePath")))


def ordered(rules: dict) -> tuple:
    """The compiled rules of a domain (id -> stored rule), lowest priority first."""
    return tuple(sorted((compile_rule(r) for r in rules.values()), key=lambda r: r.priority))


def _header_ok(value: str | None, kind: str, text: str) -> bool:
    if value is None:
        return False
    if kind == "=":
        return value == text
    if kind == "^":
        return value.startswith(text)
    if kind == "$":
        return value.endswith(text)
    if kind == "~":
        return text in value
    return True  # "*": the header is present


def first_match(rules: tuple, headers: dict, path: str) -> Rule | None:
    """The first rule (by priority) whose conditions all hold for a request (``headers``: lowered names)."""
    for rule in rules:
        if rule.base_path is not None:
            bp = rule.base_path
            if not (path.startswith(bp, 1) and (len(path) == len(bp) + 1 or path[len(bp) + 1] == "/")):
                continue
        if all(_header_ok(headers.get(name), kind, text) for name, kind, text in rule.headers):
            return rule
    return None


def routed_path(rule: Rule, path: str) -> str:
    """The path the API routes on: the base path taken off when the action strips it."""
    if rule.strip and rule.base_path is not None:
        return path[len(rule.base_path) + 1:] or "/"
    return path
