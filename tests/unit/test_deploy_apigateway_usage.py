"""deploy/apigateway_usage.py: registration, replacements and the UpdateUsagePlan/UpdateApiKey patches a
template change makes (tests/integration/test_rest_usage_plans.py deploys SAM's usage plan on ``lamb serve``)."""

from lamb.deploy.apigateway_usage import ApiKey, UsagePlan, UsagePlanKey
from lamb.deploy.engine import default_registry
from lamb.deploy.plan import needs_replacement


class _Recorder:
    """A stand-in for boto3's apigateway client that records the calls a handler makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def __getattr__(self, name):
        def call(**kw):
            self.calls.append((name, kw))
            return {"id": "id1"}
        return call


class _Env:
    stack, region, account = "s", "us-east-1", "123456789012"

    def __init__(self) -> None:
        self.client = _Recorder()

    def lamb_client(self, service: str):
        return self.client


def test_registered_and_replacements():
    registry = default_registry()
    for kind, handler in (("ApiKey", ApiKey), ("UsagePlan", UsagePlan), ("UsagePlanKey", UsagePlanKey)):
        assert isinstance(registry.lookup(f"AWS::ApiGateway::{kind}"), handler)
    assert needs_replacement(ApiKey().replace_on, {"Value": "a" * 20}, {"Value": "b" * 20})
    assert not needs_replacement(ApiKey().replace_on, {"Enabled": True}, {"Enabled": False})
    assert not needs_replacement(UsagePlan().replace_on, {"Quota": {"Limit": 1}}, {"Quota": {"Limit": 2}})
    assert needs_replacement(UsagePlanKey().replace_on, {"KeyId": "a"}, {"KeyId": "b"})


def test_create_calls():
    env = _Env()
    applied = ApiKey().create(env, "Key", {"Enabled": "true", "StageKeys": [{"RestApiId": "a", "StageName": "s"}]})
    assert applied.attributes == {"Ref": "id1", "APIKeyId": "id1"}
    name, kw = env.client.calls[-1]
    assert name == "create_api_key" and kw["enabled"] is True and kw["name"].startswith("s-Key-")
    assert kw["stageKeys"] == [{"restApiId": "a", "stageName": "s"}]
    UsagePlan().create(env, "Plan", {"ApiStages": [{"ApiId": "a", "Stage": "s", "Throttle": {
        "/x/GET": {"RateLimit": 1}}}], "Quota": {"Limit": 2, "Period": "DAY"}, "UsagePlanName": "n"})
    assert env.client.calls[-1] == ("create_usage_plan", {
        "name": "n", "apiStages": [{"apiId": "a", "stage": "s", "throttle": {"/x/GET": {"rateLimit": 1}}}],
        "quota": {"limit": 2, "period": "DAY"}})


def test_update_patches():
    env = _Env()
    old = {"UsagePlanName": "n", "ApiStages": [{"ApiId": "a", "Stage": "s", "Throttle": {"/x/GET": {"RateLimit": 1}}}],
           "Quota": {"Limit": 2, "Period": "DAY"}, "Throttle": {"RateLimit": 5}}
    new = {"UsagePlanName": "n", "ApiStages": [{"ApiId": "a", "Stage": "s", "Throttle": {"/y/z/POST": {"BurstLimit": 3}}},
                                               {"ApiId": "b", "Stage": "t"}],
           "Quota": {"Limit": 4, "Period": "WEEK"}}
    UsagePlan().update(env, "Plan", "p1", old, new, {})
    name, kw = env.client.calls[-1]
    assert name == "update_usage_plan" and kw["usagePlanId"] == "p1"
    assert kw["patchOperations"] == [
        {"op": "remove", "path": "/throttle"},
        {"op": "replace", "path": "/quota/limit", "value": "4"},
        {"op": "replace", "path": "/quota/period", "value": "WEEK"},
        {"op": "add", "path": "/apiStages", "value": "b:t"},
        {"op": "remove", "path": "/apiStages/a:s/throttle/~1x/GET"},
        {"op": "replace", "path": "/apiStages/a:s/throttle/~1y~1z/POST/burstLimit", "value": "3"}]
    ApiKey().update(env, "Key", "k1", {"Enabled": True, "StageKeys": [{"RestApiId": "a", "StageName": "s"}]},
                    {"Enabled": False, "Description": "d"}, {})
    assert env.client.calls[-1] == ("update_api_key", {"apiKey": "k1", "patchOperations": [
        {"op": "replace", "path": "/enabled", "value": "false"},
        {"op": "replace", "path": "/description", "value": "d"},
        {"op": "remove", "path": "/stageKeys", "value": "a/s"}]})
