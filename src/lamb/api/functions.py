"""Function management: Create, Get, GetConfiguration, List, UpdateCode, UpdateConfiguration, Delete.

Semantics from the Lambda API reference
(https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html). Create and
update answer as AWS does, asynchronously: CreateFunction answers ``Pending``,
updates answer ``LastUpdateStatus: InProgress``, and the function then settles
(``lamb.services.function_state``, the one state machine, with the RevisionId
effects); boto3's ``function_active_v2`` and ``function_updated_v2`` waiters see
exactly that. Operations that take a RevisionId honour it as a precondition.

Qualifiers (https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html,
https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html) are
accepted wherever AWS takes them, in the name or the ``Qualifier`` parameter:
``$LATEST``, a published version number, or an alias. A qualified request sees
the configuration of that version with a FunctionArn qualified as it was asked
(an alias ARN for an alias).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from ..arn import LATEST, function_arn, is_published_version, parse_function_name, require_unqualified
from .. import runtimes
from ..protocol.errors import conflict, invalid_parameter
from ..services import hot_reload
from ..services.function_kms import check_key
from . import code_signing as signing
from . import configuration as conf
from . import layers as layer_api
from . import operation, runtime_management, versions
from .common import check_revision, code_location, listed, paginate, resolve, store_code, view

if TYPE_CHECKING:
    from .context import RequestContext

# Configuration members that UpdateFunctionConfiguration may change.
UPDATABLE = (
    "Role", "Handler", "Description", "Timeout", "MemorySize", "VpcConfig", "Environment", "Runtime",
    "DeadLetterConfig", "KMSKeyArn", "TracingConfig", "Layers", "FileSystemConfigs", "ImageConfig",
    "EphemeralStorage", "SnapStart", "LoggingConfig",
)


NO_CODE = "Please provide a source for function code."


def _code_from(params: dict) -> dict:
    """The code source: CreateFunction's ``Code``, or UpdateFunctionCode's own parameters."""
    code = params.get("Code") if "Code" in params else params
    if code.get("ImageUri"):
        raise conf.unsupported("PackageType Image (container images)")
    return code


@operation("CreateFunction")
async def create_function(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    s = lamb.settings
    ref = parse_function_name(params["FunctionName"], region=s.region, account_id=s.account_id)
    require_unqualified(ref, "CreateFunction")
    name = ref.name
    if len(name) > s.limits.function_name_max_chars:
        raise invalid_parameter(  # AWS's code for it, with the ValidationException wording
            f"1 validation error detected: Value '{params['FunctionName']}' at 'functionName' failed to satisfy "
            f"constraint: Member must have length less than or equal to {s.limits.function_name_max_chars}")
    if params.get("PackageType", "Zip") != "Zip":
        raise conf.unsupported("PackageType Image (container images)")
    runtime = params.get("Runtime")
    if not runtime:
        raise invalid_parameter("Runtime is required for a function of package type Zip.")
    conf.check_runtime(runtime)
    conf.require_handler(params.get("Handler"))
    conf.check_numbers(params, s.limits)
    conf.check_environment(params.get("Environment"), s.limits)
    conf.check_architectures(params.get("Architectures"))
    # the layers' region and existence are checked before the name conflict, as AWS does
    resolved = layer_api.resolve_layers(lamb, params["Layers"]) if params.get("Layers") else None
    if lamb.functions.get(name) is not None:
        raise conflict(f"Function already exist: {name}")
    csc = params.get("CodeSigningConfigArn")
    signing.require_config(ctx, csc)
    await check_key(lamb.kms, params.get("KMSKeyArn"), name)
    hot = hot_reload.folder_of(_code_from(params), s.hot_reload_roots)
    signed: dict = {}
    stored = await store_code(ctx, _code_from(params), NO_CODE, hot, signing.code_check(ctx, csc, name, signed))
    if lamb.functions.get(name) is not None:  # created while the zip was being stored
        raise conflict(f"Function already exist: {name}")
    limits = s.limits
    config = {
        "FunctionName": name,
        "FunctionArn": function_arn(s.region, s.account_id, name),
        "Runtime": runtime,
        "Role": params["Role"],
        "Handler": params["Handler"],
        "CodeSize": stored.size,
        "Description": params.get("Description", ""),
        "Timeout": params.get("Timeout", limits.timeout_default_s),
        "MemorySize": params.get("MemorySize", limits.memory_default_mb),
        "LastModified": conf.last_modified(),
        "CodeSha256": stored.sha256_b64,
        "Version": LATEST,
        "TracingConfig": params.get("TracingConfig") or {"Mode": "PassThrough"},
        "PackageType": "Zip",
        "Architectures": params.get("Architectures") or ["x86_64"],
        "EphemeralStorage": params.get("EphemeralStorage") or {"Size": limits.ephemeral_storage_default_mb},
        "SnapStart": {"ApplyOn": (params.get("SnapStart") or {}).get("ApplyOn", "None"), "OptimizationStatus": "Off"},
        "LoggingConfig": conf.logging_config({"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
                                             params.get("LoggingConfig")),
        "RuntimeVersionConfig": {"RuntimeVersionArn": runtimes.version_arn(s.region, runtime)},
        "_CodeKey": stored.key,
        "_UnzippedSize": stored.unzipped_size,
    }
    if hot is not None:
        config["_HotReload"] = str(hot)
    signing.apply_signature(config, signed)
    for key in ("Environment", "DeadLetterConfig", "KMSKeyArn", "FileSystemConfigs", "ImageConfig"):
        if params.get(key) is not None and not (key == "KMSKeyArn" and params[key] == ""):
            config[key] = params[key]
    if params.get("VpcConfig") is not None:  # VpcId from EC2 (lamb.services.vpc)
        config["VpcConfig"] = await asyncio.to_thread(lamb.vpcs.resolve, params["VpcConfig"])
        if lamb.functions.get(name) is not None:
            raise conflict(f"Function already exist: {name}")
    if resolved is not None:
        layer_api.apply_layers(config, resolved)
        layer_api.check_total_size(lamb, config)
        await signing.check_layers(ctx, csc, name, resolved["_LayerKeys"])
        await layer_api.prepare_opt(lamb, config)
        if lamb.functions.get(name) is not None:
            raise conflict(f"Function already exist: {name}")
    config = lamb.states.creating(config)
    if len(params.get("Tags") or {}) > s.limits.tags_per_resource:
        raise invalid_parameter("Number of tags exceeds resource tag limit.")
    data = {"Tags": params.get("Tags") or {}, "Created": time.time(), "NextVersion": 1}
    if csc:
        data[signing.CONFIG_KEY] = csc
    lamb.functions.create(name, data, config)
    out = config
    if params.get("Publish"):
        out = dict(versions.publish(lamb, name), FunctionArn=config["FunctionArn"])
    lamb.states.settle(name)
    return view(out)


@operation("GetFunctionConfiguration")
def get_function_configuration(ctx: "RequestContext", params: dict) -> dict:
    ref, _, _, config = resolve(ctx, params)
    return view(config, ref.qualifier)


@operation("GetFunction")
def get_function(ctx: "RequestContext", params: dict) -> dict:
    ref, fn, version, config = resolve(ctx, params)
    out: dict = {
        "Configuration": view(config, ref.qualifier),
        "Code": {"RepositoryType": "S3", "Location": code_location(ctx, fn.name, config["_CodeKey"])},
    }
    if fn.data.get("Tags"):
        out["Tags"] = dict(fn.data["Tags"])
    if fn.data.get("ReservedConcurrentExecutions") is not None:
        out["Concurrency"] = {"ReservedConcurrentExecutions": fn.data["ReservedConcurrentExecutions"]}
    return out


@operation("ListFunctions")
def list_functions(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    if params.get("MasterRegion") and params.get("FunctionVersion") != "ALL":
        raise invalid_parameter("MasterRegion can be used only with FunctionVersion set to ALL.")
    everything = params.get("FunctionVersion") == "ALL"
    rows: list[dict] = []
    for name in lamb.functions.names():
        fn = lamb.functions.get(name)
        if fn is None:
            continue
        versions = fn.versions if everything else {LATEST: fn.latest}
        for v in sorted(versions, key=lambda v: (v != LATEST, int(v) if v.isdigit() else 0)):
            rows.append(versions[v])
    return paginate(ctx, params, rows, "Functions", lambda c: listed(c, qualified=everything))


def _commit_latest(ctx: "RequestContext", name: str, new: dict) -> dict:
    """Store an update of $LATEST as InProgress; it settles once Lamb's work is done."""
    runtime_management.on_update(ctx.lamb.functions.get(name).latest, new, ctx.lamb.settings.region)
    new = ctx.lamb.states.updating(dict(new, LastModified=conf.last_modified()))
    ctx.lamb.functions.put_version(name, LATEST, new)
    ctx.lamb.invoker.retire_function(name, LATEST)
    ctx.lamb.collect_code()
    return view(new)


