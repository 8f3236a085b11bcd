"""Access logs of API Gateway stages, read back from Lamb's log store: an HTTP API's stage set up
with boto3 (UpdateStage AccessLogSettings) and a REST API's stage from a SAM template's
``AccessLogSetting`` (deployed with ``lamb deploy``: CreateStage, then UpdateStage's PATCH)."""

from __future__ import annotations

import json
from urllib.parse import quote

from .conftest import create, unique, wait_for
from .deploy_support import deploy_env, lamb_cmd, write
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
