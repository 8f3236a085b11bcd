"""REST APIs' API keys and usage plans (boto3's and the AWS CLI's ``apigateway``, curl): a method with
``apiKeyRequired`` refuses a missing, unknown or disabled key and a key in no plan of its stage (403
INVALID_API_KEY), lets a planned key through (the key in the proxy event and the access log), throttles
per key (429 THROTTLED) and counts a quota (429 QUOTA_EXCEEDED) that GetUsage shows, UpdateUsage resets
and a restart keeps; an imported OpenAPI definition's ``x-api-key`` scheme, a Lambda authorizer's
``usageIdentifierKey``; and SAM's ``Auth: {ApiKeyRequired, UsagePlan}`` deployed with ``lamb deploy``."""

from __future__ import annotations

import datetime
import json

import botocore.exceptions
import pytest

from .awscli import aws, aws_json
from .conftest import unique, wait_for
from .deploy_support import deploy_env, lamb_cmd, write
from .test_api_metrics import function
from .test_deploy_apis import SAM, _deploy, _outputs, curl

CODE = ("import json\n"
        "def handler(event, context):\n"
        "    ident = event['requestContext']['identity']\n"
        "    return {'statusCode': 200, 'body': json.dumps({'apiKey': ident.get('apiKey'),\n"
        "                                                   'apiKeyId': ident.get('apiKeyId')})}\n")

FORBIDDEN = (403, '{"message":"Forbidden"}')
THROTTLED = (429, '{"message":"Too Many Requests"}')
LIMITED = (429, '{"message":"Limit Exceeded"}')


def _uri(server, arn: str) -> str:
    return f"arn:aws:apigateway:{server.region}:lambda:path/2015-03-31/functions/{arn}/invocations"


def _api(server, arn: str, paths=("hello",), stage: str = "live", **api_args) -> tuple[str, str]:
    """A REST API with GET methods requiring an API key (and /open not requiring one), deployed; its id and base URL."""
    apigw = server.client("apigateway")
    api = apigw.create_rest_api(name=unique("keys"), **api_args)
    for part, required in [(p, True) for p in paths] + [("open", False)]:
        res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart=part)
        where = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "GET"}
        apigw.put_method(**where, authorizationType="NONE", apiKeyRequired=required)
        apigw.put_integration(**where, type="AWS_PROXY", integrationHttpMethod="POST", uri=_uri(server, arn))
    apigw.create_deployment(restApiId=api["id"], stageName=stage)
    return api["id"], f"http://{api['id']}.execute-api.{server.region}.localhost:{server.port}/{stage}"


def _key(apigw, value: str | None = None, **kw) -> dict:
    return apigw.create_api_key(name=unique("k"), enabled=True, **({"value": value} if value else {}), **kw)


