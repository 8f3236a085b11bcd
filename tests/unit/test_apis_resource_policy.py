"""apis/resource_policy.py: ``execute-api:/`` resources written as the API's ARN, the decision for a method,
and the refusal's text (the AWS_IAM combination with identity policies: test_apis_iam_auth.py)."""

import json

from lamb.apis import resource_policy as rp
from lamb.policy.evaluate import Decision, Principal

API = "arn:aws:execute-api:us-east-1:000000000000:a1b2c3"
ALLOW, DENY, SILENT = Decision.ALLOW, Decision.DENY, Decision.IMPLICIT_DENY


def test_execute_api_resources_name_the_api():
    doc = rp.expand({"Statement": [{"Effect": "Allow", "Resource": ["execute-api:/*", "execute-api:/v1/GET/a"]},
                                   {"Effect": "Deny", "NotResource": "execute-api:/", "Resource": "arn:aws:other"}]}, API)
    assert doc["Statement"][0]["Resource"] == [API + "/*", API + "/v1/GET/a"]
    assert rp.expand({"Statement": {"Resource": "execute-api:/*"}}, API, whole_star=True)["Statement"][0][
        "Resource"] == API + "*"
    assert doc["Statement"][1]["NotResource"] == API and doc["Statement"][1]["Resource"] == "arn:aws:other"


def test_a_policy_decides_by_source_ip():
    text = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
         "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/v1/GET/x"}]})
    policy = rp.parsed(text, API)
    anon = Principal.anonymous()
    assert rp.decide(policy, anon, API + "/v1/GET/a", {"aws:SourceIp": "127.0.0.1"}) is ALLOW
    assert rp.decide(policy, anon, API + "/v1/GET/a", {"aws:SourceIp": "10.0.0.1"}) is SILENT
    assert rp.decide(policy, anon, API + "/v1/GET/x", {"aws:SourceIp": "127.0.0.1"}) is DENY
    assert rp.parsed(None, API) is None and rp.parsed("", API) is None


def test_refusal_text():
    assert rp.refusal("anonymous", API + "/v1/GET/", SILENT) == {
        "Message": f"User: anonymous is not authorized to perform: execute-api:Invoke on resource: {API}/v1/GET/"}
    assert rp.refusal("u", "r", DENY)["Message"].endswith("on resource: r with an explicit deny")


def test_kept_as_aws_keeps_it():
    text = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
         "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]})
    kept = rp.stored(text, API)
    assert kept.startswith('{\\"Version\\":\\"2012-10-17\\",') and '10.0.0.0\\/8' in kept
    assert json.loads(json.loads('"' + kept + '"'))["Statement"][0]["Resource"] == API + "/*"
    assert rp.parsed(kept, API) == rp.parsed(text, API)  # the escaped form and an older Lamb's plain JSON
    for bad in ("not json", "[]", '{"Statement": []}', '{"Statement": [{"Effect": "Maybe"}]}',
                '{"Statement": [{"Effect": "Allow", "Condition": "x"}]}'):
        try:
            rp.stored(bad, API)
            raise AssertionError(bad)
        except ValueError as e:
            assert str(e) == rp.INVALID
    assert rp.parsed("not json", API) == {"Statement": []}  # unreadable: allows nothing


def test_a_deployment_applies_the_policy_it_took():
    """A deployment keeps the policy of its time (None included); one made before Lamb kept it applies the
    API's policy of today, rather than none."""
    from lamb.apis.rest import RestDeployed

    text = json.dumps({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
                                      "Resource": "execute-api:/*"}]})
    assert RestDeployed({"resources": {}, "policy": None}, API, text).policy is None
    took = RestDeployed({"resources": {}, "policy": text}, API, None).policy
    older = RestDeployed({"resources": {}}, API, text).policy
    assert took == older and rp.decide(older, Principal.anonymous(), API + "/v1/GET/a", {}) is DENY
    assert RestDeployed({"resources": {}}, API).policy is None
