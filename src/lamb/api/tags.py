"""TagResource, UntagResource, ListTags for functions.

https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html: tags belong
to the function (not to a version or alias), at most 50 per resource. CreateFunction's
``Tags`` land in the same place, and GetFunction returns them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..arn import LATEST, parse_function_name
from ..protocol.errors import invalid_parameter
from . import operation

if TYPE_CHECKING:
    from .context import RequestContext
    from ..store.functions import Function

TAGS = "Tags"


def _function(ctx: "RequestContext", resource: str) -> "Function":
    s = ctx.lamb.settings
    ref = parse_function_name(resource, region=s.region, account_id=s.account_id)
    if ref.qualifier is not None:
        raise invalid_parameter("Tags are not supported for resource with qualifier.")
    return ctx.lamb.functions.function(ref.name)[1]


def _save(ctx: "RequestContext", fn: "Function", tags: dict) -> None:
    """Store the tags; as on AWS, tagging gives the function ($LATEST) a new RevisionId."""
    ctx.lamb.functions.update_data(fn.name, **{TAGS: tags})
    ctx.lamb.functions.put_version(fn.name, LATEST, ctx.lamb.states.touched(fn.latest))


@operation("TagResource")
def tag_resource(ctx: "RequestContext", params: dict) -> dict:
    fn = _function(ctx, params["Resource"])
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
