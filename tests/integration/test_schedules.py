"""Schedules end to end: the AWS CLI's ``aws events`` and boto3's ``scheduler`` client against a
real Lamb, functions invoked by ticks, durability across restarts, AWS's validation errors.

Schedules run on ``LAMB_SCHEDULE_TIME_SCALE=0.05`` (a rate(1 minute) rule ticks every 3 s);
tests wait on conditions (what the function logged), never on durations.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from .async_support import moto  # noqa: F401  (fixture)
from .awscli import aws, aws_json
from .conftest import create, unique, wait_for

SCALE = 0.05
MINUTE = 60 * SCALE
ROLE = "arn:aws:iam::000000000000:role/scheduler"
# The function logs every event it gets on one line.
ECHO = "import json\n\ndef handler(event, context):\n    print('EVENT ' + json.dumps(event))\n    return event\n"


def service(server, name: str):
    return server.client(name)


def received(server, fn: str) -> list:
    """Every event the function logged, oldest first."""
    group = quote(f"/aws/lambda/{fn}", safe="")
    out = []
    for stream in server.get_json(f"/_lamb/logs?group={group}")["streams"]:
        for _, line in server.get_json(f"/_lamb/logs?group={group}&stream={quote(stream, safe='')}")["events"]:
            if line.startswith("EVENT "):
                out.append(json.loads(line[6:]))
    return out


def at_expression(t: float) -> str:
    return "at(" + dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ")"


def iso_epoch(text: str) -> float:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp()


def allow_rule(lam, fn: str, rule_arn: str) -> None:
    """What a user must do on AWS before a rule can invoke a function: AddPermission for
    events.amazonaws.com with the rule as SourceArn."""
    lam.add_permission(FunctionName=fn, StatementId=unique("events"), Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com", SourceArn=rule_arn)


@pytest.fixture
def scaled(fresh_server):
    return fresh_server(env={"LAMB_SCHEDULE_TIME_SCALE": str(SCALE)})


def test_cli_put_rule_and_targets_fire_a_rate_rule_within_its_minute(scaled):
    lam = scaled.client()
    fn = unique("tick")
    arn = create(lam, fn, ECHO)["FunctionArn"]
    rule = unique("every-minute")
    aws(scaled, "add-permission", "--function-name", fn, "--statement-id", "events", "--action", "lambda:InvokeFunction",
        "--principal", "events.amazonaws.com",
        "--source-arn", f"arn:aws:events:{scaled.region}:{scaled.account_id}:rule/{rule}")
    before = time.time()
    rule_arn = aws_json(scaled, "put-rule", "--name", rule, "--schedule-expression", "rate(1 minute)",
                        service="events")["RuleArn"]
    after = time.time()
    assert rule_arn == f"arn:aws:events:{scaled.region}:{scaled.account_id}:rule/{rule}"
    out = aws_json(scaled, "put-targets", "--rule", rule, "--targets", f"Id=1,Arn={arn}", service="events")
    assert out == {"FailedEntryCount": 0, "FailedEntries": []}

    events = wait_for(lambda: received(scaled, fn), 60, 0.1, "the rule's first tick")
    first = events[0]
    assert first["detail-type"] == "Scheduled Event" and first["source"] == "aws.events"
    assert first["version"] == "0" and first["detail"] == {} and first["resources"] == [rule_arn]
    assert first["account"] == scaled.account_id and first["region"] == scaled.region
    # the tick is the rule's first (scaled) minute: one period after PutRule (``time`` has whole seconds)
    assert before + MINUTE - 1 <= iso_epoch(first["time"]) <= after + MINUTE

    described = aws_json(scaled, "describe-rule", "--name", rule, service="events")
    assert described["ScheduleExpression"] == "rate(1 minute)" and described["State"] == "ENABLED"
    assert aws_json(scaled, "list-targets-by-rule", "--rule", rule, service="events")["Targets"] == [{"Id": "1", "Arn": arn}]
    aws(scaled, "disable-rule", "--name", rule, service="events")
    assert aws_json(scaled, "describe-rule", "--name", rule, service="events")["State"] == "DISABLED"
    aws(scaled, "remove-targets", "--rule", rule, "--ids", "1", service="events")
    aws(scaled, "delete-rule", "--name", rule, service="events")
    bad = aws(scaled, "describe-rule", "--name", rule, check=False, service="events")
    assert bad.returncode != 0 and "ResourceNotFoundException" in bad.stderr
    assert f"Rule {rule} does not exist on EventBus default." in bad.stderr


def test_input_transformer_reaches_the_function(scaled):
    lam, events = scaled.client(), service(scaled, "events")
    fn = unique("xform")
    arn = create(lam, fn, ECHO)["FunctionArn"]
    rule = unique("xf")
    allow_rule(lam, fn, events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)")["RuleArn"])
    events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": arn, "InputTransformer": {
        "InputPathsMap": {"when": "$.time"}, "InputTemplate": '{"at": <when>, "rule": "<aws.events.rule-name>"}'}}])
    got = wait_for(lambda: received(scaled, fn), 60, 0.1, "a transformed event")[0]
    assert got["rule"] == rule and got["at"].endswith("Z")


def test_scheduler_create_schedule_with_boto3(scaled):
    lam, scheduler = scaled.client(), service(scaled, "scheduler")
    fn = unique("sched")
    arn = create(lam, fn, ECHO)["FunctionArn"]
    name = unique("s")
    schedule_arn = scheduler.create_schedule(
        Name=name, ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": ROLE,
                "Input": '{"schedule": "<aws.scheduler.schedule-arn>", "at": "<aws.scheduler.scheduled-time>"}'},
    )["ScheduleArn"]
    assert schedule_arn == f"arn:aws:scheduler:{scaled.region}:{scaled.account_id}:schedule/default/{name}"
    got = wait_for(lambda: received(scaled, fn), 60, 0.1, "the schedule's first tick")[0]
    assert got["schedule"] == schedule_arn and got["at"].endswith("Z")
    described = scheduler.get_schedule(Name=name)
    assert described["ScheduleExpression"] == "rate(1 minute)" and described["Target"]["Arn"] == arn
    assert described["FlexibleTimeWindow"] == {"Mode": "OFF"} and described["State"] == "ENABLED"
    assert [s["Name"] for s in scheduler.list_schedules(NamePrefix=name)["Schedules"]] == [name]
    scheduler.update_schedule(Name=name, ScheduleExpression="cron(0 12 * * ? *)", ScheduleExpressionTimezone="Europe/Paris",
                              FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
                              Target={"Arn": arn, "RoleArn": ROLE}, State="DISABLED")
    updated = scheduler.get_schedule(Name=name)
    assert updated["ScheduleExpressionTimezone"] == "Europe/Paris" and updated["State"] == "DISABLED"
    assert scheduler.list_schedules(State="DISABLED", NamePrefix=name)["Schedules"][0]["Name"] == name
    scheduler.delete_schedule(Name=name)
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule(Name=name)

    # a one-time schedule fires once, then ActionAfterCompletion DELETE removes it
    once = unique("once")
    scheduler.create_schedule(Name=once, ScheduleExpression=at_expression(time.time() + 5),
                              FlexibleTimeWindow={"Mode": "OFF"}, ActionAfterCompletion="DELETE",
                              Target={"Arn": arn, "RoleArn": ROLE, "Input": '{"once": true}'})

    def deleted() -> bool:
        try:
            scheduler.get_schedule(Name=once)
            return False
        except scheduler.exceptions.ResourceNotFoundException:
            return True

    wait_for(deleted, 60, 0.1, "the one-time schedule to run and be deleted")
    assert sum(1 for e in received(scaled, fn) if e.get("once")) == 1


def test_ticks_fire_once_across_a_restart_and_missed_ticks_follow_the_rule(scaled):
    lam, events, scheduler = scaled.client(), service(scaled, "events"), service(scaled, "scheduler")
    fn = unique("durable")
    arn = create(lam, fn, ECHO)["FunctionArn"]
    rule = unique("beat")
    allow_rule(lam, fn, events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)")["RuleArn"])
    events.put_targets(Rule=rule, Targets=[{"Id": "1", "Arn": arn}])
    wait_for(lambda: len(received(scaled, fn)) >= 2, 60, 0.1, "two ticks before the restart")

    # Due while Lamb is down: one young enough to be fired late, one older than its maximum event age.
    due = time.time() + 12  # time enough to stop Lamb on a loaded host
    for name, age in (("late", 86400), ("stale", 60)):  # 60 s scaled: 3 s
        scheduler.create_schedule(Name=unique(name), ScheduleExpression=at_expression(due),
                                  FlexibleTimeWindow={"Mode": "OFF"},
                                  Target={"Arn": arn, "RoleArn": ROLE, "Input": json.dumps({"which": name}),
                                          "RetryPolicy": {"MaximumEventAgeInSeconds": age, "MaximumRetryAttempts": 0}})
    scaled.terminate()
    assert time.time() < due, "Lamb took too long to stop: the one-time ticks were not missed"
    wait_for(lambda: time.time() > due + 60 * SCALE + 2, 30, 0.2, "both one-time ticks to pass while Lamb is down")
    restarted = int(time.time()) + 1
    scaled.restart()

    wait_for(lambda: len([e for e in received(scaled, fn) if "which" not in e and iso_epoch(e["time"]) > restarted]) >= 2,
             60, 0.1, "two rule ticks after the restart")
    after = received(scaled, fn)
    beats = [e["time"] for e in after if "which" not in e]
    assert len(beats) == len(set(beats)), f"a tick fired twice: {beats}"
    # the ticks missed while down coalesced into one, then the rule went on each period
    assert [e["which"] for e in after if "which" in e] == ["late"]


def test_undeliverable_ticks_go_to_the_dead_letter_queue(fresh_server, moto):
    """A target that cannot be invoked (no such function: not retried) sends the tick's payload to its
    DeadLetterConfig queue (SQS in moto) with the error in message attributes."""
    server = fresh_server(env={**moto.env(), "LAMB_SCHEDULE_TIME_SCALE": str(SCALE)})
    events, scheduler = service(server, "events"), service(server, "scheduler")
    url, queue = moto.queue(unique("dlq"))
    missing = server.arn(unique("missing"))
    rule = unique("dead")
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule=rule, Targets=[{"Id": "gone", "Arn": missing, "DeadLetterConfig": {"Arn": queue}}])
    letter = moto.receive(url, 1, 60)[0]  # one a tick: a later tick may have come too
    events.remove_targets(Rule=rule, Ids=["gone"])
    body = json.loads(letter["Body"])
    assert body["detail-type"] == "Scheduled Event" and body["resources"] == [rule_arn]
    attrs = {k: v["StringValue"] for k, v in letter["MessageAttributes"].items()}
    assert attrs["RULE_ARN"] == rule_arn and attrs["TARGET_ARN"] == missing
    assert attrs["ERROR_CODE"] == "ResourceNotFoundException" and missing in attrs["ERROR_MESSAGE"]

    name = unique("dead")
    url, queue = moto.queue(unique("dlq"))
    scheduler.create_schedule(Name=name, ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"},
                              Target={"Arn": missing, "RoleArn": ROLE, "Input": '{"k": 1}',
                                      "DeadLetterConfig": {"Arn": queue}})
    letter = moto.receive(url, 1, 60)[0]
    scheduler.delete_schedule(Name=name)
    assert json.loads(letter["Body"]) == {"k": 1}
    attrs = {k: v["StringValue"] for k, v in letter["MessageAttributes"].items()}
    assert attrs["X-Amz-Scheduler-Error-Code"] == "ResourceNotFoundException"
    assert attrs["X-Amz-Scheduler-Schedule-Arn"].endswith(f"schedule/default/{name}")


def test_a_rule_without_permission_does_not_invoke(fresh_server, moto):
    """No resource policy statement for events.amazonaws.com (or one for another rule): the tick
    is not delivered; it goes to the target's dead-letter queue with AccessDeniedException."""
    server = fresh_server(env={**moto.env(), "LAMB_SCHEDULE_TIME_SCALE": str(SCALE)})
    lam, events = server.client(), service(server, "events")
    fn = unique("denied")
    arn = create(lam, fn, ECHO)["FunctionArn"]
    allow_rule(lam, fn, f"arn:aws:events:{server.region}:{server.account_id}:rule/{unique('other')}")
    url, queue = moto.queue(unique("dlq"))
    rule = unique("nope")
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": arn, "DeadLetterConfig": {"Arn": queue}}])
    letter = moto.receive(url, 1, 60)[0]
    attrs = {k: v["StringValue"] for k, v in letter["MessageAttributes"].items()}
    assert attrs["RULE_ARN"] == rule_arn and attrs["TARGET_ARN"] == arn
    assert attrs["ERROR_CODE"] == "AccessDeniedException" and "events.amazonaws.com" in attrs["ERROR_MESSAGE"]
    assert json.loads(letter["Body"])["resources"] == [rule_arn]
    assert received(server, fn) == []
    # once allowed, the next tick reaches the function
    allow_rule(lam, fn, rule_arn)
    wait_for(lambda: received(server, fn), 60, 0.1, "a tick after AddPermission")
    events.remove_targets(Rule=rule, Ids=["t"])


