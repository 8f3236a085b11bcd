"""lamb.protocol.registry and the json protocol (_json_rpc): real boto3 clients of three services
on one endpoint, each request picked by its SigV4 credential scope or X-Amz-Target.

Only the socket is replaced: a ``before-send`` hook hands the signed request to the registry.
"""

from __future__ import annotations

import io
import json
from urllib.parse import urlsplit

import boto3
import botocore
import botocore.loaders
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from urllib3 import HTTPResponse

from lamb.protocol import AwsError, Protocol
from lamb.protocol.protocol import wire_protocol
from lamb.protocol.registry import ServedModel, ServedModels, scope_service

SEEN: list[tuple[str, str, dict]] = []


def handlers(service: str, answers: dict) -> dict:
    def make(op: str):
        def handle(params: dict) -> dict:
            SEEN.append((service, op, params))
            answer = answers[op]
            if isinstance(answer, AwsError):
                raise answer
            return answer
        return handle
    return {op: make(op) for op in answers}


@pytest.fixture(scope="module")
def models() -> ServedModels:
    registry = ServedModels(ServedModel(Protocol("lambda"), handlers("lambda", {"ListFunctions": {"Functions": []}})))
    registry.add(Protocol("events"), handlers("events", {
        "PutRule": {"RuleArn": "arn:aws:events:us-east-1:1:rule/r"},
        "DescribeRule": AwsError("ResourceNotFoundException", "Rule r does not exist on EventBus default.", 400),
        "DeleteRule": {},
    }))
    registry.add(Protocol("scheduler"), handlers("scheduler", {
        "GetSchedule": AwsError("ResourceNotFoundException", "Schedule s does not exist.", 404),
        "ListSchedules": {"Schedules": [{"Arn": "a", "Name": "s", "GroupName": "default", "State": "ENABLED",
                                         "CreationDate": 1_800_000_000, "Target": {"Arn": "t"}}]},
    }))
    return registry


def client(models: ServedModels, service: str):
    c = boto3.client(service, endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                     aws_access_key_id="AKID", aws_secret_access_key="secret",
                     config=Config(retries={"max_attempts": 1}))

    def send(request, **_):
        url = urlsplit(request.url)
        headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        protocol = models.default.protocol
        try:
            protocol, table = models.select(headers)
            op, labels = protocol.route(request.method, url.path, url.query, headers)
            params = protocol.parse(op, labels, url.query, headers, body)
            status, out_headers, out = protocol.serialize(op, table[op.name](params))
        except AwsError as err:
            status, out_headers, out = protocol.serialize_error(err)
        raw = HTTPResponse(body=io.BytesIO(out), headers=out_headers, status=status, preload_content=False)
        return AWSResponse(request.url, status, dict(out_headers), raw)

    c.meta.events.register("before-send", send)
    return c


def test_the_models_protocols_on_this_botocore():
    loader = botocore.loaders.Loader()
    events = loader.load_service_model("events", "service-2")["metadata"]
    assert events["protocol"] == "json" and wire_protocol(events) == "json"
    assert events.get("protocols", ["json"]) == ["json"]  # botocore 1.43 and the newest agree
    assert wire_protocol(loader.load_service_model("scheduler", "service-2")["metadata"]) == "rest-json"
    assert wire_protocol(loader.load_service_model("logs", "service-2")["metadata"]) == "json"
    assert wire_protocol(loader.load_service_model("sts", "service-2")["metadata"]) == "query"  # issue 17
    with pytest.raises(ValueError):
        wire_protocol(loader.load_service_model("s3", "service-2")["metadata"])  # rest-xml: not spoken


def test_scope_service():
    auth = ("AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/events/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=abc")
    assert scope_service(auth) == "events"
    assert scope_service("Bearer x") is None


