"""``lamb deploy`` of SAM's trigger events: SQS (an event source mapping on a moto queue with a
DLQ), Schedule (an EventBridge rule) and ScheduleV2 (a Scheduler schedule), against a real
``lamb serve`` that reaches moto for SQS. Results are checked through boto3 and through the
functions' side effect (each invocation POSTs its event to a sink in the test process).

Timings come from the server's settings: ``LAMB_SCHEDULE_TIME_SCALE=0.05`` (a rate(1 minute)
rule ticks every 3 s) and the pollers' short long-polls (``FAST_ESM_ENV``).
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from .async_support import moto, serving, sink  # noqa: F401  (fixtures)
from .conftest import unique, wait_for
from .deploy_support import deploy_env, lamb_cmd, write
from .esm_support import FAST_ESM_ENV, batch_fn, records_of

SAM = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"


@pytest.fixture(scope="module")
def trigger_server(moto, tmp_path_factory):
    yield from serving({**moto.env(), **FAST_ESM_ENV, "LAMB_SCHEDULE_TIME_SCALE": "0.05"},
                       tmp_path_factory, "deploy-triggers-server")


def _client(server, service: str):
    return server.client(service)


def _deploy(env, template, stack, *extra):
    return lamb_cmd("deploy", str(template), "--stack-name", stack, *extra, env=env).stdout


def _outputs(stdout: str) -> dict[str, str]:
    lines = stdout.split("Outputs:\n", 1)[1].splitlines()
    return {line.split()[0]: line.split()[1] for line in lines if line.startswith("  ")}


def _sqs_template(batch_size: int) -> str:
    return SAM + f"""
Resources:
  DeadLetters:
    Type: AWS::SQS::Queue
  Work:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 2
      RedrivePolicy: {{deadLetterTargetArn: !GetAtt DeadLetters.Arn, maxReceiveCount: 2}}
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: fn.handler
      CodeUri: code/
      Timeout: 1
      AutoPublishAlias: live
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Work.Arn
            BatchSize: {batch_size}
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig: {{MaximumConcurrency: 2}}
Outputs:
  Name: {{Value: !Ref Consumer}}
  Work: {{Value: !Ref Work}}
  WorkArn: {{Value: !GetAtt Work.Arn}}
  DeadLetters: {{Value: !Ref DeadLetters}}
  Mapping: {{Value: !Ref ConsumerJobs}}
"""


def test_sqs_consumer_with_a_dlq_deploys_updates_and_deletes(trigger_server, moto, sink, tmp_path):
    tag = unique("sqsdeploy")
    poison = "failed = [{'itemIdentifier': r['messageId']} for r in event['Records'] if r['body'] == 'poison']\n" \
             "return {'batchItemFailures': failed}"
    write(tmp_path, {"code/fn.py": batch_fn(sink, tag, poison), "t.yaml": _sqs_template(5)})
    env = deploy_env(trigger_server, tmp_path / "cache", AWS_ENDPOINT_URL=moto.url,
                     AWS_ENDPOINT_URL_LAMBDA=trigger_server.url)
    stack = unique("stack")
    out = _deploy(env, tmp_path / "t.yaml", stack)
    assert "not applied" not in out, out
    outputs = _outputs(out)
    lam, sqs = _client(trigger_server, "lambda"), moto.client("sqs")
    mappings = lam.list_event_source_mappings(FunctionName=outputs["Name"])["EventSourceMappings"]
    assert [m["UUID"] for m in mappings] == [outputs["Mapping"]]
    mapping = lam.get_event_source_mapping(UUID=outputs["Mapping"])
    assert mapping["EventSourceArn"] == outputs["WorkArn"] and mapping["BatchSize"] == 5
    assert mapping["FunctionArn"] == lam.get_alias(FunctionName=outputs["Name"], Name="live")["AliasArn"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}
    wait_for(lambda: lam.get_event_source_mapping(UUID=outputs["Mapping"])["State"] == "Enabled", 30, 0.1, "Enabled")

    # a message reaches the function; a poison one ends in the DLQ through the queue's redrive policy
    sqs.send_message(QueueUrl=outputs["Work"], MessageBody="hello")
    wait_for(lambda: any(r["body"] == "hello" for r in records_of(sink, tag)), 30, 0.1, "the message at the function")
    sqs.send_message(QueueUrl=outputs["Work"], MessageBody="poison")
    assert [m["Body"] for m in moto.receive(outputs["DeadLetters"], 1, timeout=60)] == ["poison"]

    # a re-deploy changing BatchSize updates the same mapping in place
    write(tmp_path, {"t.yaml": _sqs_template(7)})
    out = _deploy(env, tmp_path / "t.yaml", stack)
    assert _outputs(out)["Mapping"] == outputs["Mapping"]
    assert lam.get_event_source_mapping(UUID=outputs["Mapping"])["BatchSize"] == 7

    lamb_cmd("deploy", "--delete", stack, env=env)
    assert lam.list_event_source_mappings(FunctionName=outputs["Name"])["EventSourceMappings"] == []
    with pytest.raises(ClientError) as e:
        lam.get_event_source_mapping(UUID=outputs["Mapping"])
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert outputs["Work"] not in sqs.list_queues().get("QueueUrls", [])


def test_schedule_schedule_v2_and_event_pattern_events_fire(trigger_server, moto, sink, tmp_path):
    tag = unique("schdeploy")
    schedule_name = unique("v2")
    write(tmp_path, {"code/fn.py": batch_fn(sink, tag), "t.yaml": SAM + f"""
