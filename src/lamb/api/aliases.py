"""Aliases: CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases.

https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html: an alias
points to one version ($LATEST or a published one, never another alias) and,
with ``RoutingConfig.AdditionalVersionWeights``, sends a share (0..1) of the
invocations to a second version. A weighted alias needs two different published
versions with the same execution role and dead-letter queue configuration; it
cannot point to $LATEST. Each change gets a new RevisionId, which UpdateAlias
honours as a precondition. An alias with provisioned concurrency is not re-pointed
to $LATEST nor to a version with a provisioned config of its own, and its
provisioned environments follow it to the new version (``concurrency`` module).
Invoking an alias is resolved in ``FunctionStore.resolve(route=True)`` from the
alias's precomputed ``Route``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..arn import LATEST, function_arn, require_unqualified
from ..events import invoke_config
from ..protocol.errors import conflict, invalid_parameter, not_found
from ..services import provisioning
from . import concurrency, operation
from . import configuration as conf
from .common import check_revision, function_of, paginate

if TYPE_CHECKING:
    from .context import RequestContext
    from ..store.functions import Function


def _alias_arn(ctx: "RequestContext", function: str, alias: str) -> str:
    s = ctx.lamb.settings
    return function_arn(s.region, s.account_id, function, alias)


def _target(ctx: "RequestContext", fn: "Function", version: str) -> dict:
    config = fn.versions.get(version)
    if config is None:
        raise ctx.lamb.functions.not_found(fn.name, version)
    return config


def routing_config(versions: dict[str, dict], primary: str, routing: dict | None, arn_of) -> dict | None:
    """Validate ``RoutingConfig`` for an alias pointing to ``primary``; the config to store
    (None when there is no second version). ``versions`` maps the function's versions to
    their configurations; ``arn_of(version)`` names a version in not-found messages."""
    weights = (routing or {}).get("AdditionalVersionWeights") or {}
    if not weights:
        return None
    if len(weights) > 1:
        raise invalid_parameter("Number of items in AdditionalVersionWeights cannot be greater than 1")
    (extra, weight), = weights.items()
    if extra == primary:
        raise invalid_parameter(
            f"Invalid function version {primary}. Function version {primary} is already included in routing configuration."
        )
    if primary == LATEST:
        raise invalid_parameter("$LATEST is not supported for an alias pointing to more than 1 version")
    if extra not in versions:
        raise not_found(f"Function not found: {arn_of(extra)}")
    a, b = versions[primary], versions[extra]
    if a.get("Role") != b.get("Role"):
        raise invalid_parameter("Specified versions must be associated with the same execution role")
    if (a.get("DeadLetterConfig") or {}).get("TargetArn") != (b.get("DeadLetterConfig") or {}).get("TargetArn"):
        raise invalid_parameter("Specified versions must be associated with the same dead-letter queue configuration")
    return {"AdditionalVersionWeights": {extra: float(weight)}}


def _function(ctx: "RequestContext", params: dict, op: str, what: str | None = None) -> "Function":
    ref, fn = function_of(ctx, params, what=what)
    require_unqualified(ref, op)
    return fn


@operation("CreateAlias")
def create_alias(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    primary = params["FunctionVersion"]
    fn = _function(ctx, params, "CreateAlias", what=primary)
    _target(ctx, fn, primary)
    name = params["Name"]
    if name in fn.aliases:
        raise conflict(f"Alias already exists: {_alias_arn(ctx, fn.name, name)}")
    routing = routing_config(fn.versions, primary, params.get("RoutingConfig"), lambda v: _alias_arn(ctx, fn.name, v))
    alias = {
        "AliasArn": _alias_arn(ctx, fn.name, name),
        "Name": name,
        "FunctionVersion": primary,
        "Description": params.get("Description") or "",
        "RevisionId": conf.new_revision(),
    }
    if routing is not None:
        alias["RoutingConfig"] = routing
    return dict(lamb.functions.put_alias(fn.name, alias))


def _existing(ctx: "RequestContext", fn: "Function", name: str, message: str) -> dict:
    alias = fn.aliases.get(name)
    if alias is None:
        raise not_found(f"{message}: {_alias_arn(ctx, fn.name, name)}")
    return alias


@operation("GetAlias")
def get_alias(ctx: "RequestContext", params: dict) -> dict:
    fn = _function(ctx, params, "GetAlias")
    return dict(_existing(ctx, fn, params["Name"], "Cannot find alias arn"))


@operation("UpdateAlias")
def update_alias(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    fn = _function(ctx, params, "UpdateAlias")
    alias = _existing(ctx, fn, params["Name"], "Alias not found")
    check_revision(params, alias)
    primary = params.get("FunctionVersion") or alias["FunctionVersion"]
    _target(ctx, fn, primary)
    routing = params["RoutingConfig"] if params.get("RoutingConfig") is not None else alias.get("RoutingConfig")
    routing = routing_config(fn.versions, primary, routing, lambda v: _alias_arn(ctx, fn.name, v))
    before = alias["FunctionVersion"]
    if primary != before:
        concurrency.check_repoint(fn, alias["Name"], primary)
    new = dict(alias, FunctionVersion=primary, RevisionId=conf.new_revision())
    if params.get("Description") is not None:
        new["Description"] = params["Description"]
    new.pop("RoutingConfig", None)
    if routing is not None:
        new["RoutingConfig"] = routing
    out = dict(lamb.functions.put_alias(fn.name, new))
    if primary != before and alias["Name"] in provisioning.configs(fn):
        return _moved(ctx, fn, before, primary, out)
    return out


async def _moved(ctx: "RequestContext", fn: "Function", old: str, new: str, out: dict) -> dict:
    await ctx.lamb.provisioning.move(fn, old, new)
    return out


@operation("DeleteAlias")
def delete_alias(ctx: "RequestContext", params: dict) -> dict:
    """Deleting an alias that does not exist succeeds, as on AWS.

    The alias's event invoke config and provisioned concurrency go with it (AWS
    deletes them with the alias), so a new alias of the same name starts bare.
    """
    fn = _function(ctx, params, "DeleteAlias")
    name = params["Name"]
    if name in fn.aliases:
        version = fn.aliases[name].get("FunctionVersion")
        ctx.lamb.functions.delete_alias(fn.name, name)
        if invoke_config.get(fn, name) is not None or name in (fn.data.get(invoke_config.CONFIGS) or {}):
            invoke_config.put(ctx.lamb.functions, fn, name, None)
        if ctx.lamb.provisioning.forget(fn, name) and version in fn.versions:
            ctx.lamb.provisioning.apply(fn, version)
    return {}


@operation("ListAliases")
def list_aliases(ctx: "RequestContext", params: dict) -> dict:
    """Aliases in name order; ``FunctionVersion`` keeps those that invoke that version."""
    fn = _function(ctx, params, "ListAliases")
    version = params.get("FunctionVersion")
    rows = [
        fn.aliases[name]
        for name in sorted(fn.aliases)
        if version is None or version in fn.routes[name].versions()
    ]
    return paginate(ctx, params, rows, "Aliases", dict)