@operation("UpdateFunctionCode")
async def update_function_code(ctx: "RequestContext", params: dict) -> dict:
    ref, fn, version, config = resolve(ctx, {**params, "Qualifier": None})
    require_unqualified(ref, "UpdateFunctionCode")
    conf.check_architectures(params.get("Architectures"))
    check_revision(params, config)
    ctx.lamb.states.check_can_change(fn)
    with ctx.lamb.states.working(fn.name):
        hot = hot_reload.folder_of(_code_from(params), ctx.lamb.settings.hot_reload_roots)
        signed: dict = {}
        check = signing.code_check(ctx, fn.data.get(signing.CONFIG_KEY), fn.name, signed)
        stored = await store_code(ctx, _code_from(params), NO_CODE, hot, check)
        current = fn.versions[LATEST]
        check_revision(params, current)
        new = dict(current)
        new.update(CodeSha256=stored.sha256_b64, CodeSize=stored.size, _CodeKey=stored.key, _UnzippedSize=stored.unzipped_size)
        new.pop("_HotReload", None)
        if hot is not None:
            new["_HotReload"] = str(hot)
        signing.apply_signature(new, signed)
        layer_api.check_total_size(ctx.lamb, new)
        if params.get("Architectures"):
            new["Architectures"] = params["Architectures"]
        if params.get("DryRun"):
            return view(new)
    out = _commit_latest(ctx, fn.name, new)
    if params.get("Publish"):
        out = view(versions.publish(ctx.lamb, fn.name))
    ctx.lamb.states.settle(fn.name)
    return out


