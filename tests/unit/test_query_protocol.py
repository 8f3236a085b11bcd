"""The query protocol (iam, sts) from botocore's models: botocore's own serializer and parser
are the other side of every check."""

import botocore.parsers
import botocore.serialize
import botocore.session
import pytest

from lamb.protocol import Protocol
from lamb.protocol.errors import AwsError

_session = botocore.session.get_session()


def wire(service: str, op: str, params: dict):
    model = _session.get_service_model(service)
    request = botocore.serialize.create_serializer("query").serialize_to_request(params, model.operation_model(op))
    return model, request


@pytest.fixture(scope="module")
def iam():
    return Protocol("iam")


def test_botocore_requests_parse_to_the_members(iam):
    _, req = wire("iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": "{}", "MaxSessionDuration": 7200,
                                         "Tags": [{"Key": "a", "Value": "b"}, {"Key": "c", "Value": "d"}]})
    body = req["body"] if isinstance(req["body"], bytes) else "&".join(f"{k}={v}" for k, v in req["body"].items()).encode()
    op, form = iam.route("POST", "/", "", {}, body)
    assert op.name == "CreateRole"
    assert iam.parse(op, form, "", {}, body) == {
        "RoleName": "r", "AssumeRolePolicyDocument": "{}", "MaxSessionDuration": 7200,
        "Tags": [{"Key": "a", "Value": "b"}, {"Key": "c", "Value": "d"}]}


def test_missing_member_and_unknown_action(iam):
    op, form = iam.route("POST", "/", "", {}, b"Action=CreateUser&Version=2010-05-08")
    with pytest.raises(AwsError) as e:
        iam.parse(op, form, "", {}, b"")
    assert e.value.code == "ValidationError" and "Value null at 'userName'" in e.value.message
    with pytest.raises(AwsError) as e:
        iam.route("POST", "/", "", {}, b"Action=Nope&Version=2010-05-08")
    assert (e.value.code, e.value.message) == ("InvalidAction", "Could not find operation Nope for version 2010-05-08")


def test_responses_and_errors_parse_with_botocores_query_parser(iam):
    model = _session.get_service_model("iam")
    op = model.operation_model("ListUsers")
    status, headers, body = iam.serialize("ListUsers", {"Users": [
        {"Path": "/", "UserName": "u", "UserId": "AIDAX", "Arn": "arn:aws:iam::1:user/u", "CreateDate": 0}],
        "IsTruncated": False})
    parsed = botocore.parsers.QueryParser().parse({"status_code": status, "headers": dict(headers), "body": body},
                                                  op.output_shape)
    assert parsed["Users"][0]["UserName"] == "u" and parsed["IsTruncated"] is False
    status, headers, body = iam.serialize_error(AwsError("NoSuchEntity", "The user with name x cannot be found.",
                                                         type_="Sender"))
    assert status == 404
    parsed = botocore.parsers.QueryParser().parse({"status_code": status, "headers": dict(headers), "body": body}, None)
    assert parsed["Error"]["Code"] == "NoSuchEntity" and parsed["Error"]["Message"].endswith("cannot be found.")
