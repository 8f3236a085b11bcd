"""Layers: PublishLayerVersion, GetLayerVersion(ByArn), ListLayers, ListLayerVersions,
DeleteLayerVersion, Add/RemoveLayerVersionPermission, GetLayerVersionPolicy; and the
rules for a function's ``Layers``.

Semantics from https://docs.aws.amazon.com/lambda/latest/dg/chapter-layers.html and
the API reference. A layer is created by publishing its first version; versions
are numbered 1, 2, 3... and never reused. A deleted version can no longer be read
or added to a function, but functions that already use it keep working. A
function takes at most 5 layers, each at most once, from its own region; function
plus layers may not exceed 250 MB unzipped.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..arn import layer_arn, layer_version_arn, parse_layer_arn
from ..policy import document as policy_document
from ..store import opt
from ..protocol.errors import AwsError, invalid_parameter, not_found, precondition_failed
from . import configuration as conf
from . import operation
from .common import code_location, paginate, store_code

if TYPE_CHECKING:
    from .context import Services
    from .context import RequestContext

NOT_FOUND = "The resource you requested does not exist."
# Members of a layer version that ListLayerVersions / ListLayers show (no Content).
LISTED = ("LayerVersionArn", "Version", "Description", "CreatedDate", "CompatibleRuntimes", "LicenseInfo",
          "CompatibleArchitectures")
POLICY_REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetLayerPolicy API to retrieve the latest Revision Id"
)


def _layer_name(ctx: "RequestContext", value: str) -> str | None:
    """The layer's name from a LayerName parameter (a name or a layer ARN); None when
    the ARN names another region or account, where no layer of this server lives."""
    ref = parse_layer_arn(value)
    if ref is None:
        return value
    s = ctx.lamb.settings
    if ref.region != s.region or ref.account != s.account_id:
        return None
    return ref.name


def _version_arn(ctx: "RequestContext", value: str, version: int) -> str:
    """The version ARN a message names for a LayerName parameter (as given, if an ARN)."""
    ref = parse_layer_arn(value)
    if ref is not None:
        return f"{layer_arn(ref.region, ref.account, ref.name)}:{version}"
    s = ctx.lamb.settings
    return layer_version_arn(s.region, s.account_id, value, version)


def _check_version_number(version: int) -> None:
    if version < 1:
        raise invalid_parameter("Layer Version Cannot be less than 1")


def render(ctx: "RequestContext", record: dict) -> dict:
    """GetLayerVersion's output for a stored version."""
    out = {k: v for k, v in record.items() if not k.startswith("_") and k not in ("LayerName", "CodeSha256", "CodeSize")}
    out["Content"] = {
        "Location": code_location(ctx, f"layer-{record['LayerName']}", record["_CodeKey"]),
        "CodeSha256": record["CodeSha256"],
        "CodeSize": record["CodeSize"],
    }
    return out


def _listed(record: dict) -> dict:
    return {k: record[k] for k in LISTED if k in record}


def _matches(record: dict, runtime: str | None, arch: str | None) -> bool:
    if runtime and runtime not in (record.get("CompatibleRuntimes") or ()):
        return False
    if arch and arch not in (record.get("CompatibleArchitectures") or ()):
        return False
    return True


