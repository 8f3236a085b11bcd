"""REST API resource policies (apis/resource_policy.py): a RestApi's ``policy`` applied as API Gateway applies
it, with each method's authorization (none, a Lambda authorizer, AWS_IAM), from the deployment that took it;
``x-amazon-apigateway-policy`` in an imported definition. Created with boto3, called with curl and SigV4-signed
requests."""

from __future__ import annotations

import json

import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from .conftest import unique
from .test_api_integration_credentials import (AUTHORIZER, CODE, ECHO_CALLER, TRUST_APIGW, invoke_policy,
                                               no_policy_function, role, signed_get, user)
from .test_deploy_apis import curl
from .test_iam import as_client


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def statement(effect: str, resource: str, principal="*", **condition) -> dict:
    st = {"Effect": effect, "Principal": principal, "Action": "execute-api:Invoke", "Resource": resource}
    if condition:
        st["Condition"] = {"IpAddress": {"aws:SourceIp": condition["ip"]}}
    return st


def refusal(who: str, arn: str, explicit: bool) -> dict:
    return {"Message": f"User: {who} is not authorized to perform: execute-api:Invoke on resource: {arn}"
                       + (" with an explicit deny" if explicit else "")}


def test_resource_policy_with_each_kind_of_method(lamb_server):
    apigw = lamb_server.client("apigateway")
    fn = no_policy_function(lamb_server, "rp", ECHO_CALLER)
    auth_fn = no_policy_function(lamb_server, "rpauth", AUTHORIZER)
    creds = role(lamb_server, TRUST_APIGW, invoke_policy(fn, auth_fn))
    loopback = statement("Allow", "execute-api:/*", ip="127.0.0.0/8")
    api = apigw.create_rest_api(name=unique("rp"), policy=policy(loopback, statement("Deny", "execute-api:/v1/GET/secret")))
    uri = f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{{}}/invocations"
    auth = apigw.create_authorizer(restApiId=api["id"], name="tok", type="TOKEN", authorizerUri=uri.format(auth_fn),
                                   identitySource="method.request.header.Authorization", authorizerCredentials=creds,
                                   authorizerResultTtlInSeconds=0)
    for part, kind in (("open", "NONE"), ("secret", "NONE"), ("tok", "CUSTOM"), ("who", "AWS_IAM")):
        res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart=part)
        ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "GET"}
        apigw.put_method(**ids, authorizationType=kind, **({"authorizerId": auth["id"]} if kind == "CUSTOM" else {}))
        apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST", uri=uri.format(fn),
                              credentials=creds)
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    base = f"http://{api['id']}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/v1"
    arn = f"arn:aws:execute-api:{lamb_server.region}:{lamb_server.account_id}:{api['id']}/v1/GET/"

    # No authorization: the policy must allow; an explicit deny says so.
    assert curl(base + "/open")[0] == 200
    status, body = curl(base + "/secret")
    assert (status, json.loads(body)) == (403, refusal("anonymous", arn + "secret", True))

    # A changed policy applies from the next deployment (AWS: "deploy the API again").
    elsewhere = statement("Allow", "execute-api:/*", ip="10.0.0.0/8")
    apigw.update_rest_api(restApiId=api["id"], patchOperations=[
        {"op": "replace", "path": "/policy", "value": policy(elsewhere, statement("Deny", "execute-api:/v1/GET/tok"))}])
    assert curl(base + "/open")[0] == 200
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    status, body = curl(base + "/open")
    assert (status, json.loads(body)) == (403, refusal("anonymous", arn + "open", False))  # an implicit deny

    # A Lambda authorizer: an explicit deny refuses first; otherwise (silent) the authorizer decides.
    status, body = curl(base + "/tok", "-H", "Authorization: letmein")
    assert (status, json.loads(body)) == (403, refusal("anonymous", arn + "tok", True))
    apigw.update_rest_api(restApiId=api["id"], patchOperations=[
        {"op": "replace", "path": "/policy", "value": policy(elsewhere)}])
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    assert curl(base + "/tok", "-H", "Authorization: letmein")[0] == 200
    assert curl(base + "/tok", "-H", "Authorization: nope")[0] == 403

    # AWS_IAM, a caller of the API's account: an allow in its identity policies or in the resource policy
    # lets it through, an explicit deny in either refuses.
    invoke_api = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"arn:aws:execute-api:*:*:{api['id']}/*"}
    allowed_arn, allowed = user(lamb_server, invoke_api)
    named_arn, named = user(lamb_server)
    none_arn, nothing = user(lamb_server)
    apigw.update_rest_api(restApiId=api["id"], patchOperations=[{"op": "replace", "path": "/policy", "value": policy(
        elsewhere, statement("Allow", "execute-api:/v1/GET/who", {"AWS": named_arn}))}])
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    assert signed_get(lamb_server, api["id"], "/v1/who", allowed)[0] == 200
    status, body = signed_get(lamb_server, api["id"], "/v1/who", named)
    assert status == 200 and body["userArn"] == named_arn
    assert signed_get(lamb_server, api["id"], "/v1/who", nothing) == (403, refusal(none_arn, arn + "who", False))
    apigw.update_rest_api(restApiId=api["id"], patchOperations=[{"op": "replace", "path": "/policy", "value": policy(
        elsewhere, statement("Deny", "execute-api:/v1/GET/who", {"AWS": allowed_arn}))}])
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    assert signed_get(lamb_server, api["id"], "/v1/who", allowed) == (403, refusal(allowed_arn, arn + "who", True))

    # AWS_IAM, a role session: the role's policies allow it, the session's own policy caps them.
    assumer_arn, assumer = user(lamb_server, {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})
    caller_role = role(lamb_server, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": assumer_arn}, "Action": "sts:AssumeRole"}]},
        {"Version": "2012-10-17", "Statement": [invoke_api]})
    sts = as_client(lamb_server, {"aws_access_key_id": assumer.access_key,
                                  "aws_secret_access_key": assumer.secret_key}, "sts")

    def session(**kw) -> tuple[str, Credentials]:
        got = sts.assume_role(RoleArn=caller_role, RoleSessionName="caller", **kw)
        c = got["Credentials"]
        return got["AssumedRoleUser"]["Arn"], Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])

    session_arn, plain = session()
    status, body = signed_get(lamb_server, api["id"], "/v1/who", plain)
    assert status == 200 and body["userArn"] == session_arn
    other_api = dict(invoke_api, Resource="arn:aws:execute-api:*:*:other/*")
    _arn, capped = session(Policy=policy(other_api))
    assert signed_get(lamb_server, api["id"], "/v1/who", capped) == (403, refusal(session_arn, arn + "who", False))
    _arn, denied = session(Policy=policy(invoke_api, dict(invoke_api, Effect="Deny")))
    assert signed_get(lamb_server, api["id"], "/v1/who", denied) == (403, refusal(session_arn, arn + "who", True))


