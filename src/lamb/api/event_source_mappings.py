"""Create/Get/Update/Delete/ListEventSourceMappings.

https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html and its
siblings. Create/Update/Delete answer 202 with the mapping in a transitional state
(``Creating``, ``Enabling``, ``Disabling``, ``Updating``, ``Deleting``) and the source
manager settles it once the poller caught up (``lamb.sources.mappings``). Per-source
parameter rules are in ``lamb.sources.params``; filter patterns are compiled here so a
bad one is refused (``Invalid filter pattern definition.``). At create time the source
must exist and, for SQS, its visibility timeout must be at least the function's timeout.

Errors recorded from AWS (LocalStack's AWS-validated snapshots): an unknown UUID is
``ResourceNotFoundException: The resource you requested does not exist.``; an unknown
function ``InvalidParameterValueException: Function does not exist``; a second mapping
of one queue to one function ``ResourceConflictException`` naming the first one's UUID.
"""

from __future__ import annotations

import time
import uuid as uuidlib
from typing import TYPE_CHECKING

from ..arn import LATEST, function_arn, parse_function_name
from ..protocol._timestamps import parse_timestamp
from ..protocol.errors import AwsError, conflict, invalid_parameter, not_found
from ..sources import filter_encryption as fe
from ..sources import mappings as m
from ..sources import params as p
from ..sources.filtering import INVALID_PATTERN, FilterError, compile_criteria
from . import operation
from .common import paginate

if TYPE_CHECKING:
    from .context import RequestContext

NOT_FOUND = "The resource you requested does not exist."
# Request members that are not configuration members of the mapping.
_NOT_STORED = ("FunctionName", "Enabled", "Tags", "UUID")


def mapping_arn(region: str, account_id: str, uuid: str) -> str:
    return f"arn:aws:lambda:{region}:{account_id}:event-source-mapping:{uuid}"


def _mapping(ctx: "RequestContext", uuid: str) -> dict:
    cfg = ctx.lamb.mappings.get(uuid)
    if cfg is None:
        raise not_found(NOT_FOUND)
    return cfg


def _function(ctx: "RequestContext", name: str) -> tuple[str, str | None, int, str]:
    """(function name, qualifier, its timeout, FunctionArn as the request named it)."""
    s = ctx.lamb.settings
    try:
        ref = parse_function_name(name, region=s.region, account_id=s.account_id)
    except AwsError as e:
        if e.code == "ResourceNotFoundException":
            raise invalid_parameter("Function does not exist")
        raise
    fn = ctx.lamb.functions.get(ref.name)
    if fn is None:
        raise invalid_parameter("Function does not exist")
    qualifier = ref.qualifier
    config = fn.versions.get(qualifier or LATEST)
    if config is None:
        route = fn.routes.get(qualifier or "")
        if route is None:
            raise not_found(f"Function not found: {function_arn(s.region, s.account_id, ref.name, qualifier)}")
        config = fn.versions[route.version]
    return ref.name, qualifier, int(config.get("Timeout") or s.limits.timeout_default_s), \
        function_arn(s.region, s.account_id, ref.name, qualifier)


def _filters(ctx: "RequestContext", criteria: dict | None) -> None:
    try:
        compile_criteria(criteria, ctx.lamb.settings.limits.event_filters_per_mapping)
    except FilterError:
        raise invalid_parameter(INVALID_PATTERN)


def _members(params: dict) -> dict:
    out = {k: v for k, v in params.items() if k not in _NOT_STORED and v is not None}
    if "StartingPositionTimestamp" in out:
        out["StartingPositionTimestamp"] = parse_timestamp(out["StartingPositionTimestamp"]).timestamp()
    if "FilterCriteria" in out and not (out["FilterCriteria"] or {}).get("Filters"):
        out["FilterCriteria"] = None  # no filters: the member is not shown
    return out


def _drop_none(cfg: dict) -> dict:
    return {k: v for k, v in cfg.items() if v is not None}


def _duplicate(ctx: "RequestContext", source: p.Source, fn_arn: str, fn_name: str, skip: str | None = None,
               queues: list | None = None) -> None:
    """One mapping per source and function (per broker queue for Amazon MQ)."""
    for other in ctx.lamb.mappings.all():
        if other["UUID"] != skip and other["EventSourceArn"] == source.arn and other["FunctionArn"] == fn_arn \
                and other.get("State") != m.DELETING and other.get("Queues") == queues:
            if source.kind in p.STREAMS:
                raise conflict(f'The event source arn (" {source.arn} ") and function (" {fn_name} ") provided mapping '
                               f'already exists. Please update or delete the existing mapping with UUID {other["UUID"]}')
            raise conflict(f'An event source mapping with SQS arn (" {source.arn} ") and function (" {fn_name} ") '
                           f'already exists. Please update or delete the existing mapping with UUID {other["UUID"]}')


def _kind(ctx: "RequestContext", source: p.Source):
    kind = ctx.lamb.sources.kinds.get(source.kind)
    if kind is None:
        raise invalid_parameter(f"This Lamb server has no poller for {source.kind} event sources.")
    return kind


