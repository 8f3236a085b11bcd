"""apis/private_domains.py: private domain names' ARNs, policies and the VPC endpoint check."""

import json

import pytest

from lamb.apis import private_domains as pd
from lamb.protocol.errors import AwsError

ARN = pd.execute_arn("us-east-1", "123456789012", "p.example.com", "abc123")


def _policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ALLOW = {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": ["execute-api:/*"]}
DENY_OTHERS = {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": ["execute-api:/*"],
               "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}}


def test_arns_and_keys():
    assert pd.arn("us-east-1", "123456789012", "p.example.com", "abc123") == \
        "arn:aws:apigateway:us-east-1:123456789012:/domainnames/p.example.com+abc123"
    assert ARN == "arn:aws:execute-api:us-east-1:123456789012:/domainnames/p.example.com+abc123"
    assert pd.parse_arn(pd.arn("us-east-1", "1", "p.example.com", "abc123")) == ("p.example.com", "abc123")
    assert pd.parse_arn("arn:aws:apigateway:us-east-1::/domainnames/public.example.com") is None
    assert pd.association_arn("us-east-1", "1", "p.example.com", "abc", "vpce-0123456789abcdef0").endswith(
        ":/domainnameaccessassociations/domainname/p.example.com+abc/vpcesource/vpce-0123456789abcdef0")


def test_policies_are_required_and_evaluated_with_the_source_endpoint():
    for text in (None, "", "{", "[]", "{}", '{"Statement": [{"Effect": "Allow", "Condition": "x"}]}'):
        with pytest.raises(AwsError):
            pd.check_policy(text)
    policy = _policy(ALLOW, DENY_OTHERS)
    assert pd.allowed(policy, "vpce-0123456789abcdef0", ARN)
    assert not pd.allowed(policy, "vpce-0000000000000000a", ARN)  # the explicit deny
    assert not pd.allowed(_policy(DENY_OTHERS), "vpce-0123456789abcdef0", ARN)  # no allow: implicit deny
    exact = dict(ALLOW, Resource=ARN)
    assert pd.allowed(_policy(exact), "vpce-0123456789abcdef0", ARN)
    other = dict(ALLOW, Resource="execute-api:/other")
    assert not pd.allowed(_policy(other), "vpce-0123456789abcdef0", ARN)
