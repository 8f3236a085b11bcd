"""api/apigateway_vpc_links.py: v1's PATCH paths, v2's tags by ARN, the not-found answers of both."""

from types import SimpleNamespace

import pytest

from lamb.api import apigateway_vpc_links as ops
from lamb.apis.store import HttpApiStore
from lamb.apis.vpc_links import Network, VpcLinks
from lamb.limits import Limits
from lamb.protocol.errors import AwsError
from lamb.store.db import Database


class Elb:
    def describe_load_balancers(self, LoadBalancerArns):
        return {"LoadBalancers": [{"Type": "network"}]}


@pytest.fixture
def ctx(tmp_path):
    db = Database(tmp_path / "db.sqlite")
    links = VpcLinks(HttpApiStore(db, "apigateway_vpc_links"), "us-east-1", "123456789012", Limits(),
                     Network({"elbv2": Elb(), "ec2": None}.__getitem__))
    apis = SimpleNamespace(vpc_links=links, rest=HttpApiStore(db, "rest_apis"), store=HttpApiStore(db, "http_apis"))
    settings = SimpleNamespace(account_id="123456789012", region="us-east-1", limits=Limits())
    return SimpleNamespace(lamb=SimpleNamespace(http_apis=apis, settings=settings))


def test_v1_patch_paths(ctx):
    made = ops.create_vpc_link_v1(ctx, {"name": "n", "targetArns": ["arn:nlb"]})
    out = ops.update_vpc_link_v1(ctx, {"vpcLinkId": made["id"], "patchOperations": [
        {"op": "replace", "path": "/name", "value": "m"}, {"op": "replace", "path": "/description", "value": "d"}]})
    assert (out["name"], out["description"], out["status"]) == ("m", "d", "AVAILABLE")
    with pytest.raises(AwsError) as e:
        ops.update_vpc_link_v1(ctx, {"vpcLinkId": made["id"], "patchOperations": [
            {"op": "replace", "path": "/targetArns", "value": "x"}]})
    assert e.value.code == "BadRequestException"
    assert ops.get_vpc_links_v1(ctx, {"limit": 1}) == {"items": [out]}
    with pytest.raises(AwsError) as e:
        ops.get_vpc_link_v1(ctx, {"vpcLinkId": "nosuch"})
    assert (e.value.code, e.value.status) == ("NotFoundException", 404)


def test_v2_tags_by_arn(ctx):
    ctx.lamb.http_apis.vpc_links.network.clients = {"ec2": SimpleNamespace(
        describe_subnets=lambda **kw: {}, describe_security_groups=lambda **kw: {})}.__getitem__
    made = ops.create_vpc_link_v2(ctx, {"Name": "n", "SubnetIds": ["subnet-1"], "Tags": {"a": "1"}})
    arn = f"arn:aws:apigateway:us-east-1::/vpclinks/{made['VpcLinkId']}"
    link = ops.tagged(ctx, arn)
    ops.save_tags(ctx, link, {**link["Tags"], "b": "2"})
    assert ops.get_vpc_link_v2(ctx, {"VpcLinkId": made["VpcLinkId"]})["Tags"] == {"a": "1", "b": "2"}
    assert ops.tagged(ctx, "arn:aws:apigateway:us-east-1::/apis/x") is None
    with pytest.raises(AwsError):
        ops.tagged(ctx, "arn:aws:apigateway:us-east-1::/vpclinks/nosuch")
    ops.delete_vpc_link_v2(ctx, {"VpcLinkId": made["VpcLinkId"]})
    assert ops.get_vpc_links_v2(ctx, {})["Items"] == []
