"""Function code and layer content from S3 (issue 19, item 2), against moto's S3 server,
reached by Lamb through boto3's standard configuration (AWS_ENDPOINT_URL_S3); the 50 MB
direct-upload limit and the 250 MB unzipped limit with AWS's texts."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import urllib.request
import zipfile

import pytest
from botocore.exceptions import ClientError

from .async_support import moto, served_with, versioned_bucket  # noqa: F401  (fixture)
from .awscli import aws_json
from .conftest import error_of as err, ROLE, invoke, make_zip, unique

MB = 1024 * 1024
HANDLER = "def handler(e, c):\n    return %r\n"


def sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture(scope="module")
def s3_server(moto):  # noqa: F811
    yield from served_with(moto, "S3")


@pytest.fixture(scope="module")
def bucket(moto):  # noqa: F811
    return versioned_bucket(moto, "code")


def wait_active(lam, name, **kw):
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}, **kw)


def test_create_update_and_layers_from_s3(s3_server, bucket):
    lam = s3_server.client()
    s3, b = bucket
    one, two = make_zip({"fn.py": HANDLER % "one"}), make_zip({"fn.py": HANDLER % "two"})
    v1 = s3.put_object(Bucket=b, Key="fn.zip", Body=one)["VersionId"]
    s3.put_object(Bucket=b, Key="fn.zip", Body=two)
    name = unique("s3fn")
    created = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="fn.handler",
                                  Code={"S3Bucket": b, "S3Key": "fn.zip"})
    assert created["CodeSha256"] == sha(two) and created["CodeSize"] == len(two)
    wait_active(lam, name)
    assert invoke(lam, name)[1] == "two"
    with urllib.request.urlopen(lam.get_function(FunctionName=name)["Code"]["Location"], timeout=10) as r:
        assert r.read() == two
    upd = lam.update_function_code(FunctionName=name, S3Bucket=b, S3Key="fn.zip", S3ObjectVersion=v1)
    assert upd["CodeSha256"] == sha(one)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    assert invoke(lam, name)[1] == "one"

    layer_zip = make_zip({"python/helper.py": "VALUE = 'from layer'\n"})
    s3.put_object(Bucket=b, Key="layer.zip", Body=layer_zip)
    layer = lam.publish_layer_version(LayerName=unique("s3layer"), Content={"S3Bucket": b, "S3Key": "layer.zip"})
    assert layer["Content"]["CodeSha256"] == sha(layer_zip) and layer["Content"]["CodeSize"] == len(layer_zip)
    user = unique("s3user")
    lam.create_function(FunctionName=user, Runtime="python3.12", Role=ROLE, Handler="fn.handler",
                        Code={"ZipFile": make_zip({"fn.py": "import helper\ndef handler(e, c):\n    return helper.VALUE\n"})},
                        Layers=[layer["LayerVersionArn"]])
    wait_active(lam, user)
    assert invoke(lam, user)[1] == "from layer"


def test_s3_errors(s3_server, bucket):
    lam = s3_server.client()
    _, b = bucket
    name = unique("s3err")
    missing_bucket = unique("nobucket").lower()
    cases = [
        ({"S3Bucket": missing_bucket, "S3Key": "fn.zip"},
         "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist"),
        ({"S3Bucket": b, "S3Key": "absent.zip"},
         "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist."),
    ]
    for code, message in cases:
        with pytest.raises(ClientError) as e:
            lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="fn.handler", Code=code)
        assert err(e) == ("InvalidParameterValueException", message, 400)
        with pytest.raises(ClientError) as e:
            lam.publish_layer_version(LayerName=unique("l"), Content=code)
        assert err(e) == ("InvalidParameterValueException", message, 400)
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="fn.handler",
                        Code={"ZipFile": make_zip({"fn.py": HANDLER % 1})})
    wait_active(lam, name)
    with pytest.raises(ClientError) as e:
        lam.update_function_code(FunctionName=name, S3Bucket=b, S3Key="absent.zip")
    assert err(e) == ("InvalidParameterValueException", cases[1][1], 400)


@pytest.fixture(scope="module")
def big_zip() -> bytes:
    """Over 50 MB zipped (incompressible), well under 250 MB unzipped; small enough that its
    CreateFunction request (base64 in JSON) stays within the 70,167,211-byte request limit."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("fn.py", HANDLER % "big")
        zf.writestr("blob.bin", os.urandom(50 * MB + 100 * 1024))
    data = buf.getvalue()
    assert 50 * MB < len(data) and len(base64.b64encode(data)) < 70_167_211 - 1000
    return data


def test_over_50_mb_from_s3_but_not_directly(s3_server, bucket, big_zip):
    lam = s3_server.client()
    s3, b = bucket
    s3.put_object(Bucket=b, Key="big.zip", Body=big_zip)
    name = unique("s3big")
    created = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="fn.handler",
                                  Code={"S3Bucket": b, "S3Key": "big.zip"})
    assert created["CodeSize"] == len(big_zip)
    wait_active(lam, name)
    assert invoke(lam, name)[1] == "big"
    # sent directly the same zip is refused before anything else (the request itself is within AWS's request limit)
    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName=unique("direct"), Runtime="python3.12", Role=ROLE, Handler="fn.handler",
                            Code={"ZipFile": big_zip})
    assert err(e) == ("RequestEntityTooLargeException", "Zipped size must be smaller than 52428800 bytes", 413)
    with pytest.raises(ClientError) as e:
        lam.update_function_code(FunctionName=name, ZipFile=big_zip)
    assert err(e) == ("RequestEntityTooLargeException", "Zipped size must be smaller than 52428800 bytes", 413)


def test_unzipped_over_250_mb_is_refused(s3_server, bucket):
    lam = s3_server.client()
    s3, b = bucket
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("fn.py", HANDLER % 0)
        zf.writestr("zeros.bin", bytes(262_144_000))
    s3.put_object(Bucket=b, Key="huge.zip", Body=buf.getvalue())
    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName=unique("s3huge"), Runtime="python3.12", Role=ROLE, Handler="fn.handler",
                            Code={"S3Bucket": b, "S3Key": "huge.zip"})
    assert err(e) == ("InvalidParameterValueException", "Unzipped size must be smaller than 262144000 bytes", 400)


def test_cli_code_from_s3(s3_server, bucket):
    s3, b = bucket
    s3.put_object(Bucket=b, Key="cli.zip", Body=make_zip({"fn.py": HANDLER % "cli"}))
    name = unique("s3cli")
    out = aws_json(s3_server, "create-function", "--function-name", name, "--runtime", "python3.12", "--role", ROLE,
                   "--handler", "fn.handler", "--code", f"S3Bucket={b},S3Key=cli.zip")
    assert out["State"] == "Pending"
    aws_json(s3_server, "wait", "function-active-v2", "--function-name", name)
    assert invoke(s3_server.client(), name)[1] == "cli"
