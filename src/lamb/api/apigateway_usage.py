"""API keys and usage plans of REST APIs (API Gateway v1).

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html and the API
reference: CreateApiKey, GetApiKey (``includeValue``), GetApiKeys (``includeValues``, ``nameQuery`` as a
name prefix, ``customerId``, paging), UpdateApiKey (``/name``, ``/description``, ``/enabled``,
``/customerId``, ``/stageKeys``), DeleteApiKey, ImportApiKeys (CSV: ``Key`` and ``Name`` columns, optional
``Description``, ``Enabled``, ``UsagePlanIds``; a value already imported is overwritten); CreateUsagePlan,
GetUsagePlan, GetUsagePlans (``keyId``), UpdateUsagePlan (``/name``, ``/description``, ``/productCode``,
``/apiStages`` add/remove ``<api id>:<stage>``, ``/apiStages/<api id>:<stage>/throttle/<resource
path>/<METHOD>/rateLimit|burstLimit``, ``/throttle/rateLimit|burstLimit``, ``/quota/limit|period|offset``,
``/throttle`` and ``/quota`` removed), DeleteUsagePlan (refused while API stages are associated, as on AWS);
CreateUsagePlanKey, GetUsagePlanKey(s),
DeleteUsagePlanKey; GetUsage (``[used, remaining]`` per key and UTC day) and UpdateUsage (``/remaining``).
Limits (``limits.py``): 10,000 keys and 300 usage plans per account and Region, 10 plans per key, names of at
most 1,024 characters. Key values are generated with 40 letters and digits, or given (20 to 128 characters); they are sealed at
rest (``apis/usage_plans.py``, which also applies keys and plans to requests). A key's ``stageKeys`` are
kept and shown, and grant nothing: since usage plans, only a plan that lists the API stage does.
"""

from __future__ import annotations

import calendar
import csv
import datetime
import io
import time
from typing import TYPE_CHECKING

from ..apis.usage_plans import VALUE_MAX, VALUE_MIN, generate_value, period_start
from ..protocol.errors import AwsError
from . import apigateway as rest
from . import operation
from .apigateway_models import page
from .apigateway_patch import _bool, _invalid, _ops, _unescape

if TYPE_CHECKING:
    from ..apis.usage_plans import UsagePlans
    from .context import RequestContext

SERVICE = rest.SERVICE
PERIODS = ("DAY", "WEEK", "MONTH")
_OFFSET_MAX = {"DAY": 0, "WEEK": 6, "MONTH": 27}


def _usage(ctx: "RequestContext") -> "UsagePlans":
    return ctx.lamb.http_apis.usage


def _key_not_found() -> AwsError:
    return AwsError("NotFoundException", "Invalid API Key identifier specified", 404)


def _plan_not_found() -> AwsError:
    return AwsError("NotFoundException", "Invalid Usage Plan ID specified", 404)


# ------------------------------------------------------------------ API keys
def _key(ctx: "RequestContext", key_id: str) -> dict:
    doc = _usage(ctx).keys.get(key_id)
    if doc is None:
        raise _key_not_found()
    return doc


def _shown_key(ctx: "RequestContext", doc: dict, with_value: bool) -> dict:
    out = rest._public(doc)
    if with_value:
        out["value"] = _usage(ctx).value(doc["id"])
    return out


def _check_value(value: str) -> None:
    if len(value) < VALUE_MIN:
        raise rest._bad(f"API Key value should be at least {VALUE_MIN} characters")
    if len(value) > VALUE_MAX:
        raise rest._bad(f"API Key value exceeds maximum size of {VALUE_MAX} characters")


def _stage_key(ctx: "RequestContext", api_id: str | None, stage: str | None) -> str:
    """``<rest api id>/<stage>`` of a stage that exists."""
    doc = rest._doc(ctx, api_id or "null")
    if not stage or stage not in doc["stages"]:
        raise rest._bad("Invalid stage identifier specified")
    return f"{api_id}/{stage}"


def _limit(message: str) -> AwsError:
    return AwsError("LimitExceededException", message, 429)


def _check_name(ctx: "RequestContext", name: str | None) -> None:
    if name and len(name) > ctx.lamb.settings.limits.api_key_name_max_chars:
        raise rest._bad(f"API Key name cannot exceed {ctx.lamb.settings.limits.api_key_name_max_chars} characters")


