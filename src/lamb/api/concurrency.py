"""Reserved and provisioned concurrency.

https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html and
https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html:

* PutFunctionConcurrency reserves concurrency for a function: it caps the function
  and is taken out of the account's shared pool, which may not fall below 100
  (UnreservedConcurrentExecutions). Reserved 0 throttles every invocation.
* PutProvisionedConcurrencyConfig keeps that many environments of a published
  version (or of the version an alias points to) initialised. Not on $LATEST.
  Provisioned concurrency counts against the function's reservation, or the
  shared pool's 100 minimum when it has none. Status is IN_PROGRESS until every
  environment finished Init, then READY (FAILED when Init fails).

Where a config may live (https://docs.aws.amazon.com/lambda/latest/api/API_PutProvisionedConcurrencyConfig.html,
"ResourceConflictException" / "InvalidParameterValueException"). AWS keeps one
config per set of environments, so it never adds an alias's config to its
version's; it refuses instead:

* an alias whose version already has a config of its own: ResourceConflictException
  "Alias can't be used for Provisioned Concurrency configuration on an already
  Provisioned version"; a version that an alias with a config points to:
  ResourceConflictException "Version is pointed by a Provisioned Concurrency alias"
  (both recorded from AWS in LocalStack's snapshot tests, test_lambda_api.snapshot.json
  ``test_lambda_provisioned_lifecycle``);
* an alias with a ``RoutingConfig``: InvalidParameterValueException "Alias with
  weights can not be used with Provisioned Concurrency" (AWS's answer quoted in
  hashicorp/terraform#24957);
* an alias pointing to $LATEST: refused (zappa/Zappa#1289: "you cannot use
  provisioned concurrency on $LATEST, even when aliased"); the message is Lamb's
  guess, the one AWS gives for $LATEST itself.

UpdateAlias keeps these true (``aliases.update_alias``): an alias with a config is
not re-pointed to $LATEST nor to a version with a config of its own (guessed
messages, see docs/status.md), and its environments move to the new version.
Weights may be added to such an alias, as CodeDeploy's canary deployments do (the
API reference: "When a weighted alias is used during linear and canary
deployments, this value fluctuates"); Lamb keeps the environments on the alias's
primary version.

Errors recorded from AWS: Get/Delete on $LATEST "The function resource provided
must be an alias or a published version."; an unknown alias "Cannot find alias
arn: <arn>", an unknown version "Function not found: <arn>" (even when the
function itself does not exist); deleting a config that does not exist succeeds.

Both are stored with the function (``Function.data``) and re-applied at start.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..arn import LATEST, function_arn, parse_function_name
from ..protocol.errors import AwsError, conflict, invalid_parameter, not_found
from . import configuration as conf
from . import operation
from .functions import function_of, paginate

if TYPE_CHECKING:
    from ..app import Lamb
    from .context import RequestContext
    from ..store.functions import Function

log = logging.getLogger("lamb.concurrency")

RESERVED = "ReservedConcurrentExecutions"
PROVISIONED = "ProvisionedConcurrency"  # qualifier -> {"Requested": n, "LastModified": ...}

UNPUBLISHED = "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
NOT_ALIAS_OR_VERSION = "The function resource provided must be an alias or a published version."
ALIAS_ON_PROVISIONED_VERSION = (
    "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version"
)
VERSION_UNDER_PROVISIONED_ALIAS = "Version is pointed by a Provisioned Concurrency alias"
WEIGHTED_ALIAS = "Alias with weights can not be used with Provisioned Concurrency"


def version_of(fn: "Function", qualifier: str) -> str | None:
    """The version a config's qualifier (a version or an alias) stands for; None once it is gone."""
    if qualifier in fn.versions:
        return qualifier
    route = fn.routes.get(qualifier)
    return route.version if route is not None else None


def configs(fn: "Function") -> dict[str, dict]:
    """The function's provisioned configs whose version or alias still exists."""
    return {q: c for q, c in (fn.data.get(PROVISIONED) or {}).items() if version_of(fn, q) is not None}


def provisioned_aliases(fn: "Function", version: str) -> list[str]:
    """Aliases with a provisioned config of their own that point to ``version``."""
    return sorted(q for q in configs(fn) if q in fn.routes and fn.routes[q].version == version)


def _min_unreserved(lamb: "Lamb") -> int:
    return lamb.settings.limits.unreserved_concurrency_min


def _reserved_elsewhere(lamb: "Lamb", name: str) -> int:
    return sum(fn.data.get(RESERVED) or 0 for n, fn in lamb.functions.functions.items() if n != name)


def _provisioned_total(fn: "Function", skip: str | None = None) -> int:
    return sum(c["Requested"] for q, c in configs(fn).items() if q != skip)


def _provisioned_unreserved(lamb: "Lamb", skip_function: str | None = None) -> int:
    """Provisioned concurrency of functions without a reservation (it comes out of the shared pool)."""
    return sum(
        _provisioned_total(fn)
        for n, fn in lamb.functions.functions.items()
        if n != skip_function and fn.data.get(RESERVED) is None
    )


