"""REST API non-proxy Lambda integrations (type ``AWS``) with Velocity mapping templates, created with
boto3's ``apigateway`` client and called with curl: a request template building the function's event
from ``$input``/``$context``/``$stageVariables``/``$util``, integration responses chosen by a
``selectionPattern`` on the function's error message, response templates and header mappings,
passthrough behaviour (415), and a MOCK integration whose templates are evaluated."""

from __future__ import annotations

import json

from .conftest import unique, wait_for
from .test_api_metrics import function, window
from .test_deploy_apis import curl

CODE = ("def handler(event, context):\n"
        "    if event.get('id') == 'bad':\n"
        "        raise ValueError('Bad: no item ' + event['id'])\n"
        "    return {'echo': event}\n")

REQUEST = ('{"id": "$input.params(\'id\')", "q": "$util.urlDecode($input.params(\'q\'))", "stage": "$context.stage",'
           ' "env": "$stageVariables.env", "method": "$context.httpMethod", "resource": "$context.resourcePath",'
           ' "body": $input.json(\'$\'), "quoted": "$util.escapeJavaScript($input.path(\'$.text\'))"}')
RESPONSE = ('#set($e = $input.path(\'$.echo\'))'
            '{"item": "$e.id", "q": "$e.q", "stage": "$e.stage", "env": "$e.env", "method": "$e.method", '
            '"resource": "$e.resource", "body": $input.json(\'$.echo.body\'), "quoted": "$util.escapeJavaScript($e.quoted)", '
            '"b64": "$util.base64Encode($e.id)"}')


def _invocations(cw, arn: str) -> float:
    out = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations", Period=3600,
                                   Statistics=["Sum"], **window(),
                                   Dimensions=[{"Name": "FunctionName", "Value": arn.rsplit(":", 1)[1]}])
    return sum(d["Sum"] for d in out["Datapoints"])


def test_non_proxy_lambda_integration_with_mapping_templates(lamb_server):
    apigw = lamb_server.client("apigateway")
    arn = function(lamb_server, "vtl", CODE)
    api = apigw.create_rest_api(name=unique("mapped"))
    items = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="items")
    item = apigw.create_resource(restApiId=api["id"], parentId=items["id"], pathPart="{id}")
    uri = f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
    for verb, behavior in (("GET", "WHEN_NO_MATCH"), ("POST", "NEVER")):
        ids = {"restApiId": api["id"], "resourceId": item["id"], "httpMethod": verb}
        apigw.put_method(**ids, authorizationType="NONE")
        apigw.put_method_response(**ids, statusCode="200")
        apigw.put_method_response(**ids, statusCode="400",
                                  responseParameters={"method.response.header.X-Error-Type": False})
        out = apigw.put_integration(**ids, type="AWS", integrationHttpMethod="POST", uri=uri,
                                    passthroughBehavior=behavior, requestTemplates={"application/json": REQUEST})
        assert (out["type"], out["passthroughBehavior"], out["requestTemplates"]) == (
            "AWS", behavior, {"application/json": REQUEST})
        apigw.put_integration_response(**ids, statusCode="200", responseTemplates={"application/json": RESPONSE})
        apigw.put_integration_response(
            **ids, statusCode="400", selectionPattern="Bad:.*",
            responseTemplates={"application/json": '{"error": "$input.path(\'$.errorMessage\')"}'},
            responseParameters={"method.response.header.X-Error-Type": "integration.response.body.errorType"})
    got = apigw.get_integration(restApiId=api["id"], resourceId=item["id"], httpMethod="GET")
    assert got["type"] == "AWS" and set(got["integrationResponses"]) == {"200", "400"}
    apigw.create_deployment(restApiId=api["id"], stageName="live", variables={"env": "dev"})
    base = f"http://{api['id']}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/live/items"

    status, body = curl(base + "/7?q=a%20b", "-X", "POST", "-H", "Content-Type: application/json",
                        "-d", '{"text": "say \\"hi\\"", "n": [1, 2]}')
    assert status == 200, body
    assert json.loads(body) == {"item": "7", "q": "a b", "stage": "live", "env": "dev", "method": "POST",
                                "resource": "/items/{id}", "body": {"text": 'say "hi"', "n": [1, 2]},
                                "quoted": 'say "hi"', "b64": "Nw=="}

    status, body = curl(base + "/bad", "-D", "-")  # the function's error → the 400 response by its pattern
    head, _, payload = body.partition("\n\n")  # (text mode: CRLF read as LF)
    assert status == 400 and json.loads(payload) == {"error": "Bad: no item bad"}
    assert "x-error-type: valueerror" in head.lower()

    # No template for text/plain: refused with 415 under NEVER (POST); passed through under WHEN_NO_MATCH
    # (GET), where Lambda refuses a payload that is not JSON and API Gateway answers 500.
    status, body = curl(base + "/8", "-X", "POST", "-H", "Content-Type: text/plain", "-d", "hello")
    assert (status, json.loads(body)) == (415, {"message": "Unsupported Media Type"})
    status, body = curl(base + "/8", "-X", "GET", "-H", "Content-Type: text/plain", "-d", "hello")
    assert (status, json.loads(body)) == (500, {"message": "Internal server error"})
    status, body = curl(base + "/8", "-X", "GET", "-H", "Content-Type: text/plain", "-d", '{"id": "passed"}')
    assert status == 200 and json.loads(body)["item"] == "passed"  # the event is the body itself
    status, body = curl(base + "/8", "-H", "Content-Type: application/json")  # no body: $input.json('$') is {}
    assert status == 200 and json.loads(body)["body"] == {}


