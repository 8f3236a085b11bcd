"""``lamb deploy`` of SAM's ``Api`` and ``HttpApi`` events (implicit and explicit APIs, Lambda
authorizers, CORS): deployed as a user does, results checked through boto3's apigateway and
apigatewayv2 clients, and the stack's Outputs URLs called with curl."""

from __future__ import annotations

import json
import subprocess

import pytest

from .conftest import unique
from .deploy_support import deploy_env, lamb_cmd, write

SAM = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"

HELLO = SAM + """
Globals:
  Function: {Timeout: 3}
Resources:
  HelloWorldFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello_world/
      Handler: app.lambda_handler
      Runtime: python3.12
      Events:
        HelloWorld:
          Type: Api
          Properties: {Path: /hello, Method: get}
        HelloHttp:
          Type: HttpApi
          Properties: {Path: "/hi/{name}", Method: get}
Outputs:
  HelloWorldApi:
    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hello/"
  HelloHttpApi:
    Value: !Sub "https://${ServerlessHttpApi}.execute-api.${AWS::Region}.amazonaws.com/hi/"
"""

APP = """import json
def lambda_handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"message": "%s", "path": event.get("rawPath") or event["path"],
                                                  "params": event.get("pathParameters")})}
"""


def curl(url: str, *args: str) -> tuple[int, str]:
    """A real curl: it resolves ``*.localhost`` to loopback itself."""
    out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", *args, url], capture_output=True, text=True, timeout=60)
    body, _, status = out.stdout.rpartition("\n")
    return int(status), body


def _outputs(stdout: str) -> dict[str, str]:
    lines = stdout.split("Outputs:\n", 1)[1].splitlines()
    return {line.split()[0]: line.split()[1] for line in lines if line.startswith("  ")}


def _deploy(env, template, stack):
    return lamb_cmd("deploy", str(template), "--stack-name", stack, env=env)


def test_hello_world_api_and_http_api(lamb_server, tmp_path):
    write(tmp_path, {"hello_world/app.py": APP % "hello world", "template.yaml": HELLO})
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = unique("hello")
    out = _deploy(env, tmp_path / "template.yaml", stack).stdout
    assert "CREATE_COMPLETE             AWS::ApiGateway::RestApi" in out
    assert "CREATE_COMPLETE             AWS::ApiGatewayV2::Api" in out
    outputs = _outputs(out)
    rest_url, http_url = outputs["HelloWorldApi"], outputs["HelloHttpApi"]
    port = lamb_server.port
    assert rest_url.startswith("http://") and rest_url.endswith(f".localhost:{port}/Prod/hello/")
    rest_id, http_id = rest_url[7:].split(".", 1)[0], http_url[7:].split(".", 1)[0]

    apigw, v2 = lamb_server.client("apigateway"), lamb_server.client("apigatewayv2")
    api = apigw.get_rest_api(restApiId=rest_id)
    assert api["name"] == stack
    paths = {r["path"]: r for r in apigw.get_resources(restApiId=rest_id)["items"]}
    assert set(paths) == {"/", "/hello"} and set(paths["/hello"]["resourceMethods"]) == {"GET"}
    integration = apigw.get_integration(restApiId=rest_id, resourceId=paths["/hello"]["id"], httpMethod="GET")
    assert integration["type"] == "AWS_PROXY" and integration["uri"].endswith("/invocations")
    assert {s["stageName"] for s in apigw.get_stages(restApiId=rest_id)["item"]} == {"Prod", "Stage"}
    assert [r["RouteKey"] for r in v2.get_routes(ApiId=http_id)["Items"]] == ["GET /hi/{name}"]
    integ = v2.get_integrations(ApiId=http_id)["Items"][0]
    assert (integ["IntegrationType"], integ["PayloadFormatVersion"]) == ("AWS_PROXY", "2.0")
    assert v2.get_stage(ApiId=http_id, StageName="$default")["AutoDeploy"] is True

    status, body = curl(rest_url)
    assert status == 200, body
    assert json.loads(body) == {"message": "hello world", "path": "/hello/", "params": None}
    status, body = curl(http_url + "bob")
    assert status == 200, body
    assert json.loads(body) == {"message": "hello world", "path": "/hi/bob", "params": {"name": "bob"}}

    # a re-deploy with changed code and a moved route
    write(tmp_path, {"hello_world/app.py": APP % "hello again",
                     "template.yaml": HELLO.replace("/hi/{name}", "/hey/{name}").replace("Path: /hello,", "Path: /hola,")})
    out = _deploy(env, tmp_path / "template.yaml", stack).stdout
    assert "UPDATE_COMPLETE             AWS::ApiGateway::Stage" in out
    status, body = curl(rest_url.replace("/hello/", "/hola"))
    assert status == 200 and json.loads(body)["message"] == "hello again"
    assert curl(rest_url) == (403, '{"message":"Missing Authentication Token"}')
    status, body = curl(http_url.replace("/hi/", "/hey/") + "ann")
    assert status == 200 and json.loads(body)["params"] == {"name": "ann"}
    assert curl(http_url + "bob") == (404, '{"message":"Not Found"}')
    assert [r["RouteKey"] for r in v2.get_routes(ApiId=http_id)["Items"]] == ["GET /hey/{name}"]
    assert {r["path"] for r in apigw.get_resources(restApiId=rest_id)["items"]} == {"/", "/hola"}
    assert len(apigw.get_deployments(restApiId=rest_id)["items"]) == 1  # the old deployment was cleaned up

    lamb_cmd("deploy", "--delete", stack, env=env)
    assert rest_id not in {a["id"] for a in apigw.get_rest_apis()["items"]}
    assert http_id not in {a["ApiId"] for a in v2.get_apis()["Items"]}


