"""VpcConfig as AWS answers it (issue 19, item 11): VpcId looked up in EC2 (moto's server,
reached through AWS_ENDPOINT_URL_EC2), Ipv6AllowedForDualStack, leaving the VPC, unknown ids;
and what Lamb does without EC2."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .async_support import moto, served_with  # noqa: F401  (fixture)
from .awscli import aws_json
from .conftest import error_of as err, create, unique

CODE = "def handler(e, c):\n    return 1\n"


@pytest.fixture(scope="module")
def ec2_server(moto):  # noqa: F811
    yield from served_with(moto, "EC2")


@pytest.fixture(scope="module")
def network(moto):  # noqa: F811
    ec2 = moto.client("ec2")
    out = []
    for cidr in ("10.11.0.0/16", "10.12.0.0/16"):
        vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "1.0/24"))["Subnet"]["SubnetId"]
        sg = ec2.create_security_group(GroupName=unique("sg"), Description="d", VpcId=vpc)["GroupId"]
        out.append((vpc, subnet, sg))
    return out


def test_vpc_config_answers(ec2_server, network):
    lam = ec2_server.client()
    (vpc, subnet, sg), (_, other_subnet, _) = network
    name = unique("vpc")
    created = create(lam, name, CODE, VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [sg]})
    assert created["VpcConfig"] == {"SubnetIds": [subnet], "SecurityGroupIds": [sg], "VpcId": vpc,
                                    "Ipv6AllowedForDualStack": False}
    assert lam.get_function_configuration(FunctionName=name)["VpcConfig"]["VpcId"] == vpc
    left = lam.update_function_configuration(FunctionName=name, VpcConfig={"SubnetIds": [], "SecurityGroupIds": []})
    assert left["VpcConfig"] == {"SubnetIds": [], "SecurityGroupIds": [], "VpcId": "", "Ipv6AllowedForDualStack": False}
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=name, VpcConfig={"SubnetIds": ["subnet-0000dead"], "SecurityGroupIds": [sg]})
    assert err(e) == ("InvalidParameterValueException",
                      "Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. "
                      "EC2 Error Message: The subnet ID 'subnet-0000dead' does not exist", 400)
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=name, VpcConfig={"SubnetIds": [other_subnet], "SecurityGroupIds": [sg]})
    assert err(e) == ("InvalidParameterValueException", "Security groups and subnets must all belong to the same VPC.", 400)
    # refused updates change nothing
    assert lam.get_function_configuration(FunctionName=name)["VpcConfig"]["VpcId"] == ""


def test_cli_vpc_config(ec2_server, network):
    (vpc, subnet, sg), _ = network
    name = unique("vpccli")
    create(ec2_server.client(), name, CODE)
    out = aws_json(ec2_server, "update-function-configuration", "--function-name", name,
                   "--vpc-config", f"SubnetIds={subnet},SecurityGroupIds={sg}")
    assert out["VpcConfig"]["VpcId"] == vpc and out["VpcConfig"]["Ipv6AllowedForDualStack"] is False


def test_without_ec2_vpc_id_stays_empty(lam):
    # the shared server has no EC2 configured: the ids are kept, unchecked, with VpcId ""
    name = unique("novpc")
    created = create(lam, name, CODE, VpcConfig={"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]})
    assert created["VpcConfig"] == {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"], "VpcId": "",
                                    "Ipv6AllowedForDualStack": False}
