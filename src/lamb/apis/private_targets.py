"""Private integrations: where a request through a VPC link goes, found the way the load balancer or
Cloud Map would find it.

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-private.html,
…/set-up-private-integration.html. A private integration names its link (``ConnectionId``/``connectionId``,
or ``${stageVariables.x}``) and:

- v2: an ``IntegrationUri`` that is an ALB or NLB listener ARN — elbv2's DescribeListeners gives the
  listener, DescribeRules an ALB listener's rules (applied per request by ``listener_rules``: a forward to
  target groups, or a fixed response or redirect answered here), DescribeTargetHealth the groups' targets
  — or a Cloud Map
  service ARN, optionally with ``?attribute=value&…`` (AWS: "You can use query parameters to target
  specific resources", the DiscoverInstances ``QueryParameters``) — servicediscovery's GetService and
  GetNamespace name it, DiscoverInstances (``HealthStatus`` HEALTHY) gives its instances'
  ``AWS_INSTANCE_IPV4`` and ``AWS_INSTANCE_PORT``;
- v1: a ``uri`` ``http(s)://<NLB DNS name>[:port]/…`` — the link's Network Load Balancer's listener on
  that port (80/443 by default) gives the target group(s).

Targets whose state is ``healthy`` are taken; when a target group has registered targets but none is
healthy, all of them are (load balancers fail open: "If a target group contains only unhealthy registered
targets, the load balancer routes requests to all those targets", Elastic Load Balancing's guide). An
``instance`` target is reached at its private IPv4 address (EC2's DescribeInstances). A target group's
``HTTPS``/``TLS`` protocol makes the request HTTPS: with v2's ``TlsConfig.ServerNameToVerify`` the target's
certificate is checked against that name (SNI sends it), otherwise it is taken unchecked as a load balancer
takes its targets' (http_proxy.send). Among the targets the request goes to the next one in turn
(round-robin per integration target), unless the target group keeps sticky sessions (``stickiness.py``:
ALB cookies, NLB source addresses). What was found is reused for ``vpc_link_targets_ttl_s``.

Raised: ``http_proxy.Unreachable`` when the link is not AVAILABLE or a lookup fails (API Gateway's 500),
``http_proxy.NoTarget`` when there is no target to send to (503 for HTTP APIs).
"""

from __future__ import annotations

import functools
import itertools
import threading
import time
from typing import Any, Callable, NamedTuple
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from . import http_proxy, listener_rules, stickiness
from .vpc_links import V1, V2, VpcLinks


class Target(NamedTuple):
    host: str
    port: int
    https: bool


class Listener(NamedTuple):
    """A load balancer listener as last looked up: its rules (an NLB's: its default action only), the
    targets of every target group they forward to, and what a redirect or a ``host-header`` reads."""

    rules: list[listener_rules.Rule]
    groups: dict[str, list[Target]]
    protocol: str
    port: int
    host: str  # the load balancer's DNS name
    sticky: dict[str, stickiness.Sticky]  # target groups with sticky sessions (stickiness.py)


def _address(t: Target) -> tuple[str, int]:
    return t.host, t.port


def is_listener(arn: str) -> bool:
    return arn.startswith("arn:") and ":elasticloadbalancing:" in arn and ":listener/" in arn


def is_cloud_map(arn: str) -> bool:
    return arn.startswith("arn:") and ":servicediscovery:" in arn and ":service/" in arn


