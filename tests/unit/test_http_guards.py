"""The public port's answers before an operation runs."""

import json

import pytest

from lamb.http_guards import large_body, protocol_error, smallest
from lamb.limits import DEFAULT
from lamb.protocol import Protocol


@pytest.fixture(scope="module")
def check():
    proto = Protocol()
    return large_body(proto.route, proto.serialize_error, DEFAULT)


@pytest.mark.parametrize("status,code", [(400, "SerializationException"), (408, "RequestTimeoutException"),
                                         (431, "RequestHeaderFieldsTooLargeException")])
def test_protocol_errors_are_aws_shaped(status, code):
    resp = protocol_error(status, "why")
    headers = dict(resp.headers)
    assert resp.status == status and headers["x-amzn-ErrorType"] == code and headers["x-amzn-RequestId"]
    assert json.loads(resp.body) == {"Type": "User", "message": "why"}


INVOKE = "/2015-03-31/functions/f/invocations"


@pytest.mark.parametrize("url,headers,length,limit", [
    (INVOKE, {}, 6 * 1024 * 1024 + 1, 6 * 1024 * 1024),
    (INVOKE, {"x-amz-invocation-type": "Event"}, 1024 * 1024 + 1, 1024 * 1024),
    ("/2014-11-13/functions/f/invoke-async", {}, 2 * 1024 * 1024, 1024 * 1024),
])
def test_invoke_over_its_payload_limit_is_refused_by_its_length(check, url, headers, length, limit):
    resp = check("POST", url, headers, length)
    assert resp is not None and resp.status == 413
    assert dict(resp.headers)["x-amzn-ErrorType"] == "RequestEntityTooLargeException"
    assert json.loads(resp.body)["message"] == f"Request must be smaller than {limit} bytes for the InvokeFunction operation"


def test_other_requests_are_left_to_the_normal_path(check):
    assert check("POST", INVOKE, {}, 6 * 1024 * 1024) is None
    assert check("POST", "/2015-03-31/functions", {}, 60 * 1024 * 1024) is None  # a big CreateFunction
    assert check("POST", "/not/an/operation", {}, 10**9) is None
    over = check("POST", "/2015-03-31/functions", {}, DEFAULT.request_body_max_bytes + 1)
    assert over.status == 413 and b"CreateFunction operation" in over.body
    assert smallest(DEFAULT) == DEFAULT.async_payload_max_bytes
