"""Code signing configurations and a function's config
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning.html,
https://docs.aws.amazon.com/lambda/latest/api/API_CreateCodeSigningConfig.html and the
operations beside it).

Answers as AWS gave them (LocalStack's AWS-validated snapshots,
``TestCodeSigningConfig::test_function_code_signing_config`` and
``test_code_signing_not_found_excs``): an unknown config is 404 ``ResourceNotFoundException``
"The Lambda code signing configuration ARN can not be found." for Get/Update/Delete and
ListFunctionsByCodeSigningConfig, and 404 ``CodeSigningConfigNotFoundException`` for
PutFunctionCodeSigningConfig (checked before the function); a function with no config gets
200 with an empty body from GetFunctionCodeSigningConfig and 204 from
DeleteFunctionCodeSigningConfig; UpdateCodeSigningConfig with nothing to change returns the
config. Deleting a config that functions use is refused with ``ResourceConflictException``
(409; the wording is Lamb's). The checks on deployment are ``lamb.services.code_signing``.
A function's config ARN lives in its function-wide data under ``CONFIG_KEY``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Callable

from ..protocol.errors import AwsError, invalid_parameter, not_found
from ..services.code_signing import config_not_found
from . import configuration as conf
from . import operation
from .common import function_of, paginate

if TYPE_CHECKING:
    from .context import RequestContext

CONFIG_KEY = "CodeSigningConfigArn"
TAGS = "_Tags"


def _not_found(arn: str) -> AwsError:
    return not_found(f"The Lambda code signing configuration {arn} can not be found.")


def config_of(ctx: "RequestContext", arn: str) -> dict:
    doc = ctx.lamb.code_signing_configs.get(arn)
    if doc is None:
        raise _not_found(arn)
    return doc


def _public(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def users(ctx: "RequestContext", arn: str) -> list[str]:
    """The ARNs of the functions that use the config ``arn``."""
    out = []
    for name in ctx.lamb.functions.names():
        fn = ctx.lamb.functions.get(name)
        if fn is not None and fn.data.get(CONFIG_KEY) == arn:
            out.append(fn.latest["FunctionArn"])
    return out


def _check_tags(ctx: "RequestContext", tags: dict) -> None:
    if len(tags) > ctx.lamb.settings.limits.tags_per_resource:
        raise invalid_parameter("Number of tags exceeds resource tag limit.")


@operation("CreateCodeSigningConfig")
def create_code_signing_config(ctx: "RequestContext", params: dict) -> dict:
    store = ctx.lamb.code_signing_configs
    _check_tags(ctx, params.get("Tags") or {})
    config_id = store.new_id()
    doc = {
        "CodeSigningConfigId": config_id,
        "CodeSigningConfigArn": store.arn(config_id),
        "Description": params.get("Description", ""),
        "AllowedPublishers": {"SigningProfileVersionArns": list(params["AllowedPublishers"]["SigningProfileVersionArns"])},
        "CodeSigningPolicies": {"UntrustedArtifactOnDeployment":
                                (params.get("CodeSigningPolicies") or {}).get("UntrustedArtifactOnDeployment", "Warn")},
        "LastModified": conf.last_modified(),
        TAGS: dict(params.get("Tags") or {}),
    }
    store.put(doc)
    return {"CodeSigningConfig": _public(doc)}


@operation("GetCodeSigningConfig")
def get_code_signing_config(ctx: "RequestContext", params: dict) -> dict:
    return {"CodeSigningConfig": _public(config_of(ctx, params["CodeSigningConfigArn"]))}


@operation("UpdateCodeSigningConfig")
def update_code_signing_config(ctx: "RequestContext", params: dict) -> dict:
    doc = dict(config_of(ctx, params["CodeSigningConfigArn"]))
    changed = False
    if params.get("Description") is not None:
        doc["Description"], changed = params["Description"], True
    if params.get("AllowedPublishers") is not None:
        doc["AllowedPublishers"] = {"SigningProfileVersionArns":
                                    list(params["AllowedPublishers"]["SigningProfileVersionArns"])}
        changed = True
    policy = (params.get("CodeSigningPolicies") or {}).get("UntrustedArtifactOnDeployment")
    if policy is not None:
        doc["CodeSigningPolicies"], changed = {"UntrustedArtifactOnDeployment": policy}, True
    if changed:
        doc["LastModified"] = conf.last_modified()
        ctx.lamb.code_signing_configs.put(doc)
    return {"CodeSigningConfig": _public(doc)}


@operation("DeleteCodeSigningConfig")
def delete_code_signing_config(ctx: "RequestContext", params: dict) -> dict:
    arn = params["CodeSigningConfigArn"]
    config_of(ctx, arn)
    using = users(ctx, arn)
    if using:
        raise AwsError("ResourceConflictException",
                       f"The code signing configuration {arn} cannot be deleted because it is used by "
                       f"{len(using)} function(s): {', '.join(using)}", 409)
    ctx.lamb.code_signing_configs.delete(arn)
    return {}


@operation("ListCodeSigningConfigs")
def list_code_signing_configs(ctx: "RequestContext", params: dict) -> dict:
    return paginate(ctx, params, ctx.lamb.code_signing_configs.all(), "CodeSigningConfigs", _public)


@operation("ListFunctionsByCodeSigningConfig")
def list_functions_by_code_signing_config(ctx: "RequestContext", params: dict) -> dict:
    arn = params["CodeSigningConfigArn"]
    config_of(ctx, arn)
    return paginate(ctx, params, users(ctx, arn), "FunctionArns", lambda a: a)


@operation("PutFunctionCodeSigningConfig")
def put_function_code_signing_config(ctx: "RequestContext", params: dict) -> dict:
    arn = params["CodeSigningConfigArn"]
    if ctx.lamb.code_signing_configs.get(arn) is None:
        raise config_not_found(arn)
    _, fn = function_of(ctx, params)
    ctx.lamb.functions.update_data(fn.name, **{CONFIG_KEY: arn})
    return {"CodeSigningConfigArn": arn, "FunctionName": fn.name}


@operation("GetFunctionCodeSigningConfig")
def get_function_code_signing_config(ctx: "RequestContext", params: dict) -> dict:
    _, fn = function_of(ctx, params)
    arn = fn.data.get(CONFIG_KEY)
    if not arn:
        return {}
    return {"CodeSigningConfigArn": arn, "FunctionName": fn.name}


@operation("DeleteFunctionCodeSigningConfig")
def delete_function_code_signing_config(ctx: "RequestContext", params: dict) -> dict:
    _, fn = function_of(ctx, params)
    if fn.data.get(CONFIG_KEY):
        ctx.lamb.functions.update_data(fn.name, **{CONFIG_KEY: None})
    return {}


# ------------------------------------------------ tags (TagResource on a config's ARN)
def tags_of(ctx: "RequestContext", arn: str) -> dict:
    return dict(config_of(ctx, arn).get(TAGS) or {})


def put_tags(ctx: "RequestContext", arn: str, tags: dict) -> None:
    doc = dict(config_of(ctx, arn))
    doc[TAGS] = tags
    ctx.lamb.code_signing_configs.put(doc)


# ------------------------------------------------ deployments of a function with a config
SIGNING_KEYS = ("SigningProfileVersionArn", "SigningJobArn")


def require_config(ctx: "RequestContext", arn: str | None) -> None:
    """CreateFunction's ``CodeSigningConfigArn`` must name a config (AWS's 404)."""
    if arn and ctx.lamb.code_signing_configs.get(arn) is None:
        raise config_not_found(arn)


def code_check(ctx: "RequestContext", arn: str | None, function: str, found: dict) -> Callable[[bytes], None] | None:
    """``store_code``'s ``inspect`` for a function under the config ``arn``: verifies the zip and
    puts the signature's ARNs in ``found``."""
    if not arn:
        return None

    def inspect(data: bytes) -> None:
        found.update(ctx.lamb.code_signing.check(arn, data, function))

    return inspect


def apply_signature(config: dict, found: dict) -> None:
    """The configuration's SigningProfileVersionArn and SigningJobArn after new code."""
    for key in SIGNING_KEYS:
        config.pop(key, None)
    config.update(found)


async def check_layers(ctx: "RequestContext", arn: str | None, function: str, keys: list[str],
                       already: list[str] | tuple = ()) -> None:
    """Layers a function under a config gets must pass the same checks as its code
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning.html); layers it
    already had are not checked again."""
    if not arn:
        return
    code = ctx.lamb.code
    for key in keys:
        if key in already:
            continue
        data = await asyncio.to_thread(code.blob_path(key).read_bytes)
        await asyncio.to_thread(ctx.lamb.code_signing.check, arn, data, function, "layer")
