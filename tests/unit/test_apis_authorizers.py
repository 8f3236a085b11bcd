"""Lambda authorizer answers, identity sources and the result cache (lamb.apis.authorizers)."""

import pytest

from lamb.apis.authorizers import Authorized, Refused, ResultCache, decide, identity_values

ARN = "arn:aws:execute-api:us-east-1:123456789012:api/$default/GET/x"


def test_identity_sources():
    headers, query = {"authorization": "t"}, {"q": "v"}
    assert identity_values(["$request.header.Authorization", "$request.querystring.q"], headers, query, {}, "") == ["t", "v"]
    assert identity_values(["$request.header.X-Missing"], headers, query, {}, "") is None
    assert identity_values(["$stageVariables.s", "$context.identity.sourceIp"], {}, {}, {"s": "1"}, "1.2.3.4") == ["1", "1.2.3.4"]


def test_simple_and_policy_answers():
    assert decide({"isAuthorized": True, "context": {"a": 1}}, True, ARN) == (True, {"a": 1}, None)
    assert decide({"isAuthorized": False}, True, ARN)[0] is False
    policy = {"principalId": "me", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:us-east-1:*:api/*"}]}}
    assert decide(policy, False, ARN) == (True, {}, "me")
    policy["policyDocument"]["Statement"][0]["Effect"] = "Deny"
    assert decide(policy, False, ARN)[0] is False
    for bad in (None, "x", {"isAuthorized": "yes"}):
        with pytest.raises(Refused):
            decide(bad, True, ARN)
    with pytest.raises(Refused):
        decide({"policyDocument": {}}, False, ARN)  # no principalId


def test_cache_expires_and_context_shapes():
    now = [0.0]
    cache = ResultCache(clock=lambda: now[0])
    cache.put(("k",), 10, "v")
    cache.put(("zero",), 0, "v")
    assert cache.get(("k",)) == "v" and cache.get(("zero",)) is None
    now[0] = 10.0
    assert cache.get(("k",)) is None
    a = Authorized("lambda", {"c": 1}, "p", 5)
    assert a.for_event("2.0") == {"lambda": {"c": 1}}
    assert a.for_event("1.0") == {"c": 1, "principalId": "p", "integrationLatency": 5}