def test_asynchronous_invocation_through_request_parameters(lamb_server):
    apigw, cw = lamb_server.client("apigateway"), lamb_server.client("cloudwatch")
    arn = function(lamb_server, "vtlasync", CODE)
    api = apigw.create_rest_api(name=unique("async"))
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="jobs")
    ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "POST"}
    apigw.put_method(**ids, authorizationType="NONE")
    apigw.put_method_response(**ids, statusCode="202")
    apigw.put_integration(**ids, type="AWS", integrationHttpMethod="POST",
                          uri=f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{arn}/invocations",
                          requestParameters={"integration.request.header.X-Amz-Invocation-Type": "'Event'"})
    apigw.put_integration_response(**ids, statusCode="202", responseTemplates={
        "application/json": '{"queued": "$context.requestId", "payload": "$input.body"}'})
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    url = f"http://{api['id']}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/v1/jobs"
    status, body = curl(url, "-X", "POST", "-H", "Content-Type: application/json", "-d", '{"id": "j1"}')
    answer = json.loads(body)
    assert status == 202 and answer["payload"] == "" and len(answer["queued"]) == 36  # Lambda's 202: no payload

    wait_for(lambda: _invocations(cw, arn) == 1, 60, 0.2, "the queued event to run the function")


def test_mock_integration_templates_are_evaluated(lamb_server):
    apigw = lamb_server.client("apigateway")
    api = apigw.create_rest_api(name=unique("mock"))
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="teapot")
    ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "GET"}
    apigw.put_method(**ids, authorizationType="NONE")
    for code in ("200", "418"):
        apigw.put_method_response(**ids, statusCode=code)
    apigw.put_integration(**ids, type="MOCK", requestTemplates={
        "application/json": '{"statusCode": #if($input.params("brew") == "tea")418#{else}200#end}'})
    apigw.put_integration_response(**ids, statusCode="200", responseTemplates={"application/json": '{"ok": true}'})
    apigw.put_integration_response(**ids, statusCode="418", selectionPattern="418", responseTemplates={
        "application/json": '{"brew": "$input.params(\'brew\')", "stage": "$context.stage"}'})
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    base = f"http://{api['id']}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/v1/teapot"
    assert curl(base + "?brew=coffee") == (200, '{"ok": true}')
    status, body = curl(base + "?brew=tea")
    assert (status, json.loads(body)) == (418, {"brew": "tea", "stage": "v1"})

    # Changed templates, as Terraform changes them (UpdateIntegration/UpdateIntegrationResponse), then deployed.
    apigw.update_integration(**ids, patchOperations=[{"op": "replace", "path": "/requestTemplates/application~1json",
                                                      "value": '{"statusCode": 418}'}])
    apigw.update_integration_response(**ids, statusCode="418", patchOperations=[
        {"op": "replace", "path": "/responseTemplates/application~1json", "value": '{"short": "and stout"}'}])
    assert apigw.get_integration(**ids)["requestTemplates"] == {"application/json": '{"statusCode": 418}'}
    assert curl(base + "?brew=coffee")[0] == 200  # the stage serves its deployment until the next one
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    assert curl(base + "?brew=coffee") == (418, '{"short": "and stout"}')