@operation("CreateEventSourceMapping")
async def create_event_source_mapping(ctx: "RequestContext", params: dict) -> dict:
    s = ctx.lamb.settings
    dest = params.get("DestinationConfig") or {}
    if (dest.get("OnSuccess") or {}).get("Destination"):
        raise invalid_parameter("Unsupported DestinationConfig parameter for given event source mapping type.")
    source = p.source_of(params.get("EventSourceArn"))
    members = _members(params)
    merged = _drop_none({**p.defaults(source.kind), **members})
    p.check(source, params, merged, s.limits)
    _filters(ctx, params.get("FilterCriteria"))
    name, qualifier, timeout, fn_arn = _function(ctx, params["FunctionName"])
    queues = params.get("Queues")
    _duplicate(ctx, source, fn_arn, params["FunctionName"], queues=queues)
    kind = _kind(ctx, source)
    await kind.check(source.arn, timeout, {"FunctionArn": fn_arn})  # as the function's role
    _duplicate(ctx, source, fn_arn, params["FunctionName"], queues=queues)  # again: another create may have won meanwhile
    uuid = str(uuidlib.uuid4())
    enabled = params.get("Enabled")
    enabled = True if enabled is None else bool(enabled)
    now = time.time()
    cfg = {
        **merged,
        "UUID": uuid,
        "EventSourceArn": source.arn,
        "EventSourceMappingArn": mapping_arn(s.region, s.account_id, uuid),
        "FunctionArn": fn_arn,
        "LastModified": now,
        "State": m.state_after_create(enabled),
        "_Enabled": enabled, "_Function": name, "_Qualifier": qualifier, "_Kind": source.kind,
        "_Tags": dict(params.get("Tags") or {}), "_Created": now,
    }
    if len(cfg["_Tags"]) > s.limits.tags_per_resource:
        raise invalid_parameter("Number of tags exceeds resource tag limit.")
    criteria = cfg.get("FilterCriteria")
    cfg = await fe.seal(ctx.lamb.filter_crypto, cfg, None, True)  # KMSKeyArn: only ciphertext is stored
    ctx.lamb.mappings.put(cfg)
    ctx.lamb.sources.apply(uuid)
    return m.view(fe.with_criteria(cfg, criteria))


@operation("GetEventSourceMapping")
async def get_event_source_mapping(ctx: "RequestContext", params: dict) -> dict:
    cfg = _mapping(ctx, params["UUID"])
    return await fe.shown(ctx.lamb.filter_crypto, m.view(cfg), cfg)


@operation("UpdateEventSourceMapping")
async def update_event_source_mapping(ctx: "RequestContext", params: dict) -> dict:
    s = ctx.lamb.settings
    cfg = _mapping(ctx, params["UUID"])
    if cfg.get("State") == m.DELETING:
        raise AwsError("ResourceInUseException", "Cannot update the event source mapping because it is in use.")
    source = p.source_of(cfg["EventSourceArn"])
    members = _members(params)
    merged = _drop_none({**cfg, **members})  # FilterCriteria without filters is removed
    p.check(source, params, merged, s.limits)
    _filters(ctx, params.get("FilterCriteria"))
    if params.get("FunctionName"):
        name, qualifier, timeout, fn_arn = _function(ctx, params["FunctionName"])
        _duplicate(ctx, source, fn_arn, params["FunctionName"], skip=cfg["UUID"], queues=cfg.get("Queues"))
        if fn_arn != cfg["FunctionArn"]:
            await _kind(ctx, source).check(source.arn, timeout, {"FunctionArn": fn_arn})
        merged.update(FunctionArn=fn_arn, _Function=name, _Qualifier=qualifier)
    enabled = params.get("Enabled")
    merged["State"] = m.state_after_update(cfg.get("_Enabled", True), enabled)
    if enabled is not None:
        merged["_Enabled"] = bool(enabled)
    merged["LastModified"] = time.time()
    given = "FilterCriteria" in members
    merged = await fe.seal(ctx.lamb.filter_crypto, merged, cfg, given)
    ctx.lamb.mappings.put(merged)
    ctx.lamb.sources.apply(cfg["UUID"])
    return await fe.shown(ctx.lamb.filter_crypto, m.view(merged), merged)


@operation("DeleteEventSourceMapping")
async def delete_event_source_mapping(ctx: "RequestContext", params: dict) -> dict:
    cfg = _mapping(ctx, params["UUID"])
    cfg = ctx.lamb.mappings.put({**cfg, "State": m.DELETING})
    ctx.lamb.sources.apply(cfg["UUID"])
    return await fe.shown(ctx.lamb.filter_crypto, m.view(cfg), cfg)


@operation("ListEventSourceMappings")
def list_event_source_mappings(ctx: "RequestContext", params: dict) -> dict:
    s = ctx.lamb.settings
    rows = ctx.lamb.mappings.all()
    if params.get("EventSourceArn"):
        rows = [r for r in rows if r["EventSourceArn"] == params["EventSourceArn"]]
    if params.get("FunctionName"):
        ref = parse_function_name(params["FunctionName"], region=s.region, account_id=s.account_id)
        rows = [r for r in rows if r.get("_Function") == ref.name
                and (ref.qualifier is None or r.get("_Qualifier") == ref.qualifier)]
    return paginate(ctx, params, rows, "EventSourceMappings", m.view, s.limits.event_source_mappings_page_max)


# ------------------------------------------------------------------ tags (api/tags.py)
def tags_of(ctx: "RequestContext", resource: str) -> dict:
    """The mapping an ``event-source-mapping`` ARN names; AWS's not-found error otherwise."""
    uuid = resource.rsplit(":", 1)[-1]
    cfg = ctx.lamb.mappings.get(uuid)
    if cfg is None or cfg.get("State") == m.DELETING:
        raise not_found(f"Event source mapping not found: {resource}")
    return cfg


def put_tags(ctx: "RequestContext", cfg: dict, tags: dict) -> None:
    ctx.lamb.mappings.update(cfg["UUID"], _Tags=tags)
