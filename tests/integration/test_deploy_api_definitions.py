"""``lamb deploy`` of APIs whose OpenAPI definition lives outside the template: SAM's ``DefinitionUri``
(a local YAML or JSON file, packaged as ``sam package`` uploads it, or an S3 object), CloudFormation's
``BodyS3Location``, and the ``AWS::Include`` transform (a local or S3 snippet, intrinsics in it resolved).
Deployed as a user does, then called with curl; S3 is moto's server in its own process."""

from __future__ import annotations

import json

from .async_support import moto  # noqa: F401  (fixture)
from .conftest import REGION, unique
from .deploy_support import deploy_env, lamb_cmd, write
from .test_deploy_apis import _outputs, curl

SAM = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"

APP = """import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"says": "%s", "path": event.get("rawPath") or event["path"]})}
"""

FUNCTION = """
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: {name}
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
  FnFromApis:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunction
      Principal: apigateway.amazonaws.com
"""


def _fn_arn(server, name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{server.account_id}:function:{name}"


def _rest_definition(server, name: str, path: str) -> str:
    """A REST API's OpenAPI 3 definition in YAML (no intrinsics: an external file is not processed)."""
    uri = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{_fn_arn(server, name)}/invocations"
    return f"""openapi: 3.0.1
info: {{title: defs-rest, version: "1"}}
paths:
  {path}:
    get:
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: {uri}
"""


def _http_definition(server, name: str, path: str) -> str:
    return json.dumps({"openapi": "3.0.1", "info": {"title": "defs-http", "version": "1"}, "paths": {path: {"get": {
        "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": _fn_arn(server, name),
                                            "payloadFormatVersion": "2.0"}}}}})


def test_local_definition_uri_for_rest_and_http_apis(lamb_server, tmp_path):
    name = unique("defs-fn")
    # A top-level AWS::Include beside SAM's transform: its Outputs section merges into the template's.
    template = SAM.replace("Transform: AWS::Serverless-2016-10-31", "Transform:\n  - AWS::Serverless-2016-10-31\n"
                           "  - {Name: AWS::Include, Parameters: {Location: more-outputs.yaml}}") + \
        "Resources:" + FUNCTION.format(name=name) + """
  RestDefs:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      DefinitionUri: apis/rest.yaml
  HttpDefs:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefinitionUri: apis/http.json
Outputs:
  RestUrl:
    Value: !Sub "https://${RestDefs}.execute-api.${AWS::Region}.amazonaws.com/prod/"
  HttpUrl:
    Value: !Sub "https://${HttpDefs}.execute-api.${AWS::Region}.amazonaws.com/"
"""
    write(tmp_path, {"src/app.py": APP % "from a file", "template.yaml": template,
                     "apis/rest.yaml": _rest_definition(lamb_server, name, "/hello"),
                     "apis/http.json": _http_definition(lamb_server, name, "/hi"),
                     "more-outputs.yaml": "Outputs:\n  FunctionName: {Value: !Ref Fn}\n"})
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = unique("defs")
    out = lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", stack, env=env).stdout
    outputs = _outputs(out)
    rest, http = outputs["RestUrl"], outputs["HttpUrl"]
    assert outputs["FunctionName"] == name
    status, body = curl(rest + "hello")
    assert (status, json.loads(body)) == (200, {"says": "from a file", "path": "/hello"})
    status, body = curl(http + "hi")
    assert (status, json.loads(body)) == (200, {"says": "from a file", "path": "/hi"})
    rest_id = rest[7:].split(".", 1)[0]
    assert lamb_server.client("apigateway").get_rest_api(restApiId=rest_id)["name"] == "defs-rest"

    # An edited definition file is a new package location: the APIs are re-imported and redeployed.
    write(tmp_path, {"apis/rest.yaml": _rest_definition(lamb_server, name, "/bonjour"),
                     "apis/http.json": _http_definition(lamb_server, name, "/salut")})
    out = lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", stack, env=env).stdout
    assert "UPDATE_COMPLETE             AWS::ApiGateway::RestApi" in out
    assert "UPDATE_COMPLETE             AWS::ApiGatewayV2::Api" in out
    status, body = curl(rest + "bonjour")
    assert (status, json.loads(body)["path"]) == (200, "/bonjour")
    assert curl(rest + "hello")[0] == 403  # REST APIs answer a missing route with 403 Missing Authentication Token
    status, body = curl(http + "salut")
    assert (status, json.loads(body)["path"]) == (200, "/salut")
    assert curl(http + "hi")[0] == 404

    # A definition path that does not exist stops the deploy before anything is applied.
    write(tmp_path, {"template.yaml": template.replace("apis/http.json", "apis/missing.json")})
    failed = lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", stack, env=env, check=False)
    assert failed.returncode == 1
    assert "HttpDefs.DefinitionUri: apis/missing.json is neither a file nor an s3:// URI" in failed.stderr
    lamb_cmd("deploy", "--delete", stack, env=env)