def test_api_keys_and_usage_plans_guard_methods(lamb_server):
    apigw = lamb_server.client("apigateway")
    arn = function(lamb_server, "keys", CODE)
    api_id, base = _api(lamb_server, arn, paths=("hello", "limited"))

    # API keys: generated (40 characters) or given (20 to 128), values shown on request only
    with pytest.raises(botocore.exceptions.ClientError) as e:
        apigw.create_api_key(name="short", value="x" * 19)
    assert (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]) == (
        "BadRequestException", "API Key value should be at least 20 characters")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        apigw.create_api_key(name="long", value="x" * 129)
    assert e.value.response["Error"]["Message"] == "API Key value exceeds maximum size of 128 characters"
    key = _key(apigw, customerId="cust-1")
    assert len(key["value"]) == 40 and key["value"].isalnum() and key["enabled"] is True
    with pytest.raises(apigw.exceptions.ConflictException):
        apigw.create_api_key(name="again", value=key["value"])
    assert "value" not in apigw.get_api_key(apiKey=key["id"])
    assert apigw.get_api_key(apiKey=key["id"], includeValue=True)["value"] == key["value"]
    listed = apigw.get_api_keys(nameQuery=key["name"], includeValues=True)["items"]
    assert [(k["id"], k["value"]) for k in listed] == [(key["id"], key["value"])]
    assert [k["id"] for k in apigw.get_api_keys(customerId="cust-1")["items"]] == [key["id"]]
    with pytest.raises(apigw.exceptions.NotFoundException):
        apigw.get_api_key(apiKey="nope")

    hello = base + "/hello"
    assert curl(hello) == FORBIDDEN  # no key
    assert curl(hello, "-H", "x-api-key: " + "w" * 30) == FORBIDDEN  # an unknown key
    assert curl(hello, "-H", "x-api-key: " + key["value"]) == FORBIDDEN  # a key in no plan
    assert curl(base + "/open")[0] == 200  # a method without apiKeyRequired

    plan = apigw.create_usage_plan(name=unique("plan"), apiStages=[{"apiId": api_id, "stage": "live"}])
    with pytest.raises(apigw.exceptions.NotFoundException) as e:
        apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId="nope", keyType="API_KEY")
    assert e.value.response["Error"]["Message"] == "Invalid API Key identifier specified"
    plan_key = apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    assert plan_key == {"id": key["id"], "type": "API_KEY", "value": key["value"], "name": key["name"],
                        "ResponseMetadata": plan_key["ResponseMetadata"]}
    status, body = curl(hello, "-H", "x-api-key: " + key["value"])
    assert (status, json.loads(body)) == (200, {"apiKey": key["value"], "apiKeyId": key["id"]})
    assert [p["id"] for p in apigw.get_usage_plans(keyId=key["id"])["items"]] == [plan["id"]]

    # disabled: refused; enabled again: let through
    apigw.update_api_key(apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}])
    assert curl(hello, "-H", "x-api-key: " + key["value"]) == FORBIDDEN
    apigw.update_api_key(apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "true"}])
    assert curl(hello, "-H", "x-api-key: " + key["value"])[0] == 200

    # a method's own throttle (burst 1, a token every 1000 s): the second request is refused
    apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=[
        {"op": "replace", "path": f"/apiStages/{api_id}:live/throttle/~1hello/GET/burstLimit", "value": "1"},
        {"op": "replace", "path": f"/apiStages/{api_id}:live/throttle/~1hello/GET/rateLimit", "value": "0.001"}])
    assert apigw.get_usage_plan(usagePlanId=plan["id"])["apiStages"] == [
        {"apiId": api_id, "stage": "live", "throttle": {"/hello/GET": {"burstLimit": 1, "rateLimit": 0.001}}}]
    assert curl(hello, "-H", "x-api-key: " + key["value"])[0] == 200
    assert curl(hello, "-H", "x-api-key: " + key["value"]) == THROTTLED
    assert curl(base + "/limited", "-H", "x-api-key: " + key["value"])[0] == 200  # another method: not throttled

    # a quota of 2 a day on another plan and key: the third request is refused
    other = _key(apigw)
    quota_plan = apigw.create_usage_plan(name=unique("quota"), apiStages=[{"apiId": api_id, "stage": "live"}],
                                         quota={"limit": 2, "period": "DAY"})
    apigw.create_usage_plan_key(usagePlanId=quota_plan["id"], keyId=other["id"], keyType="API_KEY")
    limited = base + "/limited"
    assert [curl(limited, "-H", "x-api-key: " + other["value"])[0] for _ in range(2)] == [200, 200]
    assert curl(limited, "-H", "x-api-key: " + other["value"]) == LIMITED
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    usage = apigw.get_usage(usagePlanId=quota_plan["id"], startDate=today, endDate=today)
    assert (usage["startDate"], usage["endDate"], usage["items"]) == (today, today, {other["id"]: [[2, 0]]})
    # UpdateUsage (the AWS CLI): one more request left
    updated = aws_json(lamb_server, "update-usage", "--usage-plan-id", quota_plan["id"], "--key-id", other["id"],
                       "--patch-operations", "op=replace,path=/remaining,value=1", service="apigateway")
    assert updated["items"] == {other["id"]: [[2, 1]]}
    assert curl(limited, "-H", "x-api-key: " + other["value"])[0] == 200
    assert curl(limited, "-H", "x-api-key: " + other["value"]) == LIMITED
    cli = aws_json(lamb_server, "get-usage", "--usage-plan-id", quota_plan["id"], "--start-date", today,
                   "--end-date", today, "--key-id", other["id"], service="apigateway")
    assert cli["items"] == {other["id"]: [[3, 0]]}

    # a customized INVALID_API_KEY gateway response replaces API Gateway's answer
    apigw.put_gateway_response(restApiId=api_id, responseType="INVALID_API_KEY", statusCode="401",
                               responseTemplates={"application/json": '{"error": "$context.error.responseType"}'})
    apigw.create_deployment(restApiId=api_id, stageName="live")
    assert curl(hello) == (401, '{"error": "INVALID_API_KEY"}')

    # removed from the plan, deleted: refused
    apigw.delete_usage_plan_key(usagePlanId=quota_plan["id"], keyId=other["id"])
    assert curl(limited, "-H", "x-api-key: " + other["value"])[0] == 401
    apigw.delete_api_key(apiKey=key["id"])
    assert apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"] == []
    assert curl(hello, "-H", "x-api-key: " + key["value"])[0] == 401
    with pytest.raises(apigw.exceptions.BadRequestException) as e:
        apigw.delete_usage_plan(usagePlanId=plan["id"])
    assert e.value.response["Error"]["Message"] == (
        f"Cannot delete Usage Plan {plan['id']} because there are API Stages associated with it, "
        f"including {api_id}:live")
    apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=[
        {"op": "remove", "path": "/apiStages", "value": f"{api_id}:live"}])
    apigw.delete_usage_plan(usagePlanId=plan["id"])
    with pytest.raises(apigw.exceptions.NotFoundException) as e:
        apigw.get_usage_plan(usagePlanId=plan["id"])
    assert e.value.response["Error"]["Message"] == "Invalid Usage Plan ID specified"


