"""TagResource, UntagResource, ListTags for functions and event source mappings.

https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html: tags belong
to the function (not to a version or alias), at most 50 per resource. CreateFunction's
``Tags`` land in the same place, and GetFunction returns them. Tagging and untagging give
the function a new RevisionId, as AWS does.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable

from ..arn import LATEST, parse_function_name
from ..protocol.errors import invalid_parameter, not_found
from . import code_signing as csc
from . import event_source_mappings as esm
from . import operation

if TYPE_CHECKING:
    from .context import RequestContext
    from ..store.functions import Function

TAGS = "Tags"


# Other taggable Lambda resources Lamb does not have yet: each such ARN is not found
# (AWS's message: "Capacity provider not found: ARN").
OTHER_RESOURCES = (
    (re.compile(r"arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:capacity-provider:.+"), "Capacity provider"),
)
MAPPING = re.compile(r"arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:event-source-mapping:.+")
CODE_SIGNING_CONFIG = re.compile(r"arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:code-signing-config:.+")


def _function(ctx: "RequestContext", resource: str) -> "Function":
    for pattern, what in OTHER_RESOURCES:
        if pattern.fullmatch(resource):
            raise not_found(f"{what} not found: {resource}")
    s = ctx.lamb.settings
    ref = parse_function_name(resource, region=s.region, account_id=s.account_id)
    if ref.qualifier is not None:
        raise invalid_parameter("Tags on function aliases and versions are not supported. Please specify a function ARN.")
    return ctx.lamb.functions.function(ref.name)[1]


def _target(ctx: "RequestContext", resource: str) -> tuple[dict, Callable[[dict], None]]:
    """The tags of the resource (a function or an event source mapping) and how to save new ones;
    as on AWS, tagging a function gives it ($LATEST) a new RevisionId."""
    if MAPPING.fullmatch(resource):
        cfg = esm.tags_of(ctx, resource)
        return dict(cfg.get("_Tags") or {}), lambda tags: esm.put_tags(ctx, cfg, tags)
    if CODE_SIGNING_CONFIG.fullmatch(resource):
        return csc.tags_of(ctx, resource), lambda tags: csc.put_tags(ctx, resource, tags)
    fn = _function(ctx, resource)

    def save(tags: dict) -> None:
        ctx.lamb.functions.update_data(fn.name, **{TAGS: tags})
        ctx.lamb.functions.put_version(fn.name, LATEST, ctx.lamb.states.touched(fn.latest))

    return dict(fn.data.get(TAGS) or {}), save


@operation("TagResource")
def tag_resource(ctx: "RequestContext", params: dict) -> dict:
    current, save = _target(ctx, params["Resource"])
    if not params["Tags"]:
        raise invalid_parameter("An error occurred and the request cannot be processed.")
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
