"""A REST API stage's method settings applied (boto3's ``apigateway``, ``logs`` and ``cloudwatch`` clients,
the AWS CLI, curl): UpdateStage's ``/*/*/...`` and per-method paths as GetStage shows them and AWS's refusals;
throttling (429 THROTTLED, customizable) per method and for the account; execution logs in
``API-Gateway-Execution-Logs_{api}/{stage}`` once the account has a CloudWatch role (INFO, ERROR,
dataTrace); detailed metrics per method; a Lambda proxy's reserved response headers renamed
``x-amzn-Remapped-*``; the integration timeout past 29 s for Regional APIs with a raised limit."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest

from .awscli import aws
from .conftest import unique, wait_for
from .test_api_metrics import function, stat
from .test_deploy_apis import curl

CODE = ("import json\n"
        "def handler(event, context):\n"
        "    q = event.get('queryStringParameters') or {}\n"
        "    if 'boom' in q:\n"
        "        raise ValueError('asked to fail')\n"
        "    return {'statusCode': 200, 'body': 'fine:' + event['path'],\n"
        "            'headers': {'WWW-Authenticate': 'Bearer realm=\"x\"', 'Server': 'mine', 'X-Own': 'kept',\n"
        "                        'Content-MD5': 'abc', 'Upgrade': 'h2c'}}\n")
AUTHORIZER = ("def handler(event, context):\n"
              "    ok = event.get('authorizationToken') == 'letmein'\n"
              "    return {'principalId': 'u', 'policyDocument': {'Version': '2012-10-17', 'Statement': [\n"
              "        {'Action': 'execute-api:Invoke', 'Effect': 'Allow' if ok else 'Deny',"
              " 'Resource': event['methodArn']}]}}\n")
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}}]}


def rest_api(server, prefix: str, paths: tuple[str, ...], code: str = CODE, **create) -> tuple[str, str]:
    """A REST API with a GET method per path to one function, deployed to ``live``; (api id, base URL)."""
    apigw = server.client("apigateway")
    arn = function(server, prefix, code)
    api = apigw.create_rest_api(name=unique(prefix), **create)
    for part in paths:
        res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart=part)
        ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "GET"}
        apigw.put_method(**ids, authorizationType="NONE")
        apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST",
                              uri=f"arn:aws:apigateway:{server.region}:lambda:path/2015-03-31/functions/{arn}/invocations")
    apigw.create_deployment(restApiId=api["id"], stageName="live")
    return api["id"], f"http://{api['id']}.execute-api.{server.region}.localhost:{server.port}/live"


def replace(apigw, api_id: str, **paths: str) -> dict:
    """UpdateStage with one replace per ``path=value`` (``__`` in a keyword stands for ``/``)."""
    ops = [{"op": "replace", "path": "/" + k.replace("__", "/"), "value": v} for k, v in paths.items()]
    return apigw.update_stage(restApiId=api_id, stageName="live", patchOperations=ops)


def test_method_settings_as_getstage_shows_them_and_awss_refusals(lamb_server):
    apigw = lamb_server.client("apigateway")
    api_id, _ = rest_api(lamb_server, "msettings", ("pets",))
    ops = [{"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
           {"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"},
           {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "50.5"},
           {"op": "replace", "path": "/~1pets/GET/throttling/burstLimit", "value": "9"},
           {"op": "replace", "path": "/~1pets/GET/logging/dataTrace", "value": "true"}]
    out = apigw.update_stage(restApiId=api_id, stageName="live", patchOperations=ops)
    every = out["methodSettings"]["*/*"]
    assert every == {"metricsEnabled": True, "loggingLevel": "ERROR", "dataTraceEnabled": False,
                     "throttlingBurstLimit": 5000, "throttlingRateLimit": 50.5, "cachingEnabled": False,
                     "cacheTtlInSeconds": 300, "cacheDataEncrypted": False, "requireAuthorizationForCacheControl": True,
                     "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER"}
    pets = apigw.get_stage(restApiId=api_id, stageName="live")["methodSettings"]["~1pets/GET"]
    assert pets == dict(every, throttlingBurstLimit=9, dataTraceEnabled=True)
    apigw.update_stage(restApiId=api_id, stageName="live", patchOperations=[{"op": "remove", "path": "/~1pets/GET"}])
    assert set(apigw.get_stage(restApiId=api_id, stageName="live")["methodSettings"]) == {"*/*"}

    for path, value, message in [
            ("/*/*/logging/level", "INFO", "Invalid method setting path: logging/level. Must be one of: "
                                           "[.../metrics/enabled, .../logging/dataTrace, .../logging/loglevel, "),
            ("/cacheClusterSizes", "0.5", "Invalid method setting path: /cacheClusterSizes. Must be one of: "
                                          "[/deploymentId, /description, /cacheClusterEnabled, "),
            ("/pets/ANY/metrics/enabled", "true", "Invalid method setting path: /pets/ANY/metrics/enabled.")]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            apigw.update_stage(restApiId=api_id, stageName="live",
                               patchOperations=[{"op": "replace", "path": path, "value": value}])
        assert e.value.response["Error"]["Code"] == "BadRequestException"
        assert e.value.response["Error"]["Message"].startswith(message), e.value.response["Error"]["Message"]
    cli = aws(lamb_server, "update-stage", "--rest-api-id", api_id, "--stage-name", "live", "--patch-operations",
              "op=replace,path=/*/*/throttling/burstLimit,value=lots", service="apigateway", check=False)
    assert cli.returncode != 0 and "BadRequestException" in cli.stderr
    assert apigw.get_account()["throttleSettings"] == {"burstLimit": 5000, "rateLimit": 10000.0}


def test_throttled_per_method_and_the_throttled_gateway_response(lamb_server):
    apigw = lamb_server.client("apigateway")
    api_id, base = rest_api(lamb_server, "throttled", ("slowly", "freely"))
    replace(apigw, api_id, **{"*/*/throttling/rateLimit": "0.001", "*/*/throttling/burstLimit": "1",
                              "freely/GET/throttling/burstLimit": "100"})
    assert curl(base + "/slowly")[0] == 200
    status, body = curl(base + "/slowly")  # the one token of the method's bucket is spent
    assert (status, json.loads(body)) == (429, {"message": "Too Many Requests"})
    assert [curl(base + "/freely")[0] for _ in range(3)] == [200, 200, 200]  # its own member, its own bucket

    apigw.put_gateway_response(restApiId=api_id, responseType="THROTTLED",
                               responseParameters={"gatewayresponse.header.Retry-After": "'60'"},
                               responseTemplates={"application/json": '{"slow": "$context.error.responseType"}'})
    apigw.create_deployment(restApiId=api_id, stageName="live")
    status, out = curl(base + "/slowly", "-i")
    assert status == 429 and "retry-after: 60" in out.lower() and out.endswith('{"slow": "THROTTLED"}'), out


def test_execution_logs_by_level_once_the_account_has_a_role(lamb_server):
    apigw, logs, iam = (lamb_server.client(s) for s in ("apigateway", "logs", "iam"))
    api_id, base = rest_api(lamb_server, "execlog", ("hello", "quiet"))
    group = f"API-Gateway-Execution-Logs_{api_id}/live"
    replace(apigw, api_id, **{"*/*/logging/loglevel": "INFO", "*/*/logging/dataTrace": "true",
                              "quiet/GET/logging/loglevel": "ERROR"})
    # A method behind a Lambda authorizer (TOKEN).
    uri = f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{{}}/invocations"
    auth = apigw.create_authorizer(restApiId=api_id, name="tok", type="TOKEN", authorizerResultTtlInSeconds=0,
                                   authorizerUri=uri.format(function(lamb_server, "execauth", AUTHORIZER)),
                                   identitySource="method.request.header.Authorization")
    hello = next(r for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/hello")
    guarded = apigw.create_resource(restApiId=api_id, parentId=hello["parentId"], pathPart="guarded")
    ids = {"restApiId": api_id, "resourceId": guarded["id"], "httpMethod": "GET"}
    apigw.put_method(**ids, authorizationType="CUSTOM", authorizerId=auth["id"])
    apigw.put_integration(**ids, type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(**ids, statusCode="200")
    apigw.put_integration_response(**ids, statusCode="200", responseTemplates={"application/json": "mocked"})
    apigw.create_deployment(restApiId=api_id, stageName="live")

    def events() -> list[str]:
        found = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        if not found:
            return []
        return [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]

    role = iam.create_role(RoleName=unique("apigwlogs"), AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    previous = apigw.get_account().get("cloudwatchRoleArn")
    apigw.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": ""}])
    try:
        assert curl(base + "/hello")[0] == 200
        assert events() == []  # no CloudWatch role on the account: no execution logs, as on AWS
        apigw.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}])
        assert curl(base + "/hello?x=1", "-H", "X-Mine: yes")[0] == 200
        assert curl(base + "/quiet")[0] == 200  # ERROR: a request that did not fail writes nothing
        assert curl(base + "/quiet?boom=1")[0] == 502
        assert curl(base + "/guarded", "-H", "Authorization: letmein") == (200, "mocked")
        assert curl(base + "/guarded")[0] == 401
        wait_for(lambda: any("asked to fail" in e for e in events()), 30, 0.2, "the failure logged")
    finally:
        apigw.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": previous or ""}])
    lines = events()
    by_rid: dict[str, list[str]] = {}
    for line in lines:
        by_rid.setdefault(line[1:line.index(")")], []).append(line.split(") ", 1)[1])
    assert len(by_rid) == 4, lines  # /hello, the failed /quiet and the two /guarded
    guarded_lines = [v for v in by_rid.values() if any(m.startswith("Starting authorizer: ") for m in v)]
    allowed = next(v for v in guarded_lines if "Successfully completed authorizer execution" in v)
    refused = next(v for v in guarded_lines if v is not allowed)
    assert allowed[1] == f"Starting authorizer: {auth['id']} for request: {allowed[0].split(': ')[1]}"
    assert "Method response body after transformations: mocked" in allowed
    assert refused[2:] == [f"Unauthorized request: {refused[0].split(': ')[1]}", "Method completed with status: 401"]
    rid = next(line[1:line.index(")")] for line in lines if "Resource Path: /hello" in line)
    mine = [line.split(") ", 1)[1] for line in lines if line.startswith(f"({rid})")]
    assert mine[0] == f"Extended Request Id: {rid}"
    assert mine[1] == f"Verifying Usage Plan for request: {rid}. API Key:  API Stage: {api_id}/live"
    assert "HTTP Method: GET, Resource Path: /hello" in mine and "Method request query string: {x=1}" in mine
    assert any(m.startswith("Method request headers: {") and "x-mine=yes" in m.lower() for m in mine)
    assert any(m.startswith("Endpoint request body after transformations: {") for m in mine)
    assert any(m.startswith("Received response. Status: 200, Integration latency: ") for m in mine)
    assert "Method response body after transformations: fine:/hello" in mine
    assert mine[-2:] == ["Successfully completed execution", "Method completed with status: 200"]
    failed = next(v for v in by_rid.values() if any("customer function error" in m for m in v))
    assert failed[0].startswith("Lambda execution failed with status 200 due to customer function error: asked to fail")
    assert failed[1:] == ["Method completed with status: 502"]
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert len(streams) == 1 and len(streams[0]["logStreamName"]) == 32


def test_detailed_metrics_per_method_and_remapped_headers(lamb_server):
    apigw, cw = lamb_server.client("apigateway"), lamb_server.client("cloudwatch")
    api_id, base = rest_api(lamb_server, "permethod", ("counted", "plain"))
    name = apigw.get_rest_api(restApiId=api_id)["name"]
    replace(apigw, api_id, **{"counted/GET/metrics/enabled": "true"})
    status, out = curl(base + "/counted", "-i")
    assert status == 200
    head = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in out.splitlines() if ": " in line}
    assert head["x-amzn-remapped-www-authenticate"] == 'Bearer realm="x"' and "www-authenticate" not in head
    assert head["x-amzn-remapped-server"] == "mine" and head["x-amzn-remapped-content-md5"] == "abc"
    assert head["x-own"] == "kept" and "upgrade" not in head
    assert curl(base + "/plain")[0] == 200
    by_stage = {"ApiName": name, "Stage": "live"}
    counted = dict(by_stage, Method="GET", Resource="/counted")
    wait_for(lambda: stat(cw, "Count", by_stage) == 2 and stat(cw, "Count", counted) == 1, 30, 0.2,
             "the requests counted")
    assert stat(cw, "Count", dict(by_stage, Method="GET", Resource="/plain")) is None  # not detailed


def test_raised_integration_timeout_and_the_account_throttle(fresh_server):
    server = fresh_server(env={"LAMB_LIMIT_REST_API_TIMEOUT_MAX_MS": "60000",
                               "LAMB_LIMIT_APIGATEWAY_ACCOUNT_RATE_LIMIT": "0",
                               "LAMB_LIMIT_APIGATEWAY_ACCOUNT_BURST_LIMIT": "2"})
    apigw = server.client("apigateway")
    assert apigw.get_account()["throttleSettings"] == {"burstLimit": 2, "rateLimit": 0.0}
    api_id, base = rest_api(server, "longer", ("wait",), endpointConfiguration={"types": ["REGIONAL"]})
    res = next(r for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/wait")
    ids = {"restApiId": api_id, "resourceId": res["id"], "httpMethod": "GET"}
    out = apigw.update_integration(**ids, patchOperations=[
        {"op": "replace", "path": "/timeoutInMillis", "value": "45000"}])
    assert out["timeoutInMillis"] == 45000
    with pytest.raises(botocore.exceptions.ClientError) as e:
        apigw.update_integration(**ids, patchOperations=[{"op": "replace", "path": "/timeoutInMillis", "value": "61000"}])
    assert e.value.response["Error"]["Message"] == "Timeout should be between 50 ms and 60000 ms"
    edge = apigw.create_rest_api(name=unique("edge"))  # edge-optimized: 29 s, whatever the quota
    edge_res = apigw.create_resource(restApiId=edge["id"], parentId=edge["rootResourceId"], pathPart="x")
    apigw.put_method(restApiId=edge["id"], resourceId=edge_res["id"], httpMethod="GET", authorizationType="NONE")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        apigw.put_integration(restApiId=edge["id"], resourceId=edge_res["id"], httpMethod="GET", type="HTTP_PROXY",
                              integrationHttpMethod="GET", uri="http://example.com", timeoutInMillis=45000)
    assert e.value.response["Error"]["Message"] == "Timeout should be between 50 ms and 29000 ms"
    apigw.create_deployment(restApiId=api_id, stageName="live")
    # The account's bucket: two requests, then every API of the account is throttled (rate 0).
    assert [curl(base + "/wait")[0] for _ in range(2)] == [200, 200]
    status, body = curl(base + "/wait")
    assert (status, json.loads(body)) == (429, {"message": "Too Many Requests"})
    v2 = server.client("apigatewayv2")
    http_api = v2.create_api(Name=unique("h"), ProtocolType="HTTP", Target=function(server, "h"))["ApiId"]
    status, body = curl(f"http://{http_api}.execute-api.{server.region}.localhost:{server.port}/any")
    assert (status, json.loads(body)) == (429, {"message": "Too Many Requests"})
