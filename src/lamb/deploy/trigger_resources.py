"""Handlers for the resources that trigger functions: event source mappings, EventBridge
rules and EventBridge Scheduler schedules, applied through Lamb's own APIs (the Lambda,
``events`` and ``scheduler`` models are all served on Lamb's port).

Properties, attributes and "Update requires: Replacement" follow the CloudFormation reference:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventsourcemapping.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-events-rule.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-scheduler-schedule.html.
"""

from __future__ import annotations

import json
import time
from typing import Any

from .registry import Applied, Env, Registry, members, physical_name, pick

# Mapping states that settle by themselves (Lambda's State values); CloudFormation waits them out.
_SETTLING = {"Creating", "Enabling", "Disabling", "Updating", "Deleting"}
_SETTLE_S = 60.0


def _tag_map(tags: Any) -> dict:
    """CloudFormation's ``[{Key, Value}]`` (or a map) → the API's map."""
    if isinstance(tags, dict):
        return dict(tags)
    return {t["Key"]: t["Value"] for t in tags or []}


class EventSourceMapping:
    """AWS::Lambda::EventSourceMapping. Ref and GetAtt Id: the mapping's UUID.

    A property removed from the template is reset as CloudFormation does: the API's default
    (``RESET``); properties the update operation cannot change force a replacement."""

    replace_on = frozenset({"EventSourceArn", "StartingPosition", "StartingPositionTimestamp", "Queues", "Topics",
                            "SelfManagedEventSource", "AmazonManagedKafkaEventSourceConfig",
                            "SelfManagedKafkaEventSourceConfig"})
    RENAME = {"KmsKeyArn": "KMSKeyArn"}
    RESET = {"Enabled": True, "FilterCriteria": {"Filters": []}, "FunctionResponseTypes": [],
             "MaximumBatchingWindowInSeconds": 0, "ScalingConfig": {}, "DestinationConfig": {"OnFailure": {}}}

    def _wait(self, lam: Any, uuid: str, gone: bool = False) -> dict | None:
        deadline = time.monotonic() + _SETTLE_S
        while True:
            try:
                cfg = lam.get_event_source_mapping(UUID=uuid)
            except lam.exceptions.ResourceNotFoundException:
                return None
            if (cfg.get("State") not in _SETTLING and not gone) or time.monotonic() > deadline:
                return cfg
            time.sleep(0.1)

    def _applied(self, out: dict) -> Applied:
        uuid = out["UUID"]
        return Applied(uuid, {"Ref": uuid, "Id": uuid, "EventSourceMappingArn": out.get("EventSourceMappingArn", "")})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        lam = env.lambda_client()
        params = pick(props, members(lam, "CreateEventSourceMapping") - {"Tags"}, self.RENAME)
        if props.get("Tags"):
            params["Tags"] = _tag_map(props["Tags"])
        out = lam.create_event_source_mapping(**params)
        self._wait(lam, out["UUID"])
        return self._applied(out)

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        lam = env.lambda_client()
        allowed = members(lam, "UpdateEventSourceMapping") - {"UUID"}
        params = {k: v for k, v in self.RESET.items() if k in old and k not in new}
        if "BatchSize" in old and "BatchSize" not in new:
            kind = new["EventSourceArn"].split(":")[2]
            params["BatchSize"] = 10 if kind == "sqs" else 100  # the API's per-source default
        params.update(pick(new, allowed, self.RENAME))
        lam.update_event_source_mapping(UUID=physical, **params)
        self._wait(lam, physical)
        if old.get("Tags") != new.get("Tags"):
            arn = attrs.get("EventSourceMappingArn")
            gone = set(_tag_map(old.get("Tags"))) - set(_tag_map(new.get("Tags")))
            if gone:
                lam.untag_resource(Resource=arn, TagKeys=sorted(gone))
            if new.get("Tags"):
                lam.tag_resource(Resource=arn, Tags=_tag_map(new["Tags"]))
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        lam = env.lambda_client()
        try:
            lam.delete_event_source_mapping(UUID=physical)
        except lam.exceptions.ResourceNotFoundException:
            return
        self._wait(lam, physical, gone=True)  # the pair (source, function) is free again afterwards


