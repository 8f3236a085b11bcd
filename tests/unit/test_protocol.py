"""Round trips between botocore's own client-side code and lamb.protocol.

Requests are built by botocore's rest-json serializer and prepared exactly as the
client sends them (URL, query string, headers, body); responses produced by
``Protocol.serialize``/``serialize_error`` are read back with botocore's rest-json
parser. Whatever botocore writes we must read back unchanged, and whatever we
write botocore must read back unchanged.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from urllib.parse import urlsplit

import pytest
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from urllib3 import HTTPHeaderDict

from lamb.protocol import AwsError, Protocol
from lamb.protocol import errors

ENDPOINT = "http://127.0.0.1:9001"
ACCOUNT = "123456789012"
FN_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:my-function"


@pytest.fixture(scope="module")
def proto() -> Protocol:
    return Protocol()


_serializer = create_serializer("rest-json", include_validation=False)
_parser = create_parser("rest-json")


def wire_request(proto: Protocol, op_name: str, params: dict) -> tuple[str, str, str, dict[str, str], bytes]:
    """What botocore puts on the wire for op(params): (method, raw path, raw query, headers, body)."""
    op = proto.service_model.operation_model(op_name)
    request_dict = _serializer.serialize_to_request(params, op)
    prepare_request_dict(request_dict, endpoint_url=ENDPOINT)
    prepared = create_request_object(request_dict).prepare()
    url = urlsplit(prepared.url)
    headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in prepared.headers.items()}
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    return prepared.method, url.path, url.query, headers, body


def server_parse(proto: Protocol, op_name: str, params: dict):
    method, path, query, headers, body = wire_request(proto, op_name, params)
    op, labels = proto.route(method, path, query)
    assert op.name == op_name
    return proto.parse(op, labels, query, headers, body)


def client_parse(proto: Protocol, op_name: str, response: tuple[int, list[tuple[str, str]], bytes]) -> dict:
    """Read a response the way botocore's endpoint does, modeled error fields included."""
    status, headers, body = response
    op = proto.service_model.operation_model(op_name)
    response_dict = {
        "status_code": status,
        "headers": HTTPHeaderDict(headers),  # what botocore gets from urllib3: case-insensitive
        "body": bytes(body),
        "context": {"operation_name": op_name},
    }
    parsed = _parser.parse(response_dict, op.output_shape)
    if status >= 300:
        error_shape = proto.service_model.shape_for_error_code(parsed["Error"]["Code"])
        if error_shape is not None:
            parsed.update(_parser.parse(response_dict, error_shape))
    parsed.pop("ResponseMetadata", None)
    return parsed


# --------------------------------------------------------------------------- requests


