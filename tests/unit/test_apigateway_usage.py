"""api/apigateway_usage.py: the API key and usage plan operations' rules, PATCH paths, CSV import and
GetUsage's shape, on real stores (SQLite, a Sealer); tests/integration/test_rest_usage_plans.py drives
them through boto3 and the AWS CLI against ``lamb serve``."""

import datetime
from types import SimpleNamespace

import pytest

from lamb.api import apigateway_usage as ops
from lamb.apis.store import HttpApiStore
from lamb.apis.throttle import Buckets
from lamb.apis.usage_plans import UsagePlans
from lamb.limits import Limits
from lamb.protocol.errors import AwsError
from lamb.sealing import Sealer
from lamb.store.db import Database


@pytest.fixture
def ctx(tmp_path):
    db = Database(tmp_path / "lamb.db")
    rest = HttpApiStore(db, "rest_apis")
    rest.put("api1", {"api": {"id": "api1"}, "resources": {}, "stages": {"live": {}, "beta": {}}, "deployments": {}})
    v2 = HttpApiStore(db)  # WebSocket APIs' stages may be in plans too
    v2.put("ws1", {"api": {"ApiId": "ws1", "ProtocolType": "WEBSOCKET"}, "stages": {"prod": {}}})
    apis = SimpleNamespace(rest=rest, store=v2, usage=UsagePlans(db, Sealer(b"m" * 32)))
    settings = SimpleNamespace(account_id="123456789012", limits=Limits().override(
        api_keys_max=6, usage_plans_max=3, api_key_usage_plans_max=2, api_key_name_max_chars=10))
    return SimpleNamespace(lamb=SimpleNamespace(http_apis=apis, settings=settings))


def _error(fn, *args) -> tuple[str, str]:
    with pytest.raises(AwsError) as e:
        fn(*args)
    return e.value.code, e.value.message


def test_api_keys(ctx):
    key = ops.create_api_key(ctx, {"name": "k", "value": "v" * 20, "stageKeys": [
        {"restApiId": "api1", "stageName": "live"}]})
    assert key["enabled"] is False and key["value"] == "v" * 20 and key["stageKeys"] == ["api1/live"]
    assert _error(ops.create_api_key, ctx, {"name": "x", "stageKeys": [{"restApiId": "api1", "stageName": "no"}]}) \
        == ("BadRequestException", "Invalid stage identifier specified")
    assert _error(ops.create_api_key, ctx, {"value": "v" * 20})[0] == "ConflictException"
    updated = ops.update_api_key(ctx, {"apiKey": key["id"], "patchOperations": [
        {"op": "replace", "path": "/enabled", "value": "true"},
        {"op": "replace", "path": "/description", "value": "d"},
        {"op": "remove", "path": "/stageKeys", "value": "api1/live"},
        {"op": "add", "path": "/stageKeys", "value": "api1/beta"}]})
    assert (updated["enabled"], updated["description"], updated["stageKeys"]) == (True, "d", ["api1/beta"])
    assert "value" not in updated
    assert _error(ops.update_api_key, ctx, {"apiKey": key["id"], "patchOperations": [
        {"op": "replace", "path": "/value", "value": "w" * 20}]})[1] == "Invalid patch path '/value' specified for op 'replace'"
    for n in range(3):
        ops.create_api_key(ctx, {"name": f"other{n}"})
    first = ops.get_api_keys(ctx, {"limit": 2})
    assert len(first["items"]) == 2 and "position" in first
    assert len(ops.get_api_keys(ctx, {"limit": 2, "position": first["position"]})["items"]) == 2
    assert [k["name"] for k in ops.get_api_keys(ctx, {"nameQuery": "oth"})["items"]] == ["other0", "other1", "other2"]
    ops.delete_api_key(ctx, {"apiKey": key["id"]})
    assert _error(ops.get_api_key, ctx, {"apiKey": key["id"]}) == ("NotFoundException",
                                                                   "Invalid API Key identifier specified")


