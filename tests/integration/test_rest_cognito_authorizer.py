"""REST API Cognito user pool authorizers against moto's server as Cognito (``AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER``,
boto3's standard configuration): a user signs in to a pool with boto3's ``cognito-idp`` client, its ID token
passes and its claims reach the function; a missing, tampered or other pool's token answers 401; a method
with authorization scopes takes the access token (with the scope) and refuses the ID token. Also the same
authorizer from an imported OpenAPI definition (``x-amazon-apigateway-authorizer`` of type
``cognito_user_pools``), and SAM's ``Auth`` Cognito authorizer deployed with ``lamb deploy``."""

from __future__ import annotations

import json

import pytest

from .async_support import REGION, running_moto
from .awscli import aws_json
from .conftest import LambServer, unique
from .deploy_support import deploy_env, lamb_cmd, write
from .test_api_metrics import function
from .test_deploy_apis import _outputs, curl

ECHO = ("import json\n"
        "def handler(event, context):\n"
        "    return {'statusCode': 200, 'body': json.dumps(event['requestContext']['authorizer'])}\n")


@pytest.fixture(scope="module")
def moto():
    yield from running_moto()


@pytest.fixture(scope="module")
def server(moto):
    s = LambServer(env={"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": moto.url}).start()
    try:
        yield s
    finally:
        s.close()


def _pool(moto, name: str) -> tuple[str, dict]:
    """A user pool with one user signed in: (pool ARN, the authentication result's tokens)."""
    idp = moto.client("cognito-idp")
    pool = idp.create_user_pool(PoolName=name)["UserPool"]
    client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="app",
                                         ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH"])["UserPoolClient"]
    idp.admin_create_user(UserPoolId=pool["Id"], Username="ann",
                          UserAttributes=[{"Name": "email", "Value": "ann@example.com"}])
    idp.admin_set_user_password(UserPoolId=pool["Id"], Username="ann", Password="Passw0rd!!", Permanent=True)
    tokens = idp.admin_initiate_auth(UserPoolId=pool["Id"], ClientId=client["ClientId"],
                                     AuthFlow="ADMIN_NO_SRP_AUTH",
                                     AuthParameters={"USERNAME": "ann", "PASSWORD": "Passw0rd!!"})
    return pool["Arn"], tokens["AuthenticationResult"]