def test_plan_throttle_import_and_usage_plan_updates(lamb_server, tmp_path):
    apigw = lamb_server.client("apigateway")
    arn = function(lamb_server, "keys2", CODE)
    api_id, base = _api(lamb_server, arn)
    plan = apigw.create_usage_plan(name=unique("plan"), throttle={"burstLimit": 1, "rateLimit": 0.001})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        apigw.create_usage_plan(name="bad", apiStages=[{"apiId": "nope", "stage": "live"}])
    assert e.value.response["Error"]["Code"] == "NotFoundException"
    assert e.value.response["Error"]["Message"] == f"Invalid API identifier specified {lamb_server.account_id}:nope"
    apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=[
        {"op": "add", "path": "/apiStages", "value": f"{api_id}:live"},
        {"op": "replace", "path": "/quota/limit", "value": "100"},
        {"op": "replace", "path": "/quota/period", "value": "WEEK"},
        {"op": "replace", "path": "/quota/offset", "value": "1"}])
    shown = apigw.get_usage_plan(usagePlanId=plan["id"])
    assert shown["apiStages"] == [{"apiId": api_id, "stage": "live"}]
    assert shown["quota"] == {"limit": 100, "offset": 1, "period": "WEEK"}

    # ImportApiKeys (the AWS CLI, a CSV file): keys made, enabled and put in the plan
    first, second = "a" * 20 + "1", "b" * 30
    csv_file = tmp_path / "keys.csv"
    csv_file.write_text(f"Name,key,description,Enabled,usageplanIds\nfirst,{first},one,TRUE,{plan['id']}\n"
                        f"second,{second},two,false,\"{plan['id']}\"\nshort,tooshort,,true,\n")
    out = aws_json(lamb_server, "import-api-keys", "--format", "csv", "--body", f"fileb://{csv_file}",
                   service="apigateway")
    assert len(out["ids"]) == 2 and len(out["warnings"]) == 1
    keys = {k["name"]: k for k in apigw.get_api_keys(includeValues=True, limit=500)["items"] if k["id"] in out["ids"]}
    assert (keys["first"]["value"], keys["first"]["enabled"], keys["second"]["enabled"]) == (first, True, False)
    assert sorted(k["id"] for k in apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]) == sorted(out["ids"])
    failed = aws(lamb_server, "import-api-keys", "--format", "csv", "--body", f"fileb://{csv_file}",
                 "--fail-on-warnings", service="apigateway", check=False)
    assert failed.returncode != 0 and "BadRequestException" in failed.stderr

    hello = base + "/hello"
    assert curl(hello, "-H", "x-api-key: " + second) == FORBIDDEN  # imported disabled
    assert curl(hello, "-H", "x-api-key: " + first)[0] == 200
    assert curl(hello, "-H", "x-api-key: " + first) == THROTTLED  # the plan's throttle, per key

    # a mapping template sees the key ($context.identity.apiKey) of a MOCK method requiring one
    api = apigw.get_rest_api(restApiId=api_id)
    res = apigw.create_resource(restApiId=api_id, parentId=api["rootResourceId"], pathPart="mocked")
    ids = {"restApiId": api_id, "resourceId": res["id"], "httpMethod": "GET"}
    apigw.put_method(**ids, authorizationType="NONE", apiKeyRequired=True)
    apigw.put_method_response(**ids, statusCode="200")
    apigw.put_integration(**ids, type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_integration_response(**ids, statusCode="200", responseTemplates={
        "application/json": '{"key": "$context.identity.apiKey", "id": "$context.identity.apiKeyId"}'})
    apigw.create_deployment(restApiId=api_id, stageName="live")
    apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=[  # its own throttle replaces the plan's
        {"op": "replace", "path": f"/apiStages/{api_id}:live/throttle/~1mocked/GET/burstLimit", "value": "100"},
        {"op": "replace", "path": f"/apiStages/{api_id}:live/throttle/~1mocked/GET/rateLimit", "value": "100"}])
    status, body = curl(base + "/mocked", "-H", "x-api-key: " + first)
    assert (status, json.loads(body)) == (200, {"key": first, "id": keys["first"]["id"]})

    # the stage removed from the plan: the key no longer opens it
    apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=[
        {"op": "remove", "path": "/apiStages", "value": f"{api_id}:live"}])
    assert curl(hello, "-H", "x-api-key: " + first) == FORBIDDEN


