"""Constraint validation, malformed bodies and the Java-to-Python pattern translation.

Every constraint (limits, lengths, enums, patterns, required members) is read from the
installed botocore model, as the protocol layer reads it, so these tests hold for any
botocore Lamb supports. What the tests write down themselves is AWS's behaviour that the
model does not hold: the message wording, member paths, and the order of the constraints.
"""

from __future__ import annotations

import json
import re

import pytest

from lamb.protocol import AwsError, Protocol
from lamb.protocol._regex import compile_java, java_to_python
from tests.unit.test_protocol import server_parse, wire_request

ROLE = "arn:aws:iam::123456789012:role/r"


@pytest.fixture(scope="module")
def proto() -> Protocol:
    return Protocol()


def pattern_of(proto: Protocol, shape_name: str) -> str:
    return proto.service_model.shape_for(shape_name).metadata["pattern"]


def member(proto: Protocol, op_name: str, *path: str):
    """The model's shape of an input member, e.g. ``member(p, "CreateFunction", "Code", "S3Bucket")``;
    ``"member"`` steps into a list, ``"value"`` into a map."""
    shape = proto.operations[op_name].input_shape
    for name in path:
        shape = getattr(shape, name) if name in ("member", "value") else shape.members[name]
    return shape


def limit(proto: Protocol, op_name: str, *path: str, bound: str):
    """A member's ``min`` or ``max`` in the installed model (a length for strings, lists and blobs)."""
    return member(proto, op_name, *path).metadata[bound]


def enum_text(proto: Protocol, op_name: str, *path: str) -> str:
    """The enum as AWS's message lists it: the model's values in the model's order."""
    return "[" + ", ".join(member(proto, op_name, *path).enum) + "]"


def required(proto: Protocol, op_name: str, *path: str) -> str:
    """Assert the installed model requires ``path[-1]``; return the member name."""
    *outer, name = path
    assert name in member(proto, op_name, *outer).required_members
    return name


def violations(proto: Protocol, op_name: str, params: dict) -> list[str]:
    with pytest.raises(AwsError) as info:
        server_parse(proto, op_name, params)
    err = info.value
    assert err.code == "ValidationException" and err.status == 400
    head, _, rest = err.message.partition(" detected: ")
    parts = rest.split("; ")
    n = len(parts)
    assert head == f"{n} validation {'error' if n == 1 else 'errors'}"
    return parts


def raw_parse(proto: Protocol, method: str, path: str, body: bytes, query: str = "", headers: dict | None = None):
    op, labels = proto.route(method, path, query)
    return proto.parse(op, labels, query, headers or {}, body)


def parse_error(proto: Protocol, *args, **kwargs) -> AwsError:
    with pytest.raises(AwsError) as info:
        raw_parse(proto, *args, **kwargs)
    return info.value


# --------------------------------------------------------------------------- message forms


def test_number_below_minimum(proto):
    low = limit(proto, "CreateFunction", "MemorySize", bound="min")
    assert violations(proto, "CreateFunction", {"FunctionName": "f", "Role": ROLE, "Code": {}, "MemorySize": low - 1}) == [
        f"Value '{low - 1}' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to {low}"
    ]


def test_number_above_maximum_in_update(proto):
    high = limit(proto, "UpdateFunctionConfiguration", "MemorySize", bound="max")
    assert violations(proto, "UpdateFunctionConfiguration", {"FunctionName": "f", "MemorySize": high + 1}) == [
        f"Value '{high + 1}' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to {high}"
    ]


def test_required_member_missing(proto):
    required(proto, "CreateFunction", "Role")
    assert violations(proto, "CreateFunction", {"FunctionName": "f", "Code": {}}) == [
        "Value null at 'role' failed to satisfy constraint: Member must not be null"
    ]


def test_json_null_is_a_missing_member(proto):
    required(proto, "CreateFunction", "Role")
    err = parse_error(proto, "POST", "/2015-03-31/functions", b'{"FunctionName": "f", "Role": null, "Code": {}}')
    assert err.message == "1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null"


def test_pattern_in_uri_label(proto):
    pattern = pattern_of(proto, "NamespacedFunctionName")
    assert violations(proto, "GetFunction", {"FunctionName": "x y"}) == [
        f"Value 'x y' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
    ]


def test_max_length_header(proto):
    high = limit(proto, "Invoke", "DurableExecutionName", bound="max")
    name = "a" * (high + 1)
    assert violations(proto, "Invoke", {"FunctionName": "f", "DurableExecutionName": name}) == [
        f"Value '{name}' at 'durableExecutionName' failed to satisfy constraint: Member must have length less than or equal to {high}"
    ]