def _save(lamb: "Lamb", fn: "Function", **changes) -> None:
    data = dict(fn.data)
    for k, v in changes.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    lamb.functions.put_data(fn.name, data)


# ----------------------------------------------------------------- reserved
@operation("PutFunctionConcurrency")
def put_function_concurrency(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    ref, fn = function_of(ctx, params)
    value = params[RESERVED]
    limits = lamb.settings.limits
    if limits.account_concurrency - _reserved_elsewhere(lamb, fn.name) - value < _min_unreserved(lamb):
        raise invalid_parameter(
            "Specified ReservedConcurrentExecutions for function decreases account's "
            f"UnreservedConcurrentExecution below its minimum value of [{_min_unreserved(lamb)}]."
        )
    if value < _provisioned_total(fn):
        raise invalid_parameter(
            "Specified ReservedConcurrentExecutions for function is less than the function's total "
            f"provisioned concurrency [{_provisioned_total(fn)}]."
        )
    _save(lamb, fn, **{RESERVED: value})
    lamb.invoker.concurrency.set_reserved(fn.name, value)
    return {RESERVED: value}


@operation("GetFunctionConcurrency")
def get_function_concurrency(ctx: "RequestContext", params: dict) -> dict:
    _, fn = function_of(ctx, params)
    value = fn.data.get(RESERVED)
    return {} if value is None else {RESERVED: value}


@operation("DeleteFunctionConcurrency")
def delete_function_concurrency(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    _, fn = function_of(ctx, params)
    _save(lamb, fn, **{RESERVED: None})
    lamb.invoker.concurrency.set_reserved(fn.name, None)
    return {"StatusCode": 204}


# -------------------------------------------------------------- provisioned
def _qualified(ctx: "RequestContext", params: dict, latest_message: str) -> tuple["Function", str, str]:
    """(function, qualifier, version it stands for), with AWS's errors: ``latest_message``
    for $LATEST, "Cannot find alias arn" for an unknown alias and "Function not found"
    for an unknown version, naming the qualified ARN even when the function is unknown."""
    s = ctx.lamb.settings
    ref = parse_function_name(params["FunctionName"], params.get("Qualifier"), region=s.region, account_id=s.account_id)
    qualifier = ref.qualifier
    if not qualifier or qualifier == LATEST:
        raise invalid_parameter(latest_message)
    arn = function_arn(s.region, s.account_id, ref.name, qualifier)
    fn = ctx.lamb.functions.get(ref.name)
    if qualifier.isdigit():
        if fn is None or qualifier not in fn.versions:
            raise not_found(f"Function not found: {arn}")
        return fn, qualifier, qualifier
    route = fn.routes.get(qualifier) if fn is not None else None
    if route is None:
        raise not_found(f"Cannot find alias arn: {arn}")
    return fn, qualifier, route.version


def _status(lamb: "Lamb", fn: "Function", qualifier: str, version: str, record: dict) -> dict:
    pool = lamb.invoker.pools.get((fn.name, version))
    requested = record["Requested"]
    allocated = min(requested, pool.provisioned_ready()) if pool is not None else 0
    out = {
        "RequestedProvisionedConcurrentExecutions": requested,
        "AvailableProvisionedConcurrentExecutions": allocated,
        "AllocatedProvisionedConcurrentExecutions": allocated,
        "LastModified": record["LastModified"],
    }
    error = pool.provision_error if pool is not None else record.get("Error")
    if error:
        out["Status"] = "FAILED"
        out["StatusReason"] = f"Provisioned Concurrency configuration failed to be applied. Reason: {error}."
    else:
        out["Status"] = "READY" if allocated >= requested else "IN_PROGRESS"
    return out


def apply_provisioned(lamb: "Lamb", fn: "Function", version: str) -> None:
    """Start (or stop) the provisioned environments of one version from the stored configs."""
    target = sum(c["Requested"] for q, c in configs(fn).items() if version_of(fn, q) == version)
    pool = lamb.invoker.pools.get((fn.name, version))
    if target == 0 and pool is None:
        return
    lamb.invoker.provision(fn.name, version, fn.versions[version], target)


def check_placement(fn: "Function", qualifier: str, version: str) -> None:
    """AWS's rules for where a config may live: an alias without weights, on a published
    version without a config of its own; a version no provisioned alias points to."""
    own = configs(fn)
    route = fn.routes.get(qualifier) if qualifier not in fn.versions else None
    if route is not None:
        if route.extra is not None:
            raise invalid_parameter(WEIGHTED_ALIAS)
        if version == LATEST:
            raise invalid_parameter(UNPUBLISHED)
        if version in own:
            raise conflict(ALIAS_ON_PROVISIONED_VERSION)
    elif provisioned_aliases(fn, version):
        raise conflict(VERSION_UNDER_PROVISIONED_ALIAS)


def check_repoint(fn: "Function", alias: str, version: str) -> None:
    """UpdateAlias re-pointing ``alias`` to ``version``: an alias with a config keeps to
    AWS's placement rules. AWS's answer here is not recorded anywhere Lamb found; the
    errors are the ones PutProvisionedConcurrencyConfig gives for the same state."""
    if alias not in configs(fn):
        return
    if version == LATEST:
        raise invalid_parameter(UNPUBLISHED)
    if version in configs(fn):
        raise conflict(ALIAS_ON_PROVISIONED_VERSION)


async def move(lamb: "Lamb", fn: "Function", old: str, new: str) -> None:
    """An alias with a config now points to ``new``: its environments leave ``old``."""
    if old in fn.versions:
        apply_provisioned(lamb, fn, old)
    await lamb.runtimes.prepare(fn.versions[new]["Runtime"])
    apply_provisioned(lamb, fn, new)


@operation("PutProvisionedConcurrencyConfig")
def put_provisioned_concurrency_config(ctx: "RequestContext", params: dict):
    lamb = ctx.lamb
    fn, qualifier, version = _qualified(ctx, params, UNPUBLISHED)
    check_placement(fn, qualifier, version)
    requested = params["ProvisionedConcurrentExecutions"]
    reserved = fn.data.get(RESERVED)
    others = _provisioned_total(fn, skip=qualifier)
    if reserved is not None:
        if others + requested > reserved:
            raise invalid_parameter(
                "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function"
            )
    else:
        limits = lamb.settings.limits
        free = limits.account_concurrency - _reserved_elsewhere(lamb, fn.name) - _provisioned_unreserved(lamb, fn.name)
        if free - others - requested < _min_unreserved(lamb):
            raise invalid_parameter(
                "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
                f"below its minimum value of [{_min_unreserved(lamb)}]."
            )
    stored = dict(fn.data.get(PROVISIONED) or {})
    stored[qualifier] = {"Requested": requested, "LastModified": conf.last_modified()}
    _save(lamb, fn, **{PROVISIONED: stored})
    return _start(lamb, fn, qualifier, version)


async def _start(lamb: "Lamb", fn: "Function", qualifier: str, version: str) -> dict:
    await lamb.runtimes.prepare(fn.versions[version]["Runtime"])
    apply_provisioned(lamb, fn, version)
    return _status(lamb, fn, qualifier, version, fn.data[PROVISIONED][qualifier])


@operation("GetProvisionedConcurrencyConfig")
def get_provisioned_concurrency_config(ctx: "RequestContext", params: dict) -> dict:
    fn, qualifier, version = _qualified(ctx, params, NOT_ALIAS_OR_VERSION)
    record = (fn.data.get(PROVISIONED) or {}).get(qualifier)
    if record is None:
        raise AwsError(
            "ProvisionedConcurrencyConfigNotFoundException",
            "No Provisioned Concurrency Config found for this function",
            404,
        )
    return _status(ctx.lamb, fn, qualifier, version, record)


@operation("DeleteProvisionedConcurrencyConfig")
def delete_provisioned_concurrency_config(ctx: "RequestContext", params: dict) -> dict:
    """Deleting a config that does not exist succeeds, as on AWS."""
    lamb = ctx.lamb
    fn, qualifier, version = _qualified(ctx, params, NOT_ALIAS_OR_VERSION)
    if forget(lamb, fn, qualifier):
        apply_provisioned(lamb, fn, version)
    return {"StatusCode": 204}


def forget(lamb: "Lamb", fn: "Function", qualifier: str) -> bool:
    """Drop the stored config of ``qualifier`` (also when its version is deleted); False if none."""
    stored = dict(fn.data.get(PROVISIONED) or {})
    if stored.pop(qualifier, None) is None:
        return False
    _save(lamb, fn, **{PROVISIONED: stored or None})
    return True


@operation("ListProvisionedConcurrencyConfigs")
def list_provisioned_concurrency_configs(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    s = lamb.settings
    _, fn = function_of(ctx, params)
    rows = []
    for qualifier, record in sorted(configs(fn).items()):
        version = version_of(fn, qualifier)
        rows.append({"FunctionArn": function_arn(s.region, s.account_id, fn.name, qualifier),
                     **_status(lamb, fn, qualifier, version, record)})
    return paginate(ctx, params, rows, "ProvisionedConcurrencyConfigs", lambda r: r)


def restore(lamb: "Lamb") -> None:
    """At start: reservations into the limiter, provisioned environments started again."""
    for fn in lamb.functions.functions.values():
        if fn.data.get(RESERVED) is not None:
            lamb.invoker.concurrency.set_reserved(fn.name, fn.data[RESERVED])
        for v in {version_of(fn, q) for q in configs(fn)}:
            async def start(fn=fn, v=v) -> None:
                try:
                    await lamb.runtimes.prepare(fn.versions[v]["Runtime"])
                    apply_provisioned(lamb, fn, v)
                except Exception as e:
                    log.warning("provisioned concurrency of %s:%s not restored: %s", fn.name, v, e)

            lamb.spawn(start())
