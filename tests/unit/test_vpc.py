"""lamb.services.vpc: VpcConfig resolution (EC2 here is a stand-in; against moto's server:
tests/integration/test_vpc.py)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from lamb.protocol.errors import AwsError
from lamb.services.vpc import SAME_VPC, VpcLookup


class EC2:
    def __init__(self, subnets=None, groups=None, fail=None):
        self.subnets, self.groups, self.fail, self.calls = subnets or {}, groups or {}, fail, 0

    def describe_subnets(self, SubnetIds):
        self.calls += 1
        if self.fail:
            raise self.fail
        missing = [s for s in SubnetIds if s not in self.subnets]
        if missing:
            raise ClientError({"Error": {"Code": "InvalidSubnetID.NotFound",
                                         "Message": f"The subnet ID '{missing[0]}' does not exist"}}, "DescribeSubnets")
        return {"Subnets": [{"SubnetId": s, "VpcId": self.subnets[s]} for s in SubnetIds]}

    def describe_security_groups(self, GroupIds):
        return {"SecurityGroups": [{"GroupId": g, "VpcId": self.groups[g]} for g in GroupIds]}


def test_resolve():
    ec2 = EC2({"subnet-a": "vpc-1", "subnet-b": "vpc-2"}, {"sg-a": "vpc-1"})
    vpcs = VpcLookup(lambda: ec2)
    assert vpcs.resolve({"SubnetIds": ["subnet-a"], "SecurityGroupIds": ["sg-a"]}) == {
        "SubnetIds": ["subnet-a"], "SecurityGroupIds": ["sg-a"], "VpcId": "vpc-1", "Ipv6AllowedForDualStack": False}
    assert vpcs.resolve({"SubnetIds": [], "SecurityGroupIds": [], "Ipv6AllowedForDualStack": True})["VpcId"] == ""
    with pytest.raises(AwsError) as e:
        vpcs.resolve({"SubnetIds": ["subnet-b"], "SecurityGroupIds": ["sg-a"]})
    assert e.value.message == SAME_VPC
    with pytest.raises(AwsError) as e:
        vpcs.resolve({"SubnetIds": ["subnet-x"]})
    assert e.value.message == ("Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. "
                               "EC2 Error Message: The subnet ID 'subnet-x' does not exist")


def test_without_ec2_the_ids_are_kept_with_an_empty_vpc_id():
    ec2 = EC2(fail=NoCredentialsError())
    vpcs = VpcLookup(lambda: ec2)
    for _ in range(2):
        assert vpcs.resolve({"SubnetIds": ["subnet-a"]})["VpcId"] == ""
    assert ec2.calls == 1 and vpcs.unavailable