def test_enum_header(proto):
    assert violations(proto, "Invoke", {"FunctionName": "f", "InvocationType": "Later"}) == [
        "Value 'Later' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: "
        + enum_text(proto, "Invoke", "InvocationType")
    ]


def test_several_violations_on_one_member_and_several_members(proto):
    pattern = pattern_of(proto, "FunctionName")
    name_min = limit(proto, "CreateFunction", "FunctionName", bound="min")
    timeout_min = limit(proto, "CreateFunction", "Timeout", bound="min")
    assert name_min > 0  # so that "" breaks the length as well as the pattern
    got = violations(proto, "CreateFunction", {"FunctionName": "", "Role": ROLE, "Code": {}, "Timeout": timeout_min - 1})
    assert got == [
        f"Value '' at 'functionName' failed to satisfy constraint: Member must have length greater than or equal to {name_min}",
        f"Value '' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}",
        f"Value '{timeout_min - 1}' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to {timeout_min}",
    ]


def test_nested_structure_member_path(proto):
    pattern = pattern_of(proto, "S3Bucket")
    assert violations(proto, "CreateFunction", {"FunctionName": "f", "Role": ROLE, "Code": {"S3Bucket": "bucket.", "S3Key": "k"}}) == [
        f"Value 'bucket.' at 'code.s3Bucket' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
    ]


def test_sensitive_map_keys_elide_the_value(proto):
    pattern = pattern_of(proto, "EnvironmentVariableName")
    params = {"FunctionName": "f", "Role": ROLE, "Code": {}, "Environment": {"Variables": {"MY-VAR": "secret"}}}
    assert violations(proto, "CreateFunction", params) == [
        "Value at 'environment.variables' failed to satisfy constraint: "
        f"Map keys must satisfy constraint: [Member must satisfy regular expression pattern: {pattern}]"
    ]


def test_list_of_scalars_reports_the_list_and_all_member_constraints(proto):
    got = violations(proto, "CreateFunction", {"FunctionName": "f", "Role": ROLE, "Code": {}, "Architectures": ["x86"]})
    assert got == [
        "Value '[x86]' at 'architectures' failed to satisfy constraint: "
        f"Member must satisfy constraint: [Member must satisfy enum value set: {enum_text(proto, 'CreateFunction', 'Architectures', 'member')}, Member must not be null]"
    ]
    layer = member(proto, "CreateFunction", "Layers", "member").metadata
    got = violations(proto, "CreateFunction", {"FunctionName": "f", "Role": ROLE, "Code": {}, "Layers": ["ok-not", "x"]})
    # AWS lists a string's constraints as max length, min length, pattern
    assert got == [
        "Value '[ok-not, x]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: "
        f"[Member must have length less than or equal to {layer['max']}, Member must have length greater than or equal to {layer['min']}, "
        f"Member must satisfy regular expression pattern: {layer['pattern']}, Member must not be null]"
    ]


def test_list_length(proto):
    high = limit(proto, "CreateFunction", "Architectures", bound="max")
    values = (member(proto, "CreateFunction", "Architectures", "member").enum * (high + 1))[: high + 1]
    got = violations(proto, "CreateFunction", {"FunctionName": "f", "Role": ROLE, "Code": {}, "Architectures": values})
    assert got == [
        f"Value '[{', '.join(values)}]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to {high}"
    ]


def test_list_of_structures_uses_member_index_paths(proto):
    params = {
        "FunctionName": "f",
        "EventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/c/1",
        "SourceAccessConfigurations": [
            {"Type": "BASIC_AUTH", "URI": "arn:aws:secretsmanager:us-east-1:1:secret:s"},
            {"Type": "PASSWORD", "URI": "bad#uri"},
        ],
    }
    pattern = pattern_of(proto, "URI")
    assert compile_java(pattern).fullmatch("bad#uri") is None
    types = enum_text(proto, "CreateEventSourceMapping", "SourceAccessConfigurations", "member", "Type")
    assert "PASSWORD" not in types
    assert violations(proto, "CreateEventSourceMapping", params) == [
        f"Value 'PASSWORD' at 'sourceAccessConfigurations.2.member.type' failed to satisfy constraint: Member must satisfy enum value set: {types}",
        f"Value 'bad#uri' at 'sourceAccessConfigurations.2.member.uRI' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}",
    ]


def test_required_member_inside_list_of_structures(proto):
    required(proto, "CreateFunction", "FileSystemConfigs", "member", "LocalMountPath")
    params = {"FunctionName": "f", "Role": ROLE, "Code": {}, "FileSystemConfigs": [{"Arn": "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abcdef0"}]}
    assert violations(proto, "CreateFunction", params) == [
        "Value null at 'fileSystemConfigs.1.member.localMountPath' failed to satisfy constraint: Member must not be null"
    ]


