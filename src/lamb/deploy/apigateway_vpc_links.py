"""Handlers for API Gateway VPC links, applied through the ``apigateway``/``apigatewayv2`` models Lamb serves
(apis/vpc_links.py): ``AWS::ApiGateway::VpcLink`` (…/aws-resource-apigateway-vpclink.html: ``Name``,
``TargetArns`` (replacement), ``Description``, ``Tags``; Ref and GetAtt ``VpcLinkId``: the link's id) and
``AWS::ApiGatewayV2::VpcLink`` (…/aws-resource-apigatewayv2-vpclink.html: ``Name``, ``SubnetIds`` and
``SecurityGroupIds`` (replacement), ``Tags``; Ref and GetAtt ``VpcLinkId``). As CloudFormation does, a
create waits for the link to leave PENDING and fails when it is FAILED (its status message says why).
"""

from __future__ import annotations

import time
from typing import Any, Callable

from .apigateway_resources import _gone, _tags
from .registry import Applied, Env, Registry

WAIT_S = 120.0  # how long a create waits for AVAILABLE (Lamb settles a link in one lookup of elbv2/EC2)


def _settled(get: Callable[[], dict], status: str, message: str) -> dict:
    deadline = time.monotonic() + WAIT_S
    link = get()
    while link.get(status) == "PENDING" and time.monotonic() < deadline:
        time.sleep(0.2)
        link = get()
    if link.get(status) != "AVAILABLE":
        raise ValueError(f"VPC link {link.get(status)}: {link.get(message) or 'no status message'}")
    return link


class VpcLink:
    """AWS::ApiGateway::VpcLink."""

    replace_on = frozenset({"TargetArns"})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        params: dict[str, Any] = {"name": props["Name"], "targetArns": list(props["TargetArns"])}
        if props.get("Description") is not None:
            params["description"] = props["Description"]
        if props.get("Tags"):
            params["tags"] = _tags(props["Tags"])
        made = apigw.create_vpc_link(**params)
        _settled(lambda: apigw.get_vpc_link(vpcLinkId=made["id"]), "status", "statusMessage")
        return Applied(made["id"], {"Ref": made["id"], "VpcLinkId": made["id"]})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        ops = [{"op": "replace", "path": path, "value": new.get(prop) or ""}
               for prop, path in (("Name", "/name"), ("Description", "/description"))
               if (new.get(prop) or "") != (old.get(prop) or "")]
        if ops:
            apigw.update_vpc_link(vpcLinkId=physical, patchOperations=ops)
        return Applied(physical, {"Ref": physical, "VpcLinkId": physical})

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        try:
            apigw.delete_vpc_link(vpcLinkId=physical)
        except _gone(apigw):
            return


class VpcLinkV2:
    """AWS::ApiGatewayV2::VpcLink."""

    replace_on = frozenset({"SubnetIds", "SecurityGroupIds"})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        params: dict[str, Any] = {"Name": props["Name"], "SubnetIds": list(props["SubnetIds"])}
        if props.get("SecurityGroupIds"):
            params["SecurityGroupIds"] = list(props["SecurityGroupIds"])
        if props.get("Tags"):
            params["Tags"] = _tags(props["Tags"])
        made = v2.create_vpc_link(**params)
        ident = made["VpcLinkId"]
        _settled(lambda: v2.get_vpc_link(VpcLinkId=ident), "VpcLinkStatus", "VpcLinkStatusMessage")
        return Applied(ident, {"Ref": ident, "VpcLinkId": ident})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        if new.get("Name") != old.get("Name"):
            v2.update_vpc_link(VpcLinkId=physical, Name=new["Name"])
        before, after = _tags(old.get("Tags")), _tags(new.get("Tags"))
        if before != after:
            arn = f"arn:aws:apigateway:{v2.meta.region_name}::/vpclinks/{physical}"
            gone = [k for k in before if k not in after]
            if gone:
                v2.untag_resource(ResourceArn=arn, TagKeys=gone)
            if after:
                v2.tag_resource(ResourceArn=arn, Tags=after)
        return Applied(physical, {"Ref": physical, "VpcLinkId": physical})

    def delete(self, env: Env, physical: str, props: dict) -> None:
        v2 = env.lamb_client("apigatewayv2")
        try:
            v2.delete_vpc_link(VpcLinkId=physical)
        except _gone(v2):
            return


def register(registry: Registry) -> None:
    registry.add("AWS::ApiGateway::VpcLink", VpcLink())
    registry.add("AWS::ApiGatewayV2::VpcLink", VpcLinkV2())
