"""api/apigateway_domains.py: a domain record as v1's DomainName, base path mappings and paging."""

from lamb.api import apigateway_domains as v1

from .test_apis_domains import domains  # noqa: F401  (fixture)

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def test_edge_and_regional_views(domains):
    edge = domains.create("e.example.com", endpoint_type="EDGE", certificate_arn=CERT, certificate_name="n",
                          security_policy="TLS_1_0", ip_address_type=None, tags=None)
    out = v1.view(domains, edge)
    assert (out["certificateArn"], out["certificateName"], out["distributionHostedZoneId"]) == (CERT, "n", "Z2FDTNDATAQYW2")
    assert "regionalDomainName" not in out and out["endpointConfiguration"]["types"] == ["EDGE"]
    regional = domains.create("r.example.com", endpoint_type="REGIONAL", certificate_arn=CERT, certificate_name=None,
                              security_policy=None, ip_address_type="dualstack", tags={"k": "v"})
    out = v1.view(domains, regional)
    assert out["regionalCertificateArn"] == CERT and out["regionalDomainName"].endswith(".localhost")
    assert out["endpointConfiguration"] == {"types": ["REGIONAL"], "ipAddressType": "dualstack"}
    assert "distributionDomainName" not in out and out["tags"] == {"k": "v"}


def test_mapping_view_and_pages():
    assert v1._mapping_view({"id": "m", "key": "", "apiId": "a", "stage": None}) == {"basePath": "(none)", "restApiId": "a"}
    items = [{"n": i} for i in range(5)]
    first = v1._page({"limit": 2}, items)
    assert first == {"items": items[:2], "position": "2"}
    assert v1._page({"limit": 2, "position": "4"}, items) == {"items": items[4:]}
    assert v1._page({}, [{"n": i} for i in range(30)])["position"] == "25"


def test_routing_modes_by_v1_names(domains):
    import pytest

    from lamb.protocol.errors import AwsError
    assert v1._mode("ROUTING_RULE_THEN_BASE_PATH_MAPPING") == "ROUTING_RULE_THEN_API_MAPPING"
    assert v1._mode(None) is None
    with pytest.raises(AwsError, match="BASE_PATH_MAPPING_ONLY"):
        v1._mode("API_MAPPING_ONLY")  # v2's name
    record = domains.create("m.example.com", endpoint_type="REGIONAL", certificate_arn=CERT, certificate_name=None,
                            security_policy=None, ip_address_type=None, tags=None, routing_mode="ROUTING_RULE_ONLY")
    assert v1.view(domains, record)["routingMode"] == "ROUTING_RULE_ONLY"