def test_create_function_with_zipfile_environment_and_nested_structures(proto):
    zip_bytes = bytes(range(256)) * 4
    params = {
        "FunctionName": "my-function",
        "Runtime": "python3.12",
        "Role": f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
        "Handler": "app.handler",
        "Code": {"ZipFile": zip_bytes},
        "Description": "desc",
        "Timeout": 30,
        "MemorySize": 512,
        "Publish": True,
        "Environment": {"Variables": {"FOO": "bar", "EMPTY": ""}},
        "Architectures": ["arm64"],
        "Layers": [f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:my-layer:3"],
        "Tags": {"team": "a", "cost-center": "42"},
        "TracingConfig": {"Mode": "Active"},
        "EphemeralStorage": {"Size": 1024},
        "FileSystemConfigs": [
            {"Arn": f"arn:aws:elasticfilesystem:us-east-1:{ACCOUNT}:access-point/fsap-0123456789abcdef0", "LocalMountPath": "/mnt/efs"}
        ],
        "LoggingConfig": {"LogFormat": "JSON", "ApplicationLogLevel": "INFO"},
    }
    parsed = server_parse(proto, "CreateFunction", params)
    assert parsed == params
    assert isinstance(parsed["Code"]["ZipFile"], bytes)
    assert isinstance(parsed["MemorySize"], int) and isinstance(parsed["Publish"], bool)


def test_invoke_headers_qualifier_and_raw_payload(proto):
    payload = b'{"hello": "w\xc3\xb6rld", "n": [1, 2, 3]}'
    client_context = base64.b64encode(b'{"custom": {"a": 1}}').decode()
    params = {
        "FunctionName": "my-function",
        "InvocationType": "RequestResponse",
        "LogType": "Tail",
        "ClientContext": client_context,
        "Qualifier": "$LATEST",
        "Payload": payload,
    }
    method, path, query, headers, body = wire_request(proto, "Invoke", params)
    op, labels = proto.route(method, path, query)
    parsed = proto.parse(op, labels, query, headers, body)
    assert parsed == params
    # the payload is the request body object itself, not a copy or a re-encoding
    assert parsed["Payload"] is body
    # ClientContext is a plain string in the model (not a jsonvalue header): left as sent
    assert parsed["ClientContext"] == client_context


def test_invoke_without_payload_gives_empty_bytes(proto):
    parsed = server_parse(proto, "Invoke", {"FunctionName": "f"})
    assert parsed == {"FunctionName": "f", "Payload": b""}


def test_invoke_with_function_arn_and_alias_is_percent_decoded(proto):
    name = FN_ARN + ":live"
    method, path, query, headers, body = wire_request(proto, "Invoke", {"FunctionName": name, "Payload": b"{}"})
    assert "%3A" in path  # botocore percent-encodes the ':' of the ARN
    op, labels = proto.route(method, path, query)
    assert op.name == "Invoke"
    assert labels == {"FunctionName": name}


def test_get_function_with_arn_and_qualifier(proto):
    params = {"FunctionName": FN_ARN, "Qualifier": "7"}
    assert server_parse(proto, "GetFunction", params) == params


def test_list_functions_query_params_are_typed(proto):
    params = {"MasterRegion": "ALL", "FunctionVersion": "ALL", "Marker": "a b+c/d=", "MaxItems": 25}
    parsed = server_parse(proto, "ListFunctions", params)
    assert parsed == params
    assert isinstance(parsed["MaxItems"], int)


def test_list_versions_by_function(proto):
    params = {"FunctionName": "my-function", "Marker": "m", "MaxItems": 50}
    assert server_parse(proto, "ListVersionsByFunction", params) == params


def test_publish_layer_version(proto):
    params = {
        "LayerName": "my-layer",
        "Description": "deps",
        "Content": {"ZipFile": b"PK\x03\x04 layer bytes"},
        "CompatibleRuntimes": ["python3.11", "python3.12"],
        "CompatibleArchitectures": ["x86_64", "arm64"],
        "LicenseInfo": "MIT",
    }
    assert server_parse(proto, "PublishLayerVersion", params) == params


def test_layer_version_label_is_a_long(proto):
    parsed = server_parse(proto, "GetLayerVersion", {"LayerName": "my-layer", "VersionNumber": 12})
    assert parsed == {"LayerName": "my-layer", "VersionNumber": 12}


def test_put_function_concurrency(proto):
    params = {"FunctionName": "my-function", "ReservedConcurrentExecutions": 0}
    assert server_parse(proto, "PutFunctionConcurrency", params) == params


def test_tag_resource_list_tags_and_untag_with_repeated_query_keys(proto):
    tags = {"k1": "v1", "k 2": "v/2", "ünï": "çödé"}
    assert server_parse(proto, "TagResource", {"Resource": FN_ARN, "Tags": tags}) == {"Resource": FN_ARN, "Tags": tags}
    assert server_parse(proto, "ListTags", {"Resource": FN_ARN}) == {"Resource": FN_ARN}
    params = {"Resource": FN_ARN, "TagKeys": ["k1", "k 2", "ünï"]}
    method, path, query, headers, body = wire_request(proto, "UntagResource", params)
    assert query.count("tagKeys=") == 3  # a list in the query string is repeated keys
    op, labels = proto.route(method, path, query)
    assert proto.parse(op, labels, query, headers, body) == params


def test_update_alias_with_double_map_and_booleans(proto):
    params = {
        "FunctionName": "my-function",
        "Name": "live",
        "FunctionVersion": "2",
        "RoutingConfig": {"AdditionalVersionWeights": {"3": 0.25}},
    }
    parsed = server_parse(proto, "UpdateAlias", params)
    assert parsed == params
    assert isinstance(parsed["RoutingConfig"]["AdditionalVersionWeights"]["3"], float)


def test_create_event_source_mapping_with_timestamp(proto):
    when = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
    params = {
        "FunctionName": "my-function",
        "EventSourceArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:queue",
        "StartingPosition": "AT_TIMESTAMP",
        "StartingPositionTimestamp": when,
        "BatchSize": 10,
        "Enabled": False,
    }
    parsed = server_parse(proto, "CreateEventSourceMapping", params)
    assert parsed == params
    assert parsed["StartingPositionTimestamp"].tzinfo is not None


def test_empty_body_with_structure_input_is_empty_params(proto):
    op, labels = proto.route("PUT", "/2015-03-31/functions/f/configuration")
    assert proto.parse(op, labels, "", {}, b"") == {"FunctionName": "f"}


def test_header_names_are_case_insensitive_in_the_model(proto):
    op, labels = proto.route("POST", "/2015-03-31/functions/f/invocations")
    # the server hands us lower-cased names; the model says X-Amz-Invocation-Type
    parsed = proto.parse(op, labels, "", {"x-amz-invocation-type": "Event", "x-amz-log-type": "None"}, b"{}")
    assert parsed["InvocationType"] == "Event" and parsed["LogType"] == "None"


def test_structure_payload_member(proto):
    params = {
        "CallbackId": "Y2ItMQ==",
        "Error": {"ErrorMessage": "boom", "ErrorType": "Err", "StackTrace": ["a", "b"]},
    }
    assert server_parse(proto, "SendDurableExecutionCallbackFailure", params) == params


def test_blob_payload_with_length_constraint(proto):
    params = {"CallbackId": "Y2ItMQ==", "Result": b"\x00\x01raw"}
    assert server_parse(proto, "SendDurableExecutionCallbackSuccess", params) == params


# --------------------------------------------------------------------------- routing


def test_every_operation_routes_from_its_own_botocore_request(proto):
    sample = {"string": "abc", "integer": 1, "long": 1}
    for name in proto.service_model.operation_names:
        op = proto.service_model.operation_model(name)
        params = {}
        if op.input_shape is not None:
            for member_name, member in op.input_shape.members.items():
                if member.serialization.get("location") == "uri":
                    params[member_name] = sample[member.type_name]
        method, path, query, _, _ = wire_request(proto, name, params)
        routed, labels = proto.route(method, path, query)
        assert routed.name == name, (name, method, path, query)
        assert set(labels) == {
            m.serialization.get("name", n)
            for n, m in (op.input_shape.members.items() if op.input_shape else [])
            if m.serialization.get("location") == "uri"
        }


def test_query_literals_in_request_uri_select_the_operation(proto):
    assert proto.route("GET", "/2018-10-31/layers")[0].name == "ListLayers"
    assert proto.route("GET", "/2018-10-31/layers", "find=LayerVersion&Arn=x")[0].name == "GetLayerVersionByArn"
    # a path that still carries its query string works too
    assert proto.route("GET", "/2018-10-31/layers?find=LayerVersion&Arn=x")[0].name == "GetLayerVersionByArn"
    pc = "/2019-09-30/functions/f/provisioned-concurrency"
    assert proto.route("GET", pc, "List=ALL")[0].name == "ListProvisionedConcurrencyConfigs"
    assert proto.route("GET", pc, "Qualifier=1")[0].name == "GetProvisionedConcurrencyConfig"
    assert proto.route("PUT", pc, "Qualifier=1")[0].name == "PutProvisionedConcurrencyConfig"


def test_get_layer_version_by_arn_round_trip(proto):
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:my-layer:3"
    assert server_parse(proto, "GetLayerVersionByArn", {"Arn": arn}) == {"Arn": arn}


def test_literal_segments_win_over_labels_and_methods_split_routes(proto):
    assert proto.route("GET", "/2015-03-31/functions/f/versions")[0].name == "ListVersionsByFunction"
    assert proto.route("POST", "/2015-03-31/functions/f/versions")[0].name == "PublishVersion"
    assert proto.route("GET", "/2015-03-31/functions/f")[0].name == "GetFunction"
    assert proto.route("DELETE", "/2015-03-31/functions/f")[0].name == "DeleteFunction"
    assert proto.route("GET", "/2015-03-31/functions")[0].name == "ListFunctions"
    assert proto.route("POST", "/2015-03-31/functions")[0].name == "CreateFunction"
    assert proto.route("GET", "/2015-03-31/functions/")[0].name == "ListFunctions"
    op, labels = proto.route("DELETE", "/2018-10-31/layers/l/versions/3/policy/s%2F1")
    assert op.name == "RemoveLayerVersionPermission"
    assert labels == {"LayerName": "l", "VersionNumber": "3", "StatementId": "s/1"}


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/"),
        ("GET", "/nope"),
        ("GET", "/2015-03-31/functions/f/invocations"),  # right path, wrong method
        ("PATCH", "/2015-03-31/functions"),
        ("POST", "/2015-03-31/functions//invocations"),  # empty label
        ("GET", "/2015-03-31/functions/f/configuration/extra"),
    ],
)
def test_unknown_operation(proto, method, path):
    with pytest.raises(AwsError) as info:
        proto.route(method, path)
    assert info.value.code == "UnknownOperationException"
    status, headers, _ = proto.serialize_error(info.value)
    assert status == 404
    assert ("x-amzn-ErrorType", "UnknownOperationException") in headers


