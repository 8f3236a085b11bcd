"""``lamb deploy`` of the REST API parts the CDK synthesizes besides resources and methods: an
``AWS::ApiGateway::Model`` and ``::RequestValidator`` a ``::Method`` names (``RequestModels``,
``RequestValidatorId``, ``RequestParameters``), a ``::GatewayResponse``, a ``::Stage``'s ``MethodSettings``, and
the CDK's ``cloudWatchRole``:
an ``AWS::IAM::Role`` trusting API Gateway and the ``AWS::ApiGateway::Account`` naming it (GetAccount
shows it). Deployed, called with curl, updated (the model's schema, the validator), deleted."""

from __future__ import annotations

import json

import pytest

from .awscli import aws, aws_json
from .conftest import unique
from .deploy_support import deploy_env, lamb_cmd
from .test_deploy_apis import _outputs, curl
from .test_deploy_cdk_rest_api import API, URI
from .test_deploy_cdk_rest_api import template as cdk_template

def template(required: list[str], validate_body: bool) -> dict:
    cdk = cdk_template("Unused", "")  # the CDK test's function, its role and the endpoint Output
    handler = {k: v for k, v in cdk["Resources"].items() if k in ("HandlerServiceRole", "Handler")}
    return {
        "Resources": {
            **handler,
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "cdk-validated"}},
            "ApiCloudWatchRole": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "sts:AssumeRole", "Effect": "Allow",
                     "Principal": {"Service": "apigateway.amazonaws.com"}}]},
                "ManagedPolicyArns": [
                    "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"]}},
            "ApiAccount": {"Type": "AWS::ApiGateway::Account", "DependsOn": ["Api"], "Properties": {
                "CloudWatchRoleArn": {"Fn::GetAtt": ["ApiCloudWatchRole", "Arn"]}}},
            "ApiPetModel": {"Type": "AWS::ApiGateway::Model", "Properties": {
                "RestApiId": API, "ContentType": "application/json",
                "Schema": {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
                           **({"required": required} if required else {}),  # draft 4: never an empty list
                           "properties": {"name": {"type": "string"}}}}},
            "ApiValidator": {"Type": "AWS::ApiGateway::RequestValidator", "Properties": {
                "RestApiId": API, "ValidateRequestBody": validate_body, "ValidateRequestParameters": True}},
            "ApiGatewayResponse": {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": {
                "RestApiId": API, "ResponseType": "BAD_REQUEST_BODY", "StatusCode": "422",
                "ResponseTemplates": {"application/json": '{"invalid": $context.error.messageString}'}}},
            "Apipets": {"Type": "AWS::ApiGateway::Resource", "Properties": {
                "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]}, "PathPart": "pets", "RestApiId": API}},
            "ApipetsPOST": {"Type": "AWS::ApiGateway::Method", "Properties": {
                "HttpMethod": "POST", "RestApiId": API, "ResourceId": {"Ref": "Apipets"}, "AuthorizationType": "NONE",
                "RequestValidatorId": {"Ref": "ApiValidator"},
                "RequestModels": {"application/json": {"Ref": "ApiPetModel"}},
                "RequestParameters": {"method.request.querystring.q": True},
                "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": URI}}},
            "ApiDeployment": {"Type": "AWS::ApiGateway::Deployment",
                              "DependsOn": ["ApipetsPOST", "ApiPetModel", "ApiValidator", "ApiGatewayResponse"],
                              "Properties": {"RestApiId": API,
                                             "Description": json.dumps([required, validate_body])}},
            "ApiDeploymentStageprod": {"Type": "AWS::ApiGateway::Stage", "Properties": {
                "RestApiId": API, "DeploymentId": {"Ref": "ApiDeployment"}, "StageName": "prod",
                "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True,
                                    "LoggingLevel": "INFO" if validate_body else "ERROR"}] + ([
                    {"ResourcePath": "/~1pets", "HttpMethod": "POST", "ThrottlingBurstLimit": 50,
                     "ThrottlingRateLimit": 20.5, "DataTraceEnabled": True}] if validate_body else [])}},
            "HandlerPermission": {"Type": "AWS::Lambda::Permission", "Properties": {
                "Action": "lambda:InvokeFunction", "FunctionName": {"Fn::GetAtt": ["Handler", "Arn"]},
                "Principal": "apigateway.amazonaws.com"}},
        },
        "Outputs": cdk["Outputs"],
    }


