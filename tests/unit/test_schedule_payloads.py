"""lamb.schedules.payloads: the Scheduled Event, rule target inputs, Scheduler's context attributes.

https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-scheduled.html,
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html,
https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html
"""

from __future__ import annotations

import datetime as dt
import json

from lamb.schedules.payloads import render_template, rule_target_input, scheduled_event, scheduler_input, valid_path

ARN = "arn:aws:events:us-east-1:123456789012:rule/every-minute"
TICK = dt.datetime(2026, 12, 6, 10, 1, tzinfo=dt.timezone.utc).timestamp()


def event() -> dict:
    return scheduled_event(ARN, TICK, region="us-east-1", account="123456789012")


def test_scheduled_event_shape():
    e = event()
    assert set(e) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert e["version"] == "0" and e["detail-type"] == "Scheduled Event" and e["source"] == "aws.events"
    assert e["account"] == "123456789012" and e["region"] == "us-east-1"
    assert e["time"] == "2026-12-06T10:01:00Z" and e["resources"] == [ARN] and e["detail"] == {}
    assert len(e["id"]) == 36 and e["id"] != event()["id"]


def test_default_input_is_the_event():
    e = event()
    assert json.loads(rule_target_input({"Id": "1", "Arn": "x"}, e, rule_name="every-minute")) == e


def test_constant_input_and_input_path():
    e = event()
    assert rule_target_input({"Input": '{"k": 1}'}, e, rule_name="r") == b'{"k": 1}'
    assert json.loads(rule_target_input({"InputPath": "$.resources[0]"}, e, rule_name="r")) == ARN
    assert json.loads(rule_target_input({"InputPath": "$.detail"}, e, rule_name="r")) == {}
    assert json.loads(rule_target_input({"InputPath": "$"}, e, rule_name="r")) == e
    assert valid_path("$.a.b[2]") and not valid_path("a.b") and not valid_path("$..a")


def test_input_transformer():
    e = event()
    transformer = {"InputPathsMap": {"t": "$.time", "src": "$.source", "res": "$.resources"},
                   "InputTemplate": '{"when": <t>, "text": "from <src> at <t>", "res": <res>, "rule": "<aws.events.rule-name>"}'}
    out = json.loads(rule_target_input({"InputTransformer": transformer}, e, rule_name="every-minute"))
    assert out == {"when": "2026-12-06T10:01:00Z", "text": "from aws.events at 2026-12-06T10:01:00Z", "res": [ARN],
                   "rule": "every-minute"}
    plain = {"InputPathsMap": {"src": "$.source"}, "InputTemplate": "fired by <src>"}
    assert json.loads(rule_target_input({"InputTransformer": plain}, e, rule_name="r")) == "fired by aws.events"
    whole = {"InputTemplate": '{"e": <aws.events.event>}'}
    got = json.loads(rule_target_input({"InputTransformer": whole}, e, rule_name="r"))["e"]
    assert got["detailType"] == "Scheduled Event" and "detail" not in got


def test_render_template_escapes_inside_strings():
    assert render_template('{"a": "<v>"}', {"v": 'say "hi"'}) == '{"a": "say \\"hi\\""}'
    assert render_template('{"a": <v>}', {"v": {"x": 1}}) == '{"a": {"x":1}}'
    assert render_template('{"a": <unknown>}', {}) == '{"a": <unknown>}'


def test_scheduler_input_context_attributes():
    target = {"Input": '{"arn": "<aws.scheduler.schedule-arn>", "at": "<aws.scheduler.scheduled-time>", '
                       '"id": "<aws.scheduler.execution-id>", "n": "<aws.scheduler.attempt-number>"}'}
    out = json.loads(scheduler_input(target, schedule_arn="arn:s", tick=TICK, execution_id="e-1", attempt=2))
    assert out == {"arn": "arn:s", "at": "2026-12-06T10:01:00Z", "id": "e-1", "n": "2"}
    assert scheduler_input({}, schedule_arn="arn:s", tick=TICK, execution_id="e", attempt=1) == b"{}"
