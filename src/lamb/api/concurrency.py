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

from typing import TYPE_CHECKING

from ..arn import LATEST, function_arn, parse_function_name
from ..protocol.errors import AwsError, conflict, invalid_parameter, not_found
from ..services.provisioning import PROVISIONED, RESERVED, configs, provisioned_aliases, version_of
from . import configuration as conf
from . import operation
from .common import function_of, paginate

if TYPE_CHECKING:
    from .context import Services
    from .context import RequestContext
    from ..store.functions import Function


UNPUBLISHED = "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
NOT_ALIAS_OR_VERSION = "The function resource provided must be an alias or a published version."
ALIAS_ON_PROVISIONED_VERSION = (
    "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version"
)
VERSION_UNDER_PROVISIONED_ALIAS = "Version is pointed by a Provisioned Concurrency alias"
WEIGHTED_ALIAS = "Alias with weights can not be used with Provisioned Concurrency"
FUNCTIONS_ONLY = (  # PutFunctionConcurrency with any qualifier, even $LATEST
    "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. "
    "Please specify either a function name or an unqualified function ARN."
)


def _min_unreserved(lamb: "Services") -> int:
    return lamb.settings.limits.unreserved_concurrency_min


def _reserved_elsewhere(lamb: "Services", name: str) -> int:
    return sum(fn.data.get(RESERVED) or 0 for n, fn in lamb.functions.functions.items() if n != name)


def _provisioned_total(fn: "Function", skip: str | None = None) -> int:
    return sum(c["Requested"] for q, c in configs(fn).items() if q != skip)


def _provisioned_unreserved(lamb: "Services", skip_function: str | None = None) -> int:
    """Provisioned concurrency of functions without a reservation (it comes out of the shared pool)."""
    return sum(
        _provisioned_total(fn)
        for n, fn in lamb.functions.functions.items()
        if n != skip_function and fn.data.get(RESERVED) is None
    )


# ----------------------------------------------------------------- reserved
@operation("PutFunctionConcurrency")
def put_function_concurrency(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    s = lamb.settings
    if parse_function_name(params["FunctionName"], region=s.region, account_id=s.account_id).qualifier is not None:
        raise invalid_parameter(FUNCTIONS_ONLY)
    ref, fn = function_of(ctx, params, what=LATEST)  # "Function not found: ARN:$LATEST", as AWS answers
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
    lamb.provisioning.set_reserved(fn, value)
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
    lamb.provisioning.set_reserved(fn, None)
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
            raise ctx.lamb.functions.not_found(ref.name, qualifier)
        return fn, qualifier, qualifier
    route = fn.routes.get(qualifier) if fn is not None else None
    if route is None:
        raise not_found(f"Cannot find alias arn: {arn}")
    return fn, qualifier, route.version


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
    lamb.provisioning.put(fn, qualifier, {"Requested": requested, "LastModified": conf.last_modified()})
    return _start(lamb, fn, qualifier, version)


async def _start(lamb: "Services", fn: "Function", qualifier: str, version: str) -> dict:
    await lamb.provisioning.start(fn, version)
    return lamb.provisioning.status(fn, version, fn.data[PROVISIONED][qualifier])


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
    return ctx.lamb.provisioning.status(fn, version, record)


@operation("DeleteProvisionedConcurrencyConfig")
def delete_provisioned_concurrency_config(ctx: "RequestContext", params: dict) -> dict:
    """Deleting a config that does not exist succeeds, as on AWS."""
    lamb = ctx.lamb
    fn, qualifier, version = _qualified(ctx, params, NOT_ALIAS_OR_VERSION)
    if lamb.provisioning.forget(fn, qualifier):
        lamb.provisioning.apply(fn, version)
    return {"StatusCode": 204}


@operation("ListProvisionedConcurrencyConfigs")
def list_provisioned_concurrency_configs(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    s = lamb.settings
    _, fn = function_of(ctx, params)
    rows = []
    for qualifier, record in sorted(configs(fn).items()):
        version = version_of(fn, qualifier)
        rows.append({"FunctionArn": function_arn(s.region, s.account_id, fn.name, qualifier),
                     **lamb.provisioning.status(fn, version, record)})
    return paginate(ctx, params, rows, "ProvisionedConcurrencyConfigs", lambda r: r)
