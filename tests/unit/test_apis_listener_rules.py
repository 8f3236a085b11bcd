"""apis/listener_rules.py: an ALB listener's rules by priority, each condition type with its wildcards and
case rules, the legacy ``Values`` form, actions by ``Order``, weighted forwards, redirects and fixed responses."""

import pytest

from lamb.apis import listener_rules as lr


def seen(path="/prod/a", method="GET", host="api.internal", query="", headers=None) -> lr.Seen:
    return lr.Seen(method, host, path, query, headers or {})


def cond(field: str, config: str | None = None, **kw) -> dict:
    return {"Field": field, **({config: kw} if config else kw)}


FWD = {"Type": "forward", "TargetGroupArn": "tg-default", "Order": 1}
RULES = lr.rules_of([
    {"Priority": "default", "IsDefault": True, "Conditions": [], "Actions": [FWD]},
    {"Priority": "20", "Conditions": [cond("path-pattern", "PathPatternConfig", Values=["/prod/img/*.png"])],
     "Actions": [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]},
    {"Priority": "10", "Conditions": [cond("path-pattern", Values=["/prod/img/*"]),
                                      cond("http-request-method", "HttpRequestMethodConfig", Values=["GET", "HEAD"])],
     "Actions": [{"Type": "forward", "TargetGroupArn": "tg-img"}]},
    {"Priority": "30", "Conditions": [cond("host-header", "HostHeaderConfig", Values=["*.EXAMPLE.com", "a?.internal"])],
     "Actions": [{"Type": "forward", "TargetGroupArn": "tg-host"}]},
    {"Priority": "40", "Conditions": [cond("http-header", "HttpHeaderConfig", HttpHeaderName="X-Canary", Values=["y*"])],
     "Actions": [{"Type": "forward", "TargetGroupArn": "tg-canary"}]},
    {"Priority": "50", "Conditions": [cond("query-string", "QueryStringConfig",
                                           Values=[{"Key": "v", "Value": "2"}, {"Value": "beta*"}])],
     "Actions": [{"Type": "forward", "TargetGroupArn": "tg-query"}]},
    {"Priority": "60", "Conditions": [cond("source-ip", "SourceIpConfig", Values=["0.0.0.0/0"])],
     "Actions": [{"Type": "forward", "TargetGroupArn": "tg-never"}]},
])


def group(s: lr.Seen) -> str:
    rule, action = lr.action_for(RULES, s)
    return action.get("TargetGroupArn") or action["Type"]


def test_rules_by_priority_default_last():
    assert [r.priority for r in RULES][:-1] == [10, 20, 30, 40, 50, 60] and RULES[-1].priority > 60
    assert group(seen("/prod/img/a.png")) == "tg-img"  # 10 before 20
    assert group(seen("/prod/img/a.png", method="POST")) == "fixed-response"  # 10 needs GET or HEAD
    assert group(seen("/prod/other")) == "tg-default"


def test_condition_types_wildcards_and_case():
    assert group(seen("/prod/IMG/a")) == "tg-default"  # paths are case-sensitive
    assert group(seen(host="api.example.COM")) == "tg-host"  # hosts are not
    assert group(seen(host="ab.internal:8080")) == "tg-host"  # ? is one character; the port is not compared
    assert group(seen(host="abc.internal")) == "tg-default"
    assert group(seen(headers={"x-canary": "YES"})) == "tg-canary"
    assert group(seen(headers={"x-canary": "no"})) == "tg-default"
    assert group(seen(query="a=1&v=2")) == "tg-query"
    assert group(seen(query="x=BETA-1")) == "tg-query"  # a pair without Key: any key's value
    assert group(seen(query="v=3")) == "tg-default"
    assert group(seen("/prod/x", method="HEAD")) == "tg-default"  # source-ip never matches (no ENI address)


def test_actions_by_order_and_unsupported_ones():
    rules = lr.rules_of([{"IsDefault": True, "Actions": [
        {"Type": "fixed-response", "Order": 2, "FixedResponseConfig": {"StatusCode": "200"}},
        {"Type": "authenticate-oidc", "Order": 1}]}])
    with pytest.raises(lr.Unsupported, match="authenticate-oidc"):
        lr.action_for(rules, seen())
    assert lr.action_for([], seen()) == (None, None)


def test_weighted_groups_take_their_share_interleaved():
    groups = lr.groups_of({"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": "a", "Weight": 1}, {"TargetGroupArn": "b", "Weight": 3}, {"TargetGroupArn": "c", "Weight": 0}]}})
    assert groups == [("a", 1), ("b", 3)]
    w = lr.Weighted(groups)
    picks = [w.next() for _ in range(8)]
    assert picks.count("a") == 2 and picks.count("b") == 6 and picks[:4].count("a") == 1


def test_fixed_response_and_redirect():
    assert lr.fixed_response({"FixedResponseConfig": {"StatusCode": "503", "ContentType": "text/plain",
                                                      "MessageBody": "down"}}) == (503, [("Content-Type", "text/plain")], b"down")
    assert lr.fixed_response({"FixedResponseConfig": {"StatusCode": "204"}}) == (204, [], b"")
    action = {"RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "Host": "new.#{host}", "Path": "/v2/#{path}",
                                 "StatusCode": "HTTP_301"}}
    assert lr.redirect(action, seen("/prod/a/b", host="api.internal:80", query="q=1"), "HTTP", 80) == (
        301, [("Location", "https://new.api.internal:443/v2/prod/a/b?q=1")], b"")
    same = lr.redirect({"RedirectConfig": {"Path": "/elsewhere", "Query": "#{query}&x=1", "StatusCode": "HTTP_302"}},
                       seen("/a"), "HTTP", 8080)
    assert same == (302, [("Location", "http://api.internal:8080/elsewhere?&x=1")], b"")
    emptied = lr.redirect({"RedirectConfig": {"Path": "/e", "Query": "", "StatusCode": "HTTP_302"}},
                          seen("/a", query="q=1"), "HTTP", 80)
    assert emptied[1] == [("Location", "http://api.internal:80/e")]
