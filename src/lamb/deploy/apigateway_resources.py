"""Handlers for API Gateway resources (what SAM's ``Api``/``HttpApi`` events and
``AWS::Serverless::Api``/``AWS::Serverless::HttpApi`` become), applied through the
``apigateway`` and ``apigatewayv2`` models Lamb serves on its port.

Properties, return values and "Update requires: Replacement" follow the CloudFormation reference:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-restapi.html,
…-apigateway-deployment.html, …-apigateway-stage.html, …-apigatewayv2-api.html, …-apigatewayv2-stage.html,
…-apigatewayv2-route.html, …-apigatewayv2-integration.html, …-apigatewayv2-authorizer.html,
…-apigatewayv2-deployment.html, …-apigateway-resource.html, …-apigateway-method.html. A RestApi or
Api with a ``Body`` is imported (ImportRestApi/ImportApi) and re-imported on update (PutRestApi in
overwrite mode/ReimportApi); a ``BodyS3Location`` (``{Bucket, Key, Version}``, what SAM's
``DefinitionUri`` becomes) is read as the definition file, YAML or JSON, from the deploy's package cache
(a local file packaged by package.py) or from S3 through boto3's standard configuration. A RestApi
without either is built from ``AWS::ApiGateway::Resource`` and ``AWS::ApiGateway::Method`` resources (the CDK's shape).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .registry import ALL, Applied, Env, Registry, members, pick


def _tags(tags: Any) -> dict:
    if isinstance(tags, dict):
        return dict(tags)
    return {t["Key"]: t["Value"] for t in tags or []}


def _gone(client: Any) -> tuple:
    return (client.exceptions.NotFoundException,)


def _body(env: Env, props: dict) -> bytes | None:
    """The API definition: ``Body`` (inline), else the file at ``BodyS3Location``; None without either."""
    if props.get("Body") is not None:
        return json.dumps(props["Body"]).encode()
    loc = props.get("BodyS3Location")
    if loc is None:
        return None
    if not isinstance(loc, dict) or not loc.get("Bucket") or not loc.get("Key"):
        raise ValueError(f"BodyS3Location needs Bucket and Key, got {loc!r}")
    body = env.code({"S3Bucket": loc["Bucket"], "S3Key": loc["Key"], "S3ObjectVersion": loc.get("Version")})
    check_etag(body, loc.get("ETag") or loc.get("Etag"), f"s3://{loc['Bucket']}/{loc['Key']}")
    return body


def check_etag(body: bytes, etag: str | None, where: str) -> None:
    """A ``BodyS3Location``'s ``ETag`` (``Etag`` for HTTP APIs) must be the object's: the MD5 of a single-part
    upload (a multipart ETag, ``<md5>-<parts>``, cannot be recomputed from the bytes and is not checked)."""
    if not etag:
        return
    expected = etag.strip('"')
    if "-" not in expected and hashlib.md5(body, usedforsecurity=False).hexdigest() != expected.lower():
        raise ValueError(f"BodyS3Location {where}: the object's content does not match ETag {etag}")


# ------------------------------------------------------------------ REST APIs (v1)
def _policy_text(policy: Any) -> str:
    """A template's ``Policy``: a JSON object or its text."""
    return policy if isinstance(policy, str) else json.dumps(policy)