def test_cognito_user_pool_authorizer(server, moto):
    assert server.region == REGION
    pool_arn, tokens = _pool(moto, unique("pool"))
    _, other = _pool(moto, unique("other"))
    apigw = server.client("apigateway")
    arn = function(server, "cognito", ECHO)
    api = apigw.create_rest_api(name=unique("cognito"))
    api_id = api["id"]
    auth = apigw.create_authorizer(restApiId=api_id, name="pool", type="COGNITO_USER_POOLS",
                                   providerARNs=[pool_arn], identitySource="method.request.header.Authorization")
    assert (auth["type"], auth["providerARNs"]) == ("COGNITO_USER_POOLS", [pool_arn])
    uri = f"arn:aws:apigateway:{server.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
    ids = {}
    for part, scopes in (("me", None), ("admin", ["aws.cognito.signin.user.admin"])):
        res = apigw.create_resource(restApiId=api_id, parentId=api["rootResourceId"], pathPart=part)
        ids[part] = {"restApiId": api_id, "resourceId": res["id"], "httpMethod": "GET"}
        apigw.put_method(**ids[part], authorizationType="COGNITO_USER_POOLS", authorizerId=auth["id"],
                         **({"authorizationScopes": scopes} if scopes else {}))
        apigw.put_integration(**ids[part], type="AWS_PROXY", integrationHttpMethod="POST", uri=uri)
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    base = f"http://{api_id}.execute-api.{server.region}.localhost:{server.port}/v1"
    unauthorized = (401, '{"message":"Unauthorized"}')

    assert curl(base + "/me") == unauthorized
    status, body = curl(base + "/me", "-H", f"Authorization: {tokens['IdToken']}")
    assert status == 200, body
    claims = json.loads(body)["claims"]
    assert claims["cognito:username"] == "ann"
    assert claims["iss"] == f"https://cognito-idp.{REGION}.amazonaws.com/{pool_arn.rsplit('/', 1)[1]}"
    assert claims["token_use"] == "id" and isinstance(claims["exp"], str)
    assert curl(base + "/me", "-H", f"Authorization: Bearer {tokens['IdToken']}")[0] == 200
    head, payload, signature = tokens["IdToken"].split(".")
    tampered = ".".join((head, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")))
    assert curl(base + "/me", "-H", f"Authorization: {tampered}") == unauthorized
    assert curl(base + "/me", "-H", "Authorization: not-a-token") == unauthorized
    assert curl(base + "/me", "-H", f"Authorization: {other['IdToken']}") == unauthorized  # another pool
    assert curl(base + "/me", "-H", f"Authorization: {tokens['AccessToken']}") == unauthorized  # no scopes: ID token

    status, body = curl(base + "/admin", "-H", f"Authorization: {tokens['AccessToken']}")
    assert status == 200 and json.loads(body)["claims"]["token_use"] == "access"
    assert curl(base + "/admin", "-H", f"Authorization: {tokens['IdToken']}") == unauthorized
    apigw.update_method(**ids["admin"], patchOperations=[
        {"op": "remove", "path": "/authorizationScopes", "value": "aws.cognito.signin.user.admin"},
        {"op": "add", "path": "/authorizationScopes", "value": "orders/read"}])
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    assert curl(base + "/admin", "-H", f"Authorization: {tokens['AccessToken']}") == unauthorized  # scope missing


def test_cognito_authorizer_from_openapi(server, moto, tmp_path):
    pool_arn, tokens = _pool(moto, unique("imp"))
    arn = function(server, "cognitoimp", ECHO)
    definition = {
        "swagger": "2.0", "info": {"title": unique("cognito-import")},
        "securityDefinitions": {"Pool": {
            "type": "apiKey", "name": "Authorization", "in": "header",
            "x-amazon-apigateway-authtype": "cognito_user_pools",
            "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": [pool_arn]}}},
        "paths": {"/me": {"get": {
            "security": [{"Pool": []}],
            "x-amazon-apigateway-integration": {
                "type": "aws_proxy", "httpMethod": "POST",
                "uri": f"arn:aws:apigateway:{server.region}:lambda:path/2015-03-31/functions/{arn}/invocations"}}}},
    }
    (tmp_path / "api.json").write_text(json.dumps(definition))
    api_id = aws_json(server, "import-rest-api", "--body", f"fileb://{tmp_path / 'api.json'}",
                      service="apigateway")["id"]
    auth = aws_json(server, "get-authorizers", "--rest-api-id", api_id, service="apigateway")["items"][0]
    assert (auth["type"], auth["identitySource"]) == ("COGNITO_USER_POOLS", "method.request.header.Authorization")
    aws_json(server, "create-deployment", "--rest-api-id", api_id, "--stage-name", "v1", service="apigateway")
    url = f"http://{api_id}.execute-api.{server.region}.localhost:{server.port}/v1/me"
    assert curl(url) == (401, '{"message":"Unauthorized"}')
    status, body = curl(url, "-H", f"Authorization: {tokens['IdToken']}")
    assert status == 200 and json.loads(body)["claims"]["cognito:username"] == "ann"


SAM_TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  PoolArn: {Type: String}
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Auth:
        DefaultAuthorizer: Pool
        Authorizers:
          Pool:
            UserPoolArn: !Ref PoolArn
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Events:
        Me:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /me, Method: get}
        Admin:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /admin
            Method: get
            Auth: {Authorizer: Pool, AuthorizationScopes: [aws.cognito.signin.user.admin]}
Outputs:
  Url:
    Value: !Sub "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/Prod/"
"""


def test_sam_cognito_authorizer_deployed(server, moto, tmp_path):
    pool_arn, tokens = _pool(moto, unique("sam"))
    write(tmp_path, {"src/app.py": ECHO, "template.yaml": SAM_TEMPLATE})
    out = lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", unique("cognito"),
                   "--parameter-overrides", f"PoolArn={pool_arn}", env=deploy_env(server, tmp_path / "cache")).stdout
    url = _outputs(out)["Url"]
    assert curl(url + "me") == (401, '{"message":"Unauthorized"}')
    status, body = curl(url + "me", "-H", f"Authorization: {tokens['IdToken']}")
    assert status == 200 and json.loads(body)["claims"]["cognito:username"] == "ann"
    status, body = curl(url + "admin", "-H", f"Authorization: {tokens['AccessToken']}")
    assert status == 200 and json.loads(body)["claims"]["token_use"] == "access"
    assert curl(url + "admin", "-H", f"Authorization: {tokens['IdToken']}")[0] == 401