# --------------------------------------------------------------------------- responses


def test_invoke_response_status_headers_and_raw_payload(proto):
    payload = bytearray(b'{"result": "\xe2\x9c\x93"}')
    result = {
        "StatusCode": 200,
        "FunctionError": "Unhandled",
        "LogResult": base64.b64encode(b"START RequestId: x\n").decode(),
        "ExecutedVersion": "$LATEST",
        "Payload": payload,
    }
    response = proto.serialize(proto.service_model.operation_model("Invoke"), result)
    status, headers, body = response
    assert status == 200
    assert body is payload  # passed through, not copied
    names = {k for k, _ in headers}
    assert {"X-Amz-Function-Error", "X-Amz-Log-Result", "X-Amz-Executed-Version"} <= names
    parsed = client_parse(proto, "Invoke", response)
    assert parsed["Payload"] == payload.decode()  # botocore hands the raw body to the caller
    assert {k: parsed[k] for k in ("StatusCode", "FunctionError", "LogResult", "ExecutedVersion")} == {
        k: result[k] for k in ("StatusCode", "FunctionError", "LogResult", "ExecutedVersion")
    }


def test_invoke_event_status_comes_from_status_code_member(proto):
    status, headers, body = proto.serialize("Invoke", {"StatusCode": 202})
    assert (status, body) == (202, b"")
    status, _, _ = proto.serialize("Invoke", {"Payload": b"null"})
    assert status == 200  # the operation's responseCode


