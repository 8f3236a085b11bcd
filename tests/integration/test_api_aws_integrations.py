"""API Gateway AWS service integrations against moto's server (a separate process) as SQS, EventBridge,
Kinesis, Step Functions and DynamoDB, reached through boto3's standard ``AWS_ENDPOINT_URL``: HTTP APIs'
``AWS_PROXY`` integrations with an ``IntegrationSubtype`` and ``RequestParameters`` (created with boto3,
called with curl), and REST APIs' type ``AWS`` integrations to an SQS path and a DynamoDB action, their
requests built by mapping templates; what each put is read back from moto."""

from __future__ import annotations

import base64
import json
import socket

import pytest
from botocore.exceptions import ClientError

from .async_support import moto, serving  # noqa: F401  (fixtures)
from .conftest import unique, wait_for
from .test_deploy_apis import curl

TRUST_APIGW = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
TRUST_LAMBDA = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture(scope="module")
def silent():
    """A listening socket that never answers: AppConfig's endpoint for the server, to pass the timeout."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.fixture(scope="module")
def server(moto, silent, tmp_path_factory):  # noqa: F811
    yield from serving({**moto.env(), "AWS_ENDPOINT_URL_APPCONFIG": silent}, tmp_path_factory, "aws-integrations")


def role(server, trust=TRUST_APIGW, action: str = "*", resource: str = "*") -> str:
    return server.ensure_role(f"arn:aws:iam::{server.account_id}:role/{unique('apigw')}", trust=trust,
                              policy={"Version": "2012-10-17",
                                      "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})


def pass_machine(moto) -> str:  # noqa: F811
    """A Step Functions state machine on moto with one Pass state; its ARN."""
    return moto.client("stepfunctions").create_state_machine(
        name=unique("sm"), roleArn="arn:aws:iam::123456789012:role/sfn",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]


def events_to_queue(moto, prefix: str) -> tuple[str, str]:  # noqa: F811
    """A rule on moto's default event bus sending events of a new source to a new queue: (source, queue URL)."""
    url, arn = moto.queue(unique(prefix))
    events, source, rule = moto.client("events"), unique(f"{prefix}.src"), unique("r")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    return source, url


def http_api(server, routes: dict[str, dict]) -> str:
    """An HTTP API with one route per key (``POST /x``) to an integration of the given parameters; its URL."""
    v2 = server.client("apigatewayv2")
    api = v2.create_api(Name=unique("svc"), ProtocolType="HTTP")
    for key, params in routes.items():
        integ = v2.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", **params)
        assert integ["PayloadFormatVersion"] == "1.0"
        v2.create_route(ApiId=api["ApiId"], RouteKey=key, Target=f"integrations/{integ['IntegrationId']}")
    v2.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    return f"http://{api['ApiId']}.execute-api.{server.region}.localhost:{server.port}"


def post(url: str, body: str, *headers: str) -> tuple[int, dict]:
    args = ["-X", "POST", "-d", body]
    for h in headers:
        args += ["-H", h]
    status, text = curl(url, *args)
    return status, json.loads(text)


def test_http_api_sqs_subtypes(server, moto):  # noqa: F811
    url, _ = moto.queue(unique("apiq"))
    creds = role(server)
    base = http_api(server, {
        "POST /send": {"IntegrationSubtype": "SQS-SendMessage", "CredentialsArn": creds,
                       "RequestParameters": {"QueueUrl": url, "MessageBody": "$request.body",
                                             "DelaySeconds": "$request.querystring.delay"}},
        "POST /receive": {"IntegrationSubtype": "SQS-ReceiveMessage", "CredentialsArn": creds,
                          "RequestParameters": {"QueueUrl": url, "MaxNumberOfMessages": "5"}},
        "POST /delete": {"IntegrationSubtype": "SQS-DeleteMessage", "CredentialsArn": creds,
                         "RequestParameters": {"QueueUrl": url, "ReceiptHandle": "$request.body.handle"}},
        "POST /purge": {"IntegrationSubtype": "SQS-PurgeQueue", "CredentialsArn": creds,
                        "RequestParameters": {"QueueUrl": url}},
        "POST /missing": {"IntegrationSubtype": "SQS-SendMessage", "CredentialsArn": creds,
                          "RequestParameters": {"QueueUrl": url + "-nope", "MessageBody": "x"}},
    })
    status, doc = post(base + "/send?delay=0", '{"order": 7}')
    assert status == 200, doc
    result = doc["SendMessageResponse"]["SendMessageResult"]
    assert result["MessageId"] and "RequestId" in doc["SendMessageResponse"]["ResponseMetadata"]

    got = wait_for(lambda: post(base + "/receive", "")[1]["ReceiveMessageResponse"]["ReceiveMessageResult"]["messages"],
                   30, 0.2, "the message to be received")
    assert [m["Body"] for m in got] == ['{"order": 7}'] and got[0]["MessageId"] == result["MessageId"]
    status, doc = post(base + "/delete", json.dumps({"handle": got[0]["ReceiptHandle"]}))
    assert status == 200 and "DeleteMessageResponse" in doc
    assert moto.empty(url)
    assert post(base + "/send", "to purge")[0] == 200
    status, doc = post(base + "/purge", "")
    assert status == 200 and "PurgeQueueResponse" in doc, doc
    assert moto.empty(url)

    # The service's refusal comes back with its status and error code.
    status, doc = post(base + "/missing", "x")
    assert status == 400 and doc["Error"]["Code"] and doc["Error"]["Type"] == "Sender", doc
    # A value the parameter cannot take (DelaySeconds is a number): 400 Bad Request.
    assert post(base + "/send?delay=soon", "x") == (400, {"message": "Bad Request"})


