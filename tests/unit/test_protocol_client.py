"""boto3 and the AWS CLI, unchanged, talking to lamb.protocol.

The real clients are used end to end; only the socket is replaced: a
``before-send`` hook hands the signed, prepared request to ``Protocol`` and turns
what it returns into the HTTP response botocore then parses.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any, Callable
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from urllib3 import HTTPResponse

from lamb.protocol import AwsError, Protocol
from lamb.protocol import errors

ENDPOINT = "http://127.0.0.1:9001"
ROLE = "arn:aws:iam::123456789012:role/lambda-role"


@pytest.fixture(scope="module")
def proto() -> Protocol:
    return Protocol()


class FakeServer:
    """Protocol + a table of handlers, reached through botocore's before-send event."""

    def __init__(self, proto: Protocol, handlers: dict[str, Callable[[dict], dict]]):
        self.proto = proto
        self.handlers = handlers
        self.seen: list[tuple[str, dict]] = []

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        try:
            op, labels = self.proto.route(request.method, url.path, url.query)
            params = self.proto.parse(op, labels, url.query, headers, body)
            self.seen.append((op.name, params))
            handler = self.handlers.get(op.name)
            if handler is None:
                raise errors.service_error(f"no handler for {op.name}")
            status, out_headers, out = self.proto.serialize(op, handler(params))
        except AwsError as err:
            status, out_headers, out = self.proto.serialize_error(err)
        raw = HTTPResponse(body=io.BytesIO(bytes(out)), headers=out_headers, status=status, preload_content=False)
        return AWSResponse(request.url, status, out_headers, raw)


def lambda_client(server: FakeServer):
    client = boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name="us-east-1"
    ).client("lambda", endpoint_url=ENDPOINT, config=Config(retries={"total_max_attempts": 1}))
    client.meta.events.register("before-send.lambda", server)
    return client


