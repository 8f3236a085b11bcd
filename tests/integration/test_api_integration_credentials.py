"""Integration and authorizer credentials: API Gateway invokes a function as an IAM role (its trust
policy trusting ``apigateway.amazonaws.com``, its identity policies allowing
``lambda:InvokeFunction``) instead of through the function's resource policy. HTTP APIs
(``CredentialsArn``, quick create too) and REST APIs (``credentials``, ``authorizerCredentials``, and
``arn:aws:iam::*:user/*`` with an ``AWS_IAM`` method or route: the signed caller's own credentials),
created with boto3 and the IAM API and called with curl by Host and through the path fallback."""

from __future__ import annotations

import http.client
import json

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from .conftest import create, unique
from .test_deploy_apis import curl
from .test_http_apis import fallback

CODE = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'as the role'}\n"
AUTHORIZER = ("def handler(event, context):\n"
              "    ok = event.get('authorizationToken') == 'letmein'\n"
              "    return {'principalId': 'u', 'policyDocument': {'Version': '2012-10-17', 'Statement': [\n"
              "        {'Action': 'execute-api:Invoke', 'Effect': 'Allow' if ok else 'Deny',"
              " 'Resource': event['methodArn']}]}}\n")
TRUST_APIGW = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
TRUST_LAMBDA = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def invoke_policy(*arns: str, effect: str = "Allow") -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": effect, "Action": "lambda:InvokeFunction", "Resource": list(arns)}]}


def role(server, trust: dict, policy: dict | None) -> str:
    return server.ensure_role(f"arn:aws:iam::{server.account_id}:role/{unique('apigw')}", trust=trust, policy=policy)


def no_policy_function(server, prefix: str, code: str = CODE) -> str:
    """A function whose resource policy is empty: only a role can let API Gateway invoke it."""
    return create(server.client(), unique(prefix), code)["FunctionArn"]


def test_http_api_invokes_with_the_integration_role(lamb_server):
    v2, iam = lamb_server.client("apigatewayv2"), lamb_server.client("iam")
    arn = no_policy_function(lamb_server, "cred2")
    good = role(lamb_server, TRUST_APIGW, invoke_policy(arn))
    untrusted = role(lamb_server, TRUST_LAMBDA, invoke_policy(arn))
    powerless = role(lamb_server, TRUST_APIGW, None)

    api = v2.create_api(Name=unique("cred"), ProtocolType="HTTP", Target=arn, CredentialsArn=good)
    integration = v2.get_integrations(ApiId=api["ApiId"])["Items"][0]
    assert integration["CredentialsArn"] == good
    base = f"http://{api['ApiId']}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}"
    assert curl(base + "/hello") == (200, "as the role")
    assert fallback(lamb_server, api["ApiId"], "$default", "/hello") == (200, b"as the role")

    # A role API Gateway may not assume, or one whose policies do not allow the invoke: 500.
    for bad in (untrusted, powerless):
        v2.update_integration(ApiId=api["ApiId"], IntegrationId=integration["IntegrationId"], CredentialsArn=bad)
        status, body = curl(base + "/hello")
        assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    # The role's policy is read per request: a policy that now allows applies to the next one.
    name = powerless.rsplit("/", 1)[1]
    iam.put_role_policy(RoleName=name, PolicyName="invoke", PolicyDocument=json.dumps(invoke_policy(arn)))
    assert curl(base + "/hello") == (200, "as the role")
    iam.put_role_policy(RoleName=name, PolicyName="deny", PolicyDocument=json.dumps(invoke_policy("*", effect="Deny")))
    assert curl(base + "/hello")[0] == 500  # an explicit deny wins

    # Without credentials the function's (empty) resource policy decides: 500.
    plain = v2.create_api(Name=unique("nocred"), ProtocolType="HTTP", Target=arn)
    assert fallback(lamb_server, plain["ApiId"], "$default", "/x")[0] == 500

    with pytest.raises(ClientError) as e:
        v2.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=arn,
                              PayloadFormatVersion="2.0", CredentialsArn="not-an-arn")
    assert e.value.response["Error"]["Code"] == "BadRequestException"