def test_json_protocol_round_trip(models):
    ev = client(models, "events")
    assert ev.put_rule(Name="r", ScheduleExpression="rate(1 minute)")["RuleArn"].endswith("rule/r")
    assert SEEN[-1] == ("events", "PutRule", {"Name": "r", "ScheduleExpression": "rate(1 minute)"})
    ev.delete_rule(Name="r")  # an empty output is "{}"


def test_json_protocol_errors(models):
    ev = client(models, "events")
    with pytest.raises(ev.exceptions.ResourceNotFoundException) as e:
        ev.describe_rule(Name="r")
    assert e.value.response["Error"]["Message"] == "Rule r does not exist on EventBus default."
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ev.put_rule(Name="x" * 65)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "at 'name' failed to satisfy constraint: Member must have length less than or equal to 64" in \
        e.value.response["Error"]["Message"]


def test_json_protocol_wire_format(models):
    protocol, _ = models.select({"x-amz-target": "AWSEvents.DescribeRule"})
    status, headers, body = protocol.serialize_error(AwsError("ResourceNotFoundException", "gone", 400))
    assert status == 400 and ("Content-Type", "application/x-amz-json-1.1") in headers
    assert json.loads(body) == {"__type": "ResourceNotFoundException", "message": "gone"}
    with pytest.raises(AwsError) as e:
        protocol.route("POST", "/", "", {"x-amz-target": "AWSEvents.NoSuchThing"})
    assert e.value.code == "UnknownOperationException"
    with pytest.raises(AwsError) as e:
        protocol.parse("PutRule", {}, "", {}, b"{not json")
    assert e.value.code == "SerializationException"


def test_rest_json_service_beside_lambda(models):
    sc = client(models, "scheduler")
    assert sc.list_schedules()["Schedules"][0]["Name"] == "s"
    with pytest.raises(sc.exceptions.ResourceNotFoundException):
        sc.get_schedule(Name="s")
    assert client(models, "lambda").list_functions()["Functions"] == []
    assert [s for s, *_ in SEEN[-3:]] == ["scheduler", "scheduler", "lambda"]


def test_unserved_service_and_unsigned_requests(models):
    auth = "AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=x"
    with pytest.raises(AwsError) as e:
        models.select({"authorization": auth})
    assert e.value.code == "UnknownOperationException" and "sqs" in e.value.message
    assert models.select({}) is models.default
    with pytest.raises(ValueError):
        models.add(Protocol("events"), {})


def test_more_models_plug_in_the_same_way():
    """logs (json) and apigatewayv2 (REST-JSON, signed as apigateway) load and route like the others."""
    registry = ServedModels(ServedModel(Protocol("lambda"), {}))
    registry.add(Protocol("logs"), {})
    registry.add(Protocol("apigatewayv2"), {})
    logs, _ = registry.select({"x-amz-target": "Logs_20140328.PutLogEvents"})
    assert logs.route("POST", "/", "", {"x-amz-target": "Logs_20140328.PutLogEvents"})[0].name == "PutLogEvents"
    auth = "AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/apigateway/aws4_request, SignedHeaders=host, Signature=x"
    apis, _ = registry.select({"authorization": auth})
    assert apis.route("GET", "/v2/apis", "")[0].name == "GetApis"


def test_models_sharing_a_signing_name_are_told_apart_by_path():
    """apigateway (v1, /restapis) and apigatewayv2 (/v2/...) both sign as "apigateway"."""
    registry = ServedModels(ServedModel(Protocol("lambda"), {}))
    v2, v1 = Protocol("apigatewayv2"), Protocol("apigateway")
    registry.add(v2, {}, path_prefix="/v2/")
    registry.add(v1, {})
    auth = "AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/apigateway/aws4_request, SignedHeaders=host, Signature=x"
    assert registry.select({"authorization": auth}, "/v2/apis")[0] is v2
    assert registry.select({"authorization": auth}, "/restapis")[0] is v1
    with pytest.raises(ValueError):
        registry.add(Protocol("apigatewayv2"), {}, path_prefix="/v2/")