def _new_key(ctx: "RequestContext", params: dict, value: str) -> dict:
    usage = _usage(ctx)
    _check_value(value)
    _check_name(ctx, params.get("name"))
    limit = ctx.lamb.settings.limits.api_keys_max
    if len(usage.keys.ids()) >= limit:
        raise _limit(f"Exceeded the maximum number of API keys ({limit}) for this account and Region")
    if usage.key_by_value(value) is not None:
        raise AwsError("ConflictException", "API Key already exists", 409)
    now = time.time()
    doc = {"id": usage.keys.fresh_id(), "name": params.get("name") or "", "enabled": bool(params.get("enabled")),
           "createdDate": now, "lastUpdatedDate": now, "stageKeys": [], "tags": params.get("tags") or {}}
    if not doc["name"]:
        doc.pop("name")
    for k in ("description", "customerId"):
        if params.get(k) is not None:
            doc[k] = params[k]
    for sk in params.get("stageKeys") or []:
        key = _stage_key(ctx, sk.get("restApiId"), sk.get("stageName"))
        if key not in doc["stageKeys"]:
            doc["stageKeys"].append(key)
    usage.put_key(doc, value)
    return doc


@operation("CreateApiKey", service=SERVICE)
def create_api_key(ctx: "RequestContext", params: dict) -> dict:
    # generateDistinctId: "This parameter is deprecated and should not be used." (AWS's CreateApiKey reference,
    # https://docs.aws.amazon.com/apigateway/latest/api/API_CreateApiKey.html): a key's id is always distinct
    # from its value, whatever it says.
    doc = _new_key(ctx, params, params["value"] if params.get("value") is not None else generate_value())
    return _shown_key(ctx, doc, True)


@operation("GetApiKey", service=SERVICE)
def get_api_key(ctx: "RequestContext", params: dict) -> dict:
    return _shown_key(ctx, _key(ctx, params["apiKey"]), bool(params.get("includeValue")))


@operation("GetApiKeys", service=SERVICE)
def get_api_keys(ctx: "RequestContext", params: dict) -> dict:
    usage = _usage(ctx)
    docs = sorted((usage.keys.get(i) for i in usage.keys.ids()), key=lambda d: (d.get("name") or "", d["id"]))
    prefix, customer = params.get("nameQuery"), params.get("customerId")
    docs = [d for d in docs if (not prefix or (d.get("name") or "").startswith(prefix))
            and (customer is None or d.get("customerId") == customer)]
    return page(params, [_shown_key(ctx, d, bool(params.get("includeValues"))) for d in docs])


@operation("UpdateApiKey", service=SERVICE)
def update_api_key(ctx: "RequestContext", params: dict) -> dict:
    usage = _usage(ctx)
    doc = dict(_key(ctx, params["apiKey"]))
    value = usage.value(doc["id"])
    doc["stageKeys"] = list(doc.get("stageKeys") or [])
    for op in _ops(params):
        path, verb, new = op.get("path") or "", op["op"], op.get("value")
        if path in ("/name", "/description", "/customerId") and verb == "replace":
            if path == "/name":
                _check_name(ctx, new)
            if new:
                doc[path[1:]] = new
            else:
                doc.pop(path[1:], None)
        elif path == "/enabled" and verb == "replace":
            doc["enabled"] = _bool(new)
        elif path == "/stageKeys" and verb in ("add", "remove"):
            api_id, _, stage = (new or "").partition("/")
            key = _stage_key(ctx, api_id, stage) if verb == "add" else f"{api_id}/{stage}"
            if verb == "add" and key not in doc["stageKeys"]:
                doc["stageKeys"].append(key)
            elif verb == "remove":
                doc["stageKeys"] = [k for k in doc["stageKeys"] if k != key]
        else:
            raise _invalid(op)
    doc["lastUpdatedDate"] = time.time()
    usage.put_key(rest._public(doc), value)
    return _shown_key(ctx, doc, False)


@operation("DeleteApiKey", service=SERVICE)
def delete_api_key(ctx: "RequestContext", params: dict) -> dict:
    _key(ctx, params["apiKey"])
    _usage(ctx).delete_key(params["apiKey"])
    return {}