def test_usage_survives_a_restart_and_reaches_the_access_log(fresh_server):
    server = fresh_server()
    apigw, logs = server.client("apigateway"), server.client("logs")
    arn = function(server, "keys3", CODE)
    api_id, base = _api(server, arn)
    group = unique("/access/keys")
    logs.create_log_group(logGroupName=group)
    apigw.update_stage(restApiId=api_id, stageName="live", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn",
         "value": f"arn:aws:logs:{server.region}:{server.account_id}:log-group:{group}"},
        {"op": "replace", "path": "/accessLogSettings/format",
         "value": "$context.status $context.identity.apiKey $context.identity.apiKeyId $context.requestId"}])
    key = _key(apigw)
    plan = apigw.create_usage_plan(name="durable", apiStages=[{"apiId": api_id, "stage": "live"}],
                                   quota={"limit": 2, "period": "MONTH"})
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    hello = base + "/hello"
    assert curl(hello, "-H", "x-api-key: " + key["value"])[0] == 200

    def lines() -> list[str]:
        events = logs.filter_log_events(logGroupName=group)["events"]
        return [e["message"] for e in events]

    wait_for(lambda: any(line.startswith(f"200 {key['value']} {key['id']} ") for line in lines()), 30, 0.2,
             "the access log line")
    server.terminate()
    server.restart()
    apigw = server.client("apigateway")
    assert apigw.get_api_key(apiKey=key["id"], includeValue=True)["value"] == key["value"]  # unsealed again
    assert curl(hello, "-H", "x-api-key: " + key["value"])[0] == 200
    assert curl(hello, "-H", "x-api-key: " + key["value"]) == LIMITED  # the first request still counts
    # the value is sealed at rest: the database file does not hold it
    assert key["value"].encode() not in (server.data_dir / "lamb.db").read_bytes()


AUTHORIZER = ("def handler(event, context):\n"
              "    token = event['authorizationToken']\n"
              "    return {'principalId': 'me', 'usageIdentifierKey': token,\n"
              "            'policyDocument': {'Version': '2012-10-17', 'Statement': [\n"
              "                {'Effect': 'Allow', 'Action': 'execute-api:Invoke', 'Resource': event['methodArn']}]}}\n")