def test_s3_definitions_and_aws_include(lamb_server, moto, tmp_path):  # noqa: F811
    name = unique("defs-s3-fn")
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="api-defs")
    s3.put_object(Bucket="api-defs", Key="rest.yaml", Body=_rest_definition(lamb_server, name, "/from-s3").encode())
    s3.put_bucket_versioning(Bucket="api-defs", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="api-defs", Key="http.json", Body=_http_definition(lamb_server, name, "/v1").encode())
    s3.put_object(Bucket="api-defs", Key="http.json", Body=_http_definition(lamb_server, name, "/v2").encode())
    # The snippet AWS::Include brings in: intrinsics in it resolve as the template's own.
    s3.put_object(Bucket="api-defs", Key="include.yaml", Body=b"""openapi: 3.0.1
info: {title: included, version: "1"}
paths:
  /included:
    get:
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}
""")
    template = SAM + "Resources:" + FUNCTION.format(name=name) + """
  SamS3:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      DefinitionUri: s3://api-defs/rest.yaml
  CfnV2:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      BodyS3Location: {Bucket: api-defs, Key: http.json, Version: %s, Etag: '%s'}
  CfnV2Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref CfnV2, StageName: $default, AutoDeploy: true}
  Included:
    Type: AWS::Serverless::Api
    Properties:
      StageName: live
      DefinitionBody:
        Fn::Transform:
          Name: AWS::Include
          Parameters: {Location: s3://api-defs/include.yaml}
  LocalIncluded:
    Type: AWS::Serverless::Api
    Properties:
      StageName: local
      DefinitionBody:
        'Fn::Transform': {Name: 'AWS::Include', Parameters: {Location: snippets/local.yaml}}
Outputs:
  SamS3Url:
    Value: !Sub "https://${SamS3}.execute-api.${AWS::Region}.amazonaws.com/prod/"
  CfnV2Url:
    Value: !Sub "https://${CfnV2}.execute-api.${AWS::Region}.amazonaws.com/"
  IncludedUrl:
    Value: !Sub "https://${Included}.execute-api.${AWS::Region}.amazonaws.com/live/"
  LocalIncludedUrl:
    Value: !Sub "https://${LocalIncluded}.execute-api.${AWS::Region}.amazonaws.com/local/"
""" % (first["VersionId"], first["ETag"])
    snippet = s3.get_object(Bucket="api-defs", Key="include.yaml")["Body"].read().decode()
    write(tmp_path, {"src/app.py": APP % "via s3", "template.yaml": template,
                     "snippets/local.yaml": snippet.replace("/included", "/local-included")})
    env = deploy_env(lamb_server, tmp_path / "cache", AWS_ENDPOINT_URL_S3=moto.url)
    stack = unique("defs-s3")
    outputs = _outputs(lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", stack, env=env).stdout)
    status, body = curl(outputs["SamS3Url"] + "from-s3")
    assert (status, json.loads(body)) == (200, {"says": "via s3", "path": "/from-s3"})
    # BodyS3Location's Version picks the object's first version, not the latest.
    status, body = curl(outputs["CfnV2Url"] + "v1")
    assert (status, json.loads(body)["path"]) == (200, "/v1")
    assert curl(outputs["CfnV2Url"] + "v2")[0] == 404
    status, body = curl(outputs["IncludedUrl"] + "included")
    assert (status, json.loads(body)["path"]) == (200, "/included")
    status, body = curl(outputs["LocalIncludedUrl"] + "local-included")
    assert (status, json.loads(body)["path"]) == (200, "/local-included")
    lamb_cmd("deploy", "--delete", stack, env=env)


def test_s3_definition_without_an_s3_endpoint_fails_and_rolls_back(lamb_server, tmp_path):
    template = SAM + """Resources:
  NoS3:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefinitionUri: {Bucket: nowhere, Key: api.yaml}
"""
    write(tmp_path, {"template.yaml": template})
    env = deploy_env(lamb_server, tmp_path / "cache")
    result = lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", unique("defs-nos3"), env=env,
                      check=False)
    assert result.returncode == 1
    assert "s3://nowhere/api.yaml: no S3 endpoint configured (AWS_ENDPOINT_URL_S3, or --use-aws)" in result.stdout