def test_map_values_of_doubles(proto):
    weight = member(proto, "UpdateAlias", "RoutingConfig", "AdditionalVersionWeights", "value").metadata
    over = weight["max"] + 0.5
    params = {"FunctionName": "f", "Name": "live", "RoutingConfig": {"AdditionalVersionWeights": {"2": over}}}
    # AWS lists a number's constraints as max, then min, printed as Java prints a double
    assert violations(proto, "UpdateAlias", params) == [
        f"Value '{{2={float(over)}}}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: "
        f"Map value must satisfy constraint: [Member must have value less than or equal to {float(weight['max'])}, "
        f"Member must have value greater than or equal to {float(weight['min'])}, Member must not be null]"
    ]


def test_blob_length_elides_the_value(proto):
    high = limit(proto, "SendDurableExecutionCallbackSuccess", "Result", bound="max")
    params = {"CallbackId": "Y2I=", "Result": b"x" * (high + 1)}
    assert violations(proto, "SendDurableExecutionCallbackSuccess", params) == [
        f"Value at 'result' failed to satisfy constraint: Member must have length less than or equal to {high}"
    ]


def test_query_integer_range(proto):
    low = limit(proto, "ListFunctions", "MaxItems", bound="min")
    assert violations(proto, "ListFunctions", {"MaxItems": low - 1}) == [
        f"Value '{low - 1}' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to {low}"
    ]


def test_valid_requests_pass(proto):
    server_parse(proto, "GetFunction", {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"})
    server_parse(proto, "CreateFunction", {"FunctionName": "f", "Role": ROLE, "Code": {"S3Bucket": "my-bucket", "S3Key": "k"}})


# --------------------------------------------------------------------------- malformed bodies


@pytest.mark.parametrize("body", [b"{not json", b'{"FunctionName": "f",}', b"\xff\xfe{}", b'{"a": 1} trailing'])
def test_malformed_json(proto, body):
    err = parse_error(proto, "POST", "/2015-03-31/functions", body)
    assert err.code == "InvalidRequestContentException" and err.status == 400
    assert err.message.startswith("Could not parse request body into json: ")
    status, headers, out = proto.serialize_error(err)
    assert status == 400 and ("x-amzn-ErrorType", "InvalidRequestContentException") in headers
    assert json.loads(out)["message"] == err.message  # the model's member is lower-case "message"


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"null"])
def test_body_not_an_object(proto, body):
    err = parse_error(proto, "POST", "/2015-03-31/functions", body)
    assert err.code == "InvalidRequestContentException"
    assert err.message.startswith("Could not parse request body into json: ")


@pytest.mark.parametrize(
    "doc, where",
    [
        ({"MemorySize": "512"}, "MemorySize"),
        ({"MemorySize": 128.5}, "MemorySize"),
        ({"MemorySize": 2**31}, "MemorySize"),
        ({"Publish": "true"}, "Publish"),
        ({"Code": {"ZipFile": 42}}, "Code.ZipFile"),
        ({"Code": {"ZipFile": "not base64!"}}, "Code.ZipFile"),
        ({"Code": "zip"}, "Code"),
        ({"Architectures": "x86_64"}, "Architectures"),
        ({"Environment": {"Variables": {"A": 1}}}, "Environment.Variables.A"),
        ({"FunctionName": ["f"]}, "FunctionName"),
        ({"Layers": [1]}, "Layers[0]"),
    ],
)
def test_member_of_wrong_json_type(proto, doc, where):
    body = dict({"FunctionName": "f", "Role": ROLE, "Code": {}}, **doc)
    err = parse_error(proto, "POST", "/2015-03-31/functions", json.dumps(body).encode())
    assert err.code == "InvalidRequestContentException" and err.status == 400
    assert err.message.startswith("Could not parse request body into json: ")
    assert f"'{where}'" in err.message


def test_lenient_where_aws_is(proto):
    # whole floats for integers, unknown members ignored, whitespace-only body is empty
    body = json.dumps({"FunctionName": "f", "Role": ROLE, "Code": {}, "MemorySize": 256.0, "NotAMember": {"x": 1}}).encode()
    params = raw_parse(proto, "POST", "/2015-03-31/functions", body)
    assert params["MemorySize"] == 256 and "NotAMember" not in params
    assert raw_parse(proto, "PUT", "/2015-03-31/functions/f/configuration", b"  \n") == {"FunctionName": "f"}


@pytest.mark.parametrize(
    "method, path, query, headers",
    [
        ("GET", "/2015-03-31/functions", "MaxItems=abc", {}),
        ("GET", "/2018-10-31/layers/l/versions/abc", "", {}),
        ("GET", "/2015-03-31/event-source-mappings", "MaxItems=99999999999", {}),
    ],
)
def test_untypable_uri_query_header_values(proto, method, path, query, headers):
    err = parse_error(proto, method, path, b"", query=query, headers=headers)
    assert err.code == "SerializationException" and err.status == 400


