"""TagResource, UntagResource, ListTags for functions.

https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html: tags belong
to the function (not to a version or alias), at most 50 per resource. CreateFunction's
``Tags`` land in the same place, and GetFunction returns them. Tagging and untagging give
the function a new RevisionId, as AWS does.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..arn import LATEST, parse_function_name
from ..protocol.errors import invalid_parameter, not_found
from . import operation

if TYPE_CHECKING:
    from .context import RequestContext
    from ..store.functions import Function

TAGS = "Tags"


# Other taggable Lambda resources; Lamb has none of them yet, so each such ARN is not found
# (AWS's messages: "Event source mapping not found: ARN", "Capacity provider not found: ARN").
OTHER_RESOURCES = (
    (re.compile(r"arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:event-source-mapping:.+"), "Event source mapping"),
    (re.compile(r"arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:capacity-provider:.+"), "Capacity provider"),
)


def _function(ctx: "RequestContext", resource: str) -> "Function":
    for pattern, what in OTHER_RESOURCES:
        if pattern.fullmatch(resource):
            raise not_found(f"{what} not found: {resource}")
    s = ctx.lamb.settings
    ref = parse_function_name(resource, region=s.region, account_id=s.account_id)
    if ref.qualifier is not None:
        raise invalid_parameter("Tags on function aliases and versions are not supported. Please specify a function ARN.")
    return ctx.lamb.functions.function(ref.name)[1]


def _save(ctx: "RequestContext", fn: "Function", tags: dict) -> None:
    """Store the tags; as on AWS, tagging gives the function ($LATEST) a new RevisionId."""
    ctx.lamb.functions.update_data(fn.name, **{TAGS: tags})
    ctx.lamb.functions.put_version(fn.name, LATEST, ctx.lamb.states.touched(fn.latest))


@operation("TagResource")
def tag_resource(ctx: "RequestContext", params: dict) -> dict:
    fn = _function(ctx, params["Resource"])
    if not params["Tags"]:
        raise invalid_parameter("An error occurred and the request cannot be processed.")
    tags = {**(fn.data.get(TAGS) or {}), **params["Tags"]}
    if len(tags) > ctx.lamb.settings.limits.tags_per_resource:
        raise invalid_parameter("Number of tags exceeds resource tag limit.")
    _save(ctx, fn, tags)
    return {}


@operation("UntagResource")
def untag_resource(ctx: "RequestContext", params: dict) -> dict:
    fn = _function(ctx, params["Resource"])
    drop = set(params["TagKeys"])
    _save(ctx, fn, {k: v for k, v in (fn.data.get(TAGS) or {}).items() if k not in drop})
    return {}


@operation("ListTags")
def list_tags(ctx: "RequestContext", params: dict) -> dict:
    fn = _function(ctx, params["Resource"])
    return {TAGS: dict(fn.data.get(TAGS) or {})}
