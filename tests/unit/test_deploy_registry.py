"""deploy/registry.py and the handler registrations: every type is applied or reported."""

from lamb.deploy.engine import default_registry
from lamb.deploy.registry import NotApplied, physical_name


def test_types_pending_on_a_feature_are_reported():
    registry = default_registry()
    registry.pending("AWS::Example::Thing", "example things")
    found = registry.lookup("AWS::Example::Thing")
    assert isinstance(found, NotApplied) and found.reason == "not applied: needs example things"
    other = registry.lookup("AWS::StepFunctions::StateMachine")
    assert isinstance(other, NotApplied) and "not managed by lamb deploy" in other.reason
    for type_ in ("AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::Lambda::Url", "AWS::SQS::Queue", "AWS::IAM::Role",
                  "AWS::Lambda::EventSourceMapping", "AWS::Events::Rule", "AWS::Scheduler::Schedule",
                  "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Stage", "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Route"):
        assert not isinstance(registry.lookup(type_), NotApplied)


def test_a_later_feature_plugs_in():
    registry = default_registry()
    handler = object()
    registry.add("AWS::Lambda::EventSourceMapping", handler)  # type: ignore[arg-type]
    assert registry.lookup("AWS::Lambda::EventSourceMapping") is handler


def test_physical_names():
    name = physical_name("my-stack", "HelloWorldFunction" * 5, 64)
    assert len(name) == 64 and name.startswith("my-stack-HelloWorld") and name[-13] == "-"
    assert physical_name("S", "Bucket", 63, lower=True).startswith("s-bucket-")