def test_http_api_eventbridge_kinesis_stepfunctions(server, moto):  # noqa: F811
    source, target_url = events_to_queue(moto, "evq")
    kinesis = moto.client("kinesis")
    stream = unique("st")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    wait_for(lambda: kinesis.describe_stream(StreamName=stream)["StreamDescription"]["StreamStatus"] == "ACTIVE",
             30, 0.2, "the stream")
    sfn = moto.client("stepfunctions")
    machine = pass_machine(moto)
    creds = role(server)
    base = http_api(server, {
        "POST /events": {"IntegrationSubtype": "EventBridge-PutEvents", "CredentialsArn": creds,
                         "RequestParameters": {"Source": source, "DetailType": "$request.header.x-kind",
                                               "Detail": "$request.body.detail"}},
        "POST /records": {"IntegrationSubtype": "Kinesis-PutRecord", "CredentialsArn": creds,
                          "RequestParameters": {"StreamName": stream, "Data": "$request.body.data",
                                                "PartitionKey": "$request.header.x-key"}},
        "POST /stop": {"IntegrationSubtype": "StepFunctions-StopExecution", "CredentialsArn": creds,
                       "RequestParameters": {"ExecutionArn": "$request.querystring.arn", "Cause": "user"}},
        "POST /start": {"IntegrationSubtype": "StepFunctions-StartExecution", "CredentialsArn": creds,
                        "RequestParameters": {"StateMachineArn": machine, "Input": "$request.body",
                                              "Name": "$context.requestId"}},
    })
    status, doc = post(base + "/events", json.dumps({"detail": {"id": 1}}), "x-kind: created")
    assert status == 200 and doc["FailedEntryCount"] == 0 and doc["Entries"][0]["EventId"], doc
    delivered = moto.receive(target_url, timeout=60)
    event = json.loads(delivered[0]["Body"])
    assert (event["source"], event["detail-type"], event["detail"]) == (source, "created", {"id": 1})

    data = base64.b64encode(b"record one").decode()
    status, doc = post(base + "/records", json.dumps({"data": data}), "x-key: pk1")
    assert status == 200 and doc["ShardId"] and doc["SequenceNumber"], doc
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=doc["ShardId"], ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"]
    assert [(r["Data"], r["PartitionKey"]) for r in records] == [(b"record one", "pk1")]

    status, doc = post(base + "/start", '{"go": true}')
    assert status == 200 and doc["executionArn"].startswith("arn:aws:states:"), doc
    described = sfn.describe_execution(executionArn=doc["executionArn"])
    assert json.loads(described["input"]) == {"go": True}
    status, doc = post(base + "/stop?arn=" + doc["executionArn"], "")
    assert status == 200 and "stopDate" in doc, doc