def test_function_configuration_round_trip_ignores_unknown_and_none(proto):
    config = {
        "FunctionName": "my-function",
        "FunctionArn": FN_ARN,
        "Runtime": "python3.12",
        "Role": f"arn:aws:iam::{ACCOUNT}:role/r",
        "Handler": "app.handler",
        "CodeSize": 5 * 2**40,  # a long bigger than 32 bits
        "Timeout": 3,
        "MemorySize": 128,
        "LastModified": "2024-01-01T00:00:00.000+0000",
        "Version": "$LATEST",
        "Environment": {"Variables": {"A": "1"}},
        "Layers": [{"Arn": "arn:aws:lambda:us-east-1:1:layer:l:1", "CodeSize": 10}],
        "Architectures": ["x86_64"],
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
    }
    result = {"Configuration": dict(config, _internal_secret="x", KMSKeyArn=None), "Tags": {"a": "b"}, "extra": 1}
    status, headers, body = response = proto.serialize("GetFunction", result)
    assert status == 200 and ("Content-Type", "application/json") in headers
    assert b"_internal_secret" not in body and b"KMSKeyArn" not in body and b"extra" not in body
    assert client_parse(proto, "GetFunction", response) == {"Configuration": config, "Tags": {"a": "b"}}


def test_create_function_uses_201(proto):
    status, _, body = proto.serialize("CreateFunction", {"FunctionName": "f"})
    assert status == 201 and json.loads(body) == {"FunctionName": "f"}


