"""Handlers for the AWS::Lambda::* resource types, applied through Lamb's own Lambda API.

Property names and attributes follow the CloudFormation reference
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/AWS_Lambda.html);
each maps onto the Lambda API operation CloudFormation itself calls.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from .package import HOT_RELOAD_BUCKET
from .registry import ALL, Applied, Env, Registry, changed, members, physical_name, pick

INLINE_FILE = {"python": "index.py", "nodejs": "index.js"}


def split_qualified(arn_or_name: str) -> tuple[str, str | None]:
    """``arn:...:function:f:alias`` or ``f:alias`` → (function, qualifier)."""
    parts = arn_or_name.split(":")
    if len(parts) == 8 or len(parts) == 2:
        return ":".join(parts[:-1]), parts[-1]
    return arn_or_name, None


def _inline_zip(source: str, runtime: str) -> bytes:
    """CloudFormation's Code.ZipFile: the source text becomes index.py / index.js."""
    name = next((f for prefix, f in INLINE_FILE.items() if runtime.startswith(prefix)), "index.py")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o100644 << 16
        zf.writestr(info, source)
    return buf.getvalue()


def _code(env: Env, code: dict, runtime: str) -> dict:
    if "ImageUri" in code:
        return {"ImageUri": code["ImageUri"]}
    if "ZipFile" in code:
        return {"ZipFile": _inline_zip(code["ZipFile"], runtime)}
    if code.get("S3Bucket") == HOT_RELOAD_BUCKET:  # a host folder used in place (package.py)
        return {"S3Bucket": HOT_RELOAD_BUCKET, "S3Key": "/" + code["S3Key"].lstrip("/")}
    return {"ZipFile": env.code(code)}


def _tags(props: dict) -> dict:
    return {t["Key"]: t["Value"] for t in props.get("Tags", [])}


