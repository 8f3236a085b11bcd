"""``lamb deploy`` of a WebSocket API written as CloudFormation (the resources CDK's ``WebSocketApi``
synthesizes: Api, Integration, Routes, a RouteResponse, and a MOCK integration with its IntegrationResponse, an auto-deployed Stage, the function's
permission): deployed as a user does, its ``wss://`` Output rewritten to Lamb's ``ws://`` address and
connected to with a real WebSocket client."""

from __future__ import annotations

from .conftest import unique
from .deploy_support import deploy_env, lamb_cmd, write
from .test_websocket_apis import Client

TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Handler:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
  WsApi:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: chat
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref WsApi
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Handler.Arn}/invocations
  ConnectRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref WsApi
      RouteKey: $connect
      Target: !Sub integrations/${Integration}
  SayRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref WsApi
      RouteKey: say
      RouteResponseSelectionExpression: $default
      Target: !Sub integrations/${Integration}
  SayResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties:
      ApiId: !Ref WsApi
      RouteId: !Ref SayRoute
      RouteResponseKey: $default
  MockIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref WsApi
      IntegrationType: MOCK
      TemplateSelectionExpression: \\$default
      RequestTemplates:
        $default: '{"statusCode": 200}'
  MockResponse:
    Type: AWS::ApiGatewayV2::IntegrationResponse
    Properties:
      ApiId: !Ref WsApi
      IntegrationId: !Ref MockIntegration
      IntegrationResponseKey: $default
      ResponseTemplates:
        $default: mocked $context.routeKey
  PingRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref WsApi
      RouteKey: ping
      Target: !Sub integrations/${MockIntegration}
  PingResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties:
      ApiId: !Ref WsApi
      RouteId: !Ref PingRoute
      RouteResponseKey: $default
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref WsApi
      StageName: prod
      AutoDeploy: true
  Permission:
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: !Ref Handler
      Principal: apigateway.amazonaws.com
      SourceArn: !Sub arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${WsApi}/*
Outputs:
  Url:
    Value: !Sub wss://${WsApi}.execute-api.${AWS::Region}.amazonaws.com/${Stage}
"""

APP = """import json
def handler(event, context):
    rc = event["requestContext"]
    if rc["eventType"] != "MESSAGE":
        return {"statusCode": 200}
    return {"statusCode": 200, "body": "said " + json.loads(event["body"])["text"]}
"""


def test_deploy_a_websocket_api(lamb_server, tmp_path):
    write(tmp_path, {"src/app.py": APP, "template.yaml": TEMPLATE})
    env = deploy_env(lamb_server, tmp_path / "cache")
    out = lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", unique("ws"), env=env).stdout
    assert "CREATE_COMPLETE             AWS::ApiGatewayV2::RouteResponse" in out
    assert "AWS::ApiGatewayV2::IntegrationResponse" in out
    url = next(line.split()[1] for line in out.split("Outputs:\n", 1)[1].splitlines() if line.startswith("  Url"))
    api_id = url[len("ws://"):].split(".", 1)[0]
    assert url == f"ws://{api_id}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/prod"
    c = Client(lamb_server, api_id, stage="prod")
    assert c.status == 101
    try:
        c.send({"action": "say", "text": "hi"})
        assert c.recv() == "said hi"
        c.send({"action": "ping"})  # a MOCK integration and its AWS::ApiGatewayV2::IntegrationResponse
        assert c.recv() == "mocked ping"
    finally:
        c.close()