def test_output_timestamps_and_blobs_round_trip(proto):
    when = dt.datetime(2024, 2, 3, 4, 5, 6, 789000, tzinfo=dt.timezone.utc)
    result = {"UUID": "u-1", "LastModified": when, "StartingPositionTimestamp": when.replace(microsecond=0), "BatchSize": 5}
    response = proto.serialize("GetEventSourceMapping", result)
    body = json.loads(response[2])
    assert body["LastModified"] == 1706933106.789  # rest-json default: epoch seconds
    assert body["StartingPositionTimestamp"] == 1706933106
    assert client_parse(proto, "GetEventSourceMapping", response) == result


def test_layer_version_output_with_long_version(proto):
    result = {
        "LayerArn": "arn:aws:lambda:us-east-1:1:layer:l",
        "LayerVersionArn": "arn:aws:lambda:us-east-1:1:layer:l:3",
        "Version": 3,
        "Content": {"Location": "http://x", "CodeSha256": "abc", "CodeSize": 12},
        "CompatibleRuntimes": ["python3.12"],
        "CreatedDate": "2024-01-01T00:00:00.000+0000",
    }
    response = proto.serialize("PublishLayerVersion", result)
    assert response[0] == 201
    assert client_parse(proto, "PublishLayerVersion", response) == result


def test_list_outputs_round_trip(proto):
    versions = {"Versions": [{"FunctionName": "f", "Version": "1"}, {"FunctionName": "f", "Version": "$LATEST"}], "NextMarker": "n"}
    assert client_parse(proto, "ListVersionsByFunction", proto.serialize("ListVersionsByFunction", versions)) == versions
    tags = {"Tags": {"a": "b", "c": ""}}
    assert client_parse(proto, "ListTags", proto.serialize("ListTags", tags)) == tags
    conc = {"ReservedConcurrentExecutions": 5}
    assert client_parse(proto, "PutFunctionConcurrency", proto.serialize("PutFunctionConcurrency", conc)) == conc


def test_no_output_shape_or_204_has_empty_body(proto):
    for op in ("TagResource", "DeleteFunctionConcurrency", "UntagResource"):
        status, headers, body = proto.serialize(op, {})
        assert status == 204 and body == b"" and not any(k == "Content-Type" for k, _ in headers)
    status, _, body = proto.serialize("DeleteFunction", {"StatusCode": 204})
    assert (status, body) == (204, b"")


def test_empty_json_output(proto):
    # an output shape with body members but nothing set is still a JSON object
    status, headers, body = proto.serialize("GetFunctionConcurrency", {})
    assert (status, body) == (200, b"{}")


# --------------------------------------------------------------------------- errors


def test_modeled_error_round_trip(proto):
    err = errors.not_found("Function not found: " + FN_ARN)
    response = proto.serialize_error(err)
    status, headers, body = response
    assert status == 404
    assert ("x-amzn-ErrorType", "ResourceNotFoundException") in headers
    assert ("Content-Type", "application/json") in headers
    # ResourceNotFoundException's model member is "Message"
    assert json.loads(body) == {"Type": "User", "Message": "Function not found: " + FN_ARN}
    parsed = client_parse(proto, "GetFunction", response)
    assert parsed["Error"] == {"Code": "ResourceNotFoundException", "Message": "Function not found: " + FN_ARN}
    assert parsed["Type"] == "User" and parsed["Message"] == "Function not found: " + FN_ARN


