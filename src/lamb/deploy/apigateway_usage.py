"""Handlers for REST APIs' API keys and usage plans: ``AWS::ApiGateway::ApiKey``, ``::UsagePlan`` and
``::UsagePlanKey`` (what SAM's ``Auth: {ApiKeyRequired: true, UsagePlan: {CreateUsagePlan: PER_API | SHARED}}``
becomes), through Lamb's ``apigateway`` model (api/apigateway_usage.py).

Properties, return values and replacements follow the CloudFormation reference
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-apikey.html,
…-apigateway-usageplan.html, …-apigateway-usageplankey.html). An ``ApiKey`` without ``Name`` gets
CloudFormation's generated name; without ``Value`` a generated one.
"""

from __future__ import annotations

from typing import Any

from .apigateway_resources import _gone, _tags
from .registry import ALL, Applied, Env, physical_name


def _stage_keys(props: dict) -> list[str]:
    return [f"{k['RestApiId']}/{k['StageName']}" for k in props.get("StageKeys") or []]


class ApiKey:
    """AWS::ApiGateway::ApiKey. Ref: the key's id; GetAtt APIKeyId."""

    replace_on = frozenset({"Name", "Value", "GenerateDistinctId"})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        params: dict[str, Any] = {"name": props.get("Name") or physical_name(env.stack, logical, 128),
                                  "enabled": str(props.get("Enabled", False)).lower() == "true"}
        for src, dst in (("Description", "description"), ("CustomerId", "customerId"), ("Value", "value"),
                         ("GenerateDistinctId", "generateDistinctId")):
            if props.get(src) is not None:
                params[dst] = props[src]
        if props.get("StageKeys"):
            params["stageKeys"] = [{"restApiId": k["RestApiId"], "stageName": k["StageName"]}
                                   for k in props["StageKeys"]]
        if props.get("Tags"):
            params["tags"] = _tags(props["Tags"])
        key = env.lamb_client("apigateway").create_api_key(**params)
        return Applied(key["id"], {"Ref": key["id"], "APIKeyId": key["id"]})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        ops = [{"op": "replace", "path": "/enabled", "value": str(str(new.get("Enabled", False)).lower() == "true").lower()}]
        for src, path in (("Description", "/description"), ("CustomerId", "/customerId")):
            if old.get(src) != new.get(src):
                ops.append({"op": "replace", "path": path, "value": new.get(src) or ""})
        before, after = _stage_keys(old), _stage_keys(new)
        ops += [{"op": "remove", "path": "/stageKeys", "value": k} for k in before if k not in after]
        ops += [{"op": "add", "path": "/stageKeys", "value": k} for k in after if k not in before]
        env.lamb_client("apigateway").update_api_key(apiKey=physical, patchOperations=ops)
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        try:
            apigw.delete_api_key(apiKey=physical)
        except _gone(apigw):
            return


def _throttle(props: dict | None) -> dict:
    return {k: props[src] for src, k in (("BurstLimit", "burstLimit"), ("RateLimit", "rateLimit"))
            if (props or {}).get(src) is not None}


def _stages(props: dict) -> dict[str, dict]:
    """``<api id>:<stage>`` → its method throttles (``<resource path>/<METHOD>`` → settings)."""
    return {f"{s['ApiId']}:{s['Stage']}": {m: _throttle(t) for m, t in (s.get("Throttle") or {}).items()}
            for s in props.get("ApiStages") or []}


def _escape(path: str) -> str:
    return path.replace("~", "~0").replace("/", "~1")