def test_validation_errors(lamb_server):
    events, scheduler = service(lamb_server, "events"), service(lamb_server, "scheduler")
    for bad in ("rate(1 minutes)", "rate(5 minute)", "cron(0 10 * * *)", "cron(0 10 * * * *)", "at(2030-01-01T00:00:00)"):
        with pytest.raises(ClientError) as e:
            events.put_rule(Name=unique("bad"), ScheduleExpression=bad)
        assert e.value.response["Error"] == {"Code": "ValidationException", "Message": "Parameter ScheduleExpression is not valid."}
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=unique("none"))
    assert e.value.response["Error"]["Message"] == "Parameter(s) EventPattern or ScheduleExpression must be specified."
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=unique("pattern"), EventPattern='{"source": "aws.ec2"}')
    assert e.value.response["Error"] == {"Code": "InvalidEventPatternException",
                                         "Message": 'Event pattern is not valid. Reason: "source" must be an object or an array'}
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.put_targets(Rule=unique("missing"), Targets=[{"Id": "1", "Arn": lamb_server.arn("f")}])

    rule = unique("v")
    events.put_rule(Name=rule, ScheduleExpression="cron(0 12 ? * MON-FRI *)")
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=rule, Targets=[{"Id": "t1", "Arn": lamb_server.arn("f"), "Input": "{}", "InputPath": "$.detail"}])
    assert e.value.response["Error"]["Message"] == "Only one of Input, InputPath, or InputTransformer must be provided for target t1."
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=rule, Targets=[{"Id": "t1", "Arn": lamb_server.arn("f"),
                                               "InputTransformer": {"InputTemplate": '{"a": <nope>}'}}])
    assert e.value.response["Error"]["Message"] == "InputTemplate for target t1 contains invalid placeholder nope."
    events.put_targets(Rule=rule, Targets=[{"Id": str(i), "Arn": lamb_server.arn("f")} for i in range(5)])
    with pytest.raises(events.exceptions.LimitExceededException):
        events.put_targets(Rule=rule, Targets=[{"Id": "6", "Arn": lamb_server.arn("f")}])
    with pytest.raises(ClientError) as e:
        events.delete_rule(Name=rule)
    assert e.value.response["Error"]["Message"] == "Rule can't be deleted since it has targets."
    events.remove_targets(Rule=rule, Ids=[str(i) for i in range(5)])
    events.delete_rule(Name=rule)
    events.delete_rule(Name=rule)  # deleting a rule that is gone succeeds

    tagged = unique("tags")
    tagged_arn = events.put_rule(Name=tagged, ScheduleExpression="rate(1 day)", Tags=[{"Key": "team", "Value": "a"}])["RuleArn"]
    events.tag_resource(ResourceARN=tagged_arn, Tags=[{"Key": "env", "Value": "test"}])
    events.untag_resource(ResourceARN=tagged_arn, TagKeys=["team"])
    assert events.list_tags_for_resource(ResourceARN=tagged_arn)["Tags"] == [{"Key": "env", "Value": "test"}]
    events.put_targets(Rule=tagged, Targets=[{"Id": "1", "Arn": lamb_server.arn("by-target")}])
    assert events.list_rule_names_by_target(TargetArn=lamb_server.arn("by-target"))["RuleNames"] == [tagged]

    prefix = unique("page")
    for i in range(3):
        events.put_rule(Name=f"{prefix}-{i}", ScheduleExpression="rate(5 minutes)", State="DISABLED")
    first = events.list_rules(NamePrefix=prefix, Limit=2)
    second = events.list_rules(NamePrefix=prefix, Limit=2, NextToken=first["NextToken"])
    assert [r["Name"] for r in first["Rules"] + second["Rules"]] == [f"{prefix}-{i}" for i in range(3)]
    assert "NextToken" not in second

    target = {"Arn": lamb_server.arn("f"), "RoleArn": ROLE}
    with pytest.raises(ClientError) as e:
        scheduler.create_schedule(Name=unique("s"), ScheduleExpression="rate(1 minutes)", FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
    assert e.value.response["Error"] == {"Code": "ValidationException", "Message": "Invalid Schedule Expression rate(1 minutes)."}
    name = unique("s")
    scheduler.create_schedule(Name=name, ScheduleExpression="cron(0 9 ? * 2#1 *)", FlexibleTimeWindow={"Mode": "OFF"},
                              Target=target, StartDate=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
    with pytest.raises(scheduler.exceptions.ConflictException):
        scheduler.create_schedule(Name=name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
    token_name = unique("token")
    first = scheduler.create_schedule(Name=token_name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
                                      Target=target, ClientToken="retry-1")
    again = scheduler.create_schedule(Name=token_name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
                                      Target=target, ClientToken="retry-1")  # a retried request
    assert again["ScheduleArn"] == first["ScheduleArn"]
    assert scheduler.get_schedule(Name=name)["StartDate"] == dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule(Name=name, GroupName="other")
    with pytest.raises(ClientError) as e:
        scheduler.create_schedule(Name=unique("s"), ScheduleExpression="rate(1 hour)", Target=target,
                                  FlexibleTimeWindow={"Mode": "FLEXIBLE"})
    assert e.value.response["Error"] == {"Code": "ValidationException", "Message":
                                         "MaximumWindowInMinutes must be provided when FlexibleTimeWindowMode is set to FLEXIBLE"}
    with pytest.raises(ClientError) as e:
        scheduler.create_schedule(Name=unique("s"), ScheduleExpression="rate(1 hour)", Target=target,
                                  FlexibleTimeWindow={"Mode": "OFF"}, ScheduleExpressionTimezone="Mars/Olympus")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    scheduler.delete_schedule(Name=name)
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.delete_schedule(Name=name)