class Resolver:
    """``resolve(outgoing)`` → the outgoing request aimed at a target's address (blocking: boto3 calls)."""

    def __init__(self, links: VpcLinks, clients: Callable[[str], Any], ttl_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.links = links
        self.clients = clients
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self._found: dict[tuple, tuple[float, list[Target] | Listener]] = {}
        self._turns: dict[tuple, itertools.count] = {}
        # a forward to weighted groups: its turns, kept across lookups (by listener, rule and groups)
        self._weights: dict[tuple, listener_rules.Weighted] = {}
        self._sessions = stickiness.Sessions()

    def __call__(self, out: http_proxy.Outgoing) -> "http_proxy.Outgoing | http_proxy.Answer":
        """The request aimed at a target, or the answer of a listener rule's ``fixed-response`` or
        ``redirect`` action."""
        via = out.via
        assert via is not None
        kind = V2 if via.v2 else V1
        if not self.links.available(kind, via.link):
            raise http_proxy.Unreachable(f"VPC link {via.link} is not AVAILABLE")
        parts = urlsplit(out.url)
        if via.v2:
            key: tuple = (V2, via.link, via.target)
        else:
            nlb = self.links.target_arn(via.link) or ""
            key = (V1, via.link, nlb, parts.port or (443 if parts.scheme == "https" else 80))
        found = self._targets(key)
        turns: tuple = key
        if isinstance(found, Listener):
            seen = listener_rules.Seen(out.method, out.host or via.server_name or found.host, parts.path or "/",
                                       parts.query, {k.lower(): v for k, v in out.headers})
            try:
                rule, action = listener_rules.action_for(found.rules, seen)
            except listener_rules.Unsupported as e:
                raise http_proxy.Unreachable(str(e)) from None
            if action is not None and action.get("Type") == listener_rules.FIXED:
                return http_proxy.Answer(*listener_rules.fixed_response(action))
            if action is not None and action.get("Type") == listener_rules.REDIRECT:
                return http_proxy.Answer(*listener_rules.redirect(action, seen, found.protocol, found.port))
            groups = listener_rules.groups_of(action) if action is not None else []
            if len(groups) > 1:
                with self._lock:
                    group = self._weights.setdefault((key, rule.priority, tuple(groups)),
                                                     listener_rules.Weighted(groups)).next()
            else:
                group = groups[0][0] if groups else ""
            targets, turns = found.groups.get(group) or [], (key, group)
            sticky = found.sticky.get(group)
        else:
            targets, sticky, group = found, None, ""
        if not targets:
            raise http_proxy.NoTarget(f"no target behind {key[2]}")
        t, sticking = None, False
        if sticky is not None:
            t, sticking = self._sessions.choose(sticky, group, via.link, out.headers, targets, _address)
        if t is None:
            with self._lock:
                turn = next(self._turns.setdefault(turns, itertools.count()))
            t = targets[turn % len(targets)]
        netloc = f"[{t.host}]:{t.port}" if ":" in t.host else f"{t.host}:{t.port}"
        url = urlunsplit(parts._replace(scheme="https" if t.https else "http", netloc=netloc))
        after = None if sticky is None else functools.partial(self._stick, sticky, group, _address(t), sticking)
        # The Host the backend sees: v1, the URI's (the NLB's name, as the NLB passes it on); v2, the target's.
        return out._replace(url=url, host=None if via.v2 else parts.netloc, after=after)

    def _stick(self, sticky: stickiness.Sticky, group: str, target: tuple[str, int], sticking: bool,
               answer: http_proxy.Answer) -> http_proxy.Answer:
        """The target's answer with the session's cookies (the load balancer's part of a sticky session)."""
        added = self._sessions.cookies(sticky, group, target, answer.headers, sticking)
        return answer._replace(headers=answer.headers + added) if added else answer

    def _targets(self, key: tuple) -> "list[Target] | Listener":
        now = self.clock()
        with self._lock:
            found = self._found.get(key)
        if found is not None and now - found[0] < self.ttl_s:
            return found[1]
        try:
            targets = self._lookup(key)
        except http_proxy.Unreachable:
            raise
        except Exception as e:  # botocore's errors: the lookup failed
            raise http_proxy.Unreachable(f"resolving {key[2]}: {type(e).__name__}: {e}") from None
        with self._lock:
            self._found[key] = (now, targets)
        return targets

    def _lookup(self, key: tuple) -> "list[Target] | Listener":
        if key[0] == V2 and is_cloud_map(key[2]):
            return self._cloud_map(key[2])
        elb = self.clients("elbv2")
        if key[0] == V2:
            listeners = elb.describe_listeners(ListenerArns=[key[2].partition("?")[0]])["Listeners"]
        else:
            listeners = [li for li in elb.describe_listeners(LoadBalancerArn=key[2])["Listeners"]
                         if li.get("Port") == key[3]]
        if not listeners:
            return []
        listener = listeners[0]
        protocol = listener.get("Protocol") or "HTTP"
        if protocol in ("HTTP", "HTTPS") and listener.get("ListenerArn"):  # an ALB's: its rules
            described = elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
        else:
            described = [{"IsDefault": True, "Actions": listener.get("DefaultActions") or []}]
        rules = listener_rules.rules_of(described)
        groups: dict[str, list[Target]] = {}
        sticky: dict[str, stickiness.Sticky] = {}
        for rule in rules:
            for action in rule.actions:
                if action.get("Type") != listener_rules.FORWARD:
                    continue
                for arn, _ in listener_rules.groups_of(action):
                    if arn not in groups:
                        groups[arn] = self._group_targets(elb, arn)
                        found = stickiness.of(elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"])
                        if found is not None:
                            sticky[arn] = found
        host = ""
        if listener.get("LoadBalancerArn"):
            balancers = elb.describe_load_balancers(LoadBalancerArns=[listener["LoadBalancerArn"]])["LoadBalancers"]
            host = (balancers[0].get("DNSName") or "") if balancers else ""
        return Listener(rules, groups, protocol, int(listener.get("Port") or 80), host, sticky)

    def _group_targets(self, elb: Any, group_arn: str) -> list[Target]:
        group = elb.describe_target_groups(TargetGroupArns=[group_arn])["TargetGroups"][0]
        https = group.get("Protocol") in ("HTTPS", "TLS")
        described = elb.describe_target_health(TargetGroupArn=group_arn)["TargetHealthDescriptions"]
        registered = [d for d in described if (d.get("TargetHealth") or {}).get("State") not in
                      ("unused", "draining", "unavailable")]
        healthy = [d for d in registered if d["TargetHealth"]["State"] == "healthy"] or registered
        out = []
        for d in healthy:
            ident, port = d["Target"]["Id"], d["Target"].get("Port") or group.get("Port")
            if group.get("TargetType") == "instance" or ident.startswith("i-"):
                ident = self._instance_ip(ident)
                if ident is None:
                    continue
            if port:
                out.append(Target(ident, int(port), https))
        return out

    def _instance_ip(self, instance_id: str) -> str | None:
        reservations = self.clients("ec2").describe_instances(InstanceIds=[instance_id]).get("Reservations") or []
        for r in reservations:
            for i in r.get("Instances") or []:
                if i.get("PrivateIpAddress"):
                    return i["PrivateIpAddress"]
        return None

    def _cloud_map(self, uri: str) -> list[Target]:
        arn, _, query = uri.partition("?")
        sd = self.clients("servicediscovery")
        service = sd.get_service(Id=arn.rsplit("/", 1)[1])["Service"]
        namespace = sd.get_namespace(Id=service["NamespaceId"])["Namespace"]
        kw: dict = {"NamespaceName": namespace["Name"], "ServiceName": service["Name"], "HealthStatus": "HEALTHY"}
        if query:
            kw["QueryParameters"] = dict(parse_qsl(query, keep_blank_values=True))
        out = []
        for inst in sd.discover_instances(**kw).get("Instances") or []:
            attrs = inst.get("Attributes") or {}
            ip, port = attrs.get("AWS_INSTANCE_IPV4"), attrs.get("AWS_INSTANCE_PORT")
            if ip and port and port.isdigit():
                out.append(Target(ip, int(port), False))
        return out

