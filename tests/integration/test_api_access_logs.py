"""Access logs of API Gateway stages, read back from Lamb's log store: an HTTP API's stage set up
with boto3 (UpdateStage AccessLogSettings) and a REST API's stage from a SAM template's
``AccessLogSetting`` (deployed with ``lamb deploy``: CreateStage, then UpdateStage's PATCH)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from .conftest import create, unique, wait_for
from .deploy_support import deploy_env, lamb_cmd, write
from .test_api_metrics import function
from .test_deploy_apis import SAM, curl

FORMAT = ('{"requestId":"$context.requestId","route":"$context.routeKey","resource":"$context.resourcePath",'
          '"status":"$context.status","method":"$context.httpMethod","path":"$context.path","ip":"$context.identity.sourceIp",'
          '"len":"$context.responseLength","stage":"$context.stage","nothing":"$context.integrationErrorMessage",'
          '"il":"$context.integrationLatency"}')
OK = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"


def lines(server, group: str) -> list[dict]:
    out = []
    for stream in server.get_json(f"/_lamb/logs?group={quote(group, safe='')}")["streams"]:
        for _, line in server.get_json(f"/_lamb/logs?group={quote(group, safe='')}&stream={quote(stream, safe='')}")["events"]:
            out.append(dict(json.loads(line), _stream=stream))
    return out


def test_http_api_access_log(lamb_server):
    lam, v2 = lamb_server.client(), lamb_server.client("apigatewayv2")
    fn = unique("alog")
    arn = create(lam, fn, OK)["FunctionArn"]
    lam.add_permission(FunctionName=fn, StatementId="apigw", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com")
    api_id = v2.create_api(Name="logged", ProtocolType="HTTP", Target=arn, RouteKey="GET /items/{id}")["ApiId"]
    group = unique("/api/access")
    v2.update_stage(ApiId=api_id, StageName="$default", AccessLogSettings={
        "DestinationArn": f"arn:aws:logs:{lamb_server.region}:{lamb_server.account_id}:log-group:{group}:*",
        "Format": FORMAT})
    base = f"http://{api_id}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}"
    assert curl(base + "/items/7")[0] == 200
    assert curl(base + "/nothing-here")[0] == 404
    wait_for(lambda: len(lines(lamb_server, group)) == 2, 30, 0.1, "two access log lines")
    ok, missing = lines(lamb_server, group)
    assert ok["_stream"] == f"{api_id}_$default"
    assert (ok["route"], ok["status"], ok["method"], ok["path"], ok["len"], ok["stage"]) == (
        "GET /items/{id}", "200", "GET", "/items/7", "2", "$default")
    assert ok["ip"] == "127.0.0.1" and len(ok["requestId"]) == 36 and ok["nothing"] == "-" and ok["resource"] == "-"
    assert (missing["route"], missing["status"]) == ("-", "404")
    assert ok["il"].isdigit() and missing["il"] == "-"  # the route miss reached no integration


def test_rest_api_access_log_from_a_sam_template(lamb_server, tmp_path):
    group = unique("rest-access")
    write(tmp_path, {"fn/f.py": OK.replace("def handler", "def h"), "template.yaml": SAM + f"""
Resources:
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: live
      AccessLogSetting:
        DestinationArn: !Sub "arn:aws:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{group}"
        Format: '{FORMAT}'
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: f.h
      Runtime: python3.12
      Events:
        R: {{Type: Api, Properties: {{RestApiId: !Ref Rest, Path: "/things/{{id}}", Method: GET}}}}
Outputs:
  Url: {{Value: !Sub "https://${{Rest}}.execute-api.${{AWS::Region}}.amazonaws.com/live/things/"}}
