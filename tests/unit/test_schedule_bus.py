"""schedules/bus.py: PutEvents entries → events, and rules' patterns (EventBridge's documented examples)."""

from __future__ import annotations

import datetime as dt
import json

from lamb.schedules import bus
from lamb.sources.filtering import parse_pattern

# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html (the EC2 example)
EC2 = {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "EC2 Instance State-change Notification",
       "source": "aws.ec2", "account": "111122223333", "time": "2017-12-22T18:43:48Z", "region": "us-west-1",
       "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
       "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated",
                  "c-count": 5, "d-count": 3, "x-limit": 301.8, "source-ip": "10.0.0.123"}}


def test_entry_errors_and_size():
    assert bus.entry_error({"Source": "s", "DetailType": "t", "Detail": "{}"}) is None
    assert bus.entry_error({"DetailType": "t", "Detail": "{}"}) == (
        "InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.")
    assert bus.entry_error({"Source": "s", "DetailType": "t", "Detail": "1"}) == ("MalformedDetail", "Detail is malformed.")
    assert bus.entry_size({"Time": 1, "Source": "é", "DetailType": "ab", "Detail": "{}", "Resources": ["r1"]}) == 14 + 2 + 2 + 2 + 2


def test_envelope():
    entry = {"Source": "shop", "DetailType": "Order", "Detail": '{"n": 1}', "Resources": ["arn:x"],
             "Time": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)}
    e = bus.envelope(entry, region="eu-west-1", account="123", now=0, event_id="id-1")
    assert e == {"version": "0", "id": "id-1", "detail-type": "Order", "source": "shop", "account": "123",
                 "time": "2026-01-02T03:04:05Z", "region": "eu-west-1", "resources": ["arn:x"], "detail": {"n": 1}}
    assert bus.envelope(dict(entry, Time=None), region="r", account="a", now=86400)["time"] == "1970-01-02T00:00:00Z"


def test_documented_patterns_on_the_ec2_event():
    cache = bus.PatternCache(parse_pattern)
    yes = [{"source": ["aws.ec2"], "detail": {"state": ["terminated", "stopped"]}},
           {"detail": {"instance-id": [{"prefix": "i-12"}]}},
           {"detail": {"state": [{"anything-but": ["running", "pending"]}]}},
           {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "x-limit": [{"numeric": ["=", 301.8]}]}},
           {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}},
           {"detail": {"state": [{"equals-ignore-case": "TERMINATED"}]}},
           {"detail": {"instance-id": [{"wildcard": "i-*def0"}]}},
           {"detail": {"missing": [{"exists": False}]}},
           {"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"]},
           {"$or": [{"detail": {"c-count": [1]}}, {"detail": {"d-count": [3]}}]},
           {"detail-type": [{"suffix": "Notification"}]}]
    no = [{"source": ["aws.s3"]}, {"detail": {"state": [{"anything-but": {"prefix": "term"}}]}},
          {"detail": {"c-count": [{"numeric": [">", 5]}]}}, {"detail": {"instance-id": [{"exists": False}]}},
          {"detail": {"state": ["Terminated"]}}, {"$or": [{"detail": {"c-count": [1]}}, {"detail": {"d-count": [4]}}]}]
    assert [cache.matches(json.dumps(p), EC2) for p in yes] == [True] * len(yes)
    assert [cache.matches(json.dumps(p), EC2) for p in no] == [False] * len(no)


def test_pattern_cache_compiles_once():
    calls = []

    def compile_pattern(text):
        calls.append(text)
        return parse_pattern(text)

    cache = bus.PatternCache(compile_pattern, size=2)
    for _ in range(3):
        cache.matches('{"source": ["aws.ec2"]}', EC2)
    assert calls == ['{"source": ["aws.ec2"]}']