def test_http_api_subtype_validation_and_roles(server, moto):  # noqa: F811
    v2 = server.client("apigatewayv2")
    api = v2.create_api(Name=unique("bad"), ProtocolType="HTTP")
    url, _ = moto.queue(unique("vq"))
    good = {"IntegrationSubtype": "SQS-SendMessage", "CredentialsArn": role(server),
            "RequestParameters": {"QueueUrl": url, "MessageBody": "$request.body"}}
    cases = [
        ({k: v for k, v in good.items() if k != "CredentialsArn"}, "CredentialsArn"),
        ({**good, "RequestParameters": {"QueueUrl": url}}, "MessageBody"),
        ({**good, "RequestParameters": {**good["RequestParameters"], "Nope": "x"}}, "Nope"),
        ({**good, "IntegrationSubtype": "SQS-Nothing"}, "SQS-Nothing"),
        ({**good, "PayloadFormatVersion": "2.0"}, "1.0"),
    ]
    for params, word in cases:
        with pytest.raises(ClientError) as e:
            v2.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", **params)
        assert e.value.response["Error"]["Code"] == "BadRequestException" and word in e.value.response["Error"]["Message"]

    # A role API Gateway may not assume: 500, nothing sent.
    base = http_api(server, {"POST /x": {**good, "CredentialsArn": role(server, TRUST_LAMBDA)}})
    assert post(base + "/x", "never") == (500, {"message": "Internal Server Error"})
    assert moto.empty(url)

    # A role whose policies do not allow the action on the queue: SQS's AccessDenied, nothing sent; Lamb's
    # IAM reads the policies per request, so a policy that now allows applies to the next one.
    queue_arn = f"arn:aws:sqs:{server.region}:{url.rstrip('/').split('/')[-2]}:{url.rstrip('/').split('/')[-1]}"
    narrow = role(server, action="sqs:ReceiveMessage", resource=queue_arn)
    base = http_api(server, {"POST /y": {**good, "CredentialsArn": narrow}})
    status, doc = post(base + "/y", "denied")
    assert status == 403 and doc["Error"]["Code"] == "AccessDenied", doc
    assert f"is not authorized to perform: sqs:SendMessage on resource: {queue_arn}" in doc["Error"]["Message"]
    assert moto.empty(url)
    server.client("iam").put_role_policy(
        RoleName=narrow.rsplit("/", 1)[1], PolicyName="send", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn}]}))
    assert post(base + "/y", "allowed")[0] == 200
    assert [m["Body"] for m in moto.receive(url, timeout=60)] == ["allowed"]


def rest_api(server, path_part: str, integration: dict, responses: dict[str, str]) -> str:
    apigw = server.client("apigateway")
    api = apigw.create_rest_api(name=unique("svc"))
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart=path_part)
    ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "POST"}
    apigw.put_method(**ids, authorizationType="NONE")
    out = apigw.put_integration(**ids, type="AWS", **integration)
    assert out["type"] == "AWS" and out["uri"] == integration["uri"]
    for code, pattern in responses.items():
        apigw.put_method_response(**ids, statusCode=code)
        apigw.put_integration_response(**ids, statusCode=code, **({"selectionPattern": pattern} if pattern else {}))
    apigw.create_deployment(restApiId=api["id"], stageName="live")
    return f"http://{api['id']}.execute-api.{server.region}.localhost:{server.port}/live/{path_part}"


def action_api(server, path_part: str, service: str, action: str, template: str, creds: str,
               responses: dict | None = None) -> str:
    """A REST API whose ``POST /<path_part>`` calls ``service``'s ``action`` with the JSON template's output."""
    return rest_api(server, path_part, {
        "integrationHttpMethod": "POST", "credentials": creds,
        "uri": f"arn:aws:apigateway:{server.region}:{service}:action/{action}",
        "requestTemplates": {"application/json": template}}, responses or {"200": None})


