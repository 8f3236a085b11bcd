"""apis/aws_services.py: subtype validation, mapped values typed by botocore's model, SQS's query-JSON
answers, REST integration URIs and the requests they make."""

from __future__ import annotations

import json

import botocore.session
import pytest

from lamb.apis import aws_services as a

ROLE = "arn:aws:iam::123456789012:role/apigw"


def model(name: str):
    return botocore.session.get_session().get_service_model(name)


def item(subtype="SQS-SendMessage", **kw):
    base = {"IntegrationType": "AWS_PROXY", "IntegrationSubtype": subtype, "CredentialsArn": ROLE,
            "RequestParameters": {"QueueUrl": "https://q", "MessageBody": "$request.body"}}
    return {**base, **kw}


def test_check_subtype():
    assert a.check_subtype(item()) is None
    assert a.check_subtype(item(RequestParameters={"QueueUrl": "q", "MessageBody": "b", "Region": "eu-west-1"})) is None
    assert "SQS-Nope" in a.check_subtype(item("SQS-Nope"))
    assert "CredentialsArn" in a.check_subtype({**item(), "CredentialsArn": None})
    assert "1.0" in a.check_subtype(item(PayloadFormatVersion="2.0"))
    assert a.check_subtype(item(RequestParameters={"QueueUrl": "q"})) == (
        "Invalid selection expression specified: Validation Result: warnings : [], errors : "
        "[Parameter: MessageBody is required for Operation: SQS-SendMessage.]")
    assert "Parameter: Other does not fit schema" in a.check_subtype(
        item(RequestParameters={"QueueUrl": "q", "MessageBody": "b", "Other": "x"}))
    assert "Invalid source: {\"a\": 1} specified for destination: MessageAttributes" in a.check_subtype(
        item(RequestParameters={"QueueUrl": "q", "MessageBody": "b", "MessageAttributes": '{"a": 1}'}))
    for name, sub in a.SUBTYPES.items():  # every subtype's operation and parameters exist in botocore's model
        op = model(sub.service).operation_model(sub.operation)
        members = {m.lower() for m in op.input_shape.members}
        if sub.operation == "PutEvents":
            members = {m.lower() for m in op.input_shape.members["Entries"].member.members}
        assert {p.lower() for p in sub.required + sub.optional} <= members, name


def test_call_arguments_typed_by_the_model():
    args, region = a.call_arguments("SQS-SendMessage", {"QueueUrl": "q", "MessageBody": "b", "DelaySeconds": "5",
                                                        "MessageGroupId": "", "Region": "eu-west-1"}, model("sqs"))
    assert (args, region) == ({"QueueUrl": "q", "MessageBody": "b", "DelaySeconds": 5}, "eu-west-1")
    args, _ = a.call_arguments("EventBridge-PutEvents", {"Source": "s", "DetailType": "t", "Detail": '{"a": 1}',
                                                         "Resources": '["r1"]'}, model("events"))
    assert args == {"Entries": [{"Source": "s", "DetailType": "t", "Detail": '{"a": 1}', "Resources": ["r1"]}]}
    args, _ = a.call_arguments("Kinesis-PutRecord", {"StreamName": "s", "Data": "aGk=", "PartitionKey": "k"},
                               model("kinesis"))
    assert args["Data"] == b"hi"
    args, _ = a.call_arguments("StepFunctions-StartExecution", {"StateMachineArn": "arn", "Input": "{}"},
                               model("stepfunctions"))
    assert args == {"stateMachineArn": "arn", "input": "{}"}
    with pytest.raises(a.BadParameters):
        a.call_arguments("SQS-SendMessage", {"QueueUrl": "q", "MessageBody": "b", "DelaySeconds": "soon"}, model("sqs"))
    with pytest.raises(a.BadParameters):
        a.call_arguments("Kinesis-PutRecord", {"StreamName": "s", "Data": "not base64!", "PartitionKey": "k"},
                         model("kinesis"))


def test_sqs_answers_in_query_json():
    sqs = model("sqs")
    out = json.loads(a.sqs_query_json("SendMessage", 200, {"x-amzn-requestid": "r1"},
                                      b'{"MessageId": "m", "MD5OfMessageBody": "d"}', sqs))
    result = out["SendMessageResponse"]["SendMessageResult"]
    assert out["SendMessageResponse"]["ResponseMetadata"] == {"RequestId": "r1"}
    assert (result["MessageId"], result["MD5OfMessageBody"], result["SequenceNumber"]) == ("m", "d", None)
    out = json.loads(a.sqs_query_json("ReceiveMessage", 200, {}, b'{"Messages": [{"Body": "x"}]}', sqs))
    message = out["ReceiveMessageResponse"]["ReceiveMessageResult"]["messages"][0]
    assert message["Body"] == "x" and message["ReceiptHandle"] is None
    assert json.loads(a.sqs_query_json("PurgeQueue", 200, {"x-amzn-requestid": "r"}, b"{}", sqs)) == {
        "PurgeQueueResponse": {"ResponseMetadata": {"RequestId": "r"}}}
    err = json.loads(a.sqs_query_json(
        "SendMessage", 400, {"x-amzn-requestid": "r", "x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender"},
        b'{"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "gone"}', sqs))
    assert err == {"Error": {"Code": "AWS.SimpleQueueService.NonExistentQueue", "Message": "gone", "Type": "Sender"},
                   "RequestId": "r"}