class Function:
    replace_on = frozenset({"FunctionName", "PackageType"})
    SPECIAL = {"Code", "Tags", "FunctionName", "ReservedConcurrentExecutions", "RuntimeManagementConfig"}
    RESET = {"Environment": {"Variables": {}}, "Layers": [], "Description": "", "Timeout": 3, "MemorySize": 128,
             "DeadLetterConfig": {}, "TracingConfig": {"Mode": "PassThrough"}, "EphemeralStorage": {"Size": 512}}

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        lam = env.lambda_client()
        name = props.get("FunctionName") or physical_name(env.stack, logical, 64)
        params = pick(props, members(lam, "CreateFunction") - self.SPECIAL, {"KmsKeyArn": "KMSKeyArn"})
        params.update(FunctionName=name, Code=_code(env, props["Code"], props.get("Runtime", "")))
        if props.get("Tags"):
            params["Tags"] = _tags(props)
        out = lam.create_function(**params)
        try:
            lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
            self._extras(lam, name, {}, props)
        except Exception:
            lam.delete_function(FunctionName=name)  # not half-made: the record never names it
            raise
        return Applied(name, {"Ref": name, "Arn": out["FunctionArn"]})

    def _extras(self, lam: Any, name: str, old: dict, new: dict) -> None:
        if old.get("ReservedConcurrentExecutions") != new.get("ReservedConcurrentExecutions"):
            if new.get("ReservedConcurrentExecutions") is None:
                lam.delete_function_concurrency(FunctionName=name)
            else:
                lam.put_function_concurrency(FunctionName=name,
                                             ReservedConcurrentExecutions=int(new["ReservedConcurrentExecutions"]))
        if old.get("RuntimeManagementConfig") != new.get("RuntimeManagementConfig"):
            rmc = new.get("RuntimeManagementConfig") or {"UpdateRuntimeOn": "Auto"}
            lam.put_runtime_management_config(FunctionName=name, **rmc)

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        lam = env.lambda_client()
        wait = lam.get_waiter("function_updated_v2")
        if old.get("Code") != new.get("Code"):
            lam.update_function_code(FunctionName=physical, **_code(env, new["Code"], new.get("Runtime", "")))
            wait.wait(FunctionName=physical, WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
        allowed = members(lam, "UpdateFunctionConfiguration") - self.SPECIAL
        rename = {"KmsKeyArn": "KMSKeyArn"}
        if changed(pick(old, allowed, rename), pick(new, allowed, rename), lambda k: True):
            params = {k: v for k, v in self.RESET.items() if k in allowed}
            params.update(pick(new, allowed, rename))
            lam.update_function_configuration(FunctionName=physical, **params)
            wait.wait(FunctionName=physical, WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
        if old.get("Tags") != new.get("Tags"):
            arn = attrs["Arn"]
            gone = set(_tags(old)) - set(_tags(new))
            if gone:
                lam.untag_resource(Resource=arn, TagKeys=sorted(gone))
            if new.get("Tags"):
                lam.tag_resource(Resource=arn, Tags=_tags(new))
        self._extras(lam, physical, old, new)
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        env.lambda_client().delete_function(FunctionName=physical)


def _provisioned(lam: Any, function: str, qualifier: str, old: dict, new: dict) -> None:
    before, after = old.get("ProvisionedConcurrencyConfig"), new.get("ProvisionedConcurrencyConfig")
    if before == after:
        return
    if after:
        lam.put_provisioned_concurrency_config(
            FunctionName=function, Qualifier=qualifier,
            ProvisionedConcurrentExecutions=int(after["ProvisionedConcurrentExecutions"]))
    else:
        lam.delete_provisioned_concurrency_config(FunctionName=function, Qualifier=qualifier)


class Version:
    replace_on = ALL

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        lam = env.lambda_client()
        params = pick(props, {"FunctionName", "Description", "CodeSha256"})
        out = lam.publish_version(**params)
        _provisioned(lam, props["FunctionName"], out["Version"], {}, props)
        return Applied(out["FunctionArn"], {"Ref": out["FunctionArn"], "Version": out["Version"],
                                            "FunctionArn": out["FunctionArn"]})

    def update(self, env, logical, physical, old, new, attrs):  # pragma: no cover - replace_on ALL
        raise AssertionError("versions are replaced, never updated")

    def delete(self, env: Env, physical: str, props: dict) -> None:
        env.lambda_client().delete_function(FunctionName=physical)


class Alias:
    """AWS::Lambda::Alias. A SAM DeploymentPreference (CodeDeploy) is reduced to alias weights:
    when FunctionVersion changes, the new version gets each step's weight for the step's
    interval (times LAMB_DEPLOY_TIME_SCALE), then all traffic (docs/architecture.md)."""

    replace_on = frozenset({"Name", "FunctionName"})

    def _params(self, props: dict) -> dict:
        params = pick(props, {"FunctionName", "Name", "FunctionVersion", "Description"})
        weights = (props.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or []
        params["RoutingConfig"] = {"AdditionalVersionWeights": {w["FunctionVersion"]: float(w["FunctionWeight"])
                                                                for w in weights}}
        return params

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        lam = env.lambda_client()
        out = lam.create_alias(**self._params(props))
        try:
            _provisioned(lam, props["FunctionName"], props["Name"], {}, props)
        except Exception:
            lam.delete_alias(FunctionName=props["FunctionName"], Name=props["Name"])
            raise
        return Applied(out["AliasArn"], {"Ref": out["AliasArn"], "AliasArn": out["AliasArn"]})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        lam = env.lambda_client()
        params = self._params(new)
        steps = env.traffic_steps(logical)
        before, after = old.get("FunctionVersion"), new.get("FunctionVersion")
        if steps and before and before != after and not params["RoutingConfig"]["AdditionalVersionWeights"]:
            for weight, hold in steps:
                lam.update_alias(**dict(params, FunctionVersion=before,
                                        RoutingConfig={"AdditionalVersionWeights": {after: weight}}))
                env.progress("UPDATE_IN_PROGRESS", "AWS::Lambda::Alias", logical,
                             f"traffic shifting: {weight:.0%} to version {after}, {1 - weight:.0%} to {before}")
                env.sleep(hold)
        lam.update_alias(**params)
        _provisioned(lam, new["FunctionName"], new["Name"], old, new)
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        fn, qualifier = split_qualified(physical)
        env.lambda_client().delete_alias(FunctionName=fn, Name=qualifier)


class Url:
    replace_on = frozenset({"TargetFunctionArn", "Qualifier"})

    def _target(self, props: dict) -> tuple[str, str | None]:
        fn, qualifier = split_qualified(props["TargetFunctionArn"])
        return fn, props.get("Qualifier") or qualifier

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        lam = env.lambda_client()
        fn, qualifier = self._target(props)
        params = pick(props, {"AuthType", "Cors", "InvokeMode"})
        out = lam.create_function_url_config(FunctionName=fn, **({"Qualifier": qualifier} if qualifier else {}), **params)
        physical = f"{fn}:{qualifier}" if qualifier else fn
        return Applied(physical, {"Ref": physical, "FunctionUrl": out["FunctionUrl"], "FunctionArn": out["FunctionArn"]})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        fn, qualifier = self._target(new)
        params = pick(new, {"AuthType", "Cors", "InvokeMode"})
        params.setdefault("Cors", {})
        env.lambda_client().update_function_url_config(
            FunctionName=fn, **({"Qualifier": qualifier} if qualifier else {}), **params)
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        fn, qualifier = self._target(props)
        env.lambda_client().delete_function_url_config(FunctionName=fn, **({"Qualifier": qualifier} if qualifier else {}))


class Permission:
    replace_on = ALL

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        lam = env.lambda_client()
        fn, qualifier = split_qualified(props["FunctionName"])
        sid = physical_name(env.stack, logical, 100)
        params = pick(props, members(lam, "AddPermission") - {"FunctionName", "StatementId", "Qualifier"})
        lam.add_permission(FunctionName=fn, StatementId=sid, **({"Qualifier": qualifier} if qualifier else {}), **params)
        return Applied(sid, {"Ref": sid})

    def update(self, env, logical, physical, old, new, attrs):  # pragma: no cover - replace_on ALL
        raise AssertionError("permissions are replaced, never updated")

    def delete(self, env: Env, physical: str, props: dict) -> None:
        fn, qualifier = split_qualified(props["FunctionName"])
        env.lambda_client().remove_permission(FunctionName=fn, StatementId=physical,
                                              **({"Qualifier": qualifier} if qualifier else {}))


class EventInvokeConfig:
    replace_on = frozenset({"FunctionName", "Qualifier"})
    KEYS = {"MaximumEventAgeInSeconds", "MaximumRetryAttempts", "DestinationConfig"}

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        env.lambda_client().put_function_event_invoke_config(
            FunctionName=props["FunctionName"], Qualifier=props.get("Qualifier", "$LATEST"), **pick(props, self.KEYS))
        physical = f"{props['FunctionName']}:{props.get('Qualifier', '$LATEST')}"
        return Applied(physical, {"Ref": physical})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        return self.create(env, logical, new)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        env.lambda_client().delete_function_event_invoke_config(
            FunctionName=props["FunctionName"], Qualifier=props.get("Qualifier", "$LATEST"))


class LayerVersion:
    replace_on = ALL

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        lam = env.lambda_client()
        params = pick(props, members(lam, "PublishLayerVersion") - {"Content", "LayerName"})
        out = lam.publish_layer_version(LayerName=props.get("LayerName") or physical_name(env.stack, logical, 64),
                                        Content={"ZipFile": env.code(props["Content"])}, **params)
        arn = out["LayerVersionArn"]
        return Applied(arn, {"Ref": arn, "LayerVersionArn": arn})

    def update(self, env, logical, physical, old, new, attrs):  # pragma: no cover - replace_on ALL
        raise AssertionError("layer versions are replaced, never updated")

    def delete(self, env: Env, physical: str, props: dict) -> None:
        layer, number = physical.rsplit(":", 1)
        env.lambda_client().delete_layer_version(LayerName=layer, VersionNumber=int(number))


class LayerVersionPermission:
    replace_on = ALL

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        layer, number = props["LayerVersionArn"].rsplit(":", 1)
        sid = physical_name(env.stack, logical, 100).replace("-", "_")
        env.lambda_client().add_layer_version_permission(
            LayerName=layer, VersionNumber=int(number), StatementId=sid,
            **pick(props, {"Action", "Principal", "OrganizationId"}))
        return Applied(sid, {"Ref": sid})

    def update(self, env, logical, physical, old, new, attrs):  # pragma: no cover - replace_on ALL
        raise AssertionError("replaced, never updated")

    def delete(self, env: Env, physical: str, props: dict) -> None:
        layer, number = props["LayerVersionArn"].rsplit(":", 1)
        env.lambda_client().remove_layer_version_permission(LayerName=layer, VersionNumber=int(number),
                                                            StatementId=physical)


class Absorbed:
    """CodeDeploy's application and deployment group of a SAM DeploymentPreference: Lamb
    applies the preference itself as alias weights (Alias above), so nothing is created."""

    replace_on = frozenset()

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        return Applied(logical, {"Ref": logical}, note="reduced to alias weights (no CodeDeploy)")

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        return Applied(physical, attrs, note="reduced to alias weights (no CodeDeploy)")

    def delete(self, env: Env, physical: str, props: dict) -> None:
        return None


def register(registry: Registry) -> None:
    for type_, handler in {
        "AWS::Lambda::Function": Function(), "AWS::Lambda::Version": Version(), "AWS::Lambda::Alias": Alias(),
        "AWS::Lambda::Url": Url(), "AWS::Lambda::Permission": Permission(),
        "AWS::Lambda::EventInvokeConfig": EventInvokeConfig(), "AWS::Lambda::LayerVersion": LayerVersion(),
        "AWS::Lambda::LayerVersionPermission": LayerVersionPermission(),
        "AWS::CodeDeploy::Application": Absorbed(), "AWS::CodeDeploy::DeploymentGroup": Absorbed(),
    }.items():
        registry.add(type_, handler)