def test_usage_plan_patches(ctx):
    plan = ops.create_usage_plan(ctx, {"name": "p", "apiStages": [{"apiId": "api1", "stage": "live"}],
                                       "throttle": {"rateLimit": 10.0, "burstLimit": 20}})
    assert "_keys" not in plan
    assert _error(ops.create_usage_plan, ctx, {"name": "q", "quota": {"limit": 1, "period": "DAY", "offset": 1}})[0] \
        == "BadRequestException"
    assert _error(ops.create_usage_plan, ctx, {"name": "q", "apiStages": [
        {"apiId": "api1", "stage": "live", "throttle": {"hello/GET": {}}}]})[0] == "BadRequestException"
    base = f"/apiStages/api1:live/throttle/~1pets~1{{id}}/GET"
    out = ops.update_usage_plan(ctx, {"usagePlanId": plan["id"], "patchOperations": [
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "replace", "path": base + "/rateLimit", "value": "2.5"},
        {"op": "replace", "path": base + "/burstLimit", "value": "3"},
        {"op": "replace", "path": "/throttle/burstLimit", "value": "5"},
        {"op": "replace", "path": "/quota/limit", "value": "7"},
        {"op": "add", "path": "/apiStages", "value": "api1:beta"}]})
    assert out["name"] == "renamed" and out["throttle"] == {"rateLimit": 10.0, "burstLimit": 5}
    assert out["quota"] == {"limit": 7, "offset": 0, "period": "DAY"}
    assert out["apiStages"] == [{"apiId": "api1", "stage": "live",
                                 "throttle": {"/pets/{id}/GET": {"rateLimit": 2.5, "burstLimit": 3}}},
                                {"apiId": "api1", "stage": "beta"}]
    out = ops.update_usage_plan(ctx, {"usagePlanId": plan["id"], "patchOperations": [
        {"op": "remove", "path": base}, {"op": "remove", "path": "/quota"},
        {"op": "remove", "path": "/apiStages", "value": "api1:beta"}]})
    assert out["apiStages"] == [{"apiId": "api1", "stage": "live"}] and "quota" not in out
    ws = ops.create_usage_plan(ctx, {"name": "ws", "apiStages": [{"apiId": "ws1", "stage": "prod"}]})
    assert ws["apiStages"] == [{"apiId": "ws1", "stage": "prod"}]  # a WebSocket API's stage
    assert _error(ops.create_usage_plan, ctx, {"name": "q", "apiStages": [{"apiId": "ws1", "stage": "nope"}]})[0] \
        == "BadRequestException"
    assert _error(ops.update_usage_plan, ctx, {"usagePlanId": plan["id"], "patchOperations": [
        {"op": "add", "path": "/apiStages", "value": "api1:gone"}]}) == ("BadRequestException",
                                                                           "Invalid stage identifier specified")
    assert _error(ops.get_usage_plan, ctx, {"usagePlanId": "nope"}) == ("NotFoundException",
                                                                        "Invalid Usage Plan ID specified")


