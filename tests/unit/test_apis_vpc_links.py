"""apis/vpc_links.py: VPC links' records, their status (PENDING → AVAILABLE/FAILED) from elbv2/EC2's answers,
AWS's limits, durability over a reopened database and which integrations use a link."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from lamb.apis.store import HttpApiStore
from lamb.apis.vpc_links import READY_V1, READY_V2, V1, V2, Network, VpcLinks
from lamb.limits import Limits
from lamb.protocol.errors import AwsError
from lamb.store.db import Database

NLB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/n/1"
ALB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/a/1"


class Elb:
    """elbv2's answers (another service, stood in for): the load balancers that exist."""

    def describe_load_balancers(self, LoadBalancerArns):
        kinds = {NLB: "network", ALB: "application"}
        if LoadBalancerArns[0] not in kinds:
            raise ClientError({"Error": {"Code": "LoadBalancerNotFound", "Message": "not found"}}, "Describe")
        return {"LoadBalancers": [{"Type": kinds[LoadBalancerArns[0]]}]}


class Ec2:
    def describe_subnets(self, SubnetIds):
        if "subnet-missing" in SubnetIds:
            raise ClientError({"Error": {"Code": "InvalidSubnetID.NotFound", "Message": "no subnet"}}, "Describe")
        return {"Subnets": [{"SubnetId": s} for s in SubnetIds]}

    def describe_security_groups(self, GroupIds):
        if "sg-missing" in GroupIds:
            raise ClientError({"Error": {"Code": "InvalidGroup.NotFound", "Message": "no group"}}, "Describe")
        return {"SecurityGroups": []}


class Down:
    def __getattr__(self, name):
        def fail(**kw):
            raise EndpointConnectionError(endpoint_url="http://nowhere")
        return fail


def make(tmp_path, clients=None, **limits) -> VpcLinks:
    services = clients or {"elbv2": Elb(), "ec2": Ec2()}
    return VpcLinks(HttpApiStore(Database(tmp_path / "db.sqlite"), "apigateway_vpc_links"), "us-east-1",
                    "123456789012", Limits(**limits), Network(services.__getitem__))


def test_v1_status_from_the_load_balancer(tmp_path):
    links = make(tmp_path)
    ok = links.create_v1("ok", [NLB], "d", {"k": "v"})  # no event loop: settled at once
    assert links.get(V1, ok["id"])["status"] == "AVAILABLE"
    assert links.get(V1, ok["id"])["statusMessage"] == READY_V1 and links.available(V1, ok["id"])
    missing = links.create_v1("missing", [NLB + "0"], None, None)
    assert links.get(V1, missing["id"])["status"] == "FAILED" and "not found" in links.get(V1, missing["id"])["statusMessage"]
    alb = links.create_v1("alb", [ALB], None, None)
    assert "not a Network Load Balancer" in links.get(V1, alb["id"])["statusMessage"]
    assert links.target_arn(ok["id"]) == NLB and not links.available(V1, alb["id"])
    with pytest.raises(AwsError) as e:
        links.create_v1("two", [NLB, NLB], None, None)
    assert e.value.code == "BadRequestException"
    assert links.get(V2, ok["id"]) is None  # v1 and v2 links are apart


def test_v2_status_from_subnets_and_groups(tmp_path):
    links = make(tmp_path)
    ok = links.create_v2("ok", ["subnet-1"], ["sg-1"], {"a": "b"})
    got = links.get(V2, ok["VpcLinkId"])
    assert (got["VpcLinkStatus"], got["VpcLinkStatusMessage"], got["VpcLinkVersion"]) == ("AVAILABLE", READY_V2, "V2")
    bad_subnet = links.create_v2("s", ["subnet-missing"], None, None)
    assert links.get(V2, bad_subnet["VpcLinkId"])["VpcLinkStatus"] == "FAILED"
    bad_group = links.create_v2("g", ["subnet-1"], ["sg-missing"], None)
    assert "sg-missing" in links.get(V2, bad_group["VpcLinkId"])["VpcLinkStatusMessage"]
    with pytest.raises(AwsError):
        links.create_v2("none", [], None, None)


def test_unreachable_services_leave_links_unchecked(tmp_path):
    links = make(tmp_path, {"elbv2": Down(), "ec2": Down()})
    assert links.get(V1, links.create_v1("x", [NLB], None, None)["id"])["status"] == "AVAILABLE"
    assert links.get(V2, links.create_v2("y", ["subnet-1"], None, None)["VpcLinkId"])["VpcLinkStatus"] == "AVAILABLE"


def test_limits_and_durability(tmp_path):
    links = make(tmp_path, rest_api_vpc_links_max=2, http_api_vpc_links_max=1)
    first = links.create_v1("a", [NLB], None, None)
    links.create_v1("b", [NLB], None, None)
    with pytest.raises(AwsError) as e:
        links.create_v1("c", [NLB], None, None)
    assert (e.value.code, e.value.status) == ("LimitExceededException", 429)
    links.create_v2("v2", ["subnet-1"], None, None)
    with pytest.raises(AwsError):
        links.create_v2("v2b", ["subnet-1"], None, None)
    links.update(V1, {**links.get(V1, first["id"]), "name": "renamed"})
    again = make(tmp_path)  # the same database, reopened
    assert again.get(V1, first["id"])["name"] == "renamed" and len(again.ids(V1)) == 2 and len(again.ids(V2)) == 1
    again.delete(V1, first["id"])
    assert make(tmp_path).get(V1, first["id"]) is None


def test_users(tmp_path):
    links = make(tmp_path)
    db = Database(tmp_path / "apis.sqlite")
    rest, http = HttpApiStore(db, "rest_apis"), HttpApiStore(db, "http_apis")
    rest.put("r1", {"resources": {"res": {"resourceMethods": {"GET": {"methodIntegration": {
        "connectionType": "VPC_LINK", "connectionId": "l1"}}}}}})
    http.put("h1", {"integrations": {"i1": {"ConnectionType": "VPC_LINK", "ConnectionId": "l2"},
                                     "i2": {"ConnectionType": "INTERNET"}}})
    assert links.users(rest, V1, "l1") == ["GET:res"] and links.users(rest, V1, "l2") == []
    assert links.users(http, V2, "l2") == ["h1/i1"]
