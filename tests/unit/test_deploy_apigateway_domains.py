"""deploy/apigateway_domains.py: record sets as Route 53 takes them, and what is refused or not applied."""

from lamb.deploy import apigateway_domains as d
from lamb.deploy.registry import NotApplied, Registry


def test_record_sets_as_route53_takes_them():
    alias = {"Name": "api.example.com", "Type": "A",
             "AliasTarget": {"HostedZoneId": "Z1", "DNSName": "d-1.execute-api.us-east-1.localhost"}}
    assert d._record(alias) == {"Name": "api.example.com", "Type": "A", "AliasTarget": {
        "HostedZoneId": "Z1", "DNSName": "d-1.execute-api.us-east-1.localhost", "EvaluateTargetHealth": False}}
    plain = {"Name": "www.example.com", "Type": "CNAME", "TTL": "60", "ResourceRecords": ["api.example.com"]}
    assert d._record(plain) == {"Name": "www.example.com", "Type": "CNAME", "TTL": 60,
                                "ResourceRecords": [{"Value": "api.example.com"}]}


def test_registered_types():
    registry = Registry()
    d.register(registry)
    assert isinstance(registry.lookup("AWS::ApiGateway::BasePathMappingV2"), d.PrivateBasePathMapping)
    assert isinstance(registry.lookup("AWS::ApiGateway::Nothing"), NotApplied)
    assert registry.lookup("AWS::Route53::RecordSetGroup").service == "route53"
    assert not hasattr(d.DomainName, "unsupported") and not hasattr(d.DomainNameV2, "unsupported")


def test_mutual_tls_as_each_api_takes_it():
    props = {"MutualTlsAuthentication": {"TruststoreUri": "s3://b/k", "TruststoreVersion": 3}}
    assert d._mtls(props, v2=True) == {"TruststoreUri": "s3://b/k", "TruststoreVersion": "3"}
    assert d._mtls(props, v2=False) == {"truststoreUri": "s3://b/k", "truststoreVersion": "3"}
    assert d._mtls({"MutualTlsAuthentication": {"TruststoreUri": "s3://b/k"}}, v2=False) == {"truststoreUri": "s3://b/k"}
    assert d._mtls({}, v2=True) is None


def test_routing_rule_params_and_domain():
    props = {"DomainNameArn": "arn:aws:apigateway:us-east-1::/domainnames/api.example.com", "Priority": "7",
             "Actions": [{"InvokeApi": {"ApiId": "a", "Stage": "s", "StripBasePath": "true"}}]}
    assert d.RoutingRule._domain(props["DomainNameArn"]) == "api.example.com"
    assert d.RoutingRule._params(props) == {"Priority": 7, "Conditions": [],
                                            "Actions": [{"InvokeApi": {"ApiId": "a", "Stage": "s", "StripBasePath": True}}]}
    registry = Registry()
    d.register(registry)
    assert isinstance(registry.lookup("AWS::ApiGatewayV2::RoutingRule"), d.RoutingRule)


def test_private_domain_arns_and_policies():
    assert d._private("arn:aws:apigateway:us-east-1:123456789012:/domainnames/p.example.com+abc123") == \
        ("p.example.com", "abc123")
    assert d._policy({"Statement": []}) == '{"Statement": []}' and d._policy("{}") == "{}"
