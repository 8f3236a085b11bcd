"""lamb.sources.filtering against the examples of AWS's "Lambda event filtering" pages.

https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html (filter rule
syntax table), with-sqs-filtering.html, with-kinesis-filtering.html,
with-ddb-filtering.html; cidr, wildcard and anything-but forms from EventBridge's content
filtering page, whose grammar Lambda shares.
"""

from __future__ import annotations

import base64
import json

import pytest

from lamb.sources.filtering import (
    FilterError, compile_criteria, dynamodb_view, kinesis_view, parse_pattern, sqs_view,
)


def match(pattern: dict, doc) -> bool:
    return parse_pattern(json.dumps(pattern)).matches(doc)


# The "Filter rule syntax" table: (rule, a matching record, a record that does not match).
SYNTAX_TABLE = [
    ({"UserID": [None]}, {"UserID": None}, {"UserID": "x"}),  # Null
    ({"LastName": [""]}, {"LastName": ""}, {"LastName": "Doe"}),  # Empty
    ({"Name": ["Alice"]}, {"Name": "Alice"}, {"Name": "alice"}),  # Equals
    ({"Name": [{"equals-ignore-case": "alice"}]}, {"Name": "ALICE"}, {"Name": "Bob"}),  # Equals (ignore case)
    ({"Location": ["New York"], "Day": ["Monday"]}, {"Location": "New York", "Day": "Monday"},
     {"Location": "New York", "Day": "Tuesday"}),  # And
    ({"PaymentType": ["Credit", "Debit"]}, {"PaymentType": "Debit"}, {"PaymentType": "Cash"}),  # Or
    ({"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}, {"Location": "Paris", "Day": "Monday"},
     {"Location": "Paris", "Day": "Friday"}),  # Or (multiple fields)
    ({"Weather": [{"anything-but": ["Raining"]}]}, {"Weather": "Sunny"}, {"Weather": "Raining"}),  # Not
    ({"Price": [{"numeric": ["=", 100]}]}, {"Price": 100.0}, {"Price": 101}),  # Numeric (equals)
    ({"Price": [{"numeric": [">", 10, "<=", 20]}]}, {"Price": 20}, {"Price": 10}),  # Numeric (range)
    ({"ProductName": [{"exists": True}]}, {"ProductName": "Lamb"}, {"Other": 1}),  # Exists
    ({"ProductName": [{"exists": False}]}, {"Other": 1}, {"ProductName": "Lamb"}),  # Does not exist
    ({"Region": [{"prefix": "us-"}]}, {"Region": "us-east-1"}, {"Region": "eu-west-1"}),  # Begins with
    ({"FileName": [{"suffix": ".png"}]}, {"FileName": "cat.png"}, {"FileName": "cat.jpg"}),  # Ends with
]


@pytest.mark.parametrize("pattern,yes,no", SYNTAX_TABLE)
def test_rule_syntax_table(pattern, yes, no):
    assert match(pattern, yes)
    assert not match(pattern, no)


@pytest.mark.parametrize("pattern,yes,no", [
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "10.0.0.255"}, {"ip": "10.0.1.0"}),
    ({"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": "2001:db8::1"}, {"ip": "2001:db9::1"}),
    ({"f": [{"wildcard": "dir/*.png"}]}, {"f": "dir/a/b.png"}, {"f": "dir/b.jpg"}),
    ({"arn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]},
     {"arn": "arn:aws:events:us-east-1:123456789012:event-bus/b"}, {"arn": "arn:aws:sqs:us-east-1:1:q"}),
    ({"f": [{"wildcard": "a\\*b"}]}, {"f": "a*b"}, {"f": "axb"}),
    ({"state": [{"anything-but": {"prefix": "init"}}]}, {"state": "running"}, {"state": "initializing"}),
    ({"f": [{"anything-but": {"suffix": ".txt"}}]}, {"f": "a.png"}, {"f": "a.txt"}),
    ({"s": [{"anything-but": {"equals-ignore-case": ["Stopped", "Overloaded"]}}]}, {"s": "running"}, {"s": "STOPPED"}),
    ({"f": [{"anything-but": {"wildcard": "*.txt"}}]}, {"f": "a.png"}, {"f": "a.txt"}),
    ({"x": [{"anything-but": [100, 200]}]}, {"x": 150}, {"x": 200}),
    ({"x": [{"anything-but": "initializing"}]}, {"x": "running"}, {"x": "initializing"}),
    ({"t": [{"prefix": {"equals-ignore-case": "EventB"}}]}, {"t": "eventbridge"}, {"t": "sqs"}),
    ({"t": [{"suffix": {"equals-ignore-case": ".PNG"}}]}, {"t": "a.png"}, {"t": "a.jpg"}),
    ({"flag": [True]}, {"flag": True}, {"flag": 1}),
])
def test_more_operators(pattern, yes, no):
    assert match(pattern, yes)
    assert not match(pattern, no)


def test_arrays_match_when_any_element_matches():
    assert match({"tags": ["b"]}, {"tags": ["a", "b"]})
    assert not match({"tags": ["c"]}, {"tags": ["a", "b"]})
    assert match({"items": {"id": [2]}}, {"items": [{"id": 1}, {"id": 2}]})


def test_nested_or_and_exists_on_missing_parent():
    p = {"a": {"b": [{"exists": False}]}}
    assert match(p, {"c": 1})
    assert not match(p, {"a": {"b": 1}})
    assert not match({"a": [{"anything-but": ["x"]}]}, {})  # anything-but needs the field
    assert not match({"a": [{"exists": True}]}, {"a": {"nested": 1}})  # exists looks at leaves


