"""Function management: Create, Get, GetConfiguration, List, UpdateCode, UpdateConfiguration, Delete.

Semantics from the Lambda API reference
(https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html). Code and
configuration changes are applied before the call returns, so a function is
``Active`` and its ``LastUpdateStatus`` ``Successful`` as soon as its runtime is
ready on this host; boto3's ``function_active_v2`` and ``function_updated_v2``
waiters see exactly that. Every change gets a new RevisionId; operations that
take one honour it as a precondition.

Qualifiers (https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html,
https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html) are
accepted wherever AWS takes them, in the name or the ``Qualifier`` parameter:
``$LATEST``, a published version number, or an alias. A qualified request sees
the configuration of that version with a FunctionArn qualified as it was asked
(an alias ARN for an alias).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import time
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..arn import LATEST, function_arn, parse_function_name, require_unqualified
from .. import runtimes
from ..protocol.errors import AwsError, conflict, invalid_parameter, not_found, precondition_failed
from . import configuration as conf
from . import operation

if TYPE_CHECKING:
    from ..app import Lamb
    from ..gateway import RequestContext

# Configuration members that UpdateFunctionConfiguration may change.
UPDATABLE = (
    "Role", "Handler", "Description", "Timeout", "MemorySize", "VpcConfig", "Environment", "Runtime",
    "DeadLetterConfig", "KMSKeyArn", "TracingConfig", "Layers", "FileSystemConfigs", "ImageConfig",
    "EphemeralStorage", "SnapStart", "LoggingConfig",
)
# Members ListFunctions leaves out of each FunctionConfiguration.
NOT_LISTED = ("State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
              "LastUpdateStatusReasonCode", "RuntimeVersionConfig")
CODE_URL_TTL_S = 600


def resolve(ctx: "RequestContext", params: dict, *, route: bool = False):
    """The function and version a request names; ResourceNotFoundException otherwise.

    An alias resolves to the version it points to; with ``route`` (an invocation)
    a weighted alias draws which of its two versions runs. Dict lookups only: this
    is on the invoke path.
    """
    s = ctx.lamb.settings
    ref = parse_function_name(params["FunctionName"], params.get("Qualifier"), region=s.region, account_id=s.account_id)
    fn = ctx.lamb.functions.get(ref.name)
    if fn is None:
        raise not_found(f"Function not found: {function_arn(s.region, s.account_id, ref.name, ref.qualifier)}")
    version = ref.qualifier or LATEST
    config = fn.versions.get(version)
    if config is not None:
        return ref, fn, version, config
    r = fn.routes.get(version)
    if r is None:
        raise not_found(f"Function not found: {function_arn(s.region, s.account_id, ref.name, version)}")
    version = r.pick() if route else r.version
    return ref, fn, version, fn.versions[version]


def function_of(ctx: "RequestContext", params: dict, *, what: str | None = None):
    """The function a request names, whatever its qualifier; ResourceNotFoundException
    (naming the unqualified ARN, or ``<arn>:<what>`` when given) otherwise."""
    s = ctx.lamb.settings
    ref = parse_function_name(params["FunctionName"], region=s.region, account_id=s.account_id)
    fn = ctx.lamb.functions.get(ref.name)
    if fn is None:
        raise not_found(f"Function not found: {function_arn(s.region, s.account_id, ref.name, what)}")
    return ref, fn


def check_revision(params: dict, config: dict) -> None:
    rid = params.get("RevisionId")
    if rid is not None and rid != config["RevisionId"]:
        raise precondition_failed(
            "The Revision Id provided does not match the latest Revision Id. "
            "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
        )


def view(config: dict, qualifier: str | None = None) -> dict:
    """The FunctionConfiguration as AWS returns it (internal keys dropped); with a
    qualifier, its FunctionArn names the function as the request qualified it."""
    out = {k: copy.deepcopy(v) for k, v in config.items() if not k.startswith("_")}
    if qualifier is not None:
        out["FunctionArn"] = f"{unqualified_arn(config)}:{qualifier}"
    return out


def unqualified_arn(config: dict) -> str:
    arn = config["FunctionArn"]
    return arn if config["Version"] == LATEST else arn.rsplit(":", 1)[0]


def _state(lamb: "Lamb", runtime: str) -> dict:
    if lamb.runtimes.ready(runtime):
        return {"State": "Active"}
    err = lamb.runtimes.error(runtime)
    if err is not None or not conf.runtime_supported_here(runtime):
        return {
            "State": "Failed",
            "StateReason": err or f"The runtime {runtime} is not available on this Lamb host.",
            "StateReasonCode": "InvalidRuntime",
        }
    return {"State": "Pending", "StateReason": "The function is being created.", "StateReasonCode": "Creating"}


def refresh_state(lamb: "Lamb", name: str) -> None:
    """Move every version of a Pending function to Active/Failed once its runtime is known."""
    fn = lamb.functions.get(name)
    if fn is None:
        return
    for version, cfg in list(fn.versions.items()):
        if cfg.get("State") != "Pending":
            continue
        new = dict(cfg)
        for k in ("StateReason", "StateReasonCode"):
            new.pop(k, None)
        new.update(_state(lamb, cfg["Runtime"]))
        new["RevisionId"] = conf.new_revision()
        lamb.functions.put_version(name, version, new)


def prepare_runtime(lamb: "Lamb", names: list[str], runtime: str) -> None:
    """Start the runtime in the background; the functions leave Pending when done."""
    if not conf.runtime_supported_here(runtime):
        return

    async def run() -> None:
        try:
            await lamb.runtimes.prepare(runtime)
        except Exception:
            pass
        for name in names:
            refresh_state(lamb, name)

    lamb.spawn(run())


async def store_code(ctx: "RequestContext", zip_bytes: bytes):
    """Validate and store a zip (function code or layer content) off the event loop."""
    lamb = ctx.lamb
    limit = lamb.settings.limits.zip_direct_upload_max_bytes
    if len(zip_bytes) > limit:
        raise AwsError(
            "RequestEntityTooLargeException",
            f"Request must be smaller than {lamb.settings.limits.request_body_max_bytes} bytes for the {ctx.operation} operation",
            413,
        )
    return await asyncio.to_thread(lamb.code.put, zip_bytes, unzipped_limit=lamb.settings.limits.unzipped_code_max_bytes)


def _code_from(params: dict) -> bytes:
    code = params.get("Code") if "Code" in params else params
    if code.get("ImageUri"):
        raise conf.unsupported("PackageType Image (container images)")
    if code.get("S3Bucket") or code.get("S3Key"):
        raise conf.unsupported("Code from S3 (S3Bucket/S3Key)")
    zip_bytes = code.get("ZipFile")
    if not zip_bytes:
        raise invalid_parameter("Please provide a source for function code.")
    return zip_bytes


@operation("CreateFunction")
async def create_function(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    s = lamb.settings
    ref = parse_function_name(params["FunctionName"], region=s.region, account_id=s.account_id)
    require_unqualified(ref, "CreateFunction")
    name = ref.name
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
    if lamb.functions.get(name) is not None:
        raise conflict(f"Function already exist: {name}")
    resolved = layer_api.resolve_layers(lamb, params["Layers"]) if params.get("Layers") else None
    stored = await store_code(ctx, _code_from(params))
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
        "RevisionId": conf.new_revision(),
        "PackageType": "Zip",
        "Architectures": params.get("Architectures") or ["x86_64"],
        "EphemeralStorage": params.get("EphemeralStorage") or {"Size": limits.ephemeral_storage_default_mb},
        "SnapStart": {"ApplyOn": (params.get("SnapStart") or {}).get("ApplyOn", "None"), "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}", **(params.get("LoggingConfig") or {})},
        "RuntimeVersionConfig": {"RuntimeVersionArn": runtimes.version_arn(s.region, runtime)},
        "LastUpdateStatus": "Successful",
        "_CodeKey": stored.key,
        "_UnzippedSize": stored.unzipped_size,
    }
    for key in ("Environment", "VpcConfig", "DeadLetterConfig", "KMSKeyArn", "FileSystemConfigs", "ImageConfig"):
        if params.get(key) is not None:
            config[key] = params[key]
    if resolved is not None:
        layer_api.apply_layers(config, resolved)
        layer_api.check_total_size(lamb, config)
        await layer_api.prepare_opt(lamb, config)
        if lamb.functions.get(name) is not None:
            raise conflict(f"Function already exist: {name}")
    config.update(_state(lamb, runtime))
    if len(params.get("Tags") or {}) > s.limits.tags_per_resource:
        raise invalid_parameter("Number of tags exceeds resource tag limit.")
    data = {"Tags": params.get("Tags") or {}, "Created": time.time(), "NextVersion": 1}
    lamb.functions.create(name, data, config)
    out = config
    if params.get("Publish"):
        out = dict(versions.publish(lamb, name), FunctionArn=config["FunctionArn"])
    if config["State"] == "Pending":
        prepare_runtime(lamb, [name], runtime)
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


def listed(config: dict, *, qualified: bool) -> dict:
    """A configuration as list operations show it (qualified: $LATEST's ARN too)."""
    return {k: v for k, v in view(config, config["Version"] if qualified else None).items() if k not in NOT_LISTED}


def paginate(ctx: "RequestContext", params: dict, rows: list, key: str, render, page_max: int | None = None) -> dict:
    """Marker/MaxItems pagination as Lambda does it: opaque markers, at most 50 a page (or ``page_max``)."""
    start = 0
    marker = params.get("Marker")
    if marker:
        try:
            start = int(base64.urlsafe_b64decode(marker.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            raise invalid_parameter("Invalid marker: " + marker)
    page_max = page_max or ctx.lamb.settings.limits.list_max_items
    size = min(params.get("MaxItems") or page_max, page_max)
    page = rows[start:start + size]
    out: dict = {key: [render(r) for r in page]}
    if start + size < len(rows):
        out["NextMarker"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return out


def begin_update(ctx: "RequestContext", fn_name: str, config: dict) -> None:
    if config.get("State") == "Pending":
        raise conflict(
            "The operation cannot be performed at this time. The function is currently in the following state: Pending"
        )
    if fn_name in ctx.lamb.updating:
        raise conflict(
            "The operation cannot be performed at this time. An update is in progress for resource: "
            + config["FunctionArn"]
        )


def _commit_latest(ctx: "RequestContext", name: str, new: dict) -> dict:
    new["LastModified"] = conf.last_modified()
    new["RevisionId"] = conf.new_revision()
    new["LastUpdateStatus"] = "Successful"
    for k in ("LastUpdateStatusReason", "LastUpdateStatusReasonCode"):
        new.pop(k, None)
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
    begin_update(ctx, fn.name, config)
    ctx.lamb.updating.add(fn.name)
    try:
        stored = await store_code(ctx, _code_from(params))
        current = fn.versions[LATEST]
        check_revision(params, current)
        new = dict(current)
        new.update(CodeSha256=stored.sha256_b64, CodeSize=stored.size, _CodeKey=stored.key, _UnzippedSize=stored.unzipped_size)
        layer_api.check_total_size(ctx.lamb, new)
        if params.get("Architectures"):
            new["Architectures"] = params["Architectures"]
        if params.get("DryRun"):
            return view(new)
        out = _commit_latest(ctx, fn.name, new)
        if params.get("Publish"):
            return view(versions.publish(ctx.lamb, fn.name))
        return out
    finally:
        ctx.lamb.updating.discard(fn.name)


@operation("UpdateFunctionConfiguration")
async def update_function_configuration(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    ref, fn, version, config = resolve(ctx, {**params, "Qualifier": None})
    require_unqualified(ref, "UpdateFunctionConfiguration")
    check_revision(params, config)
    begin_update(ctx, fn.name, config)
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
    if "LoggingConfig" in params:
        new["LoggingConfig"] = {**config.get("LoggingConfig", {}), **params["LoggingConfig"]}
    if "SnapStart" in params:
        new["SnapStart"] = {"ApplyOn": params["SnapStart"].get("ApplyOn", "None"), "OptimizationStatus": "Off"}
    if new.get("Environment") == {}:
        new.pop("Environment")
    if "Runtime" in params:
        for k in ("State", "StateReason", "StateReasonCode"):
            new.pop(k, None)
        new.update(_state(lamb, new["Runtime"]))
    if new.get("_LayerKeys") and new.get("_LayerKeys") != config.get("_LayerKeys"):
        lamb.updating.add(fn.name)
        try:
            await layer_api.prepare_opt(lamb, new)
        finally:
            lamb.updating.discard(fn.name)
    out = _commit_latest(ctx, fn.name, new)
    if new.get("State") == "Pending":
        prepare_runtime(lamb, [fn.name], new["Runtime"])
    return out


@operation("DeleteFunction")
def delete_function(ctx: "RequestContext", params: dict) -> dict:
    """The whole function (its versions and aliases), or with a qualifier one version."""
    lamb = ctx.lamb
    s = lamb.settings
    ref = parse_function_name(params["FunctionName"], params.get("Qualifier"), region=s.region, account_id=s.account_id)
    if ref.qualifier == LATEST:
        raise invalid_parameter("$LATEST version cannot be deleted without deleting the function.")
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
    concurrency.forget(lamb, fn, version)  # a deleted version takes its provisioned config with it
    lamb.invoker.retire_function(fn.name, version)
    lamb.collect_code()
    return {"StatusCode": 204}


# --------------------------------------------------------------------- code URL
def _sign(secret: bytes, path: str, expires: int) -> str:
    return hmac.new(secret, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()


def code_location(ctx: "RequestContext", name: str, key: str) -> str:
    """A pre-signed URL on this server that downloads the exact zip for 10 minutes."""
    path = f"/_lamb/code/{quote(name)}/{key}.zip"
    expires = int(time.time()) + CODE_URL_TTL_S
    sig = _sign(ctx.lamb.secret, path, expires)
    return f"{ctx.base_url}{path}?X-Amz-Expires={CODE_URL_TTL_S}&Expires={expires}&Signature={sig}"


def verify_code_url(secret: bytes, path: str, query: dict[str, str]) -> bool:
    try:
        expires = int(query.get("Expires", "0"))
    except ValueError:
        return False
    if expires < time.time():
        return False
    return hmac.compare_digest(_sign(secret, path, expires), query.get("Signature", ""))


# Imported last: these modules build on the helpers above.
from . import layers as layer_api  # noqa: E402
from . import versions  # noqa: E402
from . import concurrency  # noqa: E402