AUTH = SAM + """
Resources:
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration: {AllowOrigins: ["https://example.com"], AllowMethods: [GET]}
      Auth:
        DefaultAuthorizer: Gate
        Authorizers:
          Gate:
            FunctionArn: !GetAtt Authz.Arn
            Identity: {Headers: [Authorization]}
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
            EnableFunctionDefaultPermissions: true  # without it the API may not invoke it (500), as on AWS
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      Variables: {color: blue}
      Auth:
        DefaultAuthorizer: Tok
        Authorizers:
          Tok: {FunctionArn: !GetAtt Authz.Arn}
  Authz:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: authz/, Handler: a.handler, Runtime: python3.12}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: f.handler
      Runtime: python3.12
      Events:
        H: {Type: HttpApi, Properties: {ApiId: !Ref Http, Path: "/items/{id}", Method: GET}}
        R: {Type: Api, Properties: {RestApiId: !Ref Rest, Path: "/items/{id}", Method: ANY}}
Outputs:
  Http: {Value: !Sub "https://${Http}.execute-api.${AWS::Region}.amazonaws.com/items/"}
  Rest: {Value: !Sub "https://${Rest}.execute-api.${AWS::Region}.amazonaws.com/dev/items/"}
"""

AUTHZ = """
def handler(event, context):
    if event.get("type") == "TOKEN":
        effect = "Allow" if event["authorizationToken"] == "allow" else "Deny"
        everything = event["methodArn"].split("/", 1)[0] + "/*"  # the result is cached for the token (300 s)
        return {"principalId": "user", "context": {"who": "token"},
                "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": effect, "Resource": everything}]}}
    return {"isAuthorized": event["headers"].get("authorization") == "allow", "context": {"who": "request"}}
"""

FN = """import json
def handler(event, context):
    ctx = event["requestContext"]
    auth = ctx.get("authorizer") or {}
    who = auth.get("who") or (auth.get("lambda") or {}).get("who")
    return {"statusCode": 200, "body": json.dumps({"id": event["pathParameters"]["id"], "who": who,
                                                  "vars": event.get("stageVariables")})}
"""


def test_explicit_apis_with_lambda_authorizers_and_cors(lamb_server, tmp_path):
    write(tmp_path, {"authz/a.py": AUTHZ, "fn/f.py": FN, "template.yaml": AUTH})
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = unique("authapis")
    outputs = _outputs(_deploy(env, tmp_path / "template.yaml", stack).stdout)
    http_url, rest_url = outputs["Http"], outputs["Rest"]
    http_id = http_url[7:].split(".", 1)[0]
    v2 = lamb_server.client("apigatewayv2")
    (auth,) = v2.get_authorizers(ApiId=http_id)["Items"]
    assert (auth["Name"], auth["AuthorizerType"], auth["EnableSimpleResponses"]) == ("Gate", "REQUEST", True)
    assert v2.get_api(ApiId=http_id)["CorsConfiguration"]["AllowOrigins"] == ["https://example.com"]

    assert curl(http_url + "1") == (401, '{"message":"Unauthorized"}')
    assert curl(http_url + "1", "-H", "Authorization: nope") == (403, '{"message":"Forbidden"}')
    status, body = curl(http_url + "1", "-H", "Authorization: allow")
    assert status == 200 and json.loads(body) == {"id": "1", "who": "request", "vars": None}
    status, headers = curl(http_url + "1", "-X", "OPTIONS", "-o", "/dev/null", "-D", "-", "-H",
                           "Origin: https://example.com", "-H", "Access-Control-Request-Method: GET")
    assert status == 204 and "access-control-allow-origin: https://example.com" in headers.lower()

    status, body = curl(rest_url + "7", "-H", "Authorization: allow")
    assert status == 200 and json.loads(body) == {"id": "7", "who": "token", "vars": {"color": "blue"}}
    status, body = curl(rest_url + "7", "-X", "POST", "-H", "Authorization: no")
    assert (status, json.loads(body)) == (403, {"Message": "User is not authorized to access this resource with an "
                                                           "explicit deny"})

    # a stage variable changed: UpdateStage, no new deployment
    write(tmp_path, {"template.yaml": AUTH.replace("color: blue", "color: green")})
    out = _deploy(env, tmp_path / "template.yaml", stack).stdout
    assert "UPDATE_COMPLETE             AWS::ApiGateway::Stage" in out and "AWS::ApiGateway::Deployment" not in out
    status, body = curl(rest_url + "8", "-H", "Authorization: allow")
    assert status == 200 and json.loads(body)["vars"] == {"color": "green"}
    lamb_cmd("deploy", "--delete", stack, env=env)