class RestApi:
    """AWS::ApiGateway::RestApi. Ref: the API id; GetAtt RestApiId, RootResourceId.
    ``Name`` overrides the definition's title, as CloudFormation does."""

    replace_on: frozenset[str] = frozenset()

    def _patch(self, props: dict) -> list[dict]:
        ops = []
        if props.get("Name"):
            ops.append({"op": "replace", "path": "/name", "value": props["Name"]})
        if props.get("Description") is not None:
            ops.append({"op": "replace", "path": "/description", "value": props["Description"]})
        for t in props.get("BinaryMediaTypes") or []:
            ops.append({"op": "add", "path": "/binaryMediaTypes/" + t.replace("~", "~0").replace("/", "~1")})
        if props.get("MinimumCompressionSize") is not None:
            ops.append({"op": "replace", "path": "/minimumCompressionSize", "value": str(props["MinimumCompressionSize"])})
        if props.get("DisableExecuteApiEndpoint") is not None:
            ops.append({"op": "replace", "path": "/disableExecuteApiEndpoint",
                        "value": str(bool(props["DisableExecuteApiEndpoint"])).lower()})
        if props.get("Policy") is not None:  # the API's resource policy
            ops.append({"op": "replace", "path": "/policy", "value": _policy_text(props["Policy"])})
        return ops

    def _applied(self, api: dict) -> Applied:
        return Applied(api["id"], {"Ref": api["id"], "RestApiId": api["id"], "RootResourceId": api["rootResourceId"]})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        body = _body(env, props)
        if body is not None:
            api = apigw.import_rest_api(body=body,
                                        failOnWarnings=bool(props.get("FailOnWarnings")),
                                        **pick(props, {"parameters"}, {"Parameters": "parameters"}))
        else:
            api = apigw.create_rest_api(name=props.get("Name") or f"{env.stack}-{logical}",
                                        **pick(props, {"description", "binaryMediaTypes", "minimumCompressionSize",
                                                       "apiKeySource"},
                                               {"Description": "description", "BinaryMediaTypes": "binaryMediaTypes",
                                                "MinimumCompressionSize": "minimumCompressionSize",
                                                "ApiKeySourceType": "apiKeySource"}),
                                        **({"tags": _tags(props["Tags"])} if props.get("Tags") else {}),
                                        **({"policy": _policy_text(props["Policy"])} if props.get("Policy") else {}),
                                        **({"disableExecuteApiEndpoint": bool(props["DisableExecuteApiEndpoint"])}
                                           if props.get("DisableExecuteApiEndpoint") is not None else {}))
            return self._applied(api)
        ops = self._patch(props)
        if ops:
            api = apigw.update_rest_api(restApiId=api["id"], patchOperations=ops)
        return self._applied(api)

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        body = _body(env, new)
        if body is not None:
            apigw.put_rest_api(restApiId=physical, mode=new.get("Mode") or "overwrite",
                               body=body, failOnWarnings=bool(new.get("FailOnWarnings")))
        ops = self._patch(new)
        gone = set(old.get("BinaryMediaTypes") or []) - set(new.get("BinaryMediaTypes") or [])
        ops += [{"op": "remove", "path": "/binaryMediaTypes/" + t.replace("~", "~0").replace("/", "~1")}
                for t in sorted(gone)]
        if ops:
            apigw.update_rest_api(restApiId=physical, patchOperations=ops)
        return self._applied(apigw.get_rest_api(restApiId=physical))

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        try:
            apigw.delete_rest_api(restApiId=physical)
        except _gone(apigw):
            return


class Deployment:
    """AWS::ApiGateway::Deployment. Ref: the deployment id. SAM names it after a hash of the
    API's definition, so a changed definition is a new deployment; ``StageName`` makes or
    moves that stage. Deleting it deletes the stage it made if that stage still serves it."""

    replace_on = ALL

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        params = pick(props, {"restApiId", "stageName", "description", "stageDescription"},
                      {"RestApiId": "restApiId", "StageName": "stageName", "Description": "description"})
        stage = props.get("StageDescription") or {}
        if stage.get("Variables"):
            params["variables"] = stage["Variables"]
        if stage.get("Description"):
            params["stageDescription"] = stage["Description"]
        if stage.get("CacheClusterEnabled") is not None:  # the stage cache (apis/api_cache.py)
            params["cacheClusterEnabled"] = _true(stage["CacheClusterEnabled"])
        if stage.get("CacheClusterSize") is not None:
            params["cacheClusterSize"] = _size(stage["CacheClusterSize"])
        dep = apigw.create_deployment(**params)
        return Applied(dep["id"], {"Ref": dep["id"], "DeploymentId": dep["id"]})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        raise AssertionError("replace_on ALL: never updated in place")

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        api = props["RestApiId"]
        try:
            name = props.get("StageName")
            if name and apigw.get_stage(restApiId=api, stageName=name).get("deploymentId") == physical:
                apigw.delete_stage(restApiId=api, stageName=name)
        except _gone(apigw):
            pass
        try:
            apigw.delete_deployment(restApiId=api, deploymentId=physical)
        except _gone(apigw):
            return