def test_rest_api_sqs_path_and_dynamodb_action(server, moto):  # noqa: F811
    name = unique("restq")
    url, _ = moto.queue(name)
    account = url.rstrip("/").split("/")[-2]
    creds = role(server)
    base = rest_api(server, "queue", {
        "integrationHttpMethod": "POST", "credentials": creds,
        "uri": f"arn:aws:apigateway:{server.region}:sqs:path/{account}/{name}",
        "requestParameters": {"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"},
        "requestTemplates": {"application/json": "Action=SendMessage&MessageBody=$input.body"}},
        {"200": None, "400": "4\\d\\d"})
    status, text = curl(base, "-X", "POST", "-H", "Content-Type: application/json", "-d", "hello-rest")
    assert status == 200 and "SendMessageResponse" in text and "<MessageId>" in text, text
    assert [m["Body"] for m in moto.receive(url, timeout=60)] == ["hello-rest"]

    table = unique("items")
    moto.client("dynamodb").create_table(TableName=table, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                                         BillingMode="PAY_PER_REQUEST")
    template = ('{"TableName": "' + table + '", "Item": {"id": {"S": "$input.path(\'$.id\')"}, '
                '"note": {"S": "$input.path(\'$.note\')"}}}')
    base = action_api(server, "items", "dynamodb", "PutItem", template, creds, {"200": None, "400": "4\\d\\d"})
    status, text = curl(base, "-X", "POST", "-H", "Content-Type: application/json",
                        "-d", '{"id": "a1", "note": "first"}')
    assert status == 200, text
    item = moto.client("dynamodb").get_item(TableName=table, Key={"id": {"S": "a1"}})["Item"]
    assert item == {"id": {"S": "a1"}, "note": {"S": "first"}}
    # DynamoDB's refusal (no such table) selects the 4xx integration response.
    status, text = curl(base, "-X", "POST", "-H", "Content-Type: application/json", "-d", '{"id": ""}')
    assert status == 400 and "ValidationException" in text, text

    # A role whose policies do not allow PutItem on the table: DynamoDB's AccessDeniedException (400).
    table_arn = f"arn:aws:dynamodb:{server.region}:{server.account_id}:table/{table}"
    reader = role(server, action="dynamodb:GetItem", resource=table_arn)
    denied = action_api(server, "denied", "dynamodb", "PutItem", template, reader, {"200": None, "400": "4\\d\\d"})
    status, text = curl(denied, "-X", "POST", "-H", "Content-Type: application/json", "-d", '{"id": "a2", "note": "x"}')
    assert status == 400 and "AccessDeniedException" in text and "dynamodb:PutItem" in text, text
    assert "Item" not in moto.client("dynamodb").get_item(TableName=table, Key={"id": {"S": "a2"}})

    # Without credentials API Gateway cannot call the service: 500.
    apigw = server.client("apigateway")
    bare = rest_api(server, "bare", {"integrationHttpMethod": "POST",
                                      "uri": f"arn:aws:apigateway:{server.region}:sqs:path/{account}/{name}",
                                      "requestTemplates": {"application/json": "Action=SendMessage&MessageBody=x"}},
                    {"200": None})
    assert curl(bare, "-X", "POST", "-d", "{}")[0] == 500
    with pytest.raises(ClientError) as e:
        api = apigw.create_rest_api(name=unique("badarn"))
        apigw.put_method(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET",
                         authorizationType="NONE")
        apigw.put_integration(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET", type="AWS",
                              integrationHttpMethod="POST", uri=f"arn:aws:apigateway:{server.region}:sqs:thing")
    assert e.value.response["Error"]["Message"] == "AWS ARN for integration must contain path or action"