# ------------------------------------------------------------------- operations
@operation("PublishLayerVersion")
async def publish_layer_version(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    s = lamb.settings
    name = _layer_name(ctx, params["LayerName"])
    if name is None:
        raise AwsError(
            "AccessDeniedException",
            f"User is not authorized to perform: lambda:PublishLayerVersion on resource: {params['LayerName']}",
            403,
        )
    stored = await store_code(ctx, params.get("Content") or {}, "Please provide a source for layer content.")

    def build(version: int) -> dict:
        record = {
            "LayerName": name,
            "LayerArn": layer_arn(s.region, s.account_id, name),
            "LayerVersionArn": layer_version_arn(s.region, s.account_id, name, version),
            "Description": params.get("Description", ""),
            "CreatedDate": conf.last_modified(),
            "Version": version,
            "CodeSha256": stored.sha256_b64,
            "CodeSize": stored.size,
            "_CodeKey": stored.key,
            "_UnzippedSize": stored.unzipped_size,
        }
        for key in ("CompatibleRuntimes", "CompatibleArchitectures"):
            if params.get(key) is not None:  # an empty list is echoed as [], as AWS does
                record[key] = params[key]
        if params.get("LicenseInfo"):
            record["LicenseInfo"] = params["LicenseInfo"]
        return record

    return render(ctx, lamb.layers.publish(name, build))


def _get(ctx: "RequestContext", layer_param: str, version: int) -> dict:
    _check_version_number(version)
    name = _layer_name(ctx, layer_param)
    record = ctx.lamb.layers.get(name, version) if name is not None else None
    if record is None:
        raise not_found(NOT_FOUND)
    return record


@operation("GetLayerVersion")
def get_layer_version(ctx: "RequestContext", params: dict) -> dict:
    return render(ctx, _get(ctx, params["LayerName"], params["VersionNumber"]))


@operation("GetLayerVersionByArn")
def get_layer_version_by_arn(ctx: "RequestContext", params: dict) -> dict:
    ref = parse_layer_arn(params["Arn"])
    if ref is None or ref.version is None:
        raise invalid_parameter(f"Invalid layer version ARN: {params['Arn']}")
    s = ctx.lamb.settings
    if ref.region != s.region or ref.account != s.account_id:
        raise not_found(NOT_FOUND)
    return render(ctx, _get(ctx, ref.name, ref.version))


@operation("ListLayers")
def list_layers(ctx: "RequestContext", params: dict) -> dict:
    runtime, arch = params.get("CompatibleRuntime"), params.get("CompatibleArchitecture")
    rows = []
    for name in ctx.lamb.layers.names():
        layer = ctx.lamb.layers.get_layer(name)
        latest = next((r for r in layer.live() if _matches(r, runtime, arch)), None)
        if latest is not None:
            rows.append({"LayerName": name, "LayerArn": latest["LayerArn"], "LatestMatchingVersion": _listed(latest)})
    return paginate(ctx, params, rows, "Layers", lambda r: r)


@operation("ListLayerVersions")
def list_layer_versions(ctx: "RequestContext", params: dict) -> dict:
    runtime, arch = params.get("CompatibleRuntime"), params.get("CompatibleArchitecture")
    name = _layer_name(ctx, params["LayerName"])
    layer = ctx.lamb.layers.get_layer(name) if name is not None else None
    rows = [r for r in layer.live() if _matches(r, runtime, arch)] if layer is not None else []
    return paginate(ctx, params, rows, "LayerVersions", _listed)


@operation("DeleteLayerVersion")
def delete_layer_version(ctx: "RequestContext", params: dict) -> dict:
    """Deleting a version that does not exist succeeds, as on AWS."""
    _check_version_number(params["VersionNumber"])
    lamb = ctx.lamb
    name = _layer_name(ctx, params["LayerName"])
    record = lamb.layers.get(name, params["VersionNumber"]) if name is not None else None
    if record is not None:
        lamb.layers.put(name, params["VersionNumber"], {**record, "_Deleted": True})
        lamb.collect_code()
    return {}


# ------------------------------------------------------------------ permissions
def _principal(principal: str):
    """A policy statement's Principal for AddLayerVersionPermission's ``Principal``."""
    if principal == "*":
        return "*"
    if principal.isdigit():
        return policy_document.account_principal(principal)
    return {"AWS": principal}


def _statement(record: dict, sid: str, action: str, principal: str, org: str | None) -> dict:
    statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": _principal(principal),
        "Action": action,
        "Resource": record["LayerVersionArn"],
    }
    if org:
        statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": org}}
    return statement


def _document(statements: list[dict]) -> dict:
    return {**policy_document.empty(), "Statement": statements}


def _for_policy(ctx: "RequestContext", params: dict) -> tuple[str, int, dict]:
    version = params["VersionNumber"]
    _check_version_number(version)
    name = _layer_name(ctx, params["LayerName"])
    record = ctx.lamb.layers.get(name, version) if name is not None else None
    if record is None:
        raise not_found(f"Layer version {_version_arn(ctx, params['LayerName'], version)} does not exist.")
    return name, version, record


