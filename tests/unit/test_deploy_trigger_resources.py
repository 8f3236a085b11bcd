"""deploy/trigger_resources.py: what needs no server (the integration tests in
tests/integration/test_deploy.py apply these handlers against a real ``lamb serve``)."""

from dataclasses import dataclass

from lamb.deploy.plan import needs_replacement
from lamb.deploy.trigger_resources import EventSourceMapping, Rule, Schedule, _tag_map


@dataclass
class _Env:
    stack: str = "st"
    region: str = "us-east-1"
    account: str = "123456789012"


def test_mapping_replacement_follows_cloudformation():
    esm = EventSourceMapping()
    base = {"EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:q", "FunctionName": "f", "BatchSize": 5}
    assert not needs_replacement(esm.replace_on, base, dict(base, BatchSize=7))
    assert not needs_replacement(esm.replace_on, base, dict(base, FunctionName="f:live"))
    assert needs_replacement(esm.replace_on, base, dict(base, EventSourceArn="arn:aws:sqs:us-east-1:123456789012:r"))
    assert needs_replacement(esm.replace_on, {**base, "StartingPosition": "LATEST"},
                             {**base, "StartingPosition": "TRIM_HORIZON"})


def test_rules_on_other_buses_are_refused_with_a_reason_and_get_an_arn():
    rule = Rule()
    assert rule.unsupported({"ScheduleExpression": "rate(1 minute)"}) is None
    assert rule.unsupported({"EventPattern": {"source": ["x"]}, "EventBusName": "default"}) is None
    reason = rule.unsupported({"EventPattern": {"source": ["x"]}, "EventBusName": "orders"})
    assert reason and reason.startswith("not applied:") and "default event bus" in reason
    applied = rule.synthesize(_Env(), "Ev", {"Name": "r1", "EventPattern": {"source": ["x"]}})  # type: ignore[arg-type]
    assert applied.attributes == {"Ref": "r1", "Arn": "arn:aws:events:us-east-1:123456789012:rule/r1"}
    on_bus = rule.synthesize(_Env(), "Ev", {"Name": "r1", "EventBusName": "custom"})  # type: ignore[arg-type]
    assert on_bus.attributes["Arn"].endswith(":rule/custom/r1")


def test_names_force_replacement_of_rules_and_schedules():
    assert needs_replacement(Rule().replace_on, {"Name": "a"}, {"Name": "b"})
    assert not needs_replacement(Rule().replace_on, {"State": "ENABLED"}, {"State": "DISABLED"})
    assert needs_replacement(Schedule().replace_on, {"GroupName": "a"}, {"GroupName": "b"})
    assert not needs_replacement(Schedule().replace_on, {"ScheduleExpression": "rate(1 minute)"},
                                 {"ScheduleExpression": "rate(2 minutes)"})


def test_tags_in_either_shape():
    assert _tag_map([{"Key": "a", "Value": "1"}]) == {"a": "1"}
    assert _tag_map({"a": "1"}) == {"a": "1"}
    assert _tag_map(None) == {}


def test_every_property_sam_generates_for_stream_and_queue_events_reaches_the_api():
    """SAM's SQS/Kinesis/DynamoDB events become mappings whose every property is a
    CreateEventSourceMapping member (nothing dropped on the way to the API)."""
    import boto3

    from lamb.deploy.registry import members, pick
    from lamb.deploy.translate import to_cloudformation

    template = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {"Fn": {
        "Type": "AWS::Serverless::Function",
        "Properties": {"Runtime": "python3.12", "Handler": "fn.handler", "CodeUri": "s3://b/k.zip", "Events": {
            "K": {"Type": "Kinesis", "Properties": {
                "Stream": "arn:aws:kinesis:us-east-1:123456789012:stream/s", "StartingPosition": "LATEST",
                "BatchSize": 50, "ParallelizationFactor": 2, "BisectBatchOnFunctionError": True,
                "MaximumRetryAttempts": 3, "TumblingWindowInSeconds": 30,
                "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:d"}}}},
            "D": {"Type": "DynamoDB", "Properties": {
                "Stream": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2020", "StartingPosition": "TRIM_HORIZON",
                "FilterCriteria": {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]}}},
            "Q": {"Type": "SQS", "Properties": {"Queue": "arn:aws:sqs:us-east-1:123456789012:q", "Enabled": False,
                                                 "MaximumBatchingWindowInSeconds": 3,
                                                 "ScalingConfig": {"MaximumConcurrency": 2}}}}}}}}
    cfn = to_cloudformation(template, {}, "us-east-1")
    lam = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    allowed = members(lam, "CreateEventSourceMapping")
    mappings = [r["Properties"] for r in cfn["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert len(mappings) == 3
    for props in mappings:
        assert pick(props, allowed, EventSourceMapping.RENAME) == {k: v for k, v in props.items() if k != "Tags"}