@operation("ImportApiKeys", service=SERVICE)
def import_api_keys(ctx: "RequestContext", params: dict) -> dict:
    """API keys from a CSV file (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-key-file-format.html)."""
    if (params.get("format") or "").lower() != "csv":
        raise rest._bad("Invalid format specified: only csv is supported")
    body = params.get("body") or b""
    text = body.decode("utf-8-sig") if isinstance(body, (bytes, bytearray)) else str(body)
    rows = list(csv.reader(io.StringIO(text), skipinitialspace=True))
    if not rows:
        raise rest._bad("Invalid API Key file: the file is empty")
    header = [h.strip().lower() for h in rows[0]]
    if "key" not in header or "name" not in header:
        raise rest._bad("Invalid API Key file: the Name and Key columns are required")
    usage = _usage(ctx)
    warnings: list[str] = []
    entries = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = dict(zip(header, (c.strip() for c in row)))
        value = cells.get("key") or ""
        plans = [p.strip().strip("'\"") for p in (cells.get("usageplanids") or "").strip("'\"").split(",") if p.strip()]
        problem = None
        if not VALUE_MIN <= len(value) <= VALUE_MAX:
            problem = f"Line {number}: API Key value must be between {VALUE_MIN} and {VALUE_MAX} characters"
        elif len(cells.get("name") or "") > ctx.lamb.settings.limits.api_key_name_max_chars:
            problem = f"Line {number}: API Key name cannot exceed {ctx.lamb.settings.limits.api_key_name_max_chars} characters"
        elif any(usage.plans.get(p) is None for p in plans):
            problem = f"Line {number}: Invalid Usage Plan ID specified"
        if problem is not None:
            warnings.append(problem)
            continue
        entries.append((cells, value, plans))
    if warnings and params.get("failOnWarnings"):
        raise rest._bad("Errors found during import:\n\t" + "\n\t".join(warnings))
    ids = []
    for cells, value, plans in entries:
        enabled = (cells.get("enabled") or "true").lower() != "false"
        existing = usage.key_by_value(value)
        if existing is not None:  # the same value imported again: the newest wins
            doc = dict(rest._public(existing), name=cells.get("name") or "", enabled=enabled,
                       lastUpdatedDate=time.time())
            if cells.get("description"):
                doc["description"] = cells["description"]
            usage.put_key(doc, value)
        else:
            doc = _new_key(ctx, {"name": cells.get("name"), "description": cells.get("description") or None,
                                 "enabled": enabled}, value)
        for plan_id in plans:
            _add_plan_key(ctx, plan_id, doc["id"])
        ids.append(doc["id"])
    return {"ids": ids, "warnings": warnings}


# ------------------------------------------------------------------ usage plans
def _plan(ctx: "RequestContext", plan_id: str) -> dict:
    doc = _usage(ctx).plans.get(plan_id)
    if doc is None:
        raise _plan_not_found()
    return doc


def _check_throttle(throttle: dict | None) -> None:
    if throttle is None:
        return
    if (throttle.get("rateLimit") or 0) < 0 or (throttle.get("burstLimit") or 0) < 0:
        raise rest._bad("Throttle rate and burst limits must not be negative")


def _check_quota(quota: dict | None) -> None:
    if quota is None:
        return
    period = quota.get("period")
    if period not in PERIODS:
        raise rest._bad(f"Invalid quota period specified: {period}. Valid values are {', '.join(PERIODS)}")
    if quota.get("limit") is None or quota["limit"] < 0:
        raise rest._bad("Quota limit must be a non-negative number")
    if not 0 <= (quota.get("offset") or 0) <= _OFFSET_MAX[period]:
        raise rest._bad(f"Quota offset must be between 0 and {_OFFSET_MAX[period]} for period {period}")


def _method_key(key: str) -> None:
    path, _, verb = key.rpartition("/")
    if not path.startswith("/") or verb not in rest.METHODS:
        raise rest._bad(f"Invalid method throttle key specified: {key}. Use <resource path>/<HTTP method>")


def _api_stage(ctx: "RequestContext", api_id: str | None, stage: str | None, throttle: dict | None) -> dict:
    """A usage plan's API stage: a REST API's, or a WebSocket API's (apis/websocket.py checks its routes with
    ``ApiKeyRequired`` against it; the plan's throttle and quota apply, per-method throttles take REST's
    ``<resource path>/<METHOD>`` keys only)."""
    websocket_doc = ctx.lamb.http_apis.store.get(api_id or "")
    if websocket_doc is not None and websocket_doc["api"].get("ProtocolType") == "WEBSOCKET":
        doc = websocket_doc
    else:
        doc = rest._doc(ctx, api_id or "null")
    if not stage or stage not in doc["stages"]:
        raise rest._bad("Invalid stage identifier specified")
    out: dict = {"apiId": api_id, "stage": stage}
    if throttle:
        for key, settings in throttle.items():
            _method_key(key)
            _check_throttle(settings)
        out["throttle"] = dict(throttle)
    return out


