"""Nesting depth of JSON documents, without recursion."""

import pytest

from lamb.protocol.json_depth import may_exceed, nesting_depth


@pytest.mark.parametrize(
    "doc,depth",
    [
        (b"{}", 1),
        (b"1", 0),
        (b"", 0),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'["[[[[", "{{{"]', 1),
        (b'{"k\\"[": "\\\\", "x": [[]]}', 3),
        (b"[" * 100_000 + b"]" * 100_000, 100_000),
        (b'{"a":' * 50_000, 50_000),
    ],
)
def test_depth(doc, depth):
    assert nesting_depth(doc) == depth


def test_may_exceed_only_counts_opening_brackets():
    assert not may_exceed(b"[]" * 10, 5) or nesting_depth(b"[]" * 10) == 1
    assert not may_exceed(b"[[]]", 5)
    assert may_exceed(b"[" * 6, 5)
    assert not may_exceed(b'"' + b"x" * 100 + b'"', 5)


@pytest.mark.parametrize(
    "payload",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000, b"[" * 1001 + b"]" * 1001],
)
def test_a_payload_nested_past_the_limit_gets_aws_parse_error(payload):
    from lamb.api.invoke import check_payload
    from lamb.protocol.errors import AwsError

    with pytest.raises(AwsError) as e:
        check_payload(payload, 6 * 1024 * 1024)
    assert (e.value.code, e.value.status) == ("InvalidRequestContentException", 400)
    assert e.value.message.startswith("Could not parse request body into json: Could not parse payload into json: "
                                      "Document nesting depth (1001) exceeds the maximum allowed (1000")


def test_a_payload_nested_to_the_limit_is_accepted():
    from lamb.api.invoke import check_payload

    payload = b"[" * 1000 + b"]" * 1000
    assert check_payload(payload, 6 * 1024 * 1024) is payload