@operation("AddLayerVersionPermission")
def add_layer_version_permission(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    name, version, record = _for_policy(ctx, params)
    policy = record.get("_Policy") or {"RevisionId": conf.new_revision(), "Statements": []}
    sid = params["StatementId"]
    statement = _statement(record, sid, params["Action"], params["Principal"], params.get("OrganizationId"))
    policy_document.require_new_sid(_document(policy["Statements"]), sid)
    if params.get("RevisionId") is not None and params["RevisionId"] != policy["RevisionId"]:
        raise precondition_failed(POLICY_REVISION_MISMATCH)
    document = policy_document.with_statement(
        _document(policy["Statements"]), statement, lamb.settings.limits.layer_policy_max_bytes
    )
    new_policy = {"RevisionId": conf.new_revision(), "Statements": document["Statement"]}
    lamb.layers.put(name, version, {**record, "_Policy": new_policy})
    return {"Statement": policy_document.compact(statement), "RevisionId": new_policy["RevisionId"]}


@operation("RemoveLayerVersionPermission")
def remove_layer_version_permission(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    name, version, record = _for_policy(ctx, params)
    policy = record.get("_Policy")
    if not policy or not policy["Statements"]:
        raise not_found(policy_document.NO_POLICY)
    if params.get("RevisionId") is not None and params["RevisionId"] != policy["RevisionId"]:
        raise precondition_failed(POLICY_REVISION_MISMATCH)
    statements = policy_document.without_statement(_document(policy["Statements"]), params["StatementId"])["Statement"]
    lamb.layers.put(name, version, {**record, "_Policy": {"RevisionId": conf.new_revision(), "Statements": statements}})
    return {}


@operation("GetLayerVersionPolicy")
def get_layer_version_policy(ctx: "RequestContext", params: dict) -> dict:
    _, _, record = _for_policy(ctx, params)
    policy = record.get("_Policy")
    if not policy or not policy["Statements"]:
        raise not_found(policy_document.NO_POLICY)
    return {"Policy": policy_document.render(_document(policy["Statements"])), "RevisionId": policy["RevisionId"]}


# ------------------------------------------------------- a function's Layers
def resolve_layers(lamb: "Services", arns: list[str], current: dict | None = None) -> dict:
    """Check a function's ``Layers`` the way AWS does and return the configuration keys
    for them: ``Layers`` (as AWS shows them), ``_LayerKeys`` (their zips, in order) and
    ``_LayersUnzippedSize``. A deleted layer version the function already uses may stay;
    new references to it fail."""
    s = lamb.settings
    if len(arns) > s.limits.layers_per_function:
        raise invalid_parameter(f"Cannot reference more than {s.limits.layers_per_function} layers.")
    already = {layer["Arn"] for layer in (current or {}).get("Layers") or ()}
    seen: dict[str, str] = {}
    layers, keys, unzipped = [], [], 0
    for arn in arns:
        ref = parse_layer_arn(arn)
        if ref is None or ref.version is None:  # the model's pattern makes this unreachable
            raise invalid_parameter(f"Layer version {arn} does not exist.")
        if ref.account != s.account_id:
            raise AwsError(
                "AccessDeniedException",
                f"User: arn:aws:iam::{s.account_id}:root is not authorized to perform: lambda:GetLayerVersion on "
                f"resource: {arn} because no resource-based policy allows the lambda:GetLayerVersion action",
                403,
            )
        if ref.region != s.region:
            raise invalid_parameter(
                f"Layers are not in the same region as the function. Layers are expected to be in region {s.region}."
            )
        record = lamb.layers.get(ref.name, ref.version, deleted=arn in already)
        if record is None:
            raise invalid_parameter(f"Layer version {arn} does not exist.")
        unversioned = layer_arn(ref.region, ref.account, ref.name)
        if unversioned in seen:
            raise invalid_parameter(
                "Two different versions of the same layer are not allowed to be referenced in the same function. "
                f"{seen[unversioned]} and {arn} are versions of the same layer."
            )
        seen[unversioned] = arn
        layers.append({"Arn": record["LayerVersionArn"], "CodeSize": record["CodeSize"]})
        keys.append(record["_CodeKey"])
        unzipped += record.get("_UnzippedSize", 0)
    return {"Layers": layers, "_LayerKeys": keys, "_LayersUnzippedSize": unzipped}


def check_total_size(lamb: "Services", config: dict) -> None:
    """Function code plus its layers, unzipped, within 250 MB."""
    limit = lamb.settings.limits.unzipped_code_max_bytes
    total = config.get("_UnzippedSize", 0) + config.get("_LayersUnzippedSize", 0)
    if config.get("_LayerKeys") and total > limit:
        raise invalid_parameter(
            f"Function code combined with layers exceeds the maximum allowed size of {limit} bytes. "
            f"The actual size is {total} bytes."
        )


def apply_layers(config: dict, resolved: dict) -> None:
    """Set (or, for an empty list, clear) the layer keys of a configuration."""
    for key in ("Layers", "_LayerKeys", "_LayersUnzippedSize"):
        config.pop(key, None)
    if resolved["Layers"]:
        config.update(resolved)


async def prepare_opt(lamb: "Services", config: dict) -> None:
    """Build the merged /opt folder of a configuration's layers, off the event loop."""
    keys = config.get("_LayerKeys")
    if keys:
        root = opt.opt_root(lamb.settings.data_dir)
        await asyncio.to_thread(opt.opt_dir, root, keys, lamb.code.ensure_unpacked)