def test_rest_api_invokes_with_integration_and_authorizer_roles(lamb_server):
    apigw = lamb_server.client("apigateway")
    arn = no_policy_function(lamb_server, "credr")
    auth_arn = no_policy_function(lamb_server, "credauth", AUTHORIZER)
    good = role(lamb_server, TRUST_APIGW, invoke_policy(arn, auth_arn))
    other = role(lamb_server, TRUST_APIGW, invoke_policy(auth_arn))  # not the integration's function

    api = apigw.create_rest_api(name=unique("credrest"))
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="{proxy+}")
    uri = f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{{}}/invocations"
    auth = apigw.create_authorizer(restApiId=api["id"], name="tok", type="TOKEN", authorizerUri=uri.format(auth_arn),
                                   identitySource="method.request.header.Authorization", authorizerCredentials=good,
                                   authorizerResultTtlInSeconds=0)
    assert auth["authorizerCredentials"] == good
    ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "ANY"}
    apigw.put_method(**ids, authorizationType="CUSTOM", authorizerId=auth["id"])
    out = apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST", uri=uri.format(arn),
                                credentials=good)
    assert out["credentials"] == good
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    base = f"http://{api['id']}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/v1"
    assert curl(base + "/a/b", "-H", "Authorization: letmein") == (200, "as the role")
    assert curl(base + "/a/b", "-H", "Authorization: nope")[0] == 403  # the authorizer ran, as the role

    apigw.update_integration(**ids, patchOperations=[{"op": "replace", "path": "/credentials", "value": other}])
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    status, body = curl(base + "/a/b", "-H", "Authorization: letmein")
    assert (status, json.loads(body)) == (500, {"message": "Internal server error"})

    # Without credentials the function's (empty) resource policy decides: 500 as well.
    apigw.update_integration(**ids, patchOperations=[{"op": "remove", "path": "/credentials"}])
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    assert "credentials" not in apigw.get_integration(**ids)
    assert curl(base + "/a/b", "-H", "Authorization: letmein")[0] == 500

    with pytest.raises(ClientError) as e:
        apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST", uri=uri.format(arn),
                              credentials="not-an-arn")
    assert e.value.response["Error"] == {"Code": "BadRequestException", "Message": "Invalid ARN specified in the request"}


ECHO_CALLER = ("import json\n"
               "def handler(event, context):\n"
               "    return {'statusCode': 200, 'body': json.dumps(event['requestContext']['identity'])}\n")


def user(server, *statements: dict) -> tuple[str, Credentials]:
    iam = server.client("iam")
    name = unique("caller")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return arn, Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def signed_get(server, api_id: str, path: str, creds: Credentials | None) -> tuple[int, dict]:
    host = f"{api_id}.execute-api.{server.region}.localhost:{server.port}"
    req = AWSRequest("GET", f"http://{host}{path}")
    if creds is not None:
        SigV4Auth(creds, "execute-api", server.region).add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("GET", path, headers=dict(req.headers.items(), Host=host))
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        conn.close()