"""})
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = unique("alog")
    out = lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", stack, env=env).stdout
    url = out.split("Outputs:\n", 1)[1].split()[1]
    assert curl(url + "3")[0] == 200
    wait_for(lambda: len(lines(lamb_server, group)) == 1, 30, 0.1, "an access log line")
    (line,) = lines(lamb_server, group)
    assert (line["resource"], line["status"], line["stage"], line["path"], line["route"]) == (
        "/things/{id}", "200", "live", "/live/things/3", "-")
    lamb_cmd("deploy", "--delete", stack, env=env)


# Many variables, '|'-separated (a JSON format could not hold error.messageString's quotes unquoted).
MANY = ("requestId", "extendedRequestId", "apiId", "stage", "status", "httpMethod", "path", "protocol", "accountId",
        "domainName", "domainPrefix", "routeKey", "resourcePath", "resourceId", "deploymentId", "dataProcessed",
        "authorizer.principalId", "authorizer.user", "authorizer.n", "authorizer.b", "authorizer.error",
        "authorizer.status", "error.message", "error.messageString", "error.responseType", "integration.status",
        "integration.integrationStatus", "integrationStatus", "integration.error", "integrationErrorMessage",
        "integration.requestId", "awsEndpointRequestId", "wafResponseCode", "xrayTraceId", "identity.userArn",
        "authorizer.requestId")
MANY_FORMAT = "|".join(f"$context.{v}" for v in MANY)
FAILING = ("def handler(event, context):\n"
           "    if 'boom' in (event.get('rawPath') or event.get('path') or ''):\n"
           "        raise ValueError('boom: asked to fail')\n"
           "    return {'statusCode': 201, 'body': 'made'}\n")
# An HTTP API REQUEST authorizer (simple responses) and a REST TOKEN authorizer, with a context.
HTTP_AUTHORIZER = ("def handler(event, context):\n"
                   "    ok = event['headers'].get('x-token') == 'good'\n"
                   "    return {'isAuthorized': ok, 'context': {'user': 'ann', 'n': 1, 'b': True}}\n")
REST_AUTHORIZER = ("def handler(event, context):\n"
                   "    effect = 'Allow' if event['authorizationToken'] == 'good' else 'Deny'\n"
                   "    return {'principalId': 'user-1', 'context': {'user': 'ann', 'n': 1, 'b': True},\n"
                   "            'policyDocument': {'Version': '2012-10-17', 'Statement': [{'Action': 'execute-api:Invoke',\n"
                   "                               'Effect': effect, 'Resource': event['methodArn']}]}}\n")


def many_lines(server, group: str, count: int) -> list[dict]:
    def read() -> list[dict]:
        out = []
        for stream in server.get_json(f"/_lamb/logs?group={quote(group, safe='')}")["streams"]:
            path = f"/_lamb/logs?group={quote(group, safe='')}&stream={quote(stream, safe='')}"
            out += [dict(zip(MANY, line.split("|"))) for _, line in server.get_json(path)["events"]]
        return out

    wait_for(lambda: len(read()) == count, 30, 0.1, f"{count} access log lines")
    return read()


def _common(line: dict, api_id: str, stage: str, server) -> None:
    assert len(line["requestId"]) == 36 and line["extendedRequestId"] == line["requestId"]
    assert (line["apiId"], line["stage"], line["httpMethod"], line["protocol"], line["accountId"]) == (
        api_id, stage, "GET", "HTTP/1.1", server.account_id)
    assert line["domainName"].startswith(f"{api_id}.execute-api.{server.region}.") and line["domainPrefix"] == api_id
    assert (line["wafResponseCode"], line["xrayTraceId"], line["identity.userArn"]) == ("-", "-", "-")


def _authorizer_ran(*lines: dict) -> None:
    """Each line names its Lambda authorizer's own invocation (TTL 0: it ran for each request)."""
    for line in lines:
        auth_rid = line.pop("authorizer.requestId")
        assert len(auth_rid) == 36 and auth_rid != line["requestId"]


