"""``lamb deploy`` of the CloudFormation the CDK's ``LambdaRestApi`` synthesizes: the REST API's
``AWS::ApiGateway::Resource``/``Method`` (with its ``Integration``)/``Deployment``/``Stage`` as separate
resources (no ``Body``), a ``{proxy+}`` resource with ``ANY``, the function's ``AWS::Lambda::Permission``
for the stage, and the endpoint Output the CDK writes with ``Fn::Join``; a non-proxy ``AWS`` method with
mapping templates beside it. Deployed, called with curl, re-deployed with a changed method and a new
deployment (the CDK names deployments after a hash of the methods), deleted."""

from __future__ import annotations

import json

import pytest

from .conftest import unique
from .deploy_support import deploy_env, lamb_cmd
from .test_deploy_apis import _outputs, curl

CODE = ("import json\n"
        "def handler(event, context):\n"
        "    if 'httpMethod' in event:\n"
        "        return {'statusCode': 200, 'body': json.dumps({'path': event['path'], 'resource': event['resource']})}\n"
        "    return {'mapped': event}\n")
API = {"Ref": "Api"}
URI = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":apigateway:", {"Ref": "AWS::Region"},
                         ":lambda:path/2015-03-31/functions/", {"Fn::GetAtt": ["Handler", "Arn"]}, "/invocations"]]}


def template(deployment: str, items_response: str) -> dict:
    proxy_method = {"HttpMethod": "ANY", "RestApiId": API, "AuthorizationType": "NONE",
                    "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": URI}}
    methods = ["ApiANY", "ApiproxyANY", "ApiitemsGET"]
    return {
        "Resources": {
            "HandlerServiceRole": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]}}},
            "Handler": {"Type": "AWS::Lambda::Function", "DependsOn": ["HandlerServiceRole"], "Properties": {
                "Runtime": "python3.12", "Handler": "index.handler", "Code": {"ZipFile": CODE},
                "Role": {"Fn::GetAtt": ["HandlerServiceRole", "Arn"]}}},
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "cdk-api"}},
            "Apiproxy": {"Type": "AWS::ApiGateway::Resource", "Properties": {
                "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]}, "PathPart": "{proxy+}", "RestApiId": API}},
            "ApiproxyANY": {"Type": "AWS::ApiGateway::Method",
                            "Properties": dict(proxy_method, ResourceId={"Ref": "Apiproxy"})},
            "ApiANY": {"Type": "AWS::ApiGateway::Method",
                       "Properties": dict(proxy_method, ResourceId={"Fn::GetAtt": ["Api", "RootResourceId"]})},
            "Apiitems": {"Type": "AWS::ApiGateway::Resource", "Properties": {
                "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]}, "PathPart": "items", "RestApiId": API}},
            "ApiitemsGET": {"Type": "AWS::ApiGateway::Method", "Properties": {
                "HttpMethod": "GET", "RestApiId": API, "ResourceId": {"Ref": "Apiitems"}, "AuthorizationType": "NONE",
                "MethodResponses": [{"StatusCode": "200"}],
                "Integration": {"Type": "AWS", "IntegrationHttpMethod": "POST", "Uri": URI,
                                "RequestTemplates": {"application/json": '{"q": "$input.params(\'q\')"}'},
                                "IntegrationResponses": [{"StatusCode": "200", "ResponseTemplates": {
                                    "application/json": items_response}}]}}},
            deployment: {"Type": "AWS::ApiGateway::Deployment", "DependsOn": methods,
                         "Properties": {"RestApiId": API, "Description": "Automatically created by the RestApi construct"}},
            "ApiDeploymentStageprod": {"Type": "AWS::ApiGateway::Stage", "Properties": {
                "RestApiId": API, "DeploymentId": {"Ref": deployment}, "StageName": "prod",
                "MethodSettings": [{"DataTraceEnabled": False, "HttpMethod": "*", "MetricsEnabled": True,
                                    "ResourcePath": "/*"}]}},  # deployOptions: {metricsEnabled: true}
            "HandlerPermission": {"Type": "AWS::Lambda::Permission", "Properties": {
                "Action": "lambda:InvokeFunction", "FunctionName": {"Fn::GetAtt": ["Handler", "Arn"]},
                "Principal": "apigateway.amazonaws.com",
                "SourceArn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":execute-api:",
                                                {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":", API,
                                                "/", {"Ref": "ApiDeploymentStageprod"}, "/*/*"]]}}},
        },
        "Outputs": {"ApiEndpoint": {"Value": {"Fn::Join": ["", [
            "https://", API, ".execute-api.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}, "/",
            {"Ref": "ApiDeploymentStageprod"}, "/"]]}}},
    }


def test_cdk_lambda_rest_api_shape(lamb_server, tmp_path):
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = unique("cdkapi")
    path = tmp_path / "cdk.template.json"
    path.write_text(json.dumps(template("ApiDeploymentA1B2C3", '{"items": $input.json(\'$.mapped\')}')))
    out = lamb_cmd("deploy", str(path), "--stack-name", stack, env=env).stdout
    for kind in ("Resource", "Method", "Deployment", "Stage"):
        assert f"CREATE_COMPLETE             AWS::ApiGateway::{kind}" in out, out
    url = _outputs(out)["ApiEndpoint"]
    assert url.startswith("http://") and url.endswith(f".localhost:{lamb_server.port}/prod/"), url
    api_id = url[7:].split(".", 1)[0]

    status, body = curl(url + "a/b")
    assert status == 200 and json.loads(body) == {"path": "/a/b", "resource": "/{proxy+}"}
    status, body = curl(url)
    assert status == 200 and json.loads(body) == {"path": "/", "resource": "/"}
    status, body = curl(url + "items?q=pens")
    assert status == 200 and json.loads(body) == {"items": {"q": "pens"}}

    apigw = lamb_server.client("apigateway")
    paths = {r["path"]: set(r.get("resourceMethods") or {}) for r in apigw.get_resources(restApiId=api_id)["items"]}
    assert paths == {"/": {"ANY"}, "/{proxy+}": {"ANY"}, "/items": {"GET"}}
    stage = apigw.get_stage(restApiId=api_id, stageName="prod")
    first = stage["deploymentId"]
    assert stage["methodSettings"]["*/*"]["metricsEnabled"] is True  # detailed metrics (apis/metrics.py)

    # A changed method and a new deployment (its logical id is a hash of the methods): the stage moves.
    path.write_text(json.dumps(template("ApiDeploymentD4E5F6", '{"found": "$input.path(\'$.mapped.q\')"}')))
    lamb_cmd("deploy", str(path), "--stack-name", stack, env=env)
    assert apigw.get_stage(restApiId=api_id, stageName="prod")["deploymentId"] != first
    assert [d["id"] for d in apigw.get_deployments(restApiId=api_id)["items"]] != [first]
    status, body = curl(url + "items?q=ink")
    assert status == 200 and json.loads(body) == {"found": "ink"}

    lamb_cmd("deploy", "--delete", stack, env=env)
    with pytest.raises(apigw.exceptions.NotFoundException):
        apigw.get_rest_api(restApiId=api_id)
    assert curl(url + "a")[0] == 404  # no such API