def test_imported_definition_and_authorizer_key_source(lamb_server):
    apigw = lamb_server.client("apigateway")
    arn = function(lamb_server, "keys4", CODE)
    authz = function(lamb_server, "keysauth", AUTHORIZER)
    integration = {"type": "aws_proxy", "httpMethod": "POST", "uri": _uri(lamb_server, arn)}
    definition = {
        "swagger": "2.0", "info": {"title": unique("imported"), "version": "1"},
        "x-amazon-apigateway-api-key-source": "AUTHORIZER",
        "securityDefinitions": {
            "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
            "tok": {"type": "apiKey", "name": "Authorization", "in": "header",
                    "x-amazon-apigateway-authtype": "custom",
                    "x-amazon-apigateway-authorizer": {"type": "token", "authorizerUri": _uri(lamb_server, authz),
                                                       "authorizerResultTtlInSeconds": 0}}},
        "paths": {"/hello": {"get": {"security": [{"api_key": [], "tok": []}],
                                     "x-amazon-apigateway-integration": integration}},
                  "/open": {"get": {"x-amazon-apigateway-integration": integration}}}}
    api = apigw.import_rest_api(body=json.dumps(definition).encode())
    assert api["apiKeySource"] == "AUTHORIZER"
    res = {r["path"]: r["id"] for r in apigw.get_resources(restApiId=api["id"])["items"]}
    assert apigw.get_method(restApiId=api["id"], resourceId=res["/hello"], httpMethod="GET")["apiKeyRequired"] is True
    assert apigw.get_method(restApiId=api["id"], resourceId=res["/open"], httpMethod="GET")["apiKeyRequired"] is False
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    base = f"http://{api['id']}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/v1"
    key = _key(apigw)
    plan = apigw.create_usage_plan(name=unique("auth"), apiStages=[{"apiId": api["id"], "stage": "v1"}])
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    lam = lamb_server.client()
    lam.add_permission(FunctionName=authz, StatementId="apigw-authz", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com")
    # the key comes from the authorizer's usageIdentifierKey; the x-api-key header is not read
    status, body = curl(base + "/hello", "-H", "Authorization: " + key["value"])
    assert (status, json.loads(body)) == (200, {"apiKey": key["value"], "apiKeyId": key["id"]})
    assert curl(base + "/hello", "-H", "Authorization: " + "z" * 25, "-H", "x-api-key: " + key["value"]) == FORBIDDEN


TEMPLATE = SAM + """
Globals:
  Api:
    Auth:
      ApiKeyRequired: true
      UsagePlan:
        CreateUsagePlan: PER_API
        Quota: {Limit: 2, Period: DAY}
        Throttle: {BurstLimit: 10, RateLimit: 5}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: f.handler
      Runtime: python3.12
      Events:
        Hello: {Type: Api, Properties: {Path: /hello, Method: get}}
Outputs:
  Url: {Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hello"}
  KeyId: {Value: !Ref ServerlessRestApiApiKey}
  PlanId: {Value: !Ref ServerlessRestApiUsagePlan}
"""


def test_sam_api_key_required_with_a_usage_plan(lamb_server, tmp_path):
    write(tmp_path, {"fn/f.py": "def handler(e, c):\n    return {'statusCode': 200, 'body': 'hi'}\n",
                     "template.yaml": TEMPLATE})
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = unique("usageplan")
    out = _deploy(env, tmp_path / "template.yaml", stack).stdout
    for kind in ("ApiKey", "UsagePlan", "UsagePlanKey"):
        assert f"CREATE_COMPLETE             AWS::ApiGateway::{kind}" in out, out
    outputs = _outputs(out)
    url = outputs["Url"]
    apigw = lamb_server.client("apigateway")
    value = apigw.get_api_key(apiKey=outputs["KeyId"], includeValue=True)["value"]
    plan = apigw.get_usage_plan(usagePlanId=outputs["PlanId"])
    assert plan["quota"] == {"limit": 2, "offset": 0, "period": "DAY"}
    assert plan["throttle"] == {"burstLimit": 10, "rateLimit": 5.0}
    assert curl(url) == FORBIDDEN
    assert [curl(url, "-H", "x-api-key: " + value) for _ in range(2)] == [(200, "hi")] * 2
    assert curl(url, "-H", "x-api-key: " + value) == LIMITED
    lamb_cmd("deploy", "--delete", stack, env=env)
    with pytest.raises(apigw.exceptions.NotFoundException):
        apigw.get_api_key(apiKey=outputs["KeyId"])
    with pytest.raises(apigw.exceptions.NotFoundException):
        apigw.get_usage_plan(usagePlanId=outputs["PlanId"])


def test_generate_distinct_id_is_accepted_without_effect(lamb_server):
    """CreateApiKey's ``generateDistinctId`` is deprecated (AWS's API reference): a key's id differs from its value
    whether it is true or false."""
    apigw = lamb_server.client("apigateway")
    for flag in (True, False):
        key = apigw.create_api_key(name=unique("distinct"), generateDistinctId=flag, enabled=True)
        assert key["id"] != key["value"] and len(key["value"]) == 40
        apigw.delete_api_key(apiKey=key["id"])