def test_http_api_access_log_variables_after_success_authorizer_and_integration_failures(lamb_server):
    v2 = lamb_server.client("apigatewayv2")
    arn, auth_arn = function(lamb_server, "alogv", FAILING), function(lamb_server, "alogauth", HTTP_AUTHORIZER)
    api_id = v2.create_api(Name="logged-many", ProtocolType="HTTP")["ApiId"]
    integ = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn,
                                  PayloadFormatVersion="2.0")["IntegrationId"]
    auth = v2.create_authorizer(
        ApiId=api_id, Name="tok", AuthorizerType="REQUEST", AuthorizerPayloadFormatVersion="2.0",
        EnableSimpleResponses=True, IdentitySource=["$request.header.x-token"],
        AuthorizerUri=f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{auth_arn}/invocations")
    v2.create_route(ApiId=api_id, RouteKey="GET /things/{id}", Target=f"integrations/{integ}",
                    AuthorizationType="CUSTOM", AuthorizerId=auth["AuthorizerId"])
    group = unique("/api/many")
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True, AccessLogSettings={
        "DestinationArn": f"arn:aws:logs:{lamb_server.region}:{lamb_server.account_id}:log-group:{group}",
        "Format": MANY_FORMAT})
    base = f"http://{api_id}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/things/"
    assert curl(base + "1", "-H", "x-token: good") == (201, "made")
    assert curl(base + "2", "-H", "x-token: bad") == (403, '{"message":"Forbidden"}')
    assert curl(base + "boom", "-H", "x-token: good") == (500, '{"message":"Internal Server Error"}')
    by_status = {line["status"]: line for line in many_lines(lamb_server, group, 3)}
    for line in by_status.values():
        _common(line, api_id, "$default", lamb_server)
        assert (line["routeKey"], line["resourcePath"], line["resourceId"], line["deploymentId"]) == (
            "GET /things/{id}", "-", "-", "-")
    ok, denied, failed = by_status["201"], by_status["403"], by_status["500"]
    _authorizer_ran(ok, denied, failed)
    assert {k: ok[k] for k in MANY[16:-1]} == {
        "authorizer.principalId": "-", "authorizer.user": "ann", "authorizer.n": "1", "authorizer.b": "true",
        "authorizer.error": "-", "authorizer.status": "200", "error.message": "-", "error.messageString": "-",
        "error.responseType": "-", "integration.status": "201", "integration.integrationStatus": "200",
        "integrationStatus": "200", "integration.error": "-", "integrationErrorMessage": "-",
        "integration.requestId": ok["requestId"], "awsEndpointRequestId": ok["requestId"], "wafResponseCode": "-",
        "xrayTraceId": "-", "identity.userArn": "-"}
    assert (ok["path"], ok["dataProcessed"]) == ("/things/1", "4")  # no request body, a 4-byte answer
    assert {k: denied[k] for k in MANY[16:31]} == {
        "authorizer.principalId": "-", "authorizer.user": "-", "authorizer.n": "-", "authorizer.b": "-",
        "authorizer.error": "Forbidden", "authorizer.status": "403", "error.message": "Forbidden",
        "error.messageString": '"Forbidden"', "error.responseType": "ACCESS_DENIED", "integration.status": "-",
        "integration.integrationStatus": "-", "integrationStatus": "-", "integration.error": "-",
        "integrationErrorMessage": "-", "integration.requestId": "-"}
    assert {k: failed[k] for k in MANY[16:31]} == {
        "authorizer.principalId": "-", "authorizer.user": "ann", "authorizer.n": "1", "authorizer.b": "true",
        "authorizer.error": "-", "authorizer.status": "200", "error.message": "Internal Server Error",
        "error.messageString": '"Internal Server Error"', "error.responseType": "INTEGRATION_FAILURE",
        "integration.status": "-", "integration.integrationStatus": "200", "integrationStatus": "200",
        "integration.error": "boom: asked to fail", "integrationErrorMessage": "boom: asked to fail",
        "integration.requestId": failed["requestId"]}


