"""VPC links through botocore's ``apigateway`` (v1, ``/vpclinks``) and ``apigatewayv2`` (``/v2/vpclinks``) models.

v1: CreateVpcLink (``targetArns``: one Network Load Balancer), GetVpcLink, GetVpcLinks, UpdateVpcLink
(PATCH ``/name``, ``/description``), DeleteVpcLink
(https://docs.aws.amazon.com/apigateway/latest/api/API_CreateVpcLink.html). v2: CreateVpcLink
(``SubnetIds``, ``SecurityGroupIds``, ``Tags``), GetVpcLink, GetVpcLinks, UpdateVpcLink (``Name``),
DeleteVpcLink (https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/vpclinks.html). The records,
their status (PENDING → AVAILABLE or FAILED) and the limits are apis/vpc_links.py's; a link an integration
uses cannot be deleted. TagResource/UntagResource/GetTags of v2 links are in apigatewayv2.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..apis.vpc_links import V1, V2, bad
from ..protocol.errors import AwsError
from . import operation
from .apigateway_domains import _page as v1_page
from .apigatewayv2 import SERVICE as V2_SERVICE, _page

if TYPE_CHECKING:
    from ..apis.vpc_links import VpcLinks
    from .context import RequestContext

V1_SERVICE = "apigateway"


def _links(ctx: "RequestContext") -> "VpcLinks":
    return ctx.lamb.http_apis.vpc_links


def _not_found(ctx: "RequestContext", ident: str, fields: dict | None = None) -> AwsError:
    return AwsError("NotFoundException",
                    f"Invalid VpcLink identifier specified {ctx.lamb.settings.account_id}:{ident}", 404, fields=fields)


def _link(ctx: "RequestContext", kind: str, ident: str) -> dict:
    link = _links(ctx).get(kind, ident)
    if link is None:
        raise _not_found(ctx, ident, {"ResourceType": "VpcLink"} if kind == V2 else None)
    return link


# ------------------------------------------------------------------ v1 (REST APIs)
@operation("CreateVpcLink", service=V1_SERVICE)
def create_vpc_link_v1(ctx: "RequestContext", params: dict) -> dict:
    return _links(ctx).create_v1(params["name"], params.get("targetArns") or [], params.get("description"),
                                 params.get("tags"))


@operation("GetVpcLink", service=V1_SERVICE)
def get_vpc_link_v1(ctx: "RequestContext", params: dict) -> dict:
    return _link(ctx, V1, params["vpcLinkId"])


@operation("GetVpcLinks", service=V1_SERVICE)
def get_vpc_links_v1(ctx: "RequestContext", params: dict) -> dict:
    links = _links(ctx)
    return v1_page(params, [links.get(V1, i) for i in links.ids(V1)])


@operation("UpdateVpcLink", service=V1_SERVICE)
def update_vpc_link_v1(ctx: "RequestContext", params: dict) -> dict:
    link = dict(_link(ctx, V1, params["vpcLinkId"]))
    for op in params.get("patchOperations") or []:
        path, kind, value = op.get("path"), op.get("op"), op.get("value")
        if kind == "replace" and path == "/name":
            if not value:
                raise bad("Name cannot be blank")
            link["name"] = value
        elif kind == "replace" and path == "/description":
            link["description"] = value or ""
        else:
            raise bad(f"Invalid patch path '{path}' specified for op '{kind}'. Must be one of: [/name, /description]")
    return _links(ctx).update(V1, link)


@operation("DeleteVpcLink", service=V1_SERVICE)
def delete_vpc_link_v1(ctx: "RequestContext", params: dict) -> dict:
    ident = params["vpcLinkId"]
    _link(ctx, V1, ident)
    users = _links(ctx).users(ctx.lamb.http_apis.rest, V1, ident)
    if users:
        raise bad(f"Cannot delete vpc link. Vpc link '{ident}', is referenced in [{', '.join(users)}] in format of "
                  "[Method:Resource].")
    _links(ctx).delete(V1, ident)
    return {}


# ------------------------------------------------------------------ v2 (HTTP APIs)
@operation("CreateVpcLink", service=V2_SERVICE)
def create_vpc_link_v2(ctx: "RequestContext", params: dict) -> dict:
    return _links(ctx).create_v2(params["Name"], params.get("SubnetIds") or [], params.get("SecurityGroupIds"),
                                 params.get("Tags"))


@operation("GetVpcLink", service=V2_SERVICE)
def get_vpc_link_v2(ctx: "RequestContext", params: dict) -> dict:
    return _link(ctx, V2, params["VpcLinkId"])


@operation("GetVpcLinks", service=V2_SERVICE)
def get_vpc_links_v2(ctx: "RequestContext", params: dict) -> dict:
    links = _links(ctx)
    return _page(params, [links.get(V2, i) for i in links.ids(V2)])


@operation("UpdateVpcLink", service=V2_SERVICE)
def update_vpc_link_v2(ctx: "RequestContext", params: dict) -> dict:
    link = dict(_link(ctx, V2, params["VpcLinkId"]))
    if params.get("Name") is not None:
        if not params["Name"]:
            raise bad("Name cannot be blank")
        link["Name"] = params["Name"]
    return _links(ctx).update(V2, link)


@operation("DeleteVpcLink", service=V2_SERVICE)
def delete_vpc_link_v2(ctx: "RequestContext", params: dict) -> dict:
    ident = params["VpcLinkId"]
    _link(ctx, V2, ident)
    users = _links(ctx).users(ctx.lamb.http_apis.store, V2, ident)
    if users:
        raise AwsError("ConflictException", f"Cannot delete VPC link {ident}: integrations use it "
                       f"({', '.join(users)}, as <api id>/<integration id>).", 409)
    _links(ctx).delete(V2, ident)
    return {}


def tagged(ctx: "RequestContext", arn: str) -> dict | None:
    """The v2 link an ARN ``arn:aws:apigateway:<region>::/vpclinks/<id>`` names, or None for another ARN."""
    prefix = f"arn:aws:apigateway:{ctx.lamb.settings.region}::/vpclinks/"
    if not arn.startswith(prefix):
        return None
    return _link(ctx, V2, arn[len(prefix):])


def save_tags(ctx: "RequestContext", link: dict, tags: dict) -> None:
    if len(tags) > ctx.lamb.settings.limits.tags_per_resource:
        raise bad(f"Too many tags: at most {ctx.lamb.settings.limits.tags_per_resource} per resource.")
    _links(ctx).update(V2, {**link, "Tags": tags})