def test_openapi_import_and_deploy(server, moto, tmp_path):  # noqa: F811
    from .deploy_support import deploy_env, lamb_cmd

    name = unique("depq")
    url, _ = moto.queue(name)
    account = url.rstrip("/").split("/")[-2]
    creds = role(server)
    spec = {"openapi": "3.0.1", "info": {"title": unique("imp"), "version": "1"}, "paths": {"/send": {"post": {
        "x-amazon-apigateway-integration": {
            "type": "aws_proxy", "integrationSubtype": "SQS-SendMessage", "credentials": creds,
            "payloadFormatVersion": "1.0", "connectionType": "INTERNET",
            "requestParameters": {"QueueUrl": url, "MessageBody": "$request.body.text"}}}}}}
    v2 = server.client("apigatewayv2")
    api = v2.import_api(Body=json.dumps(spec))
    integ = v2.get_integrations(ApiId=api["ApiId"])["Items"][0]
    assert (integ["IntegrationSubtype"], integ["CredentialsArn"]) == ("SQS-SendMessage", creds)
    v2.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    base = f"http://{api['ApiId']}.execute-api.{server.region}.localhost:{server.port}"
    assert post(base + "/send", '{"text": "imported"}')[0] == 200
    assert [m["Body"] for m in moto.receive(url, timeout=60)] == ["imported"]

    template = f"""AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Http:
    Type: AWS::ApiGatewayV2::Api
    Properties: {{Name: {unique("dep")}, ProtocolType: HTTP}}
  ToQueue:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Http
      IntegrationType: AWS_PROXY
      IntegrationSubtype: SQS-SendMessage
      PayloadFormatVersion: "1.0"
      CredentialsArn: {creds}
      RequestParameters: {{QueueUrl: "{url}", MessageBody: "$request.body"}}
  Send:
    Type: AWS::ApiGatewayV2::Route
    Properties: {{ApiId: !Ref Http, RouteKey: POST /cfn, Target: !Sub "integrations/${{ToQueue}}"}}
  Default:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {{ApiId: !Ref Http, StageName: $default, AutoDeploy: true}}
  SamHttp:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefinitionBody:
        openapi: "3.0.1"
        info: {{title: sam, version: "1"}}
        paths:
          /sam:
            post:
              x-amazon-apigateway-integration:
                type: aws_proxy
                integrationSubtype: SQS-SendMessage
                credentials: {creds}
                payloadFormatVersion: "1.0"
                requestParameters: {{QueueUrl: "{url}", MessageBody: "$request.body"}}
  Rest:
    Type: AWS::ApiGateway::RestApi
    Properties: {{Name: {unique("deprest")}}}
  Queue:
    Type: AWS::ApiGateway::Resource
    Properties: {{RestApiId: !Ref Rest, ParentId: !GetAtt Rest.RootResourceId, PathPart: queue}}
  Post:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Rest
      ResourceId: !Ref Queue
      HttpMethod: POST
      AuthorizationType: NONE
      MethodResponses: [{{StatusCode: "200"}}]
      Integration:
        Type: AWS
        IntegrationHttpMethod: POST
        Credentials: {creds}
        Uri: arn:aws:apigateway:{server.region}:sqs:path/{account}/{name}
        RequestParameters: {{integration.request.header.Content-Type: "'application/x-www-form-urlencoded'"}}
        RequestTemplates: {{application/json: "Action=SendMessage&MessageBody=$input.body"}}
        IntegrationResponses: [{{StatusCode: "200"}}]
  Deployment:
    Type: AWS::ApiGateway::Deployment
    DependsOn: Post
    Properties: {{RestApiId: !Ref Rest, StageName: live}}
Outputs:
  HttpId: {{Value: !Ref Http}}
  SamId: {{Value: !Ref SamHttp}}
  RestId: {{Value: !Ref Rest}}
"""
    (tmp_path / "template.yaml").write_text(template)
    out = lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", unique("svc"),
                   env=deploy_env(server, tmp_path / "cache")).stdout
    ids = {line.split()[0]: line.split()[1] for line in out.split("Outputs:\n", 1)[1].splitlines()
           if line.startswith("  ")}
    host = f"execute-api.{server.region}.localhost:{server.port}"
    assert post(f"http://{ids['HttpId']}.{host}/cfn", "from-cfn")[0] == 200
    assert post(f"http://{ids['SamId']}.{host}/sam", "from-sam")[0] == 200
    status, text = curl(f"http://{ids['RestId']}.{host}/live/queue", "-X", "POST", "-H",
                        "Content-Type: application/json", "-d", "from-rest")
    assert status == 200, text
    assert sorted(m["Body"] for m in moto.receive(url, n=3, timeout=60)) == ["from-cfn", "from-rest", "from-sam"]


def test_rest_api_sns_action_and_s3_path(server, moto):  # noqa: F811
    creds = role(server)
    sns = moto.client("sns")
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    url, queue_arn = moto.queue(unique("snsq"))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    base = rest_api(server, "notify", {
        "integrationHttpMethod": "POST", "credentials": creds,
        "uri": f"arn:aws:apigateway:{server.region}:sns:action/Publish",
        "requestParameters": {"integration.request.querystring.TopicArn": f"'{topic}'",
                              "integration.request.querystring.Message": "method.request.querystring.msg"}},
        {"200": None})
    status, text = curl(base + "?msg=published", "-X", "POST")
    assert status == 200 and "<MessageId>" in text, text
    assert [m["Body"] for m in moto.receive(url, timeout=60)] == ["published"]

    bucket = unique("bkt")
    moto.client("s3").create_bucket(Bucket=bucket)
    apigw = server.client("apigateway")
    api = apigw.create_rest_api(name=unique("s3"))
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="{key}")
    ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "PUT"}
    apigw.put_method(**ids, authorizationType="NONE", requestParameters={"method.request.path.key": True})
    apigw.put_integration(**ids, type="AWS", integrationHttpMethod="PUT", credentials=creds,
                          uri=f"arn:aws:apigateway:{server.region}:s3:path/{bucket}/{{object}}",
                          requestParameters={"integration.request.path.object": "method.request.path.key"})
    apigw.put_method_response(**ids, statusCode="200")
    apigw.put_integration_response(**ids, statusCode="200")
    apigw.create_deployment(restApiId=api["id"], stageName="live")
    status, text = curl(f"http://{api['id']}.execute-api.{server.region}.localhost:{server.port}/live/note.txt",
                        "-X", "PUT", "-H", "Content-Type: text/plain", "--data-binary", "stored by API Gateway")
    assert status == 200, text
    assert moto.client("s3").get_object(Bucket=bucket, Key="note.txt")["Body"].read() == b"stored by API Gateway"


