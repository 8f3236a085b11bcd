"""Smithy RPC v2 CBOR from botocore's cloudwatch model (protocol/_rpcv2_cbor.py): botocore's own
serializer makes the requests and its parser reads the answers."""

from __future__ import annotations

import datetime as dt

import botocore.parsers
import botocore.serialize
import cbor2
import pytest

from lamb.protocol import Protocol
from lamb.protocol.errors import AwsError

CBOR = Protocol("cloudwatch", wire="smithy-rpc-v2-cbor")
OPS = CBOR.service_model


def request(op: str, params: dict) -> dict:
    return botocore.serialize.create_serializer("smithy-rpc-v2-cbor").serialize_to_request(
        params, OPS.operation_model(op))


def parse(op: str, status: int, headers: list, body: bytes) -> dict:
    parser = botocore.parsers.create_parser("smithy-rpc-v2-cbor")
    return parser.parse({"status_code": status, "headers": {k.lower(): v for k, v in headers}, "body": body},
                        OPS.operation_model(op).output_shape)


def test_routes_by_path_and_reads_members_timestamps_and_lists():
    start = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.timezone.utc)
    req = request("GetMetricStatistics", {
        "Namespace": "AWS/Lambda", "MetricName": "Duration", "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
        "StartTime": start, "EndTime": start + dt.timedelta(hours=1), "Period": 60, "ExtendedStatistics": ["p99"]})
    assert req["url_path"] == "/service/GraniteServiceVersion20100801/operation/GetMetricStatistics"
    op, labels = CBOR.route("POST", req["url_path"], "", {}, req["body"])
    assert op.name == "GetMetricStatistics" and labels == {}
    params = CBOR.parse(op, labels, "", {}, req["body"])
    assert params == {"Namespace": "AWS/Lambda", "MetricName": "Duration",
                      "Dimensions": [{"Name": "FunctionName", "Value": "f"}], "StartTime": start,
                      "EndTime": start + dt.timedelta(hours=1), "Period": 60, "ExtendedStatistics": ["p99"]}


def test_unknown_paths_and_methods():
    for method, path in (("GET", "/service/GraniteServiceVersion20100801/operation/ListMetrics"),
                         ("POST", "/service/Other/operation/ListMetrics"),
                         ("POST", "/service/GraniteServiceVersion20100801/operation/Nope")):
        with pytest.raises(AwsError) as e:
            CBOR.route(method, path, "", {}, b"")
        assert e.value.code == "UnknownOperationException"


def test_wrong_types_and_bad_cbor_are_serialization_errors():
    op = CBOR.operations["GetMetricStatistics"]
    with pytest.raises(AwsError) as e:
        CBOR.parse(op, {}, "", {}, cbor2.dumps({"Period": "sixty"}))
    assert e.value.code == "SerializationException"
    with pytest.raises(AwsError) as e:
        CBOR.parse(op, {}, "", {}, b"\xff\x00")
    assert e.value.code == "SerializationException"


def test_validation_from_the_model():
    op = CBOR.operations["GetMetricStatistics"]
    with pytest.raises(AwsError) as e:
        CBOR.parse(op, {}, "", {}, cbor2.dumps({"Namespace": "AWS/Lambda"}))
    assert e.value.code == "ValidationException" and "MetricName" in e.value.message or "metricName" in e.value.message


def test_answers_parse_with_botocore():
    status, headers, body = CBOR.serialize("GetMetricData", {
        "MetricDataResults": [{"Id": "a", "Label": "Invocations", "Timestamps": [1_765_022_400], "Values": [3],
                               "StatusCode": "Complete", "Messages": []}], "Messages": []})
    assert status == 200 and ("smithy-protocol", "rpc-v2-cbor") in headers
    out = parse("GetMetricData", status, headers, body)
    (result,) = out["MetricDataResults"]
    assert result["Timestamps"] == [dt.datetime.fromtimestamp(1_765_022_400, dt.timezone.utc)]
    assert result["Values"] == [3.0]


def test_errors_carry_the_shape_and_the_query_code():
    status, headers, body = CBOR.serialize_error(AwsError("InvalidParameterValue", "bad", 400))
    assert status == 400 and ("x-amzn-query-error", "InvalidParameterValue;Sender") in headers
    assert cbor2.loads(body) == {"__type": "InvalidParameterValueException", "message": "bad"}
    parser = botocore.parsers.create_parser("smithy-rpc-v2-cbor")
    parsed = parser.parse({"status_code": status, "headers": {k.lower(): v for k, v in headers}, "body": body},
                          OPS.operation_model("GetMetricStatistics").output_shape)
    assert parsed["Error"]["Code"] == "InvalidParameterValue" and parsed["Error"]["Message"] == "bad"