def test_imported_definition_brings_its_policy(lamb_server):
    """``x-amazon-apigateway-policy`` (what SAM's ``Auth.ResourcePolicy`` writes) is the API's policy."""
    apigw = lamb_server.client("apigateway")
    fn = no_policy_function(lamb_server, "rpimp", CODE)
    creds = role(lamb_server, TRUST_APIGW, invoke_policy(fn))
    integration = {"type": "aws_proxy", "httpMethod": "POST", "credentials": creds,
                   "uri": f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{fn}/invocations"}
    definition = {"swagger": "2.0", "info": {"title": unique("rpimp"), "version": "1"}, "paths": {
        "/a": {"get": {"x-amazon-apigateway-integration": integration}},
        "/b": {"get": {"x-amazon-apigateway-integration": integration}}},
        "x-amazon-apigateway-policy": json.loads(policy(statement("Allow", "execute-api:/*/GET/a")))}
    api = apigw.import_rest_api(body=json.dumps(definition).encode())
    # Kept as AWS keeps it: execute-api:/ written as the API's ARN, minified, escaped as a JSON string's text
    # (Terraform's provider reads it back by unquoting it).
    expected = json.loads(policy(statement(
        "Allow", f"arn:aws:execute-api:{lamb_server.region}:{lamb_server.account_id}:{api['id']}/*/GET/a")))
    assert api["policy"].startswith('{\\"Version\\":') and "\\/*\\/GET\\/a" in api["policy"]
    assert json.loads(json.loads('"' + api["policy"] + '"')) == expected
    private = apigw.import_rest_api(body=json.dumps({**definition, "info": {"title": unique("rppriv"), "version": "1"},
                                                     "x-amazon-apigateway-policy": None}).encode(),
                                    parameters={"endpointConfigurationTypes": "PRIVATE"})
    with pytest.raises(ClientError) as e:  # AWS's refusal of a private API without a policy
        apigw.create_deployment(restApiId=private["id"], stageName="v1")
    assert e.value.response["Error"] == {"Code": "BadRequestException",
                                         "Message": "Private REST API doesn't have a resource policy attached to it."}
    with pytest.raises(ClientError) as e:
        apigw.create_rest_api(name=unique("rpbad"), policy="not a policy")
    assert e.value.response["Error"] == {"Code": "BadRequestException",
                                         "Message": "Invalid policy document. Please check the policy syntax and try again."}
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    base = f"http://{api['id']}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/v1"
    assert curl(base + "/a") == (200, "as the role")
    assert curl(base + "/b")[0] == 403


def test_global_condition_keys(lamb_server):
    """``aws:CurrentTime``/``aws:EpochTime``, ``aws:SecureTransport``, ``aws:UserAgent`` and ``aws:Referer`` reach
    the policy's conditions (policy/context.py)."""
    apigw = lamb_server.client("apigateway")
    fn = no_policy_function(lamb_server, "rpkeys", CODE)
    creds = role(lamb_server, TRUST_APIGW, invoke_policy(fn))
    api = apigw.create_rest_api(name=unique("rpkeys"), policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}, "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
                       "NumericGreaterThan": {"aws:EpochTime": "1577836800"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
         "Condition": {"StringLike": {"aws:UserAgent": "blocked/*"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
         "Condition": {"StringEquals": {"aws:Referer": "https://bad.example/"}}}))
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="a")
    ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "GET"}
    apigw.put_method(**ids, authorizationType="NONE")
    apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST", credentials=creds,
                          uri=f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{fn}/invocations")
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    url = f"http://{api['id']}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/v1/a"
    arn = f"arn:aws:execute-api:{lamb_server.region}:{lamb_server.account_id}:{api['id']}/v1/GET/a"
    assert curl(url, "-A", "curl/8") == (200, "as the role")
    for refused in (("-A", "blocked/1.0"), ("-e", "https://bad.example/")):
        status, body = curl(url, *refused)
        assert (status, json.loads(body)) == (403, refusal("anonymous", arn, True))