THINGS = SAM + """
Globals:
  Api:
%s
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: f.handler
      Runtime: python3.12
      Events:
        R: {Type: Api, Properties: {Path: "/things", Method: GET}}
Outputs:
  Url: {Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/things"}
"""
CORS = THINGS % """    Cors: {AllowMethods: "'GET,POST'", AllowOrigin: "'https://app.example'", AllowHeaders: "'content-type'"}"""


def _deploy_things(server, tmp_path, template: str, name: str) -> tuple[dict, str, str]:
    """A SAM app whose implicit REST API serves GET /things (``THINGS``): (deploy env, stack, the URL)."""
    write(tmp_path, {"fn/f.py": "def handler(e, c):\n    return {'statusCode': 200, 'body': 'things'}\n",
                     "template.yaml": template})
    env = deploy_env(server, tmp_path / "cache")
    stack = unique(name)
    return env, stack, _outputs(_deploy(env, tmp_path / "template.yaml", stack).stdout)["Url"]


def test_rest_api_cors_preflight_from_sam(lamb_server, tmp_path):
    """SAM's ``Cors`` adds OPTIONS methods with MOCK integrations: API Gateway answers them itself."""
    env, stack, url = _deploy_things(lamb_server, tmp_path, CORS, "cors")
    status, headers = curl(url, "-X", "OPTIONS", "-o", "/dev/null", "-D", "-", "-H", "Origin: https://app.example")
    assert status == 200
    lowered = headers.lower()
    assert "access-control-allow-origin: https://app.example" in lowered
    assert "access-control-allow-methods: get,post" in lowered and "access-control-allow-headers: content-type" in lowered
    assert curl(url) == (200, "things")
    rest_id = url[7:].split(".", 1)[0]
    apigw = lamb_server.client("apigateway")
    res = next(r for r in apigw.get_resources(restApiId=rest_id)["items"] if r["path"] == "/things")
    integ = apigw.get_integration(restApiId=rest_id, resourceId=res["id"], httpMethod="OPTIONS")
    assert integ["type"] == "MOCK" and integ["integrationResponses"]["200"]["responseParameters"][
        "method.response.header.Access-Control-Allow-Origin"] == "'https://app.example'"
    where = {"restApiId": rest_id, "resourceId": res["id"], "httpMethod": "OPTIONS", "statusCode": "200"}
    assert apigw.get_method_response(**where)["responseParameters"][
        "method.response.header.Access-Control-Allow-Origin"] is False
    apigw.delete_integration_response(**where)
    with pytest.raises(apigw.exceptions.NotFoundException):
        apigw.get_integration_response(**where)
    lamb_cmd("deploy", "--delete", stack, env=env)


RESOURCE_POLICY = THINGS % """    Auth:
      ResourcePolicy:
        IpRangeBlacklist: ["127.0.0.2/32"]"""


def test_sam_resource_policy(lamb_server, tmp_path):
    """SAM's ``Auth.ResourcePolicy`` becomes the API's resource policy (``x-amazon-apigateway-policy``): a caller
    from a blacklisted address gets API Gateway's explicit deny, any other reaches the function."""
    env, stack, url = _deploy_things(lamb_server, tmp_path, RESOURCE_POLICY, "rpolicy")
    rest_id = url[7:].split(".", 1)[0]
    kept = lamb_server.client("apigateway").get_rest_api(restApiId=rest_id)["policy"]
    assert "127.0.0.2\\/32" in kept and "127.0.0.2/32" in json.loads('"' + kept + '"')  # AWS's escaped form
    assert curl(url) == (200, "things")
    # the same request from 127.0.0.2 (curl binds there; the host name still resolves to loopback)
    status, body = curl(url, "--interface", "127.0.0.2", "--resolve", f"{url[7:].split('/', 1)[0]}:127.0.0.1")
    arn = f"arn:aws:execute-api:{lamb_server.region}:{lamb_server.account_id}:{rest_id}/Prod/GET/things"
    assert (status, json.loads(body)) == (403, {
        "Message": f"User: anonymous is not authorized to perform: execute-api:Invoke on resource: {arn} with an explicit deny"})
    lamb_cmd("deploy", "--delete", stack, env=env)