def test_invoke_payload_is_not_parsed(proto):
    # the protocol layer hands Invoke's payload over untouched, JSON or not
    method, path, query, headers, body = wire_request(proto, "Invoke", {"FunctionName": "f", "Payload": b"\xffnot json"})
    op, labels = proto.route(method, path, query)
    assert proto.parse(op, labels, query, headers, body)["Payload"] == b"\xffnot json"


# --------------------------------------------------------------------------- Java patterns


def test_every_model_pattern_translates(proto):
    patterns = {s.metadata["pattern"] for s in map(proto.service_model.shape_for, proto.service_model.shape_names) if "pattern" in s.metadata}
    assert len(patterns) > 30
    for pattern in patterns:
        re.compile(java_to_python(pattern))  # no fallback needed for any of them


@pytest.mark.parametrize(
    "pattern, accepted, rejected",
    [
        (r"\d+", ["0123"], ["\u0661\u0662", "12a"]),  # Java \d is ASCII only
        (r"[^\s]+", ["a\u00a0b"], ["a b", "a\tb"]),  # Java \s is ASCII only
        (r"\w+", ["a_Z9"], ["\u00e9t\u00e9"]),
        (r"a.c", ["abc", "a\u00e9c"], ["a\nc", "a\rc", "a\u2028c"]),  # '.' skips every Java line terminator
        (r"\p{Alpha}+", ["abcXYZ"], ["\u00e9"]),  # POSIX classes are ASCII in Java
        (r"\p{L}+", ["\u00e9t\u00e9", "\u65e5\u672c"], ["a1"]),  # Unicode categories
        (r"[\p{Lu}0-9]+", ["AB12\u00c9"], ["ab"]),
        (r"\P{Digit}+", ["abc"], ["a1"]),
        (r"\Qa.b*\E+", ["a.b*", "a.b**"], ["axbb", "a.b*a.b*"]),  # the quantifier takes the last quoted char
        (r"(?<x>ab)\k<x>", ["abab"], ["abba"]),
        (r"[a-z[0-9]]+", ["a1b2"], ["A"]),
        (r"abc$", ["abc"], ["abc\n"]),
        (r"[0-9A-Za-z\.\-_]*(?<!\.)", ["my.bucket"], ["bucket."]),
    ],
)
def test_java_semantics(pattern, accepted, rejected):
    rx = compile_java(pattern)
    for text in accepted:
        assert rx.fullmatch(text), (pattern, text)
    for text in rejected:
        assert rx.fullmatch(text) is None, (pattern, text)


# ------------------------------------------- AWS's differences from the model (aws_differences)
def test_enums_in_aws_order(proto):
    got = violations(proto, "PutFunctionRecursionConfig", {"FunctionName": "f", "RecursiveLoop": "x"})
    assert got == ["Value 'x' at 'recursiveLoop' failed to satisfy constraint: Member must satisfy enum value set: [Terminate, Allow]"]
    got = violations(proto, "CreateFunctionUrlConfig", {"FunctionName": "f", "AuthType": "NONE", "InvokeMode": "x"})
    assert got == ["Value 'x' at 'invokeMode' failed to satisfy constraint: Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]"]
    got = violations(proto, "CreateEventSourceMapping", {"FunctionName": "f", "StartingPosition": "x"})
    assert got == ["Value 'x' at 'startingPosition' failed to satisfy constraint: "
                   "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"]


def test_runtime_is_left_to_the_service(proto):
    params = server_parse(proto, "CreateFunction", {"FunctionName": "f", "Role": ROLE, "Code": {}, "Runtime": "PYTHON3.9"})
    assert params["Runtime"] == "PYTHON3.9"


def test_layer_requests_list_violations_in_request_order_with_layer_runtimes(proto):
    from lamb.protocol.aws_differences import LAYER_RUNTIMES
    runtimes = ("Value '[bad]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: ["
                + ", ".join(LAYER_RUNTIMES) + "]")
    archs = ("Value '[bad]' at 'compatibleArchitectures' failed to satisfy constraint: "
             "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]")
    got = violations(proto, "PublishLayerVersion", {"LayerName": "l", "Content": {},
                                                    "CompatibleArchitectures": ["bad"], "CompatibleRuntimes": ["bad"]})
    assert got == [archs, runtimes]
    got = violations(proto, "PublishLayerVersion", {"LayerName": "l", "Content": {},
                                                    "CompatibleRuntimes": ["bad"], "CompatibleArchitectures": ["bad"]})
    assert got == [runtimes, archs]
    assert server_parse(proto, "PublishLayerVersion", {"LayerName": "l", "Content": {}, "CompatibleRuntimes": ["nasa"]})
