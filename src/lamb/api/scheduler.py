"""EventBridge Scheduler schedules with Lambda targets (botocore's ``scheduler`` model, REST-JSON).

CreateSchedule, GetSchedule, UpdateSchedule, DeleteSchedule and ListSchedules in the
``default`` schedule group (https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html
and the pages beside it): ``at()``/``rate()``/``cron()`` expressions in a time zone
(``ScheduleExpressionTimezone``), ``StartDate``/``EndDate``, ``FlexibleTimeWindow``,
``Target.RetryPolicy`` and ``DeadLetterConfig``, ``ActionAfterCompletion``. Schedule groups
other than ``default`` (CreateScheduleGroup) and non-Lambda targets are not served.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..protocol.errors import AwsError
from ..schedules.expressions import At, InvalidExpression, parse
from ..schedules.store import SCHEDULE
from . import operation
from .pagination import token_page

if TYPE_CHECKING:
    from .context import RequestContext

DEFAULT_GROUP = "default"
UTC = dt.timezone.utc


def _validation(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


def _group(params: dict) -> str:
    group = params.get("GroupName") or DEFAULT_GROUP
    if group != DEFAULT_GROUP:
        raise AwsError("ResourceNotFoundException", f"Schedule group {group} does not exist.", 404)
    return group


def _get(ctx: "RequestContext", group: str, name: str) -> dict:
    item = ctx.lamb.schedules.store.get(SCHEDULE, f"{group}/{name}")
    if item is None:
        raise AwsError("ResourceNotFoundException", f"Schedule {name} does not exist.", 404)
    return item


def _epoch(value) -> float:
    return value.timestamp() if isinstance(value, dt.datetime) else float(value)


def _definition(ctx: "RequestContext", params: dict, group: str, old: dict | None) -> dict:
    """Validate a Create/UpdateSchedule request and build the stored schedule."""
    expression = params["ScheduleExpression"]
    try:
        expr = parse(expression, allow_at=True)
    except InvalidExpression:
        raise _validation(f"Invalid Schedule Expression {expression}.") from None
    zone = params.get("ScheduleExpressionTimezone")
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise _validation(f"Invalid Schedule Expression Timezone {zone}.") from None
    window = params["FlexibleTimeWindow"]
    if window["Mode"] == "FLEXIBLE" and window.get("MaximumWindowInMinutes") is None:
        raise _validation("MaximumWindowInMinutes must be provided when FlexibleTimeWindowMode is set to FLEXIBLE")
    if window["Mode"] == "OFF" and window.get("MaximumWindowInMinutes") is not None:
        raise _validation("MaximumWindowInMinutes must not be provided when FlexibleTimeWindow Mode is OFF.")
    start, end = params.get("StartDate"), params.get("EndDate")
    if start is not None and end is not None and _epoch(end) <= _epoch(start):
        raise _validation("The StartDate must come before the EndDate.")
    now = ctx.lamb.schedules.clock()
    if end is not None and _epoch(end) <= now and not isinstance(expr, At):
        raise _validation("The EndDate must be in the future.")
    target = params["Target"]
    parts = target["Arn"].split(":")
    if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
        raise AwsError("ValidationException", "Lamb invokes Lambda function targets only.", 400)
    name = params["Name"]
    schedules = ctx.lamb.schedules
    data: dict = {
        "Name": name,
        "GroupName": group,
        "Arn": schedules.schedule_arn(group, name),
        "ScheduleExpression": expression,
        "State": params.get("State") or "ENABLED",
        "Target": target,
        "FlexibleTimeWindow": window,
        "ActionAfterCompletion": params.get("ActionAfterCompletion") or "NONE",
        "CreationDate": old["CreationDate"] if old else now,
        "LastModificationDate": now,
        # A rate starts at StartDate, or at once (its first tick is the creation itself).
        "_anchor": float(_epoch(start)) if start is not None else now,
        "_since": now - 0.001,
        "_start": _epoch(start) if start is not None else None,
        "_end": _epoch(end) if end is not None else None,
    }
    for key in ("Description", "ScheduleExpressionTimezone", "KmsKeyArn"):
        if params.get(key) is not None:
            data[key] = params[key]
    if start is not None:
        data["StartDate"] = _epoch(start)
    if end is not None:
        data["EndDate"] = _epoch(end)
    return data


def _public(data: dict) -> dict:
    return {k: v for k, v in data.items() if not k.startswith("_")}


@operation("CreateSchedule", service="scheduler")
def create_schedule(ctx: "RequestContext", params: dict) -> dict:
    group = _group(params)
    schedules = ctx.lamb.schedules
    key = f"{group}/{params['Name']}"
    existing = schedules.store.get(SCHEDULE, key)
    if existing is not None:
        if params.get("ClientToken") and existing.get("_client_token") == params["ClientToken"]:
            return {"ScheduleArn": existing["Arn"]}  # a retry of the same request (ClientToken idempotency)
        raise AwsError("ConflictException", f"Schedule {params['Name']} already exists.", 409)
    if len(schedules.store.items(SCHEDULE)) >= ctx.lamb.settings.limits.scheduler_schedules:
        raise AwsError("ServiceQuotaExceededException", "The request exceeds a service quota.", 402)
    data = _definition(ctx, params, group, None)
    if params.get("ClientToken"):
        data["_client_token"] = params["ClientToken"]
    schedules.store.put(SCHEDULE, key, data, reset_fired=True)
    schedules.changed()
    return {"ScheduleArn": data["Arn"]}


@operation("UpdateSchedule", service="scheduler")
def update_schedule(ctx: "RequestContext", params: dict) -> dict:
    """Replaces the whole schedule (omitted members go back to their defaults), as on AWS."""
    group = _group(params)
    old = _get(ctx, group, params["Name"])
    data = _definition(ctx, params, group, old)
    schedules = ctx.lamb.schedules
    schedules.store.put(SCHEDULE, f"{group}/{params['Name']}", data)
    schedules.changed()
    return {"ScheduleArn": data["Arn"]}


@operation("GetSchedule", service="scheduler")
def get_schedule(ctx: "RequestContext", params: dict) -> dict:
    return _public(_get(ctx, _group(params), params["Name"]))


@operation("DeleteSchedule", service="scheduler")
def delete_schedule(ctx: "RequestContext", params: dict) -> dict:
    group = _group(params)
    _get(ctx, group, params["Name"])
    ctx.lamb.schedules.store.delete(SCHEDULE, f"{group}/{params['Name']}")
    ctx.lamb.schedules.changed()
    return {}


@operation("ListSchedules", service="scheduler")
def list_schedules(ctx: "RequestContext", params: dict) -> dict:
    group = params.get("GroupName")
    prefix = params.get("NamePrefix") or ""
    state = params.get("State")
    rows = []
    for item in ctx.lamb.schedules.store.items(SCHEDULE):
        data = item.data
        if (group and data["GroupName"] != group) or not data["Name"].startswith(prefix):
            continue
        if state and data["State"] != state:
            continue
        rows.append({k: data[k] for k in ("Arn", "Name", "GroupName", "State", "CreationDate", "LastModificationDate")}
                    | {"Target": {"Arn": data["Target"]["Arn"]}})
    return token_page(params, rows, "Schedules", size_param="MaxResults",
                      size_max=ctx.lamb.settings.limits.scheduler_list_max_items)
