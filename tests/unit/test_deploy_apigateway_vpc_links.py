"""deploy/apigateway_vpc_links.py: a create waits for AVAILABLE and fails on FAILED; what replaces a link."""

import pytest

from lamb.deploy import apigateway_vpc_links as links
from lamb.deploy.registry import Registry


def test_settled_waits_out_pending_and_refuses_failed():
    answers = iter([{"status": "PENDING"}, {"status": "AVAILABLE", "id": "x"}])
    assert links._settled(lambda: next(answers), "status", "statusMessage")["id"] == "x"
    with pytest.raises(ValueError) as e:
        links._settled(lambda: {"VpcLinkStatus": "FAILED", "VpcLinkStatusMessage": "no subnet"}, "VpcLinkStatus",
                       "VpcLinkStatusMessage")
    assert "FAILED: no subnet" in str(e.value)


def test_registered_with_their_replacement_properties():
    registry = Registry()
    links.register(registry)
    assert links.VpcLink.replace_on == {"TargetArns"}
    assert links.VpcLinkV2.replace_on == {"SubnetIds", "SecurityGroupIds"}
    assert isinstance(registry.lookup("AWS::ApiGatewayV2::VpcLink"), links.VpcLinkV2)
    assert isinstance(registry.lookup("AWS::ApiGateway::VpcLink"), links.VpcLink)