@operation("CreateUsagePlan", service=SERVICE)
def create_usage_plan(ctx: "RequestContext", params: dict) -> dict:
    usage = _usage(ctx)
    limit = ctx.lamb.settings.limits.usage_plans_max
    if len(usage.plans.ids()) >= limit:
        raise _limit(f"Exceeded the maximum number of usage plans ({limit}) for this account and Region")
    stages = []
    for s in params.get("apiStages") or []:
        entry = _api_stage(ctx, s.get("apiId"), s.get("stage"), s.get("throttle"))
        if any((e["apiId"], e["stage"]) == (entry["apiId"], entry["stage"]) for e in stages):
            raise rest._bad(f"Duplicate API stage specified: {entry['apiId']}:{entry['stage']}")
        stages.append(entry)
    _check_throttle(params.get("throttle"))
    _check_quota(params.get("quota"))
    plan = {"id": rest.new_id(6), "name": params["name"], "apiStages": stages, "tags": params.get("tags") or {},
            "_keys": []}
    while usage.plans.get(plan["id"]) is not None:
        plan["id"] = rest.new_id(6)
    for k in ("description", "throttle", "quota"):
        if params.get(k) is not None:
            plan[k] = params[k]
    if plan.get("quota") is not None:
        plan["quota"] = dict(plan["quota"], offset=plan["quota"].get("offset") or 0)
    usage.plans.put(plan["id"], plan)
    return rest._public(plan)


@operation("GetUsagePlan", service=SERVICE)
def get_usage_plan(ctx: "RequestContext", params: dict) -> dict:
    return rest._public(_plan(ctx, params["usagePlanId"]))


@operation("GetUsagePlans", service=SERVICE)
def get_usage_plans(ctx: "RequestContext", params: dict) -> dict:
    usage = _usage(ctx)
    plans = [usage.plans.get(i) for i in usage.plans.ids()]
    if params.get("keyId"):
        plans = [p for p in plans if params["keyId"] in p.get("_keys", [])]
    return page(params, [rest._public(p) for p in plans])


def _patch_stage_throttle(ctx: "RequestContext", plan: dict, op: dict, parts: list[str]) -> None:
    """``/apiStages/<api>:<stage>/throttle[/<resource path>/<METHOD>[/rateLimit|burstLimit]]``."""
    api_id, _, stage = _unescape(parts[1]).partition(":")
    entry = next((s for s in plan["apiStages"] if (s["apiId"], s["stage"]) == (api_id, stage)), None)
    if entry is None:
        raise rest._bad(f"Invalid API stage specified: {api_id}:{stage}")
    rest_parts = parts[3:]
    throttle = entry.setdefault("throttle", {})
    verb, value = op["op"], op.get("value")
    if not rest_parts:
        if verb != "remove":
            raise _invalid(op)
        entry.pop("throttle", None)
        return
    field = rest_parts[-1] if rest_parts[-1] in ("rateLimit", "burstLimit") else None
    method_parts = rest_parts[:-1] if field else rest_parts
    if len(method_parts) != 2:
        raise _invalid(op)
    key = _unescape(method_parts[0]) + "/" + method_parts[1]
    if not key.startswith("/"):
        key = "/" + key
    _method_key(key)
    if verb == "remove" and field is None:
        throttle.pop(key, None)
    elif field is not None and verb in ("add", "replace"):
        settings = throttle.setdefault(key, {})
        try:
            settings[field] = float(value) if field == "rateLimit" else int(value)
        except (TypeError, ValueError):
            raise rest._bad(f"Invalid {field} value specified: {value}") from None
        _check_throttle(settings)
    elif field is not None and verb == "remove":
        (throttle.get(key) or {}).pop(field, None)
    else:
        raise _invalid(op)
    if not throttle:
        entry.pop("throttle", None)


def _patch_settings(plan: dict, op: dict, parts: list[str]) -> None:
    """``/throttle[/rateLimit|burstLimit]`` and ``/quota[/limit|period|offset]``."""
    what, verb, value = parts[0], op["op"], op.get("value")
    if len(parts) == 1 and verb == "remove":
        plan.pop(what, None)
        return
    fields = {"throttle": ("rateLimit", "burstLimit"), "quota": ("limit", "period", "offset")}[what]
    if len(parts) != 2 or parts[1] not in fields or verb not in ("add", "replace", "remove"):
        raise _invalid(op)
    settings = dict(plan.get(what) or {})
    if verb == "remove":
        settings.pop(parts[1], None)
    else:
        try:
            settings[parts[1]] = value if parts[1] == "period" else float(value) if parts[1] == "rateLimit" \
                else int(value)
        except (TypeError, ValueError):
            raise rest._bad(f"Invalid {parts[1]} value specified: {value}") from None
    if what == "quota":
        settings.setdefault("offset", 0)
        settings.setdefault("period", "DAY")
        _check_quota(settings)
    else:
        _check_throttle(settings)
    plan[what] = settings