@operation("UpdateFunctionConfiguration")
async def update_function_configuration(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    ref, fn, version, config = resolve(ctx, {**params, "Qualifier": None})
    require_unqualified(ref, "UpdateFunctionConfiguration")
    check_revision(params, config)
    lamb.states.check_can_change(fn)
    conf.check_runtime(params.get("Runtime"))
    conf.check_numbers(params, lamb.settings.limits)
    conf.check_environment(params.get("Environment"), lamb.settings.limits)
    resolved = layer_api.resolve_layers(lamb, params["Layers"], config) if params.get("Layers") is not None else None
    if "Handler" in params:
        conf.require_handler(params["Handler"])
    new = dict(config)
    for key in UPDATABLE:
        if key in params and params[key] is not None and key != "Layers":
            new[key] = params[key]
    if resolved is not None:
        layer_api.apply_layers(new, resolved)
        layer_api.check_total_size(lamb, new)
        await signing.check_layers(ctx, fn.data.get(signing.CONFIG_KEY), fn.name, resolved["_LayerKeys"],
                                   config.get("_LayerKeys") or [])
    if "LoggingConfig" in params:
        new["LoggingConfig"] = conf.logging_config(config.get("LoggingConfig", {}), params["LoggingConfig"])
    if "SnapStart" in params:
        new["SnapStart"] = {"ApplyOn": params["SnapStart"].get("ApplyOn", "None"), "OptimizationStatus": "Off"}
    if new.get("Environment") == {}:
        new.pop("Environment")
    if new.get("KMSKeyArn") == "":  # AWS: an empty KMSKeyArn goes back to the default key
        new.pop("KMSKeyArn")
    await check_key(lamb.kms, params.get("KMSKeyArn"), fn.name)
    if new.get("_LayerKeys") and new.get("_LayerKeys") != config.get("_LayerKeys"):
        with lamb.states.working(fn.name):
            await layer_api.prepare_opt(lamb, new)
    if params.get("VpcConfig") is not None:  # VpcId from EC2 (lamb.services.vpc)
        with lamb.states.working(fn.name):
            new["VpcConfig"] = await asyncio.to_thread(lamb.vpcs.resolve, params["VpcConfig"])
    # A runtime change keeps the function Active with the update InProgress (as AWS does);
    # the new runtime is prepared while it is.
    out = _commit_latest(ctx, fn.name, new)
    lamb.states.settle(fn.name)
    return out


@operation("DeleteFunction")
def delete_function(ctx: "RequestContext", params: dict) -> dict:
    """The whole function (its versions and aliases), or with a qualifier one version."""
    lamb = ctx.lamb
    s = lamb.settings
    ref = parse_function_name(params["FunctionName"], params.get("Qualifier"), region=s.region, account_id=s.account_id)
    if ref.qualifier == LATEST:
        raise invalid_parameter("$LATEST version cannot be deleted without deleting the function.")
    fn = lamb.functions.get(ref.name)
    if fn is not None and ref.qualifier is not None and is_published_version(ref.qualifier) \
            and ref.qualifier not in fn.versions:
        return {"StatusCode": 204}  # AWS: deleting a version number the function does not have succeeds
    ref, fn, version, config = resolve(ctx, params)
    if ref.qualifier is None:
        lamb.functions.delete(fn.name)
        lamb.invoker.retire_function(fn.name)
        lamb.collect_code()
        return {"StatusCode": 204}
    users = sorted(a["Name"] for a in fn.aliases.values() if version in fn.routes[a["Name"]].versions())
    if users:
        raise conflict(f"Unable to delete version because the following aliases reference it: [{', '.join(users)}]")
    lamb.functions.delete_version(fn.name, version)
    lamb.provisioning.forget(fn, version)  # a deleted version takes its provisioned config with it
    lamb.invoker.retire_function(fn.name, version)
    lamb.collect_code()
    return {"StatusCode": 204}