def test_rest_aws_iam_method_with_the_callers_own_credentials(lamb_server):
    """``authorizationType: AWS_IAM``: the signer's policies must allow execute-api:Invoke; with
    ``credentials: arn:aws:iam::*:user/*`` the function is invoked as the signer, whose policies
    must allow lambda:InvokeFunction (the function has no resource policy)."""
    apigw = lamb_server.client("apigateway")
    fn = no_policy_function(lamb_server, "credcaller", ECHO_CALLER)
    api = apigw.create_rest_api(name=unique("iamapi"))
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="who")
    ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "GET"}
    assert apigw.put_method(**ids, authorizationType="AWS_IAM")["authorizationType"] == "AWS_IAM"
    apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST", credentials="arn:aws:iam::*:user/*",
                          uri=f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{fn}/invocations")
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    method_arn = f"arn:aws:execute-api:{lamb_server.region}:{lamb_server.account_id}:{api['id']}/v1/GET/who"
    invoke_api = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"arn:aws:execute-api:*:*:{api['id']}/*"}
    invoke_fn = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": fn}
    full_arn, full = user(lamb_server, invoke_api, invoke_fn)
    api_only_arn, api_only = user(lamb_server, invoke_api)
    none_arn, nothing = user(lamb_server)

    status, body = signed_get(lamb_server, api["id"], "/v1/who", full)
    assert status == 200 and body["userArn"] == full_arn and body["accessKey"] == full.access_key
    assert body["accountId"] == lamb_server.account_id
    assert signed_get(lamb_server, api["id"], "/v1/who", None) == (403, {"message": "Missing Authentication Token"})
    assert signed_get(lamb_server, api["id"], "/v1/who", Credentials("AKIANOTAKEY000000000", "x")) == (
        403, {"message": "The security token included in the request is invalid."})
    assert signed_get(lamb_server, api["id"], "/v1/who", nothing) == (403, {
        "Message": f"User: {none_arn} is not authorized to perform: execute-api:Invoke on resource: {method_arn}"})
    # Allowed to call the API, not to invoke the function with its own credentials: 500.
    assert signed_get(lamb_server, api["id"], "/v1/who", api_only) == (500, {"message": "Internal server error"})
    assert api_only_arn != full_arn


ECHO_CONTEXT = ("import json\n"
                "def handler(event, context):\n"
                "    return {'statusCode': 200, 'body': json.dumps(event['requestContext'])}\n")


def test_http_api_aws_iam_route_with_the_callers_own_credentials(lamb_server):
    v2 = lamb_server.client("apigatewayv2")
    fn = no_policy_function(lamb_server, "credcaller2", ECHO_CONTEXT)
    api_id = v2.create_api(Name=unique("iamhttp"), ProtocolType="HTTP")["ApiId"]
    integ = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=fn,
                                  PayloadFormatVersion="2.0", CredentialsArn="arn:aws:iam::*:user/*")
    route = v2.create_route(ApiId=api_id, RouteKey="GET /who", AuthorizationType="AWS_IAM",
                            Target=f"integrations/{integ['IntegrationId']}")
    assert route["AuthorizationType"] == "AWS_IAM"
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    invoke_api = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"arn:aws:execute-api:*:*:{api_id}/*"}
    full_arn, full = user(lamb_server, invoke_api, {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": fn})
    _, api_only = user(lamb_server, invoke_api)
    _, nothing = user(lamb_server)

    status, body = signed_get(lamb_server, api_id, "/who", full)
    assert status == 200 and body["authorizer"]["iam"]["userArn"] == full_arn
    assert body["authorizer"]["iam"]["accessKey"] == full.access_key
    for creds in (None, nothing):  # unsigned, or not allowed execute-api:Invoke
        assert signed_get(lamb_server, api_id, "/who", creds) == (403, {"message": "Forbidden"})
    assert signed_get(lamb_server, api_id, "/who", api_only) == (500, {"message": "Internal Server Error"})


def test_imported_rest_api_with_sigv4_security_and_caller_credentials(lamb_server):
    """The shape SAM writes for ``Auth: {DefaultAuthorizer: AWS_IAM, InvokeRole: CALLER_CREDENTIALS}``."""
    apigw = lamb_server.client("apigateway")
    fn = no_policy_function(lamb_server, "credimport", ECHO_CALLER)
    spec = {"swagger": "2.0", "info": {"title": unique("imported-iam")},
            "securityDefinitions": {"AWS_IAM": {"type": "apiKey", "name": "Authorization", "in": "header",
                                                "x-amazon-apigateway-authtype": "awsSigv4"}},
            "paths": {"/who": {"get": {"security": [{"AWS_IAM": []}], "x-amazon-apigateway-integration": {
                "type": "aws_proxy", "httpMethod": "POST", "credentials": "arn:aws:iam::*:user/*",
                "uri": f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{fn}/invocations"}}}}}
    api = apigw.import_rest_api(body=json.dumps(spec).encode())
    res = next(r for r in apigw.get_resources(restApiId=api["id"])["items"] if r["path"] == "/who")
    ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "GET"}
    assert apigw.get_method(**ids)["authorizationType"] == "AWS_IAM"
    assert apigw.get_integration(**ids)["credentials"] == "arn:aws:iam::*:user/*"
    apigw.create_deployment(restApiId=api["id"], stageName="Prod")
    arn, creds = user(lamb_server, {"Effect": "Allow", "Action": ["execute-api:Invoke", "lambda:InvokeFunction"],
                                    "Resource": "*"})
    status, body = signed_get(lamb_server, api["id"], "/Prod/who", creds)
    assert status == 200 and body["userArn"] == arn
    assert signed_get(lamb_server, api["id"], "/Prod/who", None)[0] == 403