@operation("UpdateUsagePlan", service=SERVICE)
def update_usage_plan(ctx: "RequestContext", params: dict) -> dict:
    import copy

    usage = _usage(ctx)
    plan = copy.deepcopy(_plan(ctx, params["usagePlanId"]))
    for op in _ops(params):
        path, verb, value = op.get("path") or "", op["op"], op.get("value")
        parts = path.split("/")[1:]
        if path in ("/name", "/description", "/productCode") and verb == "replace":
            if value or path == "/name":
                plan[path[1:]] = value or ""
            else:
                plan.pop(path[1:], None)
        elif path == "/apiStages" and verb in ("add", "remove"):
            api_id, _, stage = (value or "").partition(":")
            present = any((s["apiId"], s["stage"]) == (api_id, stage) for s in plan["apiStages"])
            if verb == "add":
                if present:
                    raise rest._bad(f"Duplicate API stage specified: {api_id}:{stage}")
                plan["apiStages"].append(_api_stage(ctx, api_id, stage, None))
            else:
                if not present:
                    raise rest._bad(f"Invalid API stage specified: {api_id}:{stage}")
                plan["apiStages"] = [s for s in plan["apiStages"] if (s["apiId"], s["stage"]) != (api_id, stage)]
        elif len(parts) >= 3 and parts[0] == "apiStages" and parts[2] == "throttle":
            _patch_stage_throttle(ctx, plan, op, parts)
        elif parts[:1] in (["throttle"], ["quota"]):
            _patch_settings(plan, op, parts)
        else:
            raise _invalid(op)
    usage.plans.put(plan["id"], plan)
    return rest._public(plan)


@operation("DeleteUsagePlan", service=SERVICE)
def delete_usage_plan(ctx: "RequestContext", params: dict) -> dict:
    usage = _usage(ctx)
    plan = _plan(ctx, params["usagePlanId"])
    if plan["apiStages"]:  # AWS's answer: the stages are removed first (UpdateUsagePlan)
        first = plan["apiStages"][0]
        raise rest._bad(f"Cannot delete Usage Plan {plan['id']} because there are API Stages associated with it, "
                        f"including {first['apiId']}:{first['stage']}")
    usage.plans.delete(params["usagePlanId"])
    usage.forget_usage(params["usagePlanId"])
    return {}


# ------------------------------------------------------------------ usage plan keys
def _plan_key(ctx: "RequestContext", key_id: str) -> dict:
    doc = _key(ctx, key_id)
    out = {"id": doc["id"], "type": "API_KEY", "value": _usage(ctx).value(doc["id"])}
    if doc.get("name"):
        out["name"] = doc["name"]
    return out


def _add_plan_key(ctx: "RequestContext", plan_id: str, key_id: str) -> None:
    usage = _usage(ctx)
    plan = _plan(ctx, plan_id)
    if key_id not in plan.get("_keys", []):
        limit = ctx.lamb.settings.limits.api_key_usage_plans_max
        if sum(key_id in usage.plans.get(i).get("_keys", []) for i in usage.plans.ids()) >= limit:
            raise _limit(f"An API key can be in at most {limit} usage plans")
        usage.plans.put(plan_id, dict(plan, _keys=list(plan.get("_keys", [])) + [key_id]))


@operation("CreateUsagePlanKey", service=SERVICE)
def create_usage_plan_key(ctx: "RequestContext", params: dict) -> dict:
    plan = _plan(ctx, params["usagePlanId"])
    if params["keyType"] != "API_KEY":
        raise rest._bad(f"Invalid key type specified: {params['keyType']}. Valid values are API_KEY")
    _key(ctx, params["keyId"])
    if params["keyId"] in plan.get("_keys", []):
        raise AwsError("ConflictException", "Usage Plan Key already exists", 409)
    _add_plan_key(ctx, plan["id"], params["keyId"])
    return _plan_key(ctx, params["keyId"])


def _member(ctx: "RequestContext", params: dict) -> dict:
    plan = _plan(ctx, params["usagePlanId"])
    if params["keyId"] not in plan.get("_keys", []):
        raise _key_not_found()
    return plan