def test_lower_case_message_member_and_status_from_model(proto):
    err = AwsError("ResourceConflictException", "Function already exist: f")  # no status given
    status, headers, body = response = proto.serialize_error(err)
    assert status == 409
    assert json.loads(body) == {"Type": "User", "message": "Function already exist: f"}
    parsed = client_parse(proto, "CreateFunction", response)
    assert parsed["Error"]["Code"] == "ResourceConflictException"
    assert parsed["Error"]["Message"] == "Function already exist: f"
    assert parsed["message"] == "Function already exist: f"


def test_too_many_requests_reason_and_retry_after_header(proto):
    err = AwsError(
        "TooManyRequestsException",
        "Rate Exceeded.",
        retryAfterSeconds="1",
        Reason="ReservedFunctionConcurrentInvocationLimitExceeded",
    )
    status, headers, body = response = proto.serialize_error(err)
    assert status == 429
    assert ("Retry-After", "1") in headers  # the model puts retryAfterSeconds in a header
    assert json.loads(body) == {"Type": "User", "message": "Rate Exceeded.", "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}
    parsed = client_parse(proto, "Invoke", response)
    assert parsed["Error"]["Code"] == "TooManyRequestsException"
    assert parsed["Error"]["Message"] == "Rate Exceeded."
    assert parsed["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert parsed["retryAfterSeconds"] == "1"


def test_service_fault_and_extra_fields_and_headers(proto):
    err = AwsError("EC2UnexpectedException", "eni failure", type_="Service", EC2ErrorCode="E1", headers={"x-amzn-RequestId": "r-1"})
    status, headers, body = response = proto.serialize_error(err)
    assert status == 502
    assert ("x-amzn-RequestId", "r-1") in headers
    assert json.loads(body) == {"Type": "Service", "Message": "eni failure", "EC2ErrorCode": "E1"}
    parsed = client_parse(proto, "CreateFunction", response)
    assert parsed["EC2ErrorCode"] == "E1" and parsed["Error"]["Code"] == "EC2UnexpectedException"


@pytest.mark.parametrize(
    "code, expected",
    [("ValidationException", 400), ("AccessDeniedException", 403), ("InternalFailure", 500), ("SomethingNew", 400)],
)
def test_generic_error_statuses(proto, code, expected):
    status, headers, body = response = proto.serialize_error(AwsError(code, "msg"))
    assert status == expected
    parsed = client_parse(proto, "ListFunctions", response)
    assert parsed["Error"]["Code"] == code and parsed["Error"]["Message"] == "msg"


def test_explicit_status_wins(proto):
    assert proto.serialize_error(AwsError("ResourceNotFoundException", "x", 400))[0] == 400


def test_serialize_error_never_raises(proto):
    class Weird(AwsError):
        @property  # type: ignore[override]
        def fields(self):
            raise RuntimeError("boom")

        @fields.setter
        def fields(self, value):
            pass

    status, headers, body = proto.serialize_error(Weird("ServiceException", "m"))
    assert status == 500 and json.loads(body)["message"] == "m"
    # non-JSON values and header-breaking text do not break it either
    status, headers, body = proto.serialize_error(AwsError("X\r\nInjected: 1", "m", when=dt.datetime(2024, 1, 1), blob=object()))
    assert all("\n" not in v and "\r" not in v for _, v in headers)
    assert json.loads(body)["message"] == "m"


# --------------------------------------------------------------------------- hot path


def test_invoke_hot_path_stays_cheap(proto):
    """A loose guard (the real budget is ~20us; see the module docs): catches e.g. a regex scan per request."""
    import timeit

    headers = {"x-amz-invocation-type": "RequestResponse", "x-amz-log-type": "None", "content-type": "application/json"}
    out = {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": b'{"ok":true}'}

    def one() -> None:
        op, labels = proto.route("POST", "/2015-03-31/functions/my-function/invocations")
        proto.parse(op, labels, "Qualifier=%24LATEST", headers, b'{"k":"v"}')
        proto.serialize(op, out)

    per_call = min(timeit.repeat(one, number=2000, repeat=3)) / 2000
    assert per_call < 200e-6, f"{per_call * 1e6:.1f}us per Invoke route+parse+serialize"