class Rule:
    """AWS::Events::Rule on the default bus (SAM's ``Schedule``, ``EventBridgeRule`` and
    ``CloudWatchEvent`` events): a ``ScheduleExpression`` and/or an ``EventPattern`` (a JSON
    object in the template, a string in PutRule), with Lambda targets. Ref: the rule's name;
    GetAtt Arn. The rule precedes the AWS::Lambda::Permission SAM generates for it (the
    permission names the rule's ARN), as on CloudFormation: its first tick comes one period
    after creation, and an event put before the permission exists is not delivered."""

    replace_on = frozenset({"Name", "EventBusName"})

    def unsupported(self, props: dict) -> str | None:
        bus = props.get("EventBusName")
        if bus and bus.rsplit("/", 1)[-1] != "default":
            return "not applied: only the default event bus exists on Lamb"
        return None

    def _name(self, env: Env, logical: str, props: dict) -> str:
        return props.get("Name") or physical_name(env.stack, logical, 64)

    def _arn(self, env: Env, name: str, props: dict) -> str:
        bus = props.get("EventBusName")
        path = f"{bus.rsplit('/', 1)[-1]}/{name}" if bus and bus.rsplit("/", 1)[-1] != "default" else name
        return f"arn:aws:events:{env.region}:{env.account}:rule/{path}"

    def synthesize(self, env: Env, logical: str, props: dict) -> Applied:
        name = self._name(env, logical, props)
        arn = self._arn(env, name, props)
        return Applied(f"{name}-not-applied", {"Ref": name, "Arn": arn})

    def _put(self, env: Env, name: str, props: dict) -> str:
        events = env.lamb_client("events")
        params = pick(props, members(events, "PutRule") - {"Name", "Tags"})
        if isinstance(params.get("EventPattern"), dict):
            params["EventPattern"] = json.dumps(params["EventPattern"])
        if props.get("Tags"):
            params["Tags"] = props["Tags"]
        return events.put_rule(Name=name, **params)["RuleArn"]

    def _targets(self, env: Env, name: str, old: dict, new: dict) -> None:
        events = env.lamb_client("events")
        allowed = set(events.meta.service_model.shape_for("Target").members)
        bus = pick(new, {"EventBusName"})
        keep = {t["Id"] for t in new.get("Targets") or []}
        gone = [t["Id"] for t in old.get("Targets") or [] if t["Id"] not in keep]
        if gone:
            events.remove_targets(Rule=name, Ids=gone, **bus)
        targets = [pick(t, allowed) for t in new.get("Targets") or []]
        if targets and targets != [pick(t, allowed) for t in old.get("Targets") or []]:
            out = events.put_targets(Rule=name, Targets=targets, **bus)
            if out.get("FailedEntryCount"):
                raise RuntimeError("; ".join(f"target {e.get('TargetId')}: {e.get('ErrorMessage')}"
                                             for e in out.get("FailedEntries", [])))

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        name = self._name(env, logical, props)
        arn = self._put(env, name, props)
        try:
            self._targets(env, name, {}, props)
        except Exception:
            self.delete(env, name, props)  # not half-made: the record never names it
            raise
        return Applied(name, {"Ref": name, "Arn": arn})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        arn = self._put(env, physical, new)
        self._targets(env, physical, old, new)
        return Applied(physical, dict(attrs, Arn=arn))

    def delete(self, env: Env, physical: str, props: dict) -> None:
        events = env.lamb_client("events")
        bus = pick(props, {"EventBusName"})
        try:
            ids = [t["Id"] for t in events.list_targets_by_rule(Rule=physical, **bus).get("Targets", [])]
            if ids:
                events.remove_targets(Rule=physical, Ids=ids, **bus)
            events.delete_rule(Name=physical, **bus)
        except events.exceptions.ResourceNotFoundException:
            return


class Schedule:
    """AWS::Scheduler::Schedule (SAM's ScheduleV2). Ref: the schedule's name; GetAtt Arn.
    UpdateSchedule replaces every setting, so an update sends the whole new definition."""

    replace_on = frozenset({"Name", "GroupName"})

    def _params(self, client: Any, props: dict) -> dict:
        return pick(props, members(client, "CreateSchedule") - {"Name", "ClientToken"})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        scheduler = env.lamb_client("scheduler")
        name = props.get("Name") or physical_name(env.stack, logical, 64)
        arn = scheduler.create_schedule(Name=name, **self._params(scheduler, props))["ScheduleArn"]
        return Applied(name, {"Ref": name, "Arn": arn})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        scheduler = env.lamb_client("scheduler")
        arn = scheduler.update_schedule(Name=physical, **self._params(scheduler, new))["ScheduleArn"]
        return Applied(physical, dict(attrs, Arn=arn))

    def delete(self, env: Env, physical: str, props: dict) -> None:
        scheduler = env.lamb_client("scheduler")
        try:
            scheduler.delete_schedule(Name=physical, **pick(props, {"GroupName"}))
        except scheduler.exceptions.ResourceNotFoundException:
            return


def register(registry: Registry) -> None:
    registry.add("AWS::Lambda::EventSourceMapping", EventSourceMapping())
    registry.add("AWS::Events::Rule", Rule())
    registry.add("AWS::Scheduler::Schedule", Schedule())