@operation("GetUsagePlanKey", service=SERVICE)
def get_usage_plan_key(ctx: "RequestContext", params: dict) -> dict:
    _member(ctx, params)
    return _plan_key(ctx, params["keyId"])


@operation("GetUsagePlanKeys", service=SERVICE)
def get_usage_plan_keys(ctx: "RequestContext", params: dict) -> dict:
    plan = _plan(ctx, params["usagePlanId"])
    keys = [_plan_key(ctx, k) for k in plan.get("_keys", []) if _usage(ctx).keys.get(k) is not None]
    if params.get("nameQuery"):
        keys = [k for k in keys if (k.get("name") or "").startswith(params["nameQuery"])]
    return page(params, sorted(keys, key=lambda k: (k.get("name") or "", k["id"])))


@operation("DeleteUsagePlanKey", service=SERVICE)
def delete_usage_plan_key(ctx: "RequestContext", params: dict) -> dict:
    plan = _member(ctx, params)
    usage = _usage(ctx)
    usage.plans.put(plan["id"], dict(plan, _keys=[k for k in plan["_keys"] if k != params["keyId"]]))
    usage.forget_usage(plan["id"], params["keyId"])
    return {}


# ------------------------------------------------------------------ usage
def _date(value: str, what: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise rest._bad(f"Invalid {what} specified: {value}. The format is yyyy-MM-dd") from None


def _usage_of(ctx: "RequestContext", plan: dict, key_ids: list[str], start: datetime.date,
              end: datetime.date) -> dict:
    """``{key id: [[used, remaining], ...]}``, one pair per day from ``start`` to ``end``."""
    usage = _usage(ctx)
    quota = plan.get("quota")
    today = datetime.datetime.now(datetime.timezone.utc).date()
    current = period_start(quota or {}, time.time())
    items = {}
    days = [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]
    for key_id in key_ids:
        rows = []
        for day in days:
            used = usage.used(plan["id"], key_id, day.isoformat())
            remaining = 0
            if quota:
                if current <= day <= today:  # the current period (UpdateUsage may have set it)
                    remaining = int(quota["limit"]) - usage.period_used(plan, key_id)
                else:
                    first = period_start(quota, calendar.timegm(day.timetuple()) + 43200)
                    spent = sum(usage.used(plan["id"], key_id, (first + datetime.timedelta(days=n)).isoformat())
                                for n in range((day - first).days + 1))
                    remaining = int(quota["limit"]) - spent
            rows.append([used, max(0, remaining)])
        items[key_id] = rows
    return items


@operation("GetUsage", service=SERVICE)
def get_usage(ctx: "RequestContext", params: dict) -> dict:
    plan = _plan(ctx, params["usagePlanId"])
    start, end = _date(params["startDate"], "start date"), _date(params["endDate"], "end date")
    if end < start:
        raise rest._bad("The end date must not be before the start date")
    if (end - start).days > 90:
        raise rest._bad("The time range must not exceed 90 days")
    keys = [k for k in plan.get("_keys", []) if _usage(ctx).keys.get(k) is not None]
    if params.get("keyId"):
        if params["keyId"] not in keys:
            raise _key_not_found()
        keys = [params["keyId"]]
    paged = page(params, sorted(keys))
    out = {"usagePlanId": plan["id"], "startDate": start.isoformat(), "endDate": end.isoformat(),
           "items": _usage_of(ctx, plan, paged["items"], start, end)}
    if "position" in paged:
        out["position"] = paged["position"]
    return out


@operation("UpdateUsage", service=SERVICE)
def update_usage(ctx: "RequestContext", params: dict) -> dict:
    plan = _member(ctx, params)
    usage = _usage(ctx)
    for op in _ops(params):
        if op.get("path") != "/remaining" or op["op"] != "replace":
            raise _invalid(op)
        if not plan.get("quota"):
            raise rest._bad("The usage plan has no quota: its remaining requests cannot be set")
        try:
            remaining = int(op.get("value"))
        except (TypeError, ValueError):
            raise rest._bad(f"Invalid remaining value specified: {op.get('value')}") from None
        if remaining < 0:
            raise rest._bad("The remaining requests must not be negative")
        usage.set_remaining(plan, params["keyId"], remaining)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    return {"usagePlanId": plan["id"], "startDate": today.isoformat(), "endDate": today.isoformat(),
            "items": _usage_of(ctx, plan, [params["keyId"]], today, today)}