class Resource:
    """AWS::ApiGateway::Resource. Ref: the resource id; GetAtt ResourceId. Every property replaces it."""

    replace_on = ALL

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        res = apigw.create_resource(restApiId=props["RestApiId"], parentId=props["ParentId"], pathPart=props["PathPart"])
        return Applied(res["id"], {"Ref": res["id"], "ResourceId": res["id"]})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        raise AssertionError("replace_on ALL: never updated in place")

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        try:
            apigw.delete_resource(restApiId=props["RestApiId"], resourceId=physical)
        except _gone(apigw):
            return


_INTEGRATION = {"Type": "type", "Uri": "uri", "IntegrationHttpMethod": "integrationHttpMethod",
                "RequestTemplates": "requestTemplates", "PassthroughBehavior": "passthroughBehavior",
                "TimeoutInMillis": "timeoutInMillis", "RequestParameters": "requestParameters",
                "Credentials": "credentials", "ContentHandling": "contentHandling",
                "CacheKeyParameters": "cacheKeyParameters", "CacheNamespace": "cacheNamespace",
                "ConnectionType": "connectionType", "ConnectionId": "connectionId"}


class Method:
    """AWS::ApiGateway::Method with its ``Integration`` (and its ``IntegrationResponses``) and
    ``MethodResponses``: PutMethod, PutMethodResponse, PutIntegration, PutIntegrationResponse. An
    update puts the method again (DeleteMethod first); a new API, resource or verb replaces it."""

    replace_on = frozenset({"RestApiId", "ResourceId", "HttpMethod"})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        where = {"restApiId": props["RestApiId"], "resourceId": props["ResourceId"], "httpMethod": props["HttpMethod"]}
        apigw.put_method(**where, authorizationType=props.get("AuthorizationType") or "NONE",
                         **pick(props, {"authorizerId", "apiKeyRequired", "operationName", "requestParameters",
                                        "requestModels", "requestValidatorId", "authorizationScopes"},
                                {"AuthorizerId": "authorizerId", "ApiKeyRequired": "apiKeyRequired",
                                 "OperationName": "operationName", "RequestParameters": "requestParameters",
                                 "RequestModels": "requestModels", "RequestValidatorId": "requestValidatorId",
                                 "AuthorizationScopes": "authorizationScopes"}))
        for response in props.get("MethodResponses") or []:
            apigw.put_method_response(**where, statusCode=str(response["StatusCode"]),
                                      **pick(response, {"responseParameters", "responseModels"},
                                             {"ResponseParameters": "responseParameters",
                                              "ResponseModels": "responseModels"}))
        integration = props.get("Integration")
        if integration:
            params = pick(integration, set(_INTEGRATION.values()), _INTEGRATION)
            if "timeoutInMillis" in params:
                params["timeoutInMillis"] = int(params["timeoutInMillis"])
            apigw.put_integration(**where, **params)
            for response in integration.get("IntegrationResponses") or []:
                apigw.put_integration_response(
                    **where, statusCode=str(response["StatusCode"]),
                    **pick(response, {"selectionPattern", "responseParameters", "responseTemplates", "contentHandling"},
                           {"SelectionPattern": "selectionPattern", "ResponseParameters": "responseParameters",
                            "ResponseTemplates": "responseTemplates", "ContentHandling": "contentHandling"}))
        ident = f"{props['ResourceId']}-{props['HttpMethod']}"
        return Applied(ident, {"Ref": ident})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        self.delete(env, physical, old)
        return self.create(env, logical, new)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        try:
            apigw.delete_method(restApiId=props["RestApiId"], resourceId=props["ResourceId"],
                                httpMethod=props["HttpMethod"])
        except _gone(apigw):
            return


def _true(value) -> bool:
    """A template's boolean (``true``, ``"true"``, ``"True"``)."""
    return str(value).lower() == "true"


