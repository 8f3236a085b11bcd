"""Error handling and destinations for asynchronous invocation, per function, version or alias.

PutFunctionEventInvokeConfig, UpdateFunctionEventInvokeConfig,
GetFunctionEventInvokeConfig, DeleteFunctionEventInvokeConfig and
ListFunctionEventInvokeConfigs
(https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html).

A config belongs to ``$LATEST`` (an unqualified name), a published version or an
alias, named in the function name or the ``Qualifier`` parameter. Put replaces the
whole config (settings left out are removed); Update changes only what it is given.
Ranges (retries 0-2, age 60-21600 s) are the model's constraints, checked by the
protocol layer. Destinations are a standard SQS queue, a standard SNS topic, an
EventBridge event bus, another Lambda function, or (on failure only) an S3 bucket.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..arn import LATEST, function_arn, is_version, parse_function_name
from ..events import invoke_config, record
from ..protocol.errors import AwsError, invalid_parameter, not_found
from . import operation
from .common import paginate, resolve

if TYPE_CHECKING:
    from .context import RequestContext
    from ..store.functions import Function

SETTINGS = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")


def _target(ctx: "RequestContext", params: dict) -> tuple["Function | None", str, str]:
    """The function (or None), the qualifier a config is kept under, and the function's name."""
    s = ctx.lamb.settings
    ref = parse_function_name(params["FunctionName"], params.get("Qualifier"), region=s.region, account_id=s.account_id)
    return ctx.lamb.functions.get(ref.name), ref.qualifier or LATEST, ref.name


def _exists(ctx: "RequestContext", fn: "Function", qualifier: str) -> bool:
    if qualifier in fn.versions:
        return True
    if is_version(qualifier):
        return False
    try:
        resolve(ctx, {"FunctionName": fn.name, "Qualifier": qualifier})
        return True
    except AwsError:
        return False


def _arn(ctx: "RequestContext", name: str, qualifier: str) -> str:
    s = ctx.lamb.settings
    return function_arn(s.region, s.account_id, name, qualifier)


def _no_config(ctx: "RequestContext", name: str, qualifier: str) -> AwsError:
    return not_found(f"The function {_arn(ctx, name, qualifier)} doesn't have an EventInvokeConfig")


def _require_some(params: dict) -> None:
    if all(params.get(k) is None for k in SETTINGS):
        raise invalid_parameter("You must specify at least one of error handling or destination setting.")


def _normalize(dc: dict | None) -> dict:
    dc = dc or {}
    out = {}
    for key in ("OnSuccess", "OnFailure"):
        dest = (dc.get(key) or {}).get("Destination")
        out[key] = {"Destination": dest} if dest else {}
    return out


def _check_destinations(ctx: "RequestContext", name: str, dc: dict) -> None:
    """AWS's validation of DestinationConfig: kinds of ARN, existing functions, no self-destination."""
    s = ctx.lamb.settings
    success = dc["OnSuccess"].get("Destination")
    failure = dc["OnFailure"].get("Destination")
    invalid = False
    for arn, on_failure in ((success, False), (failure, True)):
        if not arn:
            continue
        kind = record.destination_kind(arn, on_failure=on_failure)
        if kind is None:
            invalid = True
            continue
        if kind == "lambda":
            try:
                ref = parse_function_name(arn, region=s.region, account_id=s.account_id)
            except AwsError:
                raise invalid_parameter(f"The destination ARN {arn} is invalid.")
            if ref.name == name:
                raise invalid_parameter("You can't specify the function as a destination for itself.")
            if ctx.lamb.functions.get(ref.name) is None:
                raise invalid_parameter(f"The destination ARN {arn} is invalid.")
    if invalid:
        on_success = f"OnSuccess(destination={success})" if success else "null"
        on_fail = f"OnFailure(destination={failure})" if failure else "null"
        raise invalid_parameter(
            f"The provided destination config DestinationConfig(onSuccess={on_success}, onFailure={on_fail}) is invalid."
        )


def _view(ctx: "RequestContext", name: str, qualifier: str, config: dict) -> dict:
    out: dict = {"LastModified": config["LastModified"], "FunctionArn": _arn(ctx, name, qualifier)}
    for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
        if config.get(key) is not None:
            out[key] = config[key]
    out["DestinationConfig"] = _normalize(config.get("DestinationConfig"))
    return out


def _existing_function(ctx: "RequestContext", params: dict) -> tuple["Function", str]:
    fn, qualifier, _ = _target(ctx, params)
    if fn is None or not _exists(ctx, fn, qualifier):
        raise not_found("The function doesn't exist.")
    return fn, qualifier


@operation("PutFunctionEventInvokeConfig")
def put_function_event_invoke_config(ctx: "RequestContext", params: dict) -> dict:
    _require_some(params)
    fn, qualifier = _existing_function(ctx, params)
    config: dict = {k: params[k] for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds") if params.get(k) is not None}
    config["DestinationConfig"] = _normalize(params.get("DestinationConfig"))
    _check_destinations(ctx, fn.name, config["DestinationConfig"])
    config["LastModified"] = time.time()
    invoke_config.put(ctx.lamb.functions, fn, qualifier, config)
    return _view(ctx, fn.name, qualifier, config)


@operation("UpdateFunctionEventInvokeConfig")
def update_function_event_invoke_config(ctx: "RequestContext", params: dict) -> dict:
    _require_some(params)
    fn, qualifier = _existing_function(ctx, params)
    current = invoke_config.get(fn, qualifier)
    if current is None:
        raise _no_config(ctx, fn.name, qualifier)
    config = dict(current)
    for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
        if params.get(key) is not None:
            config[key] = params[key]
    if params.get("DestinationConfig") is not None:
        config["DestinationConfig"] = _normalize(params["DestinationConfig"])
        _check_destinations(ctx, fn.name, config["DestinationConfig"])
    config["LastModified"] = time.time()
    invoke_config.put(ctx.lamb.functions, fn, qualifier, config)
    return _view(ctx, fn.name, qualifier, config)


@operation("GetFunctionEventInvokeConfig")
def get_function_event_invoke_config(ctx: "RequestContext", params: dict) -> dict:
    fn, qualifier, name = _target(ctx, params)
    config = invoke_config.get(fn, qualifier) if fn is not None else None
    if config is None:
        raise _no_config(ctx, name, qualifier)
    return _view(ctx, name, qualifier, config)


@operation("DeleteFunctionEventInvokeConfig")
def delete_function_event_invoke_config(ctx: "RequestContext", params: dict) -> dict:
    fn, qualifier, name = _target(ctx, params)
    if fn is None or invoke_config.get(fn, qualifier) is None:
        raise _no_config(ctx, name, qualifier)
    invoke_config.put(ctx.lamb.functions, fn, qualifier, None)
    return {}


def _order(qualifier: str) -> tuple:
    if qualifier == LATEST:
        return (0, 0, "")
    if qualifier.isdigit():
        return (1, int(qualifier), "")
    return (2, 0, qualifier)


@operation("ListFunctionEventInvokeConfigs")
def list_function_event_invoke_configs(ctx: "RequestContext", params: dict) -> dict:
    fn, _, name = _target(ctx, {"FunctionName": params["FunctionName"]})
    if fn is None:
        raise not_found("The function doesn't exist.")
    configs = invoke_config.all_of(fn)
    rows = [(q, configs[q]) for q in sorted(configs, key=_order)]
    return paginate(ctx, params, rows, "FunctionEventInvokeConfigs", lambda row: _view(ctx, name, row[0], row[1]))