class UsagePlan:
    """AWS::ApiGateway::UsagePlan. Ref: the plan's id; GetAtt Id. Updated with UpdateUsagePlan's patches."""

    replace_on: frozenset[str] = frozenset()

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        params: dict[str, Any] = {"name": props.get("UsagePlanName") or physical_name(env.stack, logical, 128)}
        if props.get("Description") is not None:
            params["description"] = props["Description"]
        stages = _stages(props)
        if stages:
            params["apiStages"] = [dict({"apiId": k.split(":", 1)[0], "stage": k.split(":", 1)[1]},
                                        **({"throttle": t} if t else {})) for k, t in stages.items()]
        if props.get("Throttle"):
            params["throttle"] = _throttle(props["Throttle"])
        if props.get("Quota"):
            q = props["Quota"]
            params["quota"] = {k: q[src] for src, k in (("Limit", "limit"), ("Offset", "offset"), ("Period", "period"))
                               if q.get(src) is not None}
        if props.get("Tags"):
            params["tags"] = _tags(props["Tags"])
        plan = env.lamb_client("apigateway").create_usage_plan(**params)
        return Applied(plan["id"], {"Ref": plan["id"], "Id": plan["id"]})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        ops: list[dict] = [{"op": "replace", "path": "/name",
                            "value": new.get("UsagePlanName") or physical_name(env.stack, logical, 128)}
                           ] if old.get("UsagePlanName") != new.get("UsagePlanName") else []
        if old.get("Description") != new.get("Description"):
            ops.append({"op": "replace", "path": "/description", "value": new.get("Description") or ""})
        for what, fields in (("Throttle", (("BurstLimit", "burstLimit"), ("RateLimit", "rateLimit"))),
                             ("Quota", (("Limit", "limit"), ("Offset", "offset"), ("Period", "period")))):
            if old.get(what) == new.get(what):
                continue
            if not new.get(what):
                ops.append({"op": "remove", "path": f"/{what.lower()}"})
                continue
            ops += [{"op": "replace", "path": f"/{what.lower()}/{k}", "value": str(new[what][src])}
                    for src, k in fields if new[what].get(src) is not None]
        before, after = _stages(old), _stages(new)
        ops += [{"op": "remove", "path": "/apiStages", "value": k} for k in before if k not in after]
        ops += [{"op": "add", "path": "/apiStages", "value": k} for k in after if k not in before]
        for stage, methods in after.items():
            old_methods = before.get(stage, {})
            for method in old_methods:
                if method not in methods:
                    path, _, verb = method.rpartition("/")
                    ops.append({"op": "remove", "path": f"/apiStages/{stage}/throttle/{_escape(path)}/{verb}"})
            for method, settings in methods.items():
                if old_methods.get(method) == settings:
                    continue
                path, _, verb = method.rpartition("/")
                ops += [{"op": "replace", "path": f"/apiStages/{stage}/throttle/{_escape(path)}/{verb}/{k}",
                         "value": str(v)} for k, v in settings.items()]
        if ops:
            env.lamb_client("apigateway").update_usage_plan(usagePlanId=physical, patchOperations=ops)
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        """Its API stages removed first: API Gateway refuses to delete a plan that has some."""
        apigw = env.lamb_client("apigateway")
        try:
            stages = apigw.get_usage_plan(usagePlanId=physical).get("apiStages") or []
            if stages:
                apigw.update_usage_plan(usagePlanId=physical, patchOperations=[
                    {"op": "remove", "path": "/apiStages", "value": f"{s['apiId']}:{s['stage']}"} for s in stages])
            apigw.delete_usage_plan(usagePlanId=physical)
        except _gone(apigw):
            return


class UsagePlanKey:
    """AWS::ApiGateway::UsagePlanKey. Ref: the key's id; GetAtt Id. Every property replaces it."""

    replace_on = ALL

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        key = env.lamb_client("apigateway").create_usage_plan_key(
            usagePlanId=props["UsagePlanId"], keyId=props["KeyId"], keyType=props.get("KeyType") or "API_KEY")
        return Applied(key["id"], {"Ref": key["id"], "Id": key["id"]})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        raise AssertionError("replace_on ALL: never updated in place")

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        try:
            apigw.delete_usage_plan_key(usagePlanId=props["UsagePlanId"], keyId=physical)
        except _gone(apigw):
            return


def register(registry) -> None:
    registry.add("AWS::ApiGateway::ApiKey", ApiKey())
    registry.add("AWS::ApiGateway::UsagePlan", UsagePlan())
    registry.add("AWS::ApiGateway::UsagePlanKey", UsagePlanKey())
