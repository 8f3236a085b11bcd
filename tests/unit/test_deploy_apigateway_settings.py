"""deploy/apigateway_settings.py: what needs no server (tests/integration/test_deploy_rest_settings.py applies
these handlers against a real ``lamb serve``)."""

from lamb.deploy.apigateway_settings import Account, GatewayResponse, Model, RequestValidator
from lamb.deploy.engine import default_registry
from lamb.deploy.plan import needs_replacement


def test_registered():
    registry = default_registry()
    for kind, handler in (("Model", Model), ("RequestValidator", RequestValidator),
                          ("GatewayResponse", GatewayResponse), ("Account", Account)):
        assert isinstance(registry.lookup(f"AWS::ApiGateway::{kind}"), handler)


def test_replacement_follows_cloudformation():
    assert needs_replacement(Model().replace_on, {"Name": "a"}, {"Name": "b"})
    assert not needs_replacement(Model().replace_on, {"Schema": {}}, {"Schema": {"type": "object"}})
    assert needs_replacement(GatewayResponse().replace_on, {"ResponseType": "THROTTLED"},
                             {"ResponseType": "UNAUTHORIZED"})
    assert not needs_replacement(RequestValidator().replace_on, {"ValidateRequestBody": True},
                                 {"ValidateRequestBody": False})
    assert not needs_replacement(Account().replace_on, {"CloudWatchRoleArn": "a"}, {"CloudWatchRoleArn": "b"})
    assert Model._schema({"Schema": {"type": "object"}}) == '{"type": "object"}'
    assert Model._schema({"Schema": '{"type": "string"}'}) == '{"type": "string"}'


def test_stage_method_settings_become_update_stage_paths():
    from lamb.deploy.apigateway_resources import Stage

    old = {"MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True, "LoggingLevel": "INFO"},
                              {"ResourcePath": "/~1pets", "HttpMethod": "GET", "ThrottlingBurstLimit": 5},
                              {"ResourcePath": "/", "HttpMethod": "POST", "DataTraceEnabled": True}]}
    assert Stage._method_settings({}, old) == [
        {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
        {"op": "replace", "path": "/~1pets/GET/throttling/burstLimit", "value": "5"},
        {"op": "replace", "path": "/~1/POST/logging/dataTrace", "value": "true"}]
    new = {"MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True},
                              {"ResourcePath": "/~1pets", "HttpMethod": "GET", "ThrottlingBurstLimit": 7,
                               "ThrottlingRateLimit": 1.5}]}
    assert Stage._method_settings(old, new) == [
        {"op": "remove", "path": "/~1/POST"},
        {"op": "remove", "path": "/*/*/logging/loglevel"},
        {"op": "replace", "path": "/~1pets/GET/throttling/burstLimit", "value": "7"},
        {"op": "replace", "path": "/~1pets/GET/throttling/rateLimit", "value": "1.5"}]
    assert Stage._method_settings(new, new) == []
