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

Both are stored with the function (``Function.data``) and re-applied at start.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..arn import LATEST, function_arn
from ..protocol.errors import AwsError, invalid_parameter, not_found
from . import configuration as conf
from . import operation
from .functions import function_of, paginate

if TYPE_CHECKING:
    from ..app import Lamb
    from ..gateway import RequestContext
    from ..store.functions import Function

log = logging.getLogger("lamb.concurrency")

RESERVED = "ReservedConcurrentExecutions"
PROVISIONED = "ProvisionedConcurrency"  # qualifier -> {"Requested": n, "LastModified": ...}


def _min_unreserved(lamb: "Lamb") -> int:
    return lamb.settings.limits.unreserved_concurrency_min


def _reserved_elsewhere(lamb: "Lamb", name: str) -> int:
    return sum(fn.data.get(RESERVED) or 0 for n, fn in lamb.functions.functions.items() if n != name)


def _provisioned_total(fn: "Function", skip: str | None = None) -> int:
    return sum(c["Requested"] for q, c in (fn.data.get(PROVISIONED) or {}).items() if q != skip)


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
def _qualified(ctx: "RequestContext", params: dict) -> tuple["Function", str, str]:
    """(function, qualifier, version it stands for); AWS's errors for $LATEST and unknown qualifiers."""
    s = ctx.lamb.settings
    ref, fn = function_of(ctx, params)
    qualifier = params.get("Qualifier") or ref.qualifier
    if ref.qualifier and params.get("Qualifier") and ref.qualifier != params["Qualifier"]:
        raise invalid_parameter("The derived qualifier from the function name does not match the specified qualifier.")
    if not qualifier or qualifier == LATEST:
        raise invalid_parameter("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
    if qualifier in fn.versions:
        return fn, qualifier, qualifier
    route = fn.routes.get(qualifier)
    if route is None:
        raise not_found(f"Function not found: {function_arn(s.region, s.account_id, fn.name, qualifier)}")
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
    target = sum(
        c["Requested"] for q, c in (fn.data.get(PROVISIONED) or {}).items()
        if (q if q in fn.versions else getattr(fn.routes.get(q), "version", None)) == version
    )
    pool = lamb.invoker.pools.get((fn.name, version))
    if target == 0 and pool is None:
        return
    lamb.invoker.provision(fn.name, version, fn.versions[version], target)


@operation("PutProvisionedConcurrencyConfig")
def put_provisioned_concurrency_config(ctx: "RequestContext", params: dict):
    lamb = ctx.lamb
    fn, qualifier, version = _qualified(ctx, params)
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
    configs = dict(fn.data.get(PROVISIONED) or {})
    configs[qualifier] = {"Requested": requested, "LastModified": conf.last_modified()}
    _save(lamb, fn, **{PROVISIONED: configs})
    return _start(lamb, fn, qualifier, version)


async def _start(lamb: "Lamb", fn: "Function", qualifier: str, version: str) -> dict:
    await lamb.runtimes.prepare(fn.versions[version]["Runtime"])
    apply_provisioned(lamb, fn, version)
    return _status(lamb, fn, qualifier, version, fn.data[PROVISIONED][qualifier])


@operation("GetProvisionedConcurrencyConfig")
def get_provisioned_concurrency_config(ctx: "RequestContext", params: dict) -> dict:
    fn, qualifier, version = _qualified(ctx, params)
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
    lamb = ctx.lamb
    fn, qualifier, version = _qualified(ctx, params)
    configs = dict(fn.data.get(PROVISIONED) or {})
    if configs.pop(qualifier, None) is None:
        raise AwsError(
            "ProvisionedConcurrencyConfigNotFoundException",
            "No Provisioned Concurrency Config found for this function",
            404,
        )
    _save(lamb, fn, **{PROVISIONED: configs or None})
    apply_provisioned(lamb, fn, version)
    return {"StatusCode": 204}


@operation("ListProvisionedConcurrencyConfigs")
def list_provisioned_concurrency_configs(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    s = lamb.settings
    _, fn = function_of(ctx, params)
    rows = []
    for qualifier, record in sorted((fn.data.get(PROVISIONED) or {}).items()):
        version = qualifier if qualifier in fn.versions else getattr(fn.routes.get(qualifier), "version", None)
        if version is None:
            continue
        rows.append({"FunctionArn": function_arn(s.region, s.account_id, fn.name, qualifier),
                     **_status(lamb, fn, qualifier, version, record)})
    return paginate(ctx, params, rows, "ProvisionedConcurrencyConfigs", lambda r: r)


def restore(lamb: "Lamb") -> None:
    """At start: reservations into the limiter, provisioned environments started again."""
    for fn in lamb.functions.functions.values():
        if fn.data.get(RESERVED) is not None:
            lamb.invoker.concurrency.set_reserved(fn.name, fn.data[RESERVED])
        versions = set()
        for q in fn.data.get(PROVISIONED) or {}:
            v = q if q in fn.versions else getattr(fn.routes.get(q), "version", None)
            if v is not None:
                versions.add(v)
        for v in versions:
            async def start(fn=fn, v=v) -> None:
                try:
                    await lamb.runtimes.prepare(fn.versions[v]["Runtime"])
                    apply_provisioned(lamb, fn, v)
                except Exception as e:
                    log.warning("provisioned concurrency of %s:%s not restored: %s", fn.name, v, e)

            lamb.spawn(start())
