"""deploy/registry.py and the handler registrations: every type is applied or reported."""

from lamb.deploy.engine import default_registry
from lamb.deploy.registry import NotApplied, physical_name


def test_types_pending_on_other_features_are_reported():
    registry = default_registry()
    for type_, feature in (("AWS::Lambda::EventSourceMapping", "event source mappings"),
                           ("AWS::Events::Rule", "EventBridge schedules"),
                           ("AWS::Scheduler::Schedule", "EventBridge Scheduler")):
        found = registry.lookup(type_)
        assert isinstance(found, NotApplied) and found.reason.startswith(f"not applied: needs {feature}")
    other = registry.lookup("AWS::ApiGateway::RestApi")
    assert isinstance(other, NotApplied) and "not managed by lamb deploy" in other.reason
    for type_ in ("AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::Lambda::Url", "AWS::SQS::Queue", "AWS::IAM::Role"):
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