def test_imported_definition_applies_integration_request_parameters(lamb_server):
    """ImportRestApi: an ``aws`` integration's ``requestParameters`` (X-Amz-Invocation-Type) are applied, as
    PutIntegration's are; the method's ``parameters`` become its ``requestParameters``."""
    apigw, cw = lamb_server.client("apigateway"), lamb_server.client("cloudwatch")
    arn = function(lamb_server, "vtlimport", CODE)
    uri = f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
    definition = {"openapi": "3.0.1", "info": {"title": unique("imported-async"), "version": "1"}, "paths": {"/jobs": {
        "post": {"parameters": [{"name": "mode", "in": "header", "required": True, "schema": {"type": "string"}}],
                 "responses": {"202": {"description": "queued"}},
                 "x-amazon-apigateway-integration": {
                     "type": "aws", "httpMethod": "POST", "uri": uri,
                     "requestParameters": {"integration.request.header.X-Amz-Invocation-Type": "method.request.header.mode"},
                     "requestTemplates": {"application/json": '{"id": $input.json(\'$.id\')}'},
                     "responses": {"default": {"statusCode": "202", "responseTemplates": {
                         "application/json": '{"queued": "$context.requestId", '
                                             '"payload": "$util.escapeJavaScript($input.body)"}'}}}}}}}}
    api = apigw.import_rest_api(body=json.dumps(definition).encode())
    res = {r["path"]: r for r in apigw.get_resources(restApiId=api["id"])["items"]}["/jobs"]
    method = apigw.get_method(restApiId=api["id"], resourceId=res["id"], httpMethod="POST")
    assert method["requestParameters"] == {"method.request.header.mode": True}
    assert method["methodIntegration"]["requestParameters"] == {
        "integration.request.header.X-Amz-Invocation-Type": "method.request.header.mode"}
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    url = f"http://{api['id']}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/v1/jobs"
    status, body = curl(url, "-X", "POST", "-H", "Content-Type: application/json", "-H", "mode: Event",
                        "-d", '{"id": "j1"}')
    answer = json.loads(body)
    assert status == 202 and answer["payload"] == "" and len(answer["queued"]) == 36  # Lambda's 202: no payload

    wait_for(lambda: _invocations(cw, arn) == 1, 60, 0.2, "the queued event to run the function")
    # RequestResponse from the same header: the function's answer is the payload.
    status, body = curl(url, "-X", "POST", "-H", "Content-Type: application/json", "-H", "mode: RequestResponse",
                        "-d", '{"id": "j2"}')
    assert status == 202 and json.loads(json.loads(body)["payload"]) == {"echo": {"id": "j2"}}


PROXY_CODE = ("import json\n"
              "def handler(event, context):\n"
              "    return {'statusCode': 200, 'body': json.dumps({'headers': event['headers'],\n"
              "                                                   'query': event['queryStringParameters']})}\n")


def test_lambda_proxy_integration_request_parameters(lamb_server):
    """A REST ``AWS_PROXY`` integration's ``requestParameters`` (PutIntegration, UpdateIntegration, ImportRestApi)
    are kept; the Invoke call's ``X-Amz-Invocation-Type`` is applied (``Event``: the function runs queued and its
    empty answer is a malformed proxy response, 502), other mappings leave the event (the method request) as it is."""
    apigw, cw = lamb_server.client("apigateway"), lamb_server.client("cloudwatch")
    arn = function(lamb_server, "proxyparams", PROXY_CODE)
    uri = f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
    api = apigw.create_rest_api(name=unique("proxyparams"))
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="p")
    ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "GET"}
    apigw.put_method(**ids, authorizationType="NONE", requestParameters={"method.request.header.mode": False})
    params = {"integration.request.header.X-Amz-Invocation-Type": "method.request.header.mode",
              "integration.request.header.x-added": "'static'"}
    out = apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST", uri=uri, requestParameters=params)
    assert out["requestParameters"] == params and apigw.get_integration(**ids)["requestParameters"] == params
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    url = f"http://{api['id']}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/v1/p?x=1"

    status, body = curl(url, "-H", "mode: RequestResponse")
    assert status == 200, body
    event = json.loads(body)
    assert event["query"] == {"x": "1"} and "x-added" not in {k.lower() for k in event["headers"]}
    assert curl(url)[0] == 200  # no header: RequestResponse
    assert curl(url, "-H", "mode: Event") == (502, '{"message": "Internal server error"}')
    wait_for(lambda: _invocations(cw, arn) == 3, 60, 0.2, "the queued event to run the function")
    assert curl(url, "-H", "mode: Bogus") == (500, '{"message": "Internal server error"}')

    apigw.update_integration(**ids, patchOperations=[
        {"op": "remove", "path": "/requestParameters/integration.request.header.x-added"}])
    assert apigw.get_integration(**ids)["requestParameters"] == {
        "integration.request.header.X-Amz-Invocation-Type": "method.request.header.mode"}

    definition = {"openapi": "3.0.1", "info": {"title": unique("imported-proxy"), "version": "1"}, "paths": {"/p": {
        "get": {"x-amazon-apigateway-integration": {
            "type": "aws_proxy", "httpMethod": "POST", "uri": uri,
            "requestParameters": {"integration.request.header.X-Amz-Invocation-Type": "'DryRun'"}}}}}}
    imported = apigw.import_rest_api(body=json.dumps(definition).encode())
    res = {r["path"]: r for r in apigw.get_resources(restApiId=imported["id"])["items"]}["/p"]
    integ = apigw.get_integration(restApiId=imported["id"], resourceId=res["id"], httpMethod="GET")
    assert integ["requestParameters"] == {"integration.request.header.X-Amz-Invocation-Type": "'DryRun'"}
