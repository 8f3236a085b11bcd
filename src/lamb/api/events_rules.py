"""EventBridge rules and their Lambda targets (botocore's ``events`` model).

PutRule, DescribeRule, DeleteRule, EnableRule, DisableRule, ListRules, PutTargets,
RemoveTargets and ListTargetsByRule on the ``default`` event bus
(https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html and the pages
beside it). A rule has a ``ScheduleExpression`` (the ticker fires it), an ``EventPattern``
(events put with PutEvents that match it are delivered, ``api/events_put.py``), or both.
Service and partner events do not exist on Lamb: only PutEvents' events reach patterns.
A target must be a Lambda function ARN; other targets are returned as failed entries.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from ..protocol.errors import AwsError
from ..schedules.expressions import InvalidExpression, parse
from ..schedules.payloads import PREDEFINED, placeholders, valid_path
from ..schedules.store import RULE
from ..sources.filtering import FilterError, parse_pattern
from . import operation
from .pagination import token_page

if TYPE_CHECKING:
    from .context import RequestContext

DEFAULT_BUS = "default"
ENABLED = "ENABLED"


def _validation(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


def _schedules(ctx: "RequestContext"):
    return ctx.lamb.schedules


def _bus(ctx: "RequestContext", params: dict) -> str:
    """Only the default bus exists on Lamb (its name or ARN)."""
    name = params.get("EventBusName") or DEFAULT_BUS
    if name in (DEFAULT_BUS, f"arn:aws:events:{ctx.lamb.settings.region}:{ctx.lamb.settings.account_id}:event-bus/default"):
        return DEFAULT_BUS
    raise AwsError("ResourceNotFoundException", f"Event bus {name.rsplit('/', 1)[-1]} does not exist.", 400)


def _rule(ctx: "RequestContext", name: str) -> dict:
    rule = _schedules(ctx).store.get(RULE, name)
    if rule is None:
        raise AwsError("ResourceNotFoundException", f"Rule {name} does not exist on EventBus {DEFAULT_BUS}.", 400)
    return rule


def check_pattern(text: str) -> None:
    """An EventPattern EventBridge accepts (its grammar is Lambda's filter grammar), else AWS's
    InvalidEventPatternException (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html)."""
    try:
        parse_pattern(text)
    except FilterError as e:
        reason = e.detail or "Invalid JSON"
        m = re.fullmatch(r"the value of (.+) must be an object or an array", reason)
        if m:
            reason = f'"{m.group(1)}" must be an object or an array'
        elif reason == "a pattern is JSON":
            reason = "Invalid JSON"
        raise AwsError("InvalidEventPatternException", f"Event pattern is not valid. Reason: {reason}", 400) from None


def _public(rule: dict) -> dict:
    return {k: v for k, v in rule.items() if not k.startswith("_") and k not in ("Targets", "Tags")}


@operation("PutRule", service="events")
def put_rule(ctx: "RequestContext", params: dict) -> dict:
    bus = _bus(ctx, params)
    pattern = params.get("EventPattern")
    if pattern is not None:
        check_pattern(pattern)
    expression = params.get("ScheduleExpression")
    if not expression and pattern is None:
        raise _validation("Parameter(s) EventPattern or ScheduleExpression must be specified.")
    if expression:
        try:
            parse(expression)
        except InvalidExpression as e:
            raise _validation(str(e)) from None
    schedules = _schedules(ctx)
    name = params["Name"]
    old = schedules.store.get(RULE, name)
    if old is None and len(schedules.store.items(RULE)) >= ctx.lamb.settings.limits.events_rules_per_bus:
        raise AwsError("LimitExceededException", "The requested resource exceeds the maximum number allowed.", 400)
    now = schedules.clock()
    state = params.get("State") or ENABLED
    rule = {
        "Name": name,
        "Arn": schedules.rule_arn(name),
        "ScheduleExpression": expression,
        "State": state,
        "EventBusName": bus,
        "CreatedBy": ctx.lamb.settings.account_id,
        "Targets": old["Targets"] if old else [],
        "Tags": old["Tags"] if old else params.get("Tags") or [],
        # Ticks count from the rule's creation or its last change of expression; none before.
        "_anchor": old["_anchor"] if old and old.get("ScheduleExpression") == expression else now,
        "_since": old["_since"] if old and old.get("ScheduleExpression") == expression and old["State"] == state else now,
    }
    if not expression:
        del rule["ScheduleExpression"]
    for key in ("Description", "RoleArn", "EventPattern"):
        if params.get(key) is not None:
            rule[key] = params[key]
    schedules.store.put(RULE, name, rule)
    schedules.changed()
    return {"RuleArn": rule["Arn"]}


@operation("DescribeRule", service="events")
def describe_rule(ctx: "RequestContext", params: dict) -> dict:
    _bus(ctx, params)
    return _public(_rule(ctx, params["Name"]))


@operation("DeleteRule", service="events")
def delete_rule(ctx: "RequestContext", params: dict) -> dict:
    """Deleting a rule that does not exist succeeds; one with targets is refused."""
    _bus(ctx, params)
    schedules = _schedules(ctx)
    rule = schedules.store.get(RULE, params["Name"])
    if rule is None:
        return {}
    if rule["Targets"]:
        raise _validation("Rule can't be deleted since it has targets.")
    schedules.store.delete(RULE, params["Name"])
    schedules.changed()
    return {}


def _set_state(ctx: "RequestContext", params: dict, state: str) -> dict:
    _bus(ctx, params)
    schedules = _schedules(ctx)
    rule = dict(_rule(ctx, params["Name"]))
    if rule["State"] != state:
        rule["State"] = state
        rule["_since"] = schedules.clock()  # ticks while disabled are not fired later
        schedules.store.put(RULE, rule["Name"], rule)
        schedules.changed()
    return {}


@operation("EnableRule", service="events")
def enable_rule(ctx: "RequestContext", params: dict) -> dict:
    return _set_state(ctx, params, ENABLED)


@operation("DisableRule", service="events")
def disable_rule(ctx: "RequestContext", params: dict) -> dict:
    return _set_state(ctx, params, "DISABLED")


@operation("ListRules", service="events")
def list_rules(ctx: "RequestContext", params: dict) -> dict:
    _bus(ctx, params)
    prefix = params.get("NamePrefix") or ""
    rows = [_public(i.data) for i in _schedules(ctx).store.items(RULE) if i.key.startswith(prefix)]
    return token_page(params, rows, "Rules", size_param="Limit", size_max=ctx.lamb.settings.limits.events_list_max_items)


def _check_target(target: dict) -> str | None:
    """AWS's validation of one target (raised), or why Lamb cannot serve it (a failed entry)."""
    given = [k for k in ("Input", "InputPath", "InputTransformer") if target.get(k) is not None]
    if len(given) > 1:
        raise _validation(f"Only one of Input, InputPath, or InputTransformer must be provided for target {target['Id']}.")
    if target.get("Input") is not None:
        try:
            json.loads(target["Input"])
        except ValueError:
            raise _validation(f"Target {target['Id']} has invalid Input: it is not valid JSON text.") from None
    if target.get("InputPath") is not None and not valid_path(target["InputPath"]):
        raise _validation(f"Target {target['Id']} has an invalid InputPath: {target['InputPath']}.")
    transformer = target.get("InputTransformer")
    if transformer is not None:
        paths = transformer.get("InputPathsMap") or {}
        for name, path in paths.items():
            if not valid_path(path):
                raise _validation(f"Target {target['Id']} has an invalid InputPathsMap value for key {name}: {path}.")
        for name in placeholders(transformer["InputTemplate"]):
            if name not in paths and name not in PREDEFINED:
                raise _validation(f"InputTemplate for target {target['Id']} contains invalid placeholder {name}.")
    parts = target["Arn"].split(":")
    if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
        return "Lamb invokes Lambda function targets only."
    return None


@operation("PutTargets", service="events")
def put_targets(ctx: "RequestContext", params: dict) -> dict:
    _bus(ctx, params)
    schedules = _schedules(ctx)
    rule = dict(_rule(ctx, params["Rule"]))
    targets = {t["Id"]: t for t in rule["Targets"]}
    failed = []
    for target in params["Targets"]:
        reason = _check_target(target)
        if reason is not None:
            failed.append({"TargetId": target["Id"], "ErrorCode": "UnsupportedTarget", "ErrorMessage": reason})
            continue
        targets[target["Id"]] = target
    if len(targets) > ctx.lamb.settings.limits.events_targets_per_rule:
        raise AwsError("LimitExceededException", "The requested resource exceeds the maximum number allowed.", 400)
    rule["Targets"] = list(targets.values())
    schedules.store.put(RULE, rule["Name"], rule)
    schedules.changed()
    return {"FailedEntryCount": len(failed), "FailedEntries": failed}


@operation("RemoveTargets", service="events")
def remove_targets(ctx: "RequestContext", params: dict) -> dict:
    _bus(ctx, params)
    schedules = _schedules(ctx)
    rule = dict(_rule(ctx, params["Rule"]))
    ids = set(params["Ids"])
    rule["Targets"] = [t for t in rule["Targets"] if t["Id"] not in ids]
    schedules.store.put(RULE, rule["Name"], rule)
    schedules.changed()
    return {"FailedEntryCount": 0, "FailedEntries": []}


@operation("ListTargetsByRule", service="events")
def list_targets_by_rule(ctx: "RequestContext", params: dict) -> dict:
    _bus(ctx, params)
    rule = _rule(ctx, params["Rule"])
    return token_page(params, list(rule["Targets"]), "Targets", size_param="Limit",
                      size_max=ctx.lamb.settings.limits.events_list_max_items)


@operation("ListRuleNamesByTarget", service="events")
def list_rule_names_by_target(ctx: "RequestContext", params: dict) -> dict:
    _bus(ctx, params)
    names = [i.key for i in _schedules(ctx).store.items(RULE)
             if any(t["Arn"] == params["TargetArn"] for t in i.data["Targets"])]
    return token_page(params, names, "RuleNames", size_param="Limit", size_max=ctx.lamb.settings.limits.events_list_max_items)


def _tagged_rule(ctx: "RequestContext", arn: str) -> dict:
    """The rule a ResourceARN names (rules are the only taggable events resource on Lamb)."""
    prefix = _schedules(ctx).rule_arn("")
    if not arn.startswith(prefix):
        raise AwsError("ResourceNotFoundException", f"Resource {arn} does not exist.", 400)
    return dict(_rule(ctx, arn[len(prefix):]))


@operation("ListTagsForResource", service="events")
def list_tags_for_resource(ctx: "RequestContext", params: dict) -> dict:
    return {"Tags": list(_tagged_rule(ctx, params["ResourceARN"])["Tags"])}


@operation("TagResource", service="events")
def tag_resource(ctx: "RequestContext", params: dict) -> dict:
    rule = _tagged_rule(ctx, params["ResourceARN"])
    tags = {t["Key"]: t["Value"] for t in rule["Tags"]}
    tags.update({t["Key"]: t["Value"] for t in params["Tags"]})
    if len(tags) > ctx.lamb.settings.limits.tags_per_resource:
        raise AwsError("LimitExceededException", "The requested resource exceeds the maximum number allowed.", 400)
    rule["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    _schedules(ctx).store.put(RULE, rule["Name"], rule)
    return {}


@operation("UntagResource", service="events")
def untag_resource(ctx: "RequestContext", params: dict) -> dict:
    rule = _tagged_rule(ctx, params["ResourceARN"])
    drop = set(params["TagKeys"])
    rule["Tags"] = [t for t in rule["Tags"] if t["Key"] not in drop]
    _schedules(ctx).store.put(RULE, rule["Name"], rule)
    return {}
