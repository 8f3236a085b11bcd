"""PutEvents on Lamb's default bus with the AWS CLI: rules with an EventPattern deliver matching
events to their Lambda targets (whole event, InputPath, InputTransformer), only with the
function's permission for the rule; refused entries and patterns get AWS's answers."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from .awscli import aws_json
from .conftest import create, unique, wait_for
from .test_schedules import ECHO, allow_rule, received, service


def _entries(*items: tuple[str, str, dict]) -> str:
    return json.dumps([{"Source": s, "DetailType": t, "Detail": json.dumps(d)} for s, t, d in items])


def test_put_events_reach_rules_whose_pattern_matches(lamb_server):
    lam, events = lamb_server.client(), service(lamb_server, "events")
    fn = unique("bus")
    arn = create(lam, fn, ECHO)["FunctionArn"]
    orders = unique("orders")
    pattern = {"source": ["shop.orders"], "detail-type": [{"prefix": "Order "}],
               "detail": {"total": [{"numeric": [">=", 100]}], "country": [{"anything-but": ["XX"]}],
                          "$or": [{"vip": [True]}, {"coupon": [{"exists": True}]}]}}
    rule_arn = aws_json(lamb_server, "put-rule", "--name", orders, "--event-pattern", json.dumps(pattern),
                        service="events")["RuleArn"]
    assert json.loads(events.describe_rule(Name=orders)["EventPattern"]) == pattern
    targets = [{"Id": "whole", "Arn": arn},
               {"Id": "shaped", "Arn": arn, "InputTransformer": {
                   "InputPathsMap": {"total": "$.detail.total", "src": "$.source"},
                   "InputTemplate": '{"shaped": true, "total": <total>, "from": "<src>", "rule": "<aws.events.rule-name>"}'}}]
    assert events.put_targets(Rule=orders, Targets=targets)["FailedEntryCount"] == 0

    before = aws_json(lamb_server, "put-events", "--entries", _entries(
        ("shop.orders", "Order Placed", {"total": 150, "country": "FR", "vip": True, "n": 0})), service="events")
    assert before["FailedEntryCount"] == 0 and before["Entries"][0]["EventId"]
    allow_rule(lam, fn, rule_arn)  # events put before the permission existed were not delivered
    out = aws_json(lamb_server, "put-events", "--entries", _entries(
        ("shop.orders", "Order Placed", {"total": 150, "country": "FR", "vip": True, "n": 1}),
        ("shop.orders", "Order Placed", {"total": 50, "country": "FR", "vip": True, "n": 2}),       # total too low
        ("shop.orders", "Order Placed", {"total": 500, "country": "XX", "coupon": "c", "n": 3}),   # country excluded
        ("shop.orders", "Refund Issued", {"total": 500, "country": "DE", "coupon": "c", "n": 4}),  # detail-type
        ("shop.orders", "Order Shipped", {"total": 100, "country": "DE", "coupon": None, "n": 5}),
        ("other", "Order Placed", {"total": 500, "country": "DE", "vip": True, "n": 6})), service="events")
    assert out["FailedEntryCount"] == 0 and len({e["EventId"] for e in out["Entries"]}) == 6

    def got() -> list:
        return received(lamb_server, fn)

    wait_for(lambda: len(got()) >= 4, 60, 0.2, "two events at two targets")
    whole = sorted((e for e in got() if "detail" in e), key=lambda e: e["detail"]["n"])
    assert [e["detail"]["n"] for e in whole] == [1, 5]
    e = whole[0]
    assert (e["version"], e["source"], e["detail-type"], e["account"], e["region"]) == (
        "0", "shop.orders", "Order Placed", lamb_server.account_id, lamb_server.region)
    assert e["id"] == out["Entries"][0]["EventId"] and e["resources"] == [] and e["time"].endswith("Z")
    shaped = sorted((e for e in got() if e.get("shaped")), key=lambda e: e["total"])
    assert shaped == [{"shaped": True, "total": 100, "from": "shop.orders", "rule": orders},
                      {"shaped": True, "total": 150, "from": "shop.orders", "rule": orders}]

    # a disabled rule delivers nothing: an enabled one put in the same request arrives, it does not
    sentinel = unique("sentinel")
    allow_rule(lam, fn, events.put_rule(Name=sentinel, EventPattern='{"source": ["sentinel"]}')["RuleArn"])
    events.put_targets(Rule=sentinel, Targets=[{"Id": "1", "Arn": arn}])
    events.disable_rule(Name=orders)
    events.put_events(Entries=[{"Source": "shop.orders", "DetailType": "Order X", "Detail": json.dumps(
        {"total": 999, "country": "FR", "vip": True, "n": 7})}, {"Source": "sentinel", "DetailType": "s", "Detail": "{}"}])
    wait_for(lambda: any(e.get("source") == "sentinel" for e in got()), 60, 0.2, "the sentinel event")
    assert all(e.get("detail", {}).get("n") != 7 and e.get("total") != 999 for e in got())
    for rule, ids in ((orders, ["whole", "shaped"]), (sentinel, ["1"])):
        events.remove_targets(Rule=rule, Ids=ids)
        events.delete_rule(Name=rule)


def test_refused_entries_and_patterns(lamb_server):
    events = service(lamb_server, "events")
    out = events.put_events(Entries=[
        {"DetailType": "t", "Detail": "{}"},
        {"Source": "s", "Detail": "{}"},
        {"Source": "s", "DetailType": "t"},
        {"Source": "s", "DetailType": "t", "Detail": "not json"},
        {"Source": "s", "DetailType": "t", "Detail": "[1]"},
        {"Source": "s", "DetailType": "t", "Detail": "{}", "EventBusName": "orders"},
        {"Source": "s", "DetailType": "t", "Detail": "{}"}])
    assert out["FailedEntryCount"] == 6
    assert [(e.get("ErrorCode"), e.get("ErrorMessage")) for e in out["Entries"][:6]] == [
        ("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."),
        ("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."),
        ("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument."),
        ("MalformedDetail", "Detail is malformed."), ("MalformedDetail", "Detail is malformed."),
        ("ResourceNotFoundException", "Event bus orders does not exist.")]
    assert "EventId" in out["Entries"][6]
    with pytest.raises(ClientError) as e:
        events.put_events(Entries=[{"Source": "s", "DetailType": "t", "Detail": json.dumps({"x": "y" * 262_144})}])
    assert e.value.response["Error"] == {"Code": "ValidationException",
                                         "Message": "Total size of the entries in the request is over the limit."}
    for bad in ('{"source": "aws.ec2"}', '{"source": [{"nope": 1}]}', "{bad"):
        with pytest.raises(ClientError) as e:
            events.put_rule(Name=unique("bad"), EventPattern=bad)
        assert e.value.response["Error"]["Code"] == "InvalidEventPatternException"
        assert e.value.response["Error"]["Message"].startswith("Event pattern is not valid. Reason: ")

    event = {"id": "1", "account": "1", "source": "a.b", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
             "detail-type": "x", "detail": {"ip": "10.0.0.7", "name": "Report.PDF"}}
    for pattern, result in (({"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}, True),
                            ({"detail": {"name": [{"wildcard": "*.pdf"}]}}, False),
                            ({"detail": {"name": [{"equals-ignore-case": "report.pdf"}]}}, True),
                            ({"source": [{"suffix": ".b"}]}, True)):
        assert events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))["Result"] is result
    with pytest.raises(ClientError) as e:
        events.test_event_pattern(EventPattern='{"source": ["a"]}', Event='{"source": "a"}')
    assert e.value.response["Error"] == {"Code": "ValidationException", "Message": "Parameter Event is not valid."}