def test_rest_api_access_log_variables_after_success_authorizer_and_integration_failures(lamb_server):
    apigw = lamb_server.client("apigateway")
    arn, auth_arn = function(lamb_server, "alogr", FAILING), function(lamb_server, "alograuth", REST_AUTHORIZER)
    uri = f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{{}}/invocations"
    api = apigw.create_rest_api(name=unique("logged-many"))
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="{id}")
    auth = apigw.create_authorizer(restApiId=api["id"], name="tok", type="TOKEN", authorizerUri=uri.format(auth_arn),
                                   identitySource="method.request.header.Authorization", authorizerResultTtlInSeconds=0)
    ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "GET"}
    apigw.put_method(**ids, authorizationType="CUSTOM", authorizerId=auth["id"])
    apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST", uri=uri.format(arn))
    deployment = apigw.create_deployment(restApiId=api["id"], stageName="live")["id"]
    group = unique("rest-many")
    apigw.update_stage(restApiId=api["id"], stageName="live", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn",
         "value": f"arn:aws:logs:{lamb_server.region}:{lamb_server.account_id}:log-group:{group}"},
        {"op": "replace", "path": "/accessLogSettings/format", "value": MANY_FORMAT}])
    base = f"http://{api['id']}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/live/"
    assert curl(base + "1", "-H", "Authorization: good") == (201, "made")
    denied_message = "User is not authorized to access this resource with an explicit deny"
    assert curl(base + "2", "-H", "Authorization: bad") == (403, json.dumps({"Message": denied_message},
                                                                             separators=(",", ":")))
    assert curl(base + "boom", "-H", "Authorization: good") == (502, '{"message": "Internal server error"}')
    by_status = {line["status"]: line for line in many_lines(lamb_server, group, 3)}
    for line in by_status.values():
        _common(line, api["id"], "live", lamb_server)
        assert (line["routeKey"], line["resourcePath"], line["resourceId"], line["deploymentId"],
                line["dataProcessed"]) == ("-", "/{id}", res["id"], deployment, "-")
    ok, denied, failed = by_status["201"], by_status["403"], by_status["502"]
    _authorizer_ran(ok, denied, failed)
    assert ok["path"] == "/live/1"
    assert {k: ok[k] for k in MANY[16:31]} == {
        "authorizer.principalId": "user-1", "authorizer.user": "ann", "authorizer.n": "1", "authorizer.b": "true",
        "authorizer.error": "-", "authorizer.status": "200", "error.message": "-", "error.messageString": "-",
        "error.responseType": "-", "integration.status": "201", "integration.integrationStatus": "200",
        "integrationStatus": "200", "integration.error": "-", "integrationErrorMessage": "-",
        "integration.requestId": ok["requestId"]}
    assert {k: denied[k] for k in MANY[16:31]} == {
        "authorizer.principalId": "-", "authorizer.user": "-", "authorizer.n": "-", "authorizer.b": "-",
        "authorizer.error": denied_message, "authorizer.status": "403", "error.message": denied_message,
        "error.messageString": json.dumps(denied_message), "error.responseType": "ACCESS_DENIED",
        "integration.status": "-", "integration.integrationStatus": "-", "integrationStatus": "-",
        "integration.error": "-", "integrationErrorMessage": "-", "integration.requestId": "-"}
    assert {k: failed[k] for k in MANY[16:31]} == {
        "authorizer.principalId": "user-1", "authorizer.user": "ann", "authorizer.n": "1", "authorizer.b": "true",
        "authorizer.error": "-", "authorizer.status": "200", "error.message": "Internal server error",
        "error.messageString": '"Internal server error"', "error.responseType": "DEFAULT_5XX",
        "integration.status": "-", "integration.integrationStatus": "200", "integrationStatus": "200",
        "integration.error": "boom: asked to fail", "integrationErrorMessage": "boom: asked to fail",
        "integration.requestId": failed["requestId"]}


