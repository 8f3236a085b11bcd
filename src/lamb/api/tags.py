"""TagResource, UntagResource, ListTags for functions and event source mappings.

https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html: tags belong
to the function (not to a version or alias), at most 50 per resource. CreateFunction's
``Tags`` land in the same place, and GetFunction returns them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..arn import function_arn, parse_function_name
from ..protocol.errors import invalid_parameter, not_found
from . import event_source_mappings as esm
from . import operation

if TYPE_CHECKING:
    from ..gateway import RequestContext
    from ..store.functions import Function

TAGS = "Tags"


def _function(ctx: "RequestContext", resource: str) -> "Function":
    s = ctx.lamb.settings
    ref = parse_function_name(resource, region=s.region, account_id=s.account_id)
    if ref.qualifier is not None:
        raise invalid_parameter("Tags are not supported for resource with qualifier.")
    fn = ctx.lamb.functions.get(ref.name)
    if fn is None:
        raise not_found(f"Function not found: {function_arn(s.region, s.account_id, ref.name)}")
    return fn


def _target(ctx: "RequestContext", resource: str) -> tuple[dict, Callable[[dict], None]]:
    """The tags of the resource (a function or an event source mapping) and how to save new ones."""
    if ":event-source-mapping:" in resource:
        cfg = esm.tags_of(ctx, resource)
        return dict(cfg.get("_Tags") or {}), lambda tags: esm.put_tags(ctx, cfg, tags)
    fn = _function(ctx, resource)
    return dict(fn.data.get(TAGS) or {}), lambda tags: ctx.lamb.functions.put_data(fn.name, {**fn.data, TAGS: tags})


@operation("TagResource")
def tag_resource(ctx: "RequestContext", params: dict) -> dict:
    current, save = _target(ctx, params["Resource"])
    tags = {**current, **params["Tags"]}
    if len(tags) > ctx.lamb.settings.limits.tags_per_resource:
        raise invalid_parameter("Number of tags exceeds resource tag limit.")
    save(tags)
    return {}


@operation("UntagResource")
def untag_resource(ctx: "RequestContext", params: dict) -> dict:
    current, save = _target(ctx, params["Resource"])
    drop = set(params["TagKeys"])
    save({k: v for k, v in current.items() if k not in drop})
    return {}


@operation("ListTags")
def list_tags(ctx: "RequestContext", params: dict) -> dict:
    current, _ = _target(ctx, params["Resource"])
    return {TAGS: current}