def _size(value) -> str:
    """A ``CacheClusterSize`` as the API spells it (YAML reads ``0.5`` as a number; ``118``, not ``118.0``)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


class Stage:
    """AWS::ApiGateway::Stage. Ref: the stage name. Updated with UpdateStage's patch operations."""

    replace_on = frozenset({"RestApiId", "StageName"})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        name = props.get("StageName") or logical.lower()
        params = {"restApiId": props["RestApiId"], "stageName": name, "deploymentId": props["DeploymentId"]}
        for src, dst in (("Description", "description"), ("Variables", "variables"), ("TracingEnabled", "tracingEnabled")):
            if props.get(src) is not None:
                params[dst] = props[src]
        if props.get("Tags"):
            params["tags"] = _tags(props["Tags"])
        if props.get("CacheClusterEnabled") is not None:  # the stage cache (apis/api_cache.py)
            params["cacheClusterEnabled"] = _true(props["CacheClusterEnabled"])
        if props.get("CacheClusterSize") is not None:
            params["cacheClusterSize"] = _size(props["CacheClusterSize"])
        apigw.create_stage(**params)
        ops = self._access_log({}, props) + self._method_settings({}, props) + self._caching({}, props)
        if ops:
            apigw.update_stage(restApiId=props["RestApiId"], stageName=name, patchOperations=ops)
        return Applied(name, {"Ref": name})

    # MethodSetting properties and their UpdateStage paths (apis/method_settings.py).
    _SETTINGS = {"MetricsEnabled": "metrics/enabled", "LoggingLevel": "logging/loglevel",
                 "DataTraceEnabled": "logging/dataTrace", "ThrottlingBurstLimit": "throttling/burstLimit",
                 "ThrottlingRateLimit": "throttling/rateLimit", "CachingEnabled": "caching/enabled",
                 "CacheTtlInSeconds": "caching/ttlInSeconds", "CacheDataEncrypted": "caching/dataEncrypted"}

    @classmethod
    def _method_settings(cls, old: dict, new: dict) -> list[dict]:
        """``MethodSettings`` (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-apigateway-stage-methodsetting.html):
        one member per ``ResourcePath`` (``/*`` for every method, ``/~1pets`` for ``/pets``, ``/`` the root)
        and ``HttpMethod``, as UpdateStage's ``/{resource path}/{http method}/{setting}`` paths; a member or
        a setting no longer in the template is removed (back to the stage's or AWS's default)."""
        def members(props: dict) -> dict[str, dict]:
            out = {}
            for m in props.get("MethodSettings") or []:
                path = m.get("ResourcePath") or "/*"
                key = "/*/*" if path == "/*" else f"/{'~1' if path == '/' else path[1:]}/{m.get('HttpMethod') or '*'}"
                out[key] = {k: v for k, v in m.items() if k in cls._SETTINGS and v is not None}
            return out

        def text(value) -> str:
            return str(value).lower() if isinstance(value, bool) else str(value)

        before, after = members(old), members(new)
        ops = [{"op": "remove", "path": key} for key in before if key not in after]
        for key, member in after.items():
            kept = before.get(key) or {}
            ops += [{"op": "remove", "path": f"{key}/{cls._SETTINGS[k]}"} for k in kept if k not in member]
            ops += [{"op": "replace", "path": f"{key}/{cls._SETTINGS[k]}", "value": text(v)}
                    for k, v in member.items() if kept.get(k) != v]
        return ops

    @staticmethod
    def _caching(old: dict, new: dict) -> list[dict]:
        """On update, ``CacheClusterEnabled``/``CacheClusterSize`` (the methods' caching members are
        ``MethodSettings``, ``_method_settings``)."""
        ops = []
        if old and old.get("CacheClusterSize") != new.get("CacheClusterSize") and new.get("CacheClusterSize"):
            ops.append({"op": "replace", "path": "/cacheClusterSize", "value": _size(new["CacheClusterSize"])})
        if old and _true(old.get("CacheClusterEnabled")) != _true(new.get("CacheClusterEnabled")):
            ops.append({"op": "replace", "path": "/cacheClusterEnabled",
                        "value": str(_true(new.get("CacheClusterEnabled"))).lower()})
        return ops

    @staticmethod
    def _access_log(old: dict, new: dict) -> list[dict]:
        before, after = old.get("AccessLogSetting") or {}, new.get("AccessLogSetting") or {}
        if before == after:
            return []
        if not after:
            return [{"op": "remove", "path": "/accessLogSettings"}]
        return [{"op": "replace", "path": f"/accessLogSettings/{k}", "value": after[src]}
                for src, k in (("DestinationArn", "destinationArn"), ("Format", "format")) if after.get(src)]

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        ops: list[dict] = []
        if old.get("DeploymentId") != new.get("DeploymentId"):
            ops.append({"op": "replace", "path": "/deploymentId", "value": new["DeploymentId"]})
        if old.get("Description") != new.get("Description"):
            ops.append({"op": "replace", "path": "/description", "value": new.get("Description") or ""})
        if old.get("TracingEnabled") != new.get("TracingEnabled"):
            ops.append({"op": "replace", "path": "/tracingEnabled", "value": str(bool(new.get("TracingEnabled"))).lower()})
        before, after = old.get("Variables") or {}, new.get("Variables") or {}
        ops += [{"op": "remove", "path": f"/variables/{k}"} for k in sorted(set(before) - set(after))]
        ops += [{"op": "replace", "path": f"/variables/{k}", "value": v} for k, v in after.items() if before.get(k) != v]
        ops += self._access_log(old, new) + self._method_settings(old, new) + self._caching(old, new)
        if ops:
            apigw.update_stage(restApiId=new["RestApiId"], stageName=physical, patchOperations=ops)
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        try:
            apigw.delete_stage(restApiId=props["RestApiId"], stageName=physical)
        except _gone(apigw):
            return


