"""Handlers for the REST API parts the CDK synthesizes besides resources and methods:
``AWS::ApiGateway::Model``, ``::RequestValidator``, ``::GatewayResponse`` and ``::Account``, through Lamb's
``apigateway`` model (CreateModel/UpdateModel, CreateRequestValidator/UpdateRequestValidator,
PutGatewayResponse, UpdateAccount).

Properties and return values follow the CloudFormation reference
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-model.html,
…-apigateway-requestvalidator.html, …-apigateway-gatewayresponse.html, …-apigateway-account.html). Deleting
an ``Account`` resource leaves the account's CloudWatch role as it is: the setting belongs to the account and
region, not to the stack.
"""

from __future__ import annotations

import json

from .apigateway_resources import _gone
from .registry import Applied, Env, physical_name


class Model:
    """AWS::ApiGateway::Model. Ref: the model's name."""

    replace_on = frozenset({"RestApiId", "Name", "ContentType"})

    @staticmethod
    def _schema(props: dict) -> str:
        schema = props.get("Schema") or {}
        return schema if isinstance(schema, str) else json.dumps(schema)

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        name = props.get("Name") or "".join(c for c in physical_name(env.stack, logical, 60) if c.isalnum())
        extra = {"description": props["Description"]} if props.get("Description") is not None else {}
        env.lamb_client("apigateway").create_model(restApiId=props["RestApiId"], name=name,
                                                   contentType=props.get("ContentType") or "application/json",
                                                   schema=self._schema(props), **extra)
        return Applied(name, {"Ref": name})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        ops = [{"op": "replace", "path": "/schema", "value": self._schema(new)}]
        if old.get("Description") != new.get("Description"):
            ops.append({"op": "replace", "path": "/description", "value": new.get("Description") or ""})
        env.lamb_client("apigateway").update_model(restApiId=new["RestApiId"], modelName=physical,
                                                   patchOperations=ops)
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        try:
            apigw.delete_model(restApiId=props["RestApiId"], modelName=physical)
        except _gone(apigw):
            return


class RequestValidator:
    """AWS::ApiGateway::RequestValidator. Ref: the validator's id; GetAtt RequestValidatorId."""

    replace_on = frozenset({"RestApiId"})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        out = env.lamb_client("apigateway").create_request_validator(
            restApiId=props["RestApiId"], name=props.get("Name") or logical,
            validateRequestBody=bool(props.get("ValidateRequestBody")),
            validateRequestParameters=bool(props.get("ValidateRequestParameters")))
        return Applied(out["id"], {"Ref": out["id"], "RequestValidatorId": out["id"]})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        ops = [{"op": "replace", "path": "/name", "value": new.get("Name") or logical}]
        ops += [{"op": "replace", "path": f"/{k[0].lower()}{k[1:]}", "value": str(bool(new.get(k))).lower()}
                for k in ("ValidateRequestBody", "ValidateRequestParameters")]
        env.lamb_client("apigateway").update_request_validator(restApiId=new["RestApiId"], requestValidatorId=physical,
                                                               patchOperations=ops)
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        try:
            apigw.delete_request_validator(restApiId=props["RestApiId"], requestValidatorId=physical)
        except _gone(apigw):
            return


class GatewayResponse:
    """AWS::ApiGateway::GatewayResponse. Ref: an id of the API and the response type."""

    replace_on = frozenset({"RestApiId", "ResponseType"})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        extra = {k: props[src] for src, k in (("StatusCode", "statusCode"), ("ResponseParameters", "responseParameters"),
                                              ("ResponseTemplates", "responseTemplates")) if props.get(src)}
        if "statusCode" in extra:
            extra["statusCode"] = str(extra["statusCode"])
        env.lamb_client("apigateway").put_gateway_response(restApiId=props["RestApiId"],
                                                           responseType=props["ResponseType"], **extra)
        ident = f"{props['RestApiId']}-{props['ResponseType']}"
        return Applied(ident, {"Ref": ident})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        return self.create(env, logical, new)  # PutGatewayResponse replaces the whole response

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        try:
            apigw.delete_gateway_response(restApiId=props["RestApiId"], responseType=props["ResponseType"])
        except _gone(apigw):
            return


class Account:
    """AWS::ApiGateway::Account: the account's CloudWatch role (UpdateAccount). Ref: an id of the resource."""

    replace_on: frozenset[str] = frozenset()

    def _apply(self, env: Env, props: dict) -> None:
        env.lamb_client("apigateway").update_account(patchOperations=[
            {"op": "replace", "path": "/cloudwatchRoleArn", "value": props.get("CloudWatchRoleArn") or ""}])

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        self._apply(env, props)
        ident = physical_name(env.stack, logical, 40, lower=True)
        return Applied(ident, {"Ref": ident})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        self._apply(env, new)
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        return  # the role stays the account's setting, as CloudFormation leaves it


def register(registry) -> None:
    registry.add("AWS::ApiGateway::Model", Model())
    registry.add("AWS::ApiGateway::RequestValidator", RequestValidator())
    registry.add("AWS::ApiGateway::GatewayResponse", GatewayResponse())
    registry.add("AWS::ApiGateway::Account", Account())