def test_rest_update_integration_uri_to_a_service(server, moto):  # noqa: F811
    name = unique("patchq")
    url, _ = moto.queue(name)
    account = url.rstrip("/").split("/")[-2]
    apigw = server.client("apigateway")
    base = rest_api(server, "p", {"integrationHttpMethod": "POST", "credentials": role(server),
                                  "uri": f"arn:aws:apigateway:{server.region}:sqs:path/{account}/{name}-old",
                                  "requestParameters": {"integration.request.header.Content-Type":
                                                        "'application/x-www-form-urlencoded'"},
                                  "requestTemplates": {"application/json": "Action=SendMessage&MessageBody=patched"}},
                   {"200": None, "400": "4\\d\\d"})
    api_id = base.split("//", 1)[1].split(".", 1)[0]
    res = [r for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/p"][0]
    json_post = ("-X", "POST", "-H", "Content-Type: application/json", "-d", "{}")
    status, text = curl(base, *json_post)
    assert status == 400 and "NonExistentQueue" in text, text  # SQS's 400 selects the 4xx response
    apigw.update_integration(restApiId=api_id, resourceId=res["id"], httpMethod="POST", patchOperations=[
        {"op": "replace", "path": "/uri", "value": f"arn:aws:apigateway:{server.region}:sqs:path/{account}/{name}"}])
    apigw.create_deployment(restApiId=api_id, stageName="live")
    assert curl(base, *json_post)[0] == 200
    assert [m["Body"] for m in moto.receive(url, timeout=60)] == ["patched"]


def test_integration_timeouts(server):
    """A service that never answers: 503 past an HTTP API's TimeoutInMillis, 504 past a REST one's."""
    creds = role(server)
    base = http_api(server, {"POST /config": {
        "IntegrationSubtype": "AppConfig-GetConfiguration", "CredentialsArn": creds, "TimeoutInMillis": 50,
        "RequestParameters": {"Application": "app", "Environment": "env", "Configuration": "cfg",
                              "ClientId": "$context.requestId"}}})
    assert post(base + "/config", "") == (503, {"message": "Service Unavailable"})
    rest = rest_api(server, "config", {"integrationHttpMethod": "GET", "credentials": creds, "timeoutInMillis": 50,
                                       "uri": f"arn:aws:apigateway:{server.region}:appconfig:path/applications"},
                    {"200": None})
    status, text = curl(rest, "-X", "POST")
    assert (status, json.loads(text)) == (504, {"message": "Endpoint request timed out"})


def test_rest_api_step_functions_and_eventbridge_actions(server, moto):  # noqa: F811
    creds = role(server)
    sfn = moto.client("stepfunctions")
    machine = pass_machine(moto)
    start = action_api(server, "start", "states", "StartExecution",
                       '{"stateMachineArn": "' + machine + '", "input": "$util.escapeJavaScript($input.json(\'$\'))"}',
                       creds)
    status, text = curl(start, "-X", "POST", "-H", "Content-Type: application/json", "-d", '{"order": 3}')
    assert status == 200, text
    assert json.loads(sfn.describe_execution(executionArn=json.loads(text)["executionArn"])["input"]) == {"order": 3}

    source, target_url = events_to_queue(moto, "restevq")
    put = action_api(server, "events", "events", "PutEvents",
                     '{"Entries": [{"Source": "' + source + '", "DetailType": "t", '
                     '"Detail": "$util.escapeJavaScript($input.json(\'$\'))"}]}', creds)
    status, text = curl(put, "-X", "POST", "-H", "Content-Type: application/json", "-d", '{"n": 1}')
    assert status == 200 and json.loads(text)["FailedEntryCount"] == 0, text
    assert json.loads(moto.receive(target_url, timeout=60)[0]["Body"])["detail"] == {"n": 1}