def test_plan_keys_import_and_usage(ctx):
    plan = ops.create_usage_plan(ctx, {"name": "p", "apiStages": [{"apiId": "api1", "stage": "live"}],
                                       "quota": {"limit": 5, "period": "MONTH"}})
    body = (f"Key,name,Enabled,UsagePlanIds,Extra\n{'a' * 20},first,true,{plan['id']},x\n"
            f"{'b' * 20},second,FALSE,\"{plan['id']},nope\",y\n").encode()
    out = ops.import_api_keys(ctx, {"body": body, "format": "csv"})
    assert len(out["ids"]) == 1 and out["warnings"] == ["Line 3: Invalid Usage Plan ID specified"]
    with pytest.raises(AwsError):
        ops.import_api_keys(ctx, {"body": body, "format": "csv", "failOnWarnings": True})
    with pytest.raises(AwsError):
        ops.import_api_keys(ctx, {"body": b"name\nx\n", "format": "csv"})
    again = ops.import_api_keys(ctx, {"body": f"key,name,enabled\n{'a' * 20},renamed,false\n".encode(), "format": "csv"})
    assert again["ids"] == out["ids"]  # the same value: overwritten
    key_id = out["ids"][0]
    assert ops.get_api_key(ctx, {"apiKey": key_id})["name"] == "renamed"
    assert ops.get_usage_plan_key(ctx, {"usagePlanId": plan["id"], "keyId": key_id})["value"] == "a" * 20
    assert _error(ops.create_usage_plan_key, ctx, {"usagePlanId": plan["id"], "keyId": key_id,
                                                   "keyType": "API_KEY"})[0] == "ConflictException"
    assert [p["id"] for p in ops.get_usage_plans(ctx, {"keyId": key_id})["items"]] == [plan["id"]]

    usage = ctx.lamb.http_apis.usage
    usage.keys.put(key_id, dict(usage.keys.get(key_id), enabled=True))
    for _ in range(2):
        usage.admit("a" * 20, "api1", "live", "/", "GET", Buckets())
    today = datetime.datetime.now(datetime.timezone.utc).date()
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    got = ops.get_usage(ctx, {"usagePlanId": plan["id"], "startDate": yesterday, "endDate": today.isoformat()})
    assert got["items"][key_id][-1] == [2, 3] and got["items"][key_id][0][0] == 0
    assert _error(ops.get_usage, ctx, {"usagePlanId": plan["id"], "startDate": "2026-13-01", "endDate": "x"})[0] \
        == "BadRequestException"
    set_to = ops.update_usage(ctx, {"usagePlanId": plan["id"], "keyId": key_id, "patchOperations": [
        {"op": "replace", "path": "/remaining", "value": "1"}]})
    assert set_to["items"] == {key_id: [[2, 1]]}
    ops.delete_usage_plan_key(ctx, {"usagePlanId": plan["id"], "keyId": key_id})
    assert ops.get_usage_plan_keys(ctx, {"usagePlanId": plan["id"]})["items"] == []
    assert _error(ops.update_usage, ctx, {"usagePlanId": plan["id"], "keyId": key_id, "patchOperations": []}) == (
        "NotFoundException", "Invalid API Key identifier specified")
    assert _error(ops.delete_usage_plan, ctx, {"usagePlanId": plan["id"]})[1].startswith(
        f"Cannot delete Usage Plan {plan['id']} because there are API Stages associated with it")
    ops.update_usage_plan(ctx, {"usagePlanId": plan["id"], "patchOperations": [
        {"op": "remove", "path": "/apiStages", "value": "api1:live"}]})
    ops.delete_usage_plan(ctx, {"usagePlanId": plan["id"]})
    assert ops.get_usage_plans(ctx, {})["items"] == []


def test_limits(ctx):
    assert _error(ops.create_api_key, ctx, {"name": "n" * 11})[1] == "API Key name cannot exceed 10 characters"
    keys = [ops.create_api_key(ctx, {"name": f"k{n}"})["id"] for n in range(6)]
    assert _error(ops.create_api_key, ctx, {"name": "k7"})[0] == "LimitExceededException"
    plans = [ops.create_usage_plan(ctx, {"name": f"p{n}"})["id"] for n in range(3)]
    assert _error(ops.create_usage_plan, ctx, {"name": "p4"})[0] == "LimitExceededException"
    for plan in plans[:2]:
        ops.create_usage_plan_key(ctx, {"usagePlanId": plan, "keyId": keys[0], "keyType": "API_KEY"})
    assert _error(ops.create_usage_plan_key, ctx, {"usagePlanId": plans[2], "keyId": keys[0],
                                                   "keyType": "API_KEY"})[0] == "LimitExceededException"