Resources:
  Ticker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: fn.handler
      CodeUri: code/
      Events:
        Tick: {{Type: Schedule, Properties: {{Schedule: rate(1 minute)}}}}
        TickV2:
          Type: ScheduleV2
          Properties:
            Name: {schedule_name}
            ScheduleExpression: rate(1 minute)
            Input: '{{"from": "scheduler"}}'
            RetryPolicy: {{MaximumRetryAttempts: 2}}
        Changes:
          Type: CloudWatchEvent
          Properties:
            Pattern: {{source: [my.app], detail: {{size: [{{numeric: [">", 10]}}]}}}}
            InputTransformer: {{InputPathsMap: {{size: $.detail.size}}, InputTemplate: '{{"big": <size>}}'}}
Outputs:
  Name: {{Value: !Ref Ticker}}
  Rule: {{Value: !Ref TickerTick}}
  RuleArn: {{Value: !GetAtt TickerTick.Arn}}
  PatternRule: {{Value: !Ref TickerChanges}}
"""})
    env = deploy_env(trigger_server, tmp_path / "cache", AWS_ENDPOINT_URL=moto.url,
                     AWS_ENDPOINT_URL_LAMBDA=trigger_server.url)
    stack = unique("stack")
    out = _deploy(env, tmp_path / "t.yaml", stack)
    assert "CREATE_COMPLETE             AWS::Events::Rule                     TickerChanges" in out, out
    outputs = _outputs(out)
    lam = _client(trigger_server, "lambda")
    events, scheduler = _client(trigger_server, "events"), _client(trigger_server, "scheduler")
    fn_arn = lam.get_function(FunctionName=outputs["Name"])["Configuration"]["FunctionArn"]

    rule = events.describe_rule(Name=outputs["Rule"])
    assert rule["Arn"] == outputs["RuleArn"] and rule["ScheduleExpression"] == "rate(1 minute)"
    assert rule["State"] == "ENABLED"
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule=outputs["Rule"])["Targets"]] == [fn_arn]
    assert sorted(events.list_rule_names_by_target(TargetArn=fn_arn)["RuleNames"]) == sorted(
        [outputs["Rule"], outputs["PatternRule"]])
    schedule = scheduler.get_schedule(Name=schedule_name)
    assert schedule["ScheduleExpression"] == "rate(1 minute)" and schedule["Target"]["Arn"] == fn_arn
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 2
    policy = json.loads(lam.get_policy(FunctionName=outputs["Name"])["Policy"])
    assert any(s["Principal"] == {"Service": "events.amazonaws.com"}
               and s["Condition"]["ArnLike"]["AWS:SourceArn"] == outputs["RuleArn"] for s in policy["Statement"])

    assert json.loads(events.describe_rule(Name=outputs["PatternRule"])["EventPattern"])["source"] == ["my.app"]
    put = events.put_events(Entries=[{"Source": "my.app", "DetailType": "t", "Detail": json.dumps({"size": n})}
                                     for n in (5, 50)])
    assert put["FailedEntryCount"] == 0

    def seen() -> tuple[list, list, list]:
        evs = [p["event"] for p in sink.of("tag", tag)]
        return ([e for e in evs if e.get("detail-type") == "Scheduled Event"],
                [e for e in evs if e == {"from": "scheduler"}], [e for e in evs if "big" in e])

    wait_for(lambda: all(seen()), 60, 0.2, "a tick of the rule, one of the schedule and the matching event")
    assert seen()[2] == [{"big": 50}]  # the event of size 5 did not match
    tick = seen()[0][0]
    assert tick["source"] == "aws.events" and tick["resources"] == [outputs["RuleArn"]]

    lamb_cmd("deploy", "--delete", stack, env=env)
    assert outputs["Rule"] not in [r["Name"] for r in events.list_rules()["Rules"]]
    with pytest.raises(ClientError) as e:
        scheduler.get_schedule(Name=schedule_name)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