def test_rest_targets_and_requests():
    assert a.rest_target("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f/invocations") is None
    assert a.rest_target("arn:aws:apigateway:us-east-1:sqs:thing") is None
    t = a.rest_target("arn:aws:apigateway:eu-west-1:states:action/StartExecution")
    assert t == a.Target("eu-west-1", "stepfunctions", "action", "StartExecution")
    method, path, headers, body = a.rest_request(t, model("stepfunctions"), "POST", {}, {}, {}, b"{}")
    assert (method, path, headers["X-Amz-Target"], headers["Content-Type"]) == (
        "POST", "/", "AWSStepFunctions.StartExecution", "application/x-amz-json-1.0")
    t = a.rest_target("arn:aws:apigateway:us-east-1:sns:action/Publish")
    method, path, headers, _ = a.rest_request(t, model("sns"), "POST", {}, {"TopicArn": "arn:t", "Message": "hi"}, {},
                                              b"")
    assert path == "/?Action=Publish&Version=2010-03-31&TopicArn=arn%3At&Message=hi"
    t = a.rest_target("arn:aws:apigateway:us-east-1:sqs:path/123456789012/{queue}")
    method, path, _, _ = a.rest_request(t, model("sqs"), "POST", {"queue": "q 1"}, {}, {}, b"")
    assert (method, path) == ("POST", "/123456789012/q%201")
    t = a.rest_target("arn:aws:apigateway:us-east-1:s3:action/GetObject")
    method, path, _, _ = a.rest_request(t, model("s3"), "POST", {"Bucket": "b", "Key": "a/b.txt"}, {}, {}, b"")
    assert (method, path) == ("GET", "/b/a/b.txt")


def test_resources_and_access_denied():
    def res(subtype, values):
        sub = a.SUBTYPES[subtype]
        args, region = a.call_arguments(subtype, values, model(sub.service))
        return a.resource_of(subtype, args, region or "us-east-1", "111122223333")

    assert res("SQS-SendMessage", {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/444455556666/q",
                                   "MessageBody": "b"}) == "arn:aws:sqs:us-east-1:444455556666:q"
    assert res("EventBridge-PutEvents", {"Source": "s", "DetailType": "t", "Detail": "{}"}) == \
        "arn:aws:events:us-east-1:111122223333:event-bus/default"
    assert res("EventBridge-PutEvents", {"Source": "s", "DetailType": "t", "Detail": "{}", "EventBusName": "arn:b"}) == "arn:b"
    assert res("Kinesis-PutRecord", {"StreamName": "st", "Data": "aGk=", "PartitionKey": "k", "Region": "eu-west-1"}) == \
        "arn:aws:kinesis:eu-west-1:111122223333:stream/st"
    assert res("StepFunctions-StopExecution", {"ExecutionArn": "arn:aws:states:x"}) == "arn:aws:states:x"
    assert res("AppConfig-GetConfiguration", {"Application": "a", "Environment": "e", "Configuration": "c",
                                              "ClientId": "i"}) == \
        "arn:aws:appconfig:us-east-1:111122223333:application/a/environment/e/configuration/c"
    sqs = a.access_denied("sqs", "no", "r")
    assert sqs.status == 403 and json.loads(sqs.body)["Error"] == {"Code": "AccessDenied", "Message": "no", "Type": "Sender"}
    other = a.access_denied("kinesis", "no", "r")
    assert other.status == 400 and json.loads(other.body) == {"__type": "AccessDeniedException", "Message": "no"}


def test_rest_permissions():
    def perm(uri, method, values, query, body):
        t = a.rest_target(uri)
        m = model(t.service)
        method, path, _, body = a.rest_request(t, m, method, values, query, {}, body)
        return a.rest_permission(t, m, method, path, body, "111122223333")

    assert perm("arn:aws:apigateway:us-east-1:dynamodb:action/PutItem", "POST", {}, {}, b'{"TableName": "t"}') == (
        "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:111122223333:table/t")
    assert perm("arn:aws:apigateway:us-east-1:sns:action/Publish", "POST", {}, {"TopicArn": "arn:aws:sns:x"}, b"") == (
        "sns:Publish", "arn:aws:sns:x")
    assert perm("arn:aws:apigateway:us-east-1:sqs:path/444455556666/q", "POST", {}, {},
                b"Action=SendMessage&MessageBody=hi") == ("sqs:SendMessage", "arn:aws:sqs:us-east-1:444455556666:q")
    assert perm("arn:aws:apigateway:us-east-1:s3:path/b/{k}", "PUT", {"k": "a.txt"}, {}, b"x") == (
        "s3:PutObject", "arn:aws:s3:::b/a.txt")
    assert perm("arn:aws:apigateway:us-east-1:events:action/PutEvents", "POST", {}, {},
                b'{"Entries": [{"Source": "s"}]}') == ("events:PutEvents",
                                                       "arn:aws:events:us-east-1:111122223333:event-bus/default")
    assert perm("arn:aws:apigateway:us-east-1:states:action/StartExecution", "POST", {}, {},
                b'{"stateMachineArn": "arn:sm"}') == ("states:StartExecution", "arn:sm")
    assert perm("arn:aws:apigateway:us-east-1:dynamodb:action/PutItem", "POST", {}, {}, b"not json") is None
    assert perm("arn:aws:apigateway:us-east-1:sqs:path/444455556666/q", "POST", {}, {}, b"") is None  # no Action
    denied = a.rest_access_denied(a.rest_target("arn:aws:apigateway:us-east-1:sns:action/Publish"), model("sns"),
                                  "User: x <y> is not authorized", "r")
    assert denied.status == 403 and b"<Code>AccessDenied</Code>" in denied.body and b"x &lt;y&gt;" in denied.body
