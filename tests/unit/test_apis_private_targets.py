"""apis/private_targets.py: a private integration's request aimed at a target — a listener's target groups'
healthy targets (all registered ones when none is healthy), an instance target's private address, a Cloud
Map service's instances with its ``?`` filters, a v1 link's NLB listener on the URI's port — round-robin,
reused for the TTL; Unreachable when the link is not AVAILABLE, NoTarget when nothing is behind it."""

from urllib.parse import urlsplit

import pytest

from lamb.apis import http_proxy
from lamb.apis.private_targets import Resolver, is_cloud_map, is_listener
from lamb.apis.store import HttpApiStore
from lamb.apis.vpc_links import V1, V2, Network, VpcLinks
from lamb.limits import Limits
from lamb.store.db import Database

NLB = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/n/1"
LISTENER = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/a/1/2"
SERVICE = "arn:aws:servicediscovery:us-east-1:1:service/srv-1"


class Elb:
    """elbv2's answers (another service, stood in for)."""

    def __init__(self):
        self.calls = 0
        self.health = {"tg-1": [("10.0.0.1", 80, "healthy"), ("10.0.0.2", 81, "healthy"), ("10.0.0.3", 82, "draining")],
                       "tg-2": [("10.0.1.1", 90, "unhealthy"), ("i-1", None, "unhealthy")],
                       "tg-3": []}

    def describe_load_balancers(self, LoadBalancerArns):
        return {"LoadBalancers": [{"Type": "network"}]}

    def describe_listeners(self, ListenerArns=None, LoadBalancerArn=None):
        self.calls += 1
        if ListenerArns:
            return {"Listeners": [{"Port": 80, "DefaultActions": [{"Type": "forward", "TargetGroupArn": "tg-1"}]}]}
        return {"Listeners": [
            {"Port": 80, "DefaultActions": [{"Type": "forward", "TargetGroupArn": "tg-3"}]},
            {"Port": 8080, "DefaultActions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": "tg-2", "Weight": 1}, {"TargetGroupArn": "tg-1", "Weight": 0}]}}]}]}

    def describe_target_groups(self, TargetGroupArns):
        arn = TargetGroupArns[0]
        return {"TargetGroups": [{"Port": 7000, "Protocol": "HTTPS" if arn == "tg-2" else "HTTP",
                                  "TargetType": "ip"}]}

    def describe_target_group_attributes(self, TargetGroupArn):
        return {"Attributes": [{"Key": "stickiness.enabled", "Value": "false"}]}  # (test_apis_stickiness.py)

    def describe_target_health(self, TargetGroupArn):
        return {"TargetHealthDescriptions": [
            {"Target": {"Id": i, **({"Port": p} if p else {})}, "TargetHealth": {"State": s}}
            for i, p, s in self.health[TargetGroupArn]]}


class Ec2:
    def describe_instances(self, InstanceIds):
        return {"Reservations": [{"Instances": [{"PrivateIpAddress": "10.0.9.9"}]}]}

    def describe_subnets(self, SubnetIds):
        return {}


class CloudMap:
    def __init__(self):
        self.asked = None

    def get_service(self, Id):
        return {"Service": {"Name": "svc", "NamespaceId": "ns-1"}}

    def get_namespace(self, Id):
        return {"Namespace": {"Name": "ns"}}

    def discover_instances(self, **kw):
        self.asked = kw
        return {"Instances": [{"Attributes": {"AWS_INSTANCE_IPV4": "10.1.0.1", "AWS_INSTANCE_PORT": "8000"}},
                              {"Attributes": {"AWS_INSTANCE_IPV4": "10.1.0.2"}}]}


@pytest.fixture
def world(tmp_path):
    clients = {"elbv2": Elb(), "ec2": Ec2(), "servicediscovery": CloudMap()}
    links = VpcLinks(HttpApiStore(Database(tmp_path / "db.sqlite"), "apigateway_vpc_links"), "us-east-1", "1",
                     Limits(), Network(clients.__getitem__))
    now = [0.0]
    resolver = Resolver(links, clients.__getitem__, 5.0, clock=lambda: now[0])
    return links, resolver, clients, now


def out_v2(link: str, target: str, server_name=None) -> http_proxy.Outgoing:
    return http_proxy.Outgoing("GET", http_proxy.private_url("/prod/x", "q=1"), [], b"",
                               http_proxy.Private(link, target, True, server_name))


def test_listener_round_robin_over_healthy_targets_and_ttl(world):
    links, resolver, clients, now = world
    link = links.create_v2("l", ["subnet-1"], None, None)["VpcLinkId"]
    urls = [resolver(out_v2(link, LISTENER)).url for _ in range(4)]
    assert urls == ["http://10.0.0.1:80/prod/x?q=1", "http://10.0.0.2:81/prod/x?q=1"] * 2  # draining left out
    assert clients["elbv2"].calls == 1  # reused within the TTL
    now[0] = 6.0
    resolver(out_v2(link, LISTENER))
    assert clients["elbv2"].calls == 2
    named = resolver(out_v2(link, LISTENER, "api.internal"))
    assert named.host is None and http_proxy._tls_to_target(named)[0] == "api.internal"
    assert http_proxy._tls_to_target(named)[1].check_hostname  # checked against ServerNameToVerify


