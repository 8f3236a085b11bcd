"""Function URL configurations with boto3 (issue 14). Expected answers are AWS's,
recorded in LocalStack's AWS-validated ``test_lambda_api.snapshot.json`` (``TestLambdaUrl``)."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from .conftest import create, unique

CODE = "def handler(event, context):\n    return event\n"
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def err(e) -> tuple[str, str, int]:
    r = e.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_lifecycle(lam, lamb_server):
    name = unique("url")
    create(lam, name, CODE)
    out = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert set(out) - {"ResponseMetadata"} == {"FunctionUrl", "FunctionArn", "AuthType", "CreationTime"}
    m = re.fullmatch(r"http://([a-z0-9]{32})\.lambda-url\.us-east-1\.localhost:(\d+)/", out["FunctionUrl"])
    assert m and int(m.group(2)) == int(lamb_server.url.rsplit(":", 1)[1])
    assert out["FunctionArn"] == lamb_server.arn(name) and TIME.fullmatch(out["CreationTime"])
    with pytest.raises(ClientError) as e:
        lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert err(e) == ("ResourceConflictException",
                      f"Failed to create function url config for [functionArn = {lamb_server.arn(name)}]. "
                      "Error message:  FunctionUrlConfig exists for this Lambda function", 409)
    got = lam.get_function_url_config(FunctionName=name)
    assert got["InvokeMode"] == "BUFFERED" and got["FunctionUrl"] == out["FunctionUrl"]
    assert got["LastModifiedTime"] == got["CreationTime"] == out["CreationTime"]
    cors = {"AllowOrigins": ["https://example.com"], "AllowMethods": ["GET", "POST"], "MaxAge": 60,
            "AllowCredentials": True, "AllowHeaders": ["x-custom"], "ExposeHeaders": ["x-out"]}
    up = lam.update_function_url_config(FunctionName=name, AuthType="AWS_IAM", Cors=cors, InvokeMode="RESPONSE_STREAM")
    assert (up["AuthType"], up["Cors"], up["InvokeMode"]) == ("AWS_IAM", cors, "RESPONSE_STREAM")
    assert up["LastModifiedTime"] >= up["CreationTime"]
    up = lam.update_function_url_config(FunctionName=name)  # nothing given: nothing changes
    assert (up["AuthType"], up["InvokeMode"]) == ("AWS_IAM", "RESPONSE_STREAM")
    lam.delete_function_url_config(FunctionName=name)
    with pytest.raises(ClientError) as e:
        lam.get_function_url_config(FunctionName=name)
    assert err(e) == ("ResourceNotFoundException", "The resource you requested does not exist.", 404)


def test_aliases_and_listing(lam, lamb_server):
    name = unique("url")
    create(lam, name, CODE)
    v = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=v)
    assert lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"] == []
    a = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE", InvokeMode="BUFFERED")
    assert a["FunctionArn"] == lamb_server.arn(name, "live") and a["InvokeMode"] == "BUFFERED"
    u = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert a["FunctionUrl"] != u["FunctionUrl"]
    listed = lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert [x["FunctionArn"] for x in listed] == [lamb_server.arn(name), lamb_server.arn(name, "live")]
    assert all(x["InvokeMode"] == "BUFFERED" and "LastModifiedTime" in x for x in listed)
    page = lam.list_function_url_configs(FunctionName=name, MaxItems=1)
    assert len(page["FunctionUrlConfigs"]) == 1 and "NextMarker" in page
    # Deleting the unqualified URL leaves the alias's; deleting the alias deletes its URL.
    lam.delete_function_url_config(FunctionName=name)
    assert lam.get_function_url_config(FunctionName=name, Qualifier="live")["FunctionArn"] == lamb_server.arn(name, "live")
    lam.delete_alias(FunctionName=name, Name="live")
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=v)
    with pytest.raises(ClientError) as e:
        lam.get_function_url_config(FunctionName=name, Qualifier="live")
    assert err(e)[0] == "ResourceNotFoundException"


def test_errors(lam, lamb_server):
    name = unique("url")
    create(lam, name, CODE)
    lam.publish_version(FunctionName=name)
    missing = ("ResourceNotFoundException", "Function does not exist", 404)
    nothing = ("ResourceNotFoundException", "The resource you requested does not exist.", 404)
    for call, expected in ((lam.create_function_url_config, missing), (lam.update_function_url_config, missing),
                           (lam.get_function_url_config, nothing), (lam.delete_function_url_config, nothing)):
        kw = {"AuthType": "NONE"} if call == lam.create_function_url_config else {}
        with pytest.raises(ClientError) as e:
            call(FunctionName="doesnotexist", **kw)
        assert err(e) == expected
        with pytest.raises(ClientError) as e:
            call(FunctionName=lamb_server.arn("doesnotexist"), **kw)
        assert err(e) == expected
        with pytest.raises(ClientError) as e:
            call(FunctionName=name, Qualifier="aliasdoesnotexist", **kw)
        assert err(e) == expected
        for q in ("1", "$LATEST"):
            with pytest.raises(ClientError) as e:
                call(FunctionName=name, Qualifier=q, **kw)
            assert err(e) == ("ValidationException", f"1 validation error detected: Value '{q}' at 'qualifier' failed "
                              r"to satisfy constraint: Member must satisfy regular expression pattern: ((?!^\d+$)^[0-9a-zA-Z-_]+$)", 400)
        with pytest.raises(ClientError) as e:
            call(FunctionName=f"{name}:other", Qualifier="alias", **kw)
        assert err(e) == ("InvalidParameterValueException",
                          "The derived qualifier from the function name does not match the specified qualifier.", 400)
    for call in (lam.update_function_url_config, lam.get_function_url_config, lam.delete_function_url_config):
        with pytest.raises(ClientError) as e:
            call(FunctionName=name)
        assert err(e) == nothing
    with pytest.raises(ClientError) as e:
        lam.list_function_url_configs(FunctionName="doesnotexist")
    assert err(e) == missing
    with pytest.raises(ClientError) as e:
        lam.create_function_url_config(FunctionName=name, AuthType="NONE", InvokeMode="UNKNOWN")
    # AWS lists the set as [RESPONSE_STREAM, BUFFERED]; the protocol layer lists it in the model's order.
    assert err(e)[0::2] == ("ValidationException", 400)
    assert err(e)[1].startswith("1 validation error detected: Value 'UNKNOWN' at 'invokeMode' failed to satisfy "
                                "constraint: Member must satisfy enum value set: [")
