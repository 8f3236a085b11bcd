"""A function's ``VpcConfig`` as AWS answers it: the subnets' VPC looked up in EC2.

https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html: CreateFunction and
UpdateFunctionConfiguration look the subnets and security groups up in EC2 and answer
``VpcConfig`` with ``VpcId`` and ``Ipv6AllowedForDualStack`` (false unless asked); empty
lists (the function leaves its VPC) answer ``VpcId: ""``. A subnet or security group that
does not exist is AWS's ``InvalidParameterValueException`` "Error occurred while
DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. EC2 Error Message: The subnet ID
'subnet-1' does not exist" (the code and message EC2 answered), and ones of different VPCs
"Security groups and subnets must all belong to the same VPC.".

EC2 is reached with boto3's standard configuration (``aws_clients``: ``AWS_ENDPOINT_URL_EC2``,
the credentials chain). Where no EC2 can be reached (no credentials, no endpoint) Lamb keeps
the configuration with ``VpcId: ""`` and says why in its log once; it never checks the ids
then. Lamb does not attach functions to a VPC either way: they use the host's network.
Blocking: run ``resolve`` off the event loop.
"""

from __future__ import annotations

import logging
from typing import Callable

from ..protocol.errors import invalid_parameter
from .aws_clients import refused

log = logging.getLogger("lamb.vpc")

SAME_VPC = "Security groups and subnets must all belong to the same VPC."


class VpcLookup:
    """Resolves ``VpcConfig`` against EC2 (``client()`` is ``AwsClients.get("ec2")``)."""

    def __init__(self, client: Callable[[], object]):
        self.client = client
        self.unavailable: str | None = None  # why EC2 could not be reached, once known

    def resolve(self, given: dict) -> dict:
        """The ``VpcConfig`` to store and answer for the request's ``given`` one."""
        subnets = list(given.get("SubnetIds") or [])
        groups = list(given.get("SecurityGroupIds") or [])
        out = {"SubnetIds": subnets, "SecurityGroupIds": groups, "VpcId": "",
               "Ipv6AllowedForDualStack": bool(given.get("Ipv6AllowedForDualStack", False))}
        if not subnets and not groups:
            out["Ipv6AllowedForDualStack"] = False
            return out
        if self.unavailable is not None:
            return out
        from botocore.exceptions import BotoCoreError

        try:
            vpcs = self._vpcs("DescribeSubnets", "describe_subnets", "SubnetIds", "Subnets", subnets)
            vpcs += self._vpcs("DescribeSecurityGroups", "describe_security_groups", "GroupIds", "SecurityGroups", groups)
        except BotoCoreError as e:
            self.unavailable = str(e)
            log.warning("VpcConfig: EC2 cannot be reached (%s); VpcId is left empty and ids are not checked", e)
            return out
        if len(set(vpcs)) > 1:
            raise invalid_parameter(SAME_VPC)
        out["VpcId"] = vpcs[0] if vpcs else ""
        return out

    def _vpcs(self, operation: str, method: str, param: str, key: str, ids: list[str]) -> list[str]:
        if not ids:
            return []
        from botocore.exceptions import ClientError

        try:
            resp = getattr(self.client(), method)(**{param: ids})
        except ClientError as e:
            raise refused("EC2", operation, e) from None
        return [item["VpcId"] for item in resp.get(key, [])]