# ------------------------------------------------------------------ HTTP APIs (v2)
class HttpApi:
    """AWS::ApiGatewayV2::Api. Ref: the API id; GetAtt ApiId, ApiEndpoint."""

    replace_on = frozenset({"ProtocolType"})

    def _applied(self, api: dict) -> Applied:
        return Applied(api["ApiId"], {"Ref": api["ApiId"], "ApiId": api["ApiId"], "ApiEndpoint": api.get("ApiEndpoint", "")})

    def _fields(self, client: Any, op: str, props: dict) -> dict:
        allowed = members(client, op) - {"ApiId", "Tags", "Body", "Basepath", "BodyS3Location"}
        return pick(props, allowed)

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        body = _body(env, props)
        if body is not None:
            api = v2.import_api(Body=body.decode(), FailOnWarnings=bool(props.get("FailOnWarnings")))
            extra = self._fields(v2, "UpdateApi", {k: v for k, v in props.items() if k in ("Name", "Description")})
            if extra:
                api = v2.update_api(ApiId=api["ApiId"], **extra)
        else:
            params = self._fields(v2, "CreateApi", props)
            params.setdefault("Name", f"{env.stack}-{logical}")
            api = v2.create_api(**params)
        if props.get("Tags"):
            v2.tag_resource(ResourceArn=f"arn:aws:apigateway:{env.region}::/apis/{api['ApiId']}", Tags=_tags(props["Tags"]))
        return self._applied(api)

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        body = _body(env, new)
        if body is not None:
            v2.reimport_api(ApiId=physical, Body=body.decode())
            extra = self._fields(v2, "UpdateApi", {k: v for k, v in new.items() if k in ("Name", "Description")})
        else:
            extra = self._fields(v2, "UpdateApi", new)
        if extra:
            v2.update_api(ApiId=physical, **extra)
        return self._applied(v2.get_api(ApiId=physical))

    def delete(self, env: Env, physical: str, props: dict) -> None:
        v2 = env.lamb_client("apigatewayv2")
        try:
            v2.delete_api(ApiId=physical)
        except _gone(v2):
            return


class _V2Part:
    """A part of an HTTP API made by Create<Kind>, changed by Update<Kind>, removed by Delete<Kind>."""

    kind = ""
    id_key = ""
    replace_on = frozenset({"ApiId"})

    def _params(self, client: Any, op: str, props: dict) -> dict:
        return pick(props, members(client, op) - {"ApiId", self.id_key})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        out = getattr(v2, f"create_{self.kind}")(ApiId=props["ApiId"], **self._params(v2, f"Create{self.kind.title()}", props))
        ident = out[self.id_key]
        return Applied(ident, {"Ref": ident, self.id_key: ident})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        getattr(v2, f"update_{self.kind}")(ApiId=new["ApiId"], **{self.id_key: physical},
                                           **self._params(v2, f"Update{self.kind.title()}", new))
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        v2 = env.lamb_client("apigatewayv2")
        try:
            getattr(v2, f"delete_{self.kind}")(ApiId=props["ApiId"], **{self.id_key: physical})
        except _gone(v2):
            return