def test_stage_access_log_format_must_name_the_request_id(lamb_server):
    v2, apigw = lamb_server.client("apigatewayv2"), lamb_server.client("apigateway")
    dest = f"arn:aws:logs:{lamb_server.region}:{lamb_server.account_id}:log-group:{unique('fmt')}"
    api_id = v2.create_api(Name="fmt", ProtocolType="HTTP")["ApiId"]
    with pytest.raises(v2.exceptions.BadRequestException) as e:
        v2.create_stage(ApiId=api_id, StageName="s", AccessLogSettings={"DestinationArn": dest, "Format": "$context.status"})
    assert e.value.response["Error"]["Message"] == (
        "The following errors are found in Access Log Format: Access Log format must include either "
        "$context.requestId or $context.extendedRequestId : '$context.status'")
    v2.create_stage(ApiId=api_id, StageName="s", AccessLogSettings={"DestinationArn": dest,
                                                                     "Format": "${context.extendedRequestId}"})
    with pytest.raises(v2.exceptions.BadRequestException):
        v2.update_stage(ApiId=api_id, StageName="s", AccessLogSettings={"DestinationArn": dest, "Format": "x"})

    api = apigw.create_rest_api(name=unique("fmt"))
    apigw.put_method(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api["id"], stageName="live")
    with pytest.raises(apigw.exceptions.BadRequestException) as e:
        apigw.update_stage(restApiId=api["id"], stageName="live", patchOperations=[
            {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": dest},
            {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.status\n$context.requestId"}])
    assert e.value.response["Error"]["Message"] == (
        "Access Log format must be single line, new line character is allowed only at end of the format: "
        "'$context.status\n$context.requestId'")
    assert "accessLogSettings" not in apigw.get_stage(restApiId=api["id"], stageName="live")  # nothing applied


def test_aws_iam_callers_identity_in_http_and_rest_access_logs(lamb_server):
    from .test_api_integration_credentials import signed_get, user

    v2, apigw = lamb_server.client("apigatewayv2"), lamb_server.client("apigateway")
    arn = function(lamb_server, "alogiam", "def handler(event, context):\n    return {'statusCode': 200, 'body': '{}'}\n")
    fmt = "$context.requestId $context.status $context.identity.accountId $context.identity.caller " \
          "$context.identity.user $context.identity.userArn $context.authenticate.status $context.authorize.status " \
          "$context.authenticate.latency $context.authorize.error"
    dest = f"arn:aws:logs:{lamb_server.region}:{lamb_server.account_id}:log-group:"
    http_group, rest_group = unique("iam-http"), unique("iam-rest")
    api_id = v2.create_api(Name=unique("iamlog"), ProtocolType="HTTP")["ApiId"]
    integ = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn,
                                  PayloadFormatVersion="2.0")["IntegrationId"]
    v2.create_route(ApiId=api_id, RouteKey="GET /who", AuthorizationType="AWS_IAM", Target=f"integrations/{integ}")
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True,
                    AccessLogSettings={"DestinationArn": dest + http_group, "Format": fmt})
    rest = apigw.create_rest_api(name=unique("iamlog"))
    res = apigw.create_resource(restApiId=rest["id"], parentId=rest["rootResourceId"], pathPart="who")
    ids = {"restApiId": rest["id"], "resourceId": res["id"], "httpMethod": "GET"}
    apigw.put_method(**ids, authorizationType="AWS_IAM")
    apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST",
                          uri=f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{arn}/invocations")
    apigw.create_deployment(restApiId=rest["id"], stageName="live")
    apigw.update_stage(restApiId=rest["id"], stageName="live", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": dest + rest_group},
        {"op": "replace", "path": "/accessLogSettings/format", "value": fmt}])
    user_arn, creds = user(lamb_server, {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"})
    name = user_arn.rsplit("/", 1)[1]
    assert signed_get(lamb_server, api_id, "/who", creds)[0] == 200
    assert signed_get(lamb_server, rest["id"], "/live/who", creds)[0] == 200

    def one(group: str) -> list[str]:
        found = []
        for stream in lamb_server.get_json(f"/_lamb/logs?group={quote(group, safe='')}")["streams"]:
            path = f"/_lamb/logs?group={quote(group, safe='')}&stream={quote(stream, safe='')}"
            found += [line.split(" ") for _, line in lamb_server.get_json(path)["events"]]
        return found

    wait_for(lambda: len(one(http_group)) == 1, 30, 0.1, "the access log line")
    assert one(http_group)[0][1:] == ["200", lamb_server.account_id, name, name, user_arn, "-", "-", "-", "-"]
    # REST APIs also log the signature's check (authenticate.*) and the policy's (authorize.*).
    other_arn, other = user(lamb_server)  # allowed nothing
    assert signed_get(lamb_server, rest["id"], "/live/who", other)[0] == 403
    wait_for(lambda: len(one(rest_group)) == 2, 30, 0.1, "two access log lines")
    allowed, refused = sorted(one(rest_group), key=lambda line: line[1])
    assert allowed[1:8] + allowed[9:] == ["200", lamb_server.account_id, name, name, user_arn, "200", "200", "-"]
    assert allowed[8].isdigit()
    assert refused[1:3] + refused[6:8] == ["403", "-", "200", "403"]
    assert " ".join(refused[9:]) == (f"User: {other_arn} is not authorized to perform: execute-api:Invoke on "
                                     f"resource: arn:aws:execute-api:{lamb_server.region}:{lamb_server.account_id}:"
                                     f"{rest['id']}/live/GET/who")