def test_boto3_create_get_invoke_and_errors(proto):
    functions: dict[str, dict] = {}

    def create(params):
        if params["FunctionName"] in functions:
            raise errors.conflict(f"Function already exist: {params['FunctionName']}")
        config = {
            "FunctionName": params["FunctionName"],
            "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{params['FunctionName']}",
            "Runtime": params.get("Runtime"),
            "Role": params["Role"],
            "Handler": params.get("Handler"),
            "CodeSize": len(params["Code"]["ZipFile"]),
            "MemorySize": params.get("MemorySize", 128),
            "Environment": {"Variables": params.get("Environment", {}).get("Variables", {})},
            "State": "Active",
            "internal": object(),  # never leaks: unknown keys are ignored
        }
        functions[params["FunctionName"]] = config
        return config

    def get(params):
        name = params["FunctionName"].rsplit(":", 1)[-1] if params["FunctionName"].startswith("arn:") else params["FunctionName"]
        if name not in functions:
            raise errors.not_found(f"Function not found: {params['FunctionName']}")
        return {"Configuration": functions[name], "Code": {"RepositoryType": "S3", "Location": "http://x"}}

    def invoke(params):
        event = json.loads(params["Payload"] or b"null")
        if params.get("InvocationType") == "Event":
            return {"StatusCode": 202}
        return {
            "StatusCode": 200,
            "ExecutedVersion": "$LATEST",
            "LogResult": base64.b64encode(b"log line\n").decode() if params.get("LogType") == "Tail" else None,
            "Payload": json.dumps({"echo": event}).encode(),
        }

    server = FakeServer(proto, {"CreateFunction": create, "GetFunction": get, "Invoke": invoke})
    client = lambda_client(server)

    created = client.create_function(
        FunctionName="echo",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": b"PK\x03\x04zip"},
        MemorySize=256,
        Environment={"Variables": {"GREETING": "hi"}},
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["CodeSize"] == 7 and created["MemorySize"] == 256
    assert created["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert "internal" not in created
    assert server.seen[-1][1]["Code"]["ZipFile"] == b"PK\x03\x04zip"

    got = client.get_function(FunctionName="arn:aws:lambda:us-east-1:123456789012:function:echo")
    assert got["Configuration"]["FunctionName"] == "echo"

    out = client.invoke(FunctionName="echo", Payload=b'{"a": 1}', LogType="Tail")
    assert out["StatusCode"] == 200 and out["ExecutedVersion"] == "$LATEST"
    assert base64.b64decode(out["LogResult"]) == b"log line\n"
    assert json.loads(out["Payload"].read()) == {"echo": {"a": 1}}

    out = client.invoke(FunctionName="echo", InvocationType="Event", Payload=b"{}")
    assert out["StatusCode"] == 202

    with pytest.raises(client.exceptions.ResourceNotFoundException) as info:
        client.get_function(FunctionName="missing")
    assert info.value.response["Error"]["Message"] == "Function not found: missing"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    with pytest.raises(client.exceptions.ResourceConflictException) as info:
        client.create_function(FunctionName="echo", Role=ROLE, Code={"ZipFile": b"z"})
    assert info.value.response["Error"]["Message"] == "Function already exist: echo"


def test_boto3_sees_validation_errors_as_client_errors(proto):
    server = FakeServer(proto, {})
    client = lambda_client(server)
    with pytest.raises(client.exceptions.ClientError) as info:
        client.invoke(FunctionName="bad name!", Payload=b"{}")
    err = info.value.response["Error"]
    assert err["Code"] == "ValidationException"
    assert err["Message"].startswith("1 validation error detected: Value 'bad name!' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_boto3_throttle_fields(proto):
    def throttle(params):
        raise AwsError("TooManyRequestsException", "Rate Exceeded.", retryAfterSeconds="2", Reason="ConcurrentInvocationLimitExceeded")

    client = lambda_client(FakeServer(proto, {"Invoke": throttle}))
    with pytest.raises(client.exceptions.TooManyRequestsException) as info:
        client.invoke(FunctionName="f")
    response = info.value.response
    assert response["Reason"] == "ConcurrentInvocationLimitExceeded"
    assert response["retryAfterSeconds"] == "2"
    assert response["Error"]["Message"] == "Rate Exceeded."


def test_boto3_paginator_and_layers(proto):
    pages = {None: ({"FunctionName": "a"}, "m1"), "m1": ({"FunctionName": "b"}, None)}

    def list_functions(params):
        fn, marker = pages[params.get("Marker")]
        return {"Functions": [fn], "NextMarker": marker}

    def layer_by_arn(params):
        return {"LayerVersionArn": params["Arn"], "Version": 3}

    def list_layers(params):
        return {"Layers": []}

    server = FakeServer(proto, {"ListFunctions": list_functions, "GetLayerVersionByArn": layer_by_arn, "ListLayers": list_layers})
    client = lambda_client(server)
    names = [f["FunctionName"] for page in client.get_paginator("list_functions").paginate() for f in page["Functions"]]
    assert names == ["a", "b"]
    arn = "arn:aws:lambda:us-east-1:123456789012:layer:lib:3"
    assert client.get_layer_version_by_arn(Arn=arn)["Version"] == 3
    assert client.list_layers()["Layers"] == []
    assert [name for name, _ in server.seen[-2:]] == ["GetLayerVersionByArn", "ListLayers"]


def test_aws_cli_invoke_and_list(proto, tmp_path, capsys, monkeypatch):
    import awscli.clidriver as awscli_clidriver  # a declared test dependency: missing fails, never skips
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))

    server = FakeServer(
        proto,
        {
            "Invoke": lambda p: {"StatusCode": 200, "ExecutedVersion": "1", "Payload": p["Payload"]},
            "ListFunctions": lambda p: {"Functions": [{"FunctionName": "cli-fn", "MemorySize": 128}]},
        },
    )
    driver = awscli_clidriver.create_clidriver()
    driver.session.register("before-send.lambda", server)

    out_file = tmp_path / "out.json"
    rc = driver.main(
        [
            "lambda", "invoke", "--endpoint-url", ENDPOINT, "--function-name", "cli-fn",
            "--payload", '{"k": "v"}', str(out_file),
        ]
    )
    assert rc == 0
    assert json.loads(out_file.read_text()) == {"k": "v"}
    printed = json.loads(capsys.readouterr().out)
    assert printed == {"StatusCode": 200, "ExecutedVersion": "1"}

    rc = driver.main(["lambda", "list-functions", "--endpoint-url", ENDPOINT, "--output", "json"])
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["Functions"] == [{"FunctionName": "cli-fn", "MemorySize": 128}]