class Route(_V2Part):
    kind, id_key = "route", "RouteId"


class Integration(_V2Part):
    kind, id_key = "integration", "IntegrationId"


class Authorizer(_V2Part):
    kind, id_key = "authorizer", "AuthorizerId"


class HttpDeployment(_V2Part):
    """AWS::ApiGatewayV2::Deployment: a new deployment for any change."""

    kind, id_key = "deployment", "DeploymentId"
    replace_on = ALL


class V2Response:
    """AWS::ApiGatewayV2::RouteResponse (a WebSocket API's two-way route) and
    AWS::ApiGatewayV2::IntegrationResponse (a non-proxy integration's answer): a child of a route or an
    integration (apis/websocket.py)."""

    def __init__(self, parent: str, kind: str, snake: str) -> None:
        self.parent, self.kind, self.snake = parent, kind, snake  # "RouteId", "RouteResponse", "route_response"
        self.replace_on = frozenset({"ApiId", parent})

    def _params(self, client: Any, op: str, props: dict) -> dict:
        return pick(props, members(client, op) - {"ApiId", self.parent, f"{self.kind}Id"})

    def _keys(self, props: dict) -> dict:
        return {"ApiId": props["ApiId"], self.parent: props[self.parent]}

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        out = getattr(v2, f"create_{self.snake}")(**self._keys(props),
                                                  **self._params(v2, f"Create{self.kind}", props))
        ident = out[f"{self.kind}Id"]
        return Applied(ident, {"Ref": ident, f"{self.kind}Id": ident})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        getattr(v2, f"update_{self.snake}")(**self._keys(new), **{f"{self.kind}Id": physical},
                                            **self._params(v2, f"Update{self.kind}", new))
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        v2 = env.lamb_client("apigatewayv2")
        try:
            getattr(v2, f"delete_{self.snake}")(**self._keys(props), **{f"{self.kind}Id": physical})
        except _gone(v2):
            return


class HttpStage:
    """AWS::ApiGatewayV2::Stage. Ref: the stage name (``$default`` included)."""

    replace_on = frozenset({"ApiId", "StageName"})

    def _params(self, client: Any, op: str, props: dict) -> dict:
        return pick(props, members(client, op) - {"ApiId", "StageName", "Tags"})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        params = self._params(v2, "CreateStage", props)
        if props.get("Tags"):
            params["Tags"] = _tags(props["Tags"])
        v2.create_stage(ApiId=props["ApiId"], StageName=props["StageName"], **params)
        return Applied(props["StageName"], {"Ref": props["StageName"]})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        v2.update_stage(ApiId=new["ApiId"], StageName=physical, **self._params(v2, "UpdateStage", new))
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        v2 = env.lamb_client("apigatewayv2")
        try:
            v2.delete_stage(ApiId=props["ApiId"], StageName=physical)
        except _gone(v2):
            return


def register(registry: Registry) -> None:
    registry.add("AWS::ApiGateway::RestApi", RestApi())
    registry.add("AWS::ApiGateway::Deployment", Deployment())
    registry.add("AWS::ApiGateway::Stage", Stage())
    registry.add("AWS::ApiGateway::Resource", Resource())
    registry.add("AWS::ApiGateway::Method", Method())
    registry.add("AWS::ApiGatewayV2::Api", HttpApi())
    registry.add("AWS::ApiGatewayV2::Stage", HttpStage())
    registry.add("AWS::ApiGatewayV2::Route", Route())
    registry.add("AWS::ApiGatewayV2::RouteResponse", V2Response("RouteId", "RouteResponse", "route_response"))
    registry.add("AWS::ApiGatewayV2::IntegrationResponse",
                 V2Response("IntegrationId", "IntegrationResponse", "integration_response"))
    registry.add("AWS::ApiGatewayV2::Integration", Integration())
    registry.add("AWS::ApiGatewayV2::Authorizer", Authorizer())
    registry.add("AWS::ApiGatewayV2::Deployment", HttpDeployment())
