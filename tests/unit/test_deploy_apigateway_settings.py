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