# ------------------------------------------------------------------ SQS bodies
SQS_RECORD = {
    "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d", "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
    "body": "{\n \"RecordNumber\": 1234,\n \"TimeStamp\": \"yyyy-mm-ddThh:mm:ss\",\n \"RequestCode\": \"AAAA\"\n}",
    "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"},
    "messageAttributes": {}, "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3", "eventSource": "aws:sqs",
    "eventSourceARN": "arn:aws:sqs:us-west-2:123456789012:my-queue", "awsRegion": "us-west-2",
}


def test_sqs_page_examples():
    view = sqs_view(SQS_RECORD)
    assert not match({"body": {"RequestCode": ["BBBB"]}}, view)
    assert match({"body": {"RequestCode": ["AAAA"]}}, view)
    assert not match({"body": {"RecordNumber": [{"numeric": [">", 9999]}]}}, view)
    assert match({"body": {"RecordNumber": [{"numeric": [">", 999]}]}}, view)


def test_sqs_plain_string_and_json_bodies():
    plain = sqs_view({**SQS_RECORD, "body": "this is a test string"})
    as_json = sqs_view({**SQS_RECORD, "body": json.dumps({"my-key": "my-value"})})
    # A JSON pattern on body: a plain-string body is dropped.
    assert not match({"body": {"my-key": ["my-value"]}}, plain)
    assert match({"body": {"my-key": ["my-value"]}}, as_json)
    # A plain-string pattern on body: matches the plain body, drops a JSON body.
    assert match({"body": [{"prefix": "this is"}]}, plain)
    assert match({"body": ["this is a test string"]}, plain)
    assert not match({"body": [{"prefix": "{"}]}, as_json)
    # Metadata properties filter whatever the body is.
    assert match({"attributes": {"ApproximateReceiveCount": ["1"]}}, plain)


# ------------------------------------------------------------------ Kinesis, DynamoDB
def kinesis_record(data: bytes) -> dict:
    return {"kinesis": {"partitionKey": "1", "sequenceNumber": "4959", "data": base64.b64encode(data).decode(),
                        "approximateArrivalTimestamp": 1545084650.987},
            "eventSource": "aws:kinesis", "eventName": "aws:kinesis:record"}


def test_kinesis_page_examples():
    rec = kinesis_view(kinesis_record(json.dumps({"City": "Seattle", "State": "WA", "Temperature": "46"}).encode()))
    assert match({"data": {"City": ["Seattle"]}}, rec["kinesis"])
    assert match({"data": {"City": ["Seattle"]}}, rec) and not match({"data": {"City": ["Boston"]}}, rec)
    assert match({"kinesis": {"partitionKey": ["1"], "data": {"State": ["WA"]}}}, rec)
    assert not match({"kinesis": {"data": {"City": ["Boston"]}}}, rec)
    plain = kinesis_view(kinesis_record(b"Result: ok"))
    assert match({"kinesis": {"data": [{"prefix": "Result: "}]}}, plain)
    binary = kinesis_view(kinesis_record(b"\xff\xfe\x00"))
    assert not match({"kinesis": {"data": [{"exists": True}]}}, binary)
    assert match({"kinesis": {"partitionKey": ["1"]}}, binary)


def test_dynamodb_page_examples():
    rec = dynamodb_view({
        "eventName": "INSERT", "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {"CustomerName": {"S": "AnyCompany Industries"}},
                     "NewImage": {"AccountManager": {"S": "Pat Candella"}, "PaymentTerms": {"S": "60 days"}}},
    })
    assert match({"dynamodb": {"Keys": {"CustomerName": {"S": ["AnyCompany Industries"]}}}}, rec)
    assert match({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"PaymentTerms": {"S": [{"prefix": "60"}]}}}}, rec)
    assert not match({"eventName": ["REMOVE"]}, rec)


# ------------------------------------------------------------------ criteria and validation
def test_criteria_or_and_empty():
    c = compile_criteria({"Filters": [{"Pattern": '{"a": [1]}'}, {"Pattern": '{"b": [2]}'}]}, 5)
    assert c.matches({"b": 2}) and not c.matches({"a": 2})
    assert compile_criteria({"Filters": []}, 5).matches({"anything": 1})
    assert compile_criteria(None, 5).matches({})


@pytest.mark.parametrize("bad", [
    None, "", "null", '"simple string"', "[]", "{}", "not json",
    '{"eventSource": "aws:sqs"}', '{"eventSource": []}', '{"a": [[1]]}',
    '{"a": [{"prefix": 1}]}', '{"a": [{"unknown-op": 1}]}', '{"a": [{"prefix": "x", "suffix": "y"}]}',
    '{"a": [{"numeric": ["<", 10, ">", 1]}]}', '{"a": [{"numeric": [">", "1"]}]}', '{"a": [{"numeric": ["!", 1]}]}',
    '{"a": [{"numeric": [">", 5, "<", 1]}]}', '{"a": [{"exists": "yes"}]}', '{"a": [{"cidr": "10.0.0.0/99"}]}',
    '{"a": [{"wildcard": "a**b"}]}', '{"a": [{"anything-but": []}]}', '{"a": [{"anything-but": ["x", 1]}]}',
    '{"a": [{"anything-but": {"numeric": [">", 1]}}]}', '{"$or": [{"a": [1]}]}', '{"$or": {"a": [1]}}',
])
def test_invalid_patterns(bad):
    with pytest.raises(FilterError):
        compile_criteria({"Filters": [{"Pattern": bad}]}, 5)


def test_at_most_five_filters():
    six = {"Filters": [{"Pattern": '{"a": [%d]}' % i} for i in range(6)]}
    with pytest.raises(FilterError):
        compile_criteria(six, 5)
    assert compile_criteria({"Filters": six["Filters"][:5]}, 5)