def test_v1_listener_on_the_uri_port_fails_open_and_instances(world):
    links, resolver, clients, now = world
    link = links.create_v1("l", [NLB], None, None)["id"]
    out = http_proxy.Outgoing("GET", "http://nlb.example:8080/a", [], b"", http_proxy.private_v1(
        {"connectionType": "VPC_LINK", "connectionId": "${stageVariables.l}"}, {"l": link}))
    seen = {resolver(out).url for _ in range(2)}
    # tg-2 has no healthy target: all registered ones (fail open), the instance at its private address;
    # its HTTPS protocol makes the request HTTPS; tg-1 has weight 0.
    assert seen == {"https://10.0.1.1:90/a", "https://10.0.9.9:7000/a"}
    name, context = http_proxy._tls_to_target(resolver(out))
    assert resolver(out).host == "nlb.example:8080" and name == "nlb.example" and not context.check_hostname
    with pytest.raises(http_proxy.NoTarget):  # port 80's target group is empty
        resolver(out._replace(url="http://nlb.example/a"))


def test_cloud_map_filters(world):
    links, resolver, clients, now = world
    link = links.create_v2("l", ["subnet-1"], None, None)["VpcLinkId"]
    assert resolver(out_v2(link, SERVICE + "?color=blue&v=2")).url == "http://10.1.0.1:8000/prod/x?q=1"
    assert clients["servicediscovery"].asked == {"NamespaceName": "ns", "ServiceName": "svc", "HealthStatus": "HEALTHY",
                                                 "QueryParameters": {"color": "blue", "v": "2"}}


def test_link_not_available(world):
    links, resolver, clients, now = world
    with pytest.raises(http_proxy.Unreachable):
        resolver(out_v2("nosuch", LISTENER))
    link = links.create_v2("l", ["subnet-1"], None, None)["VpcLinkId"]
    links.update(V2, {**links.get(V2, link), "VpcLinkStatus": "FAILED"})
    with pytest.raises(http_proxy.Unreachable) as e:
        resolver(out_v2(link, LISTENER))
    assert not isinstance(e.value, http_proxy.NoTarget)
    assert links.get(V1, link) is None


def test_arn_kinds():
    assert is_listener(LISTENER) and not is_listener(NLB) and is_cloud_map(SERVICE) and not is_cloud_map(LISTENER)


class Alb(Elb):
    """An ALB listener with rules: a fixed response, a redirect, a 1:1 weighted forward; the default to tg-1."""

    def describe_listeners(self, ListenerArns=None, LoadBalancerArn=None):
        self.calls += 1
        return {"Listeners": [{"ListenerArn": LISTENER, "LoadBalancerArn": "lb-1", "Protocol": "HTTP", "Port": 8080,
                               "DefaultActions": [{"Type": "forward", "TargetGroupArn": "tg-1"}]}]}

    def describe_load_balancers(self, LoadBalancerArns):
        return {"LoadBalancers": [{"Type": "application", "DNSName": "internal-a.elb.amazonaws.com"}]}

    def describe_rules(self, ListenerArn):
        path = lambda v: [{"Field": "path-pattern", "PathPatternConfig": {"Values": [v]}}]  # noqa: E731
        return {"Rules": [
            {"Priority": "default", "IsDefault": True, "Conditions": [],
             "Actions": [{"Type": "forward", "TargetGroupArn": "tg-1"}]},
            {"Priority": "1", "Conditions": path("/prod/down"),
             "Actions": [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}]},
            {"Priority": "2", "Conditions": path("/prod/old*"),
             "Actions": [{"Type": "redirect", "RedirectConfig": {"Path": "/new", "StatusCode": "HTTP_302"}}]},
            {"Priority": "3", "Conditions": path("/prod/split"), "Actions": [{"Type": "forward", "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": "tg-1", "Weight": 1}, {"TargetGroupArn": "tg-2", "Weight": 1}]}}]},
            {"Priority": "4", "Conditions": path("/prod/login"), "Actions": [
                {"Type": "authenticate-cognito", "Order": 1}, {"Type": "forward", "TargetGroupArn": "tg-1", "Order": 2}]},
        ]}


def test_alb_listener_rules_answer_or_pick_the_group(world):
    links, resolver, clients, now = world
    clients["elbv2"] = Alb()
    link = links.create_v2("l", ["subnet-1"], None, None)["VpcLinkId"]

    def at(path: str):
        out = out_v2(link, LISTENER)
        return resolver(out._replace(url=http_proxy.private_url(path, "q=1")))

    assert at("/prod/down") == http_proxy.Answer(503, [], b"")
    # the Host a redirect keeps: the load balancer's DNS name (no ServerNameToVerify, no Host of its own)
    assert at("/prod/old/x") == http_proxy.Answer(
        302, [("Location", "http://internal-a.elb.amazonaws.com:8080/new?q=1")], b"")
    assert {at("/prod/other").url for _ in range(2)} == {"http://10.0.0.1:80/prod/other?q=1",
                                                         "http://10.0.0.2:81/prod/other?q=1"}
    split = [urlsplit(at("/prod/split").url).port for _ in range(4)]
    assert sorted(split) == [80, 81, 90, 7000]  # tg-1's and tg-2's targets in turn
    with pytest.raises(http_proxy.Unreachable, match="authenticate-cognito"):
        at("/prod/login")
    assert clients["elbv2"].calls == 1  # the rules and groups are reused within the TTL
    assert urlsplit(at("/prod/split").url).port in (80, 81)  # tg-1's turn
    now[0] = 6.0  # looked up again: the weighted turns go on where they were
    assert urlsplit(at("/prod/split").url).port in (90, 7000) and clients["elbv2"].calls == 2
