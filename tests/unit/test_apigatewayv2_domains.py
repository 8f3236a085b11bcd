"""api/apigatewayv2_domains.py: a domain record as v2's DomainName and an API mapping as v2 shows it."""

import pytest

from lamb.api import apigatewayv2_domains as v2
from lamb.protocol.errors import AwsError

from .test_apis_domains import domains  # noqa: F401  (fixture)

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def test_view(domains):
    record = domains.create("api.example.com", endpoint_type="REGIONAL", certificate_arn=CERT, certificate_name="c",
                            security_policy=None, ip_address_type=None, tags={"a": "b"})
    out = v2.view(domains, record)
    conf = out["DomainNameConfigurations"][0]
    assert out["DomainName"] == "api.example.com" and out["Tags"] == {"a": "b"}
    assert out["DomainNameArn"] == "arn:aws:apigateway:us-east-1::/domainnames/api.example.com"
    assert conf["ApiGatewayDomainName"] == f"{record['id']}.execute-api.us-east-1.localhost"
    assert (conf["CertificateArn"], conf["CertificateName"], conf["SecurityPolicy"], conf["DomainNameStatus"]) == \
        (CERT, "c", "TLS_1_2", "AVAILABLE")


def test_mapping_view_omits_the_empty_key():
    assert v2._mapping_view({"id": "m", "key": "", "apiId": "a", "stage": "$default"}) == \
        {"ApiId": "a", "ApiMappingId": "m", "Stage": "$default"}
    assert v2._mapping_view({"id": "m", "key": "v1/x", "apiId": "a", "stage": "p"})["ApiMappingKey"] == "v1/x"


def test_unserved_inputs_are_refused(domains):
    with pytest.raises(AwsError, match="Invalid routing mode"):
        domains.set_routing_mode({}, "ROUTING_RULE_FIRST")
    record = domains.create("m.example.com", endpoint_type="REGIONAL", certificate_arn=CERT, certificate_name=None,
                            security_policy=None, ip_address_type=None, tags=None, routing_mode="ROUTING_RULE_ONLY")
    assert v2.view(domains, record)["RoutingMode"] == "ROUTING_RULE_ONLY"
    with pytest.raises(AwsError, match="one domain name configuration"):
        v2._configuration({"DomainNameConfigurations": []})
    with pytest.raises(AwsError, match="REGIONAL"):
        v2._configuration({"DomainNameConfigurations": [{"EndpointType": "EDGE"}]})
