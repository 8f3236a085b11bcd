"""Function URL configurations: Create, Get, Update, Delete and ListFunctionUrlConfigs.

https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html: a URL belongs to
the unqualified function ($LATEST) or to an alias (never a version: the model's
patterns refuse numbers and ``$LATEST`` as a qualifier), one per each. ``AuthType`` is
NONE or AWS_IAM, ``InvokeMode`` BUFFERED (default) or RESPONSE_STREAM, ``Cors`` is
applied by the serving side (``lamb.urls``). Deleting an alias deletes its URL.
Errors and their wording are AWS's (LocalStack's AWS-validated snapshots,
``TestLambdaUrl`` in ``test_lambda_api.snapshot.json``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..arn import function_arn, parse_function_name
from ..policy.resources import Resource
from ..protocol.errors import AwsError, conflict, not_found
from ..urls.address import new_url_id
from . import operation
from .common import paginate

if TYPE_CHECKING:
    from .context import RequestContext

NO_FUNCTION = "Function does not exist"
NO_RESOURCE = "The resource you requested does not exist."
# Members of the stored configuration that the API shows.
SHOWN = ("FunctionUrl", "FunctionArn", "AuthType", "Cors", "CreationTime", "LastModifiedTime", "InvokeMode")


def timestamp() -> str:
    """ISO-8601 with microseconds, as AWS writes CreationTime: ``2021-10-27T18:26:07.640123Z``."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1_000_000) % 1_000_000:06d}Z"


def _resource(ctx: "RequestContext", params: dict, missing: str) -> tuple[Resource, str]:
    s = ctx.lamb.settings
    ref = parse_function_name(params["FunctionName"], params.get("Qualifier"), region=s.region, account_id=s.account_id)
    fn = ctx.lamb.functions.get(ref.name)
    if fn is None:
        raise not_found(missing)
    arn = function_arn(s.region, s.account_id, ref.name, ref.qualifier)
    if ref.qualifier is None:
        return Resource(fn, None, False), arn
    if ref.qualifier not in fn.aliases:
        raise not_found(missing)
    return Resource(fn, ref.qualifier, True), arn


def _shower(ctx: "RequestContext"):
    """Renders a stored configuration; FunctionUrl is made from the url id at each
    request, so it follows the server's current address settings."""
    addresses = ctx.lamb.url_addresses()

    def show(url: dict, *members: str) -> dict:
        full = dict(url, FunctionUrl=addresses.url(url["UrlId"]))
        return {k: full[k] for k in (members or SHOWN) if k in full}

    return show


def _save(ctx: "RequestContext", res: Resource, url: dict | None) -> None:
    record = dict(res.record)
    if url is None:
        record.pop("_Url", None)
    else:
        record["_Url"] = url
    res.save(ctx.lamb.functions, record)


@operation("CreateFunctionUrlConfig")
def create_function_url_config(ctx: "RequestContext", params: dict) -> dict:
    res, arn = _resource(ctx, params, NO_FUNCTION)
    if res.record.get("_Url"):
        raise conflict(
            f"Failed to create function url config for [functionArn = {arn}]. "
            "Error message:  FunctionUrlConfig exists for this Lambda function"
        )
    url_id = new_url_id()
    now = timestamp()
    url = {
        "UrlId": url_id,
        "FunctionArn": arn,
        "AuthType": params["AuthType"],
        "CreationTime": now,
        "LastModifiedTime": now,
        "InvokeMode": params.get("InvokeMode") or "BUFFERED",
    }
    if params.get("Cors") is not None:
        url["Cors"] = params["Cors"]
    _save(ctx, res, url)
    ctx.lamb.urls.add(url_id, res.fn.name, res.qualifier)
    shown = ["FunctionUrl", "FunctionArn", "AuthType", "Cors", "CreationTime"]
    if params.get("InvokeMode"):
        shown.append("InvokeMode")
    return _shower(ctx)(url, *shown)


def _existing(ctx: "RequestContext", params: dict, missing: str) -> tuple[Resource, dict]:
    """The record and its URL configuration; ``missing`` for an unknown function or alias."""
    res, _ = _resource(ctx, params, missing)
    url = res.record.get("_Url")
    if not url:
        raise not_found(NO_RESOURCE)
    return res, url


@operation("GetFunctionUrlConfig")
def get_function_url_config(ctx: "RequestContext", params: dict) -> dict:
    return _shower(ctx)(_existing(ctx, params, NO_RESOURCE)[1])


@operation("UpdateFunctionUrlConfig")
def update_function_url_config(ctx: "RequestContext", params: dict) -> dict:
    res, url = _existing(ctx, params, NO_FUNCTION)
    url = dict(url, LastModifiedTime=timestamp())
    for key in ("AuthType", "Cors", "InvokeMode"):
        if params.get(key) is not None:
            url[key] = params[key]
    _save(ctx, res, url)
    return _shower(ctx)(url)


@operation("DeleteFunctionUrlConfig")
def delete_function_url_config(ctx: "RequestContext", params: dict) -> dict:
    res, _ = _existing(ctx, params, NO_RESOURCE)
    _save(ctx, res, None)
    return {}


@operation("ListFunctionUrlConfigs")
def list_function_url_configs(ctx: "RequestContext", params: dict) -> dict:
    s = ctx.lamb.settings
    ref = parse_function_name(params["FunctionName"], region=s.region, account_id=s.account_id)
    fn = ctx.lamb.functions.get(ref.name)
    if fn is None:
        raise not_found(NO_FUNCTION)
    if ref.qualifier is not None:
        raise AwsError("InvalidParameterValueException", "ListFunctionUrlConfigs does not support a qualified function name.", 400)
    urls = [fn.latest["_Url"]] if fn.latest.get("_Url") else []
    urls += sorted((a["_Url"] for a in fn.aliases.values() if a.get("_Url")), key=lambda u: u["CreationTime"])
    return paginate(ctx, params, urls, "FunctionUrlConfigs", _shower(ctx))