def test_cdk_models_validators_gateway_responses_and_account(lamb_server, tmp_path):
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = unique("cdkvalid")
    path = tmp_path / "cdk.template.json"
    path.write_text(json.dumps(template(["name"], True)))
    out = lamb_cmd("deploy", str(path), "--stack-name", stack, env=env).stdout
    for kind in ("Model", "RequestValidator", "GatewayResponse", "Account"):
        assert f"CREATE_COMPLETE             AWS::ApiGateway::{kind}" in out, out
    url = _outputs(out)["ApiEndpoint"] + "pets"
    apigw = lamb_server.client("apigateway")
    role = apigw.get_account()["cloudwatchRoleArn"]
    assert role.startswith(f"arn:aws:iam::{lamb_server.account_id}:role/")

    post = ("-X", "POST", "-H", "Content-Type: application/json")
    ok = (200, json.dumps({"path": "/pets", "resource": "/pets"}))
    assert curl(url + "?q=1", *post, "-d", '{"name": "rex"}') == ok
    status, body = curl(url, *post, "-d", '{"name": "rex"}')
    assert (status, json.loads(body)) == (400, {"message": "Missing required request parameters: [q]"})
    assert curl(url + "?q=1", *post, "-d", "{}") == (422, '{"invalid": "Invalid request body"}')

    api_id = url[7:].split(".", 1)[0]
    settings = apigw.get_stage(restApiId=api_id, stageName="prod")["methodSettings"]
    assert set(settings) == {"*/*", "~1pets/POST"}
    assert (settings["*/*"]["metricsEnabled"], settings["*/*"]["loggingLevel"]) == (True, "INFO")
    assert (settings["~1pets/POST"]["throttlingBurstLimit"], settings["~1pets/POST"]["throttlingRateLimit"],
            settings["~1pets/POST"]["dataTraceEnabled"]) == (50, 20.5, True)

    # the model no longer requires a name and the validator checks parameters only
    path.write_text(json.dumps(template([], False)))
    lamb_cmd("deploy", str(path), "--stack-name", stack, env=env)
    settings = apigw.get_stage(restApiId=api_id, stageName="prod")["methodSettings"]
    assert set(settings) == {"*/*"} and settings["*/*"]["loggingLevel"] == "ERROR"  # MethodSettings updated
    assert curl(url + "?q=1", *post, "-d", '{"name": 1}') == ok
    model = [m for m in apigw.get_models(restApiId=url[7:].split(".", 1)[0])["items"]
             if m["name"] not in ("Empty", "Error")]
    assert len(model) == 1 and "required" not in json.loads(model[0]["schema"])
    assert curl(url, *post, "-d", "{}")[0] == 400

    lamb_cmd("deploy", "--delete", stack, env=env)
    with pytest.raises(apigw.exceptions.NotFoundException):
        apigw.get_rest_api(restApiId=url[7:].split(".", 1)[0])
    assert apigw.get_account()["cloudwatchRoleArn"] == role  # the account's setting stays


def test_update_account_checks_the_role(lamb_server):
    iam = lamb_server.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]}
    name = unique("notapigw")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    before = aws_json(lamb_server, "get-account", service="apigateway")
    for bad in (arn, arn + "-missing", "not-an-arn"):
        out = aws(lamb_server, "update-account", "--patch-operations",
                  f"op=replace,path=/cloudwatchRoleArn,value={bad}", service="apigateway", check=False)
        assert out.returncode != 0 and "BadRequestException" in out.stderr
        assert "The role ARN does not have required permissions set to API Gateway" in out.stderr
    assert aws_json(lamb_server, "get-account", service="apigateway") == before
    trust["Statement"][0]["Principal"]["Service"] = "apigateway.amazonaws.com"
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
    got = aws_json(lamb_server, "update-account", "--patch-operations",
                   f"op=replace,path=/cloudwatchRoleArn,value={arn}", service="apigateway")
    assert got["cloudwatchRoleArn"] == arn
    assert aws_json(lamb_server, "get-account", service="apigateway")["cloudwatchRoleArn"] == arn
