"""Alias routing: the weighted draw and AWS's rules for RoutingConfig (pure logic)."""

import random

import pytest

from lamb.api.aliases import routing_config
from lamb.protocol.errors import AwsError
from lamb.store.functions import Route

ROLE = "arn:aws:iam::000000000000:role/r"
VERSIONS = {
    "$LATEST": {"Role": ROLE},
    "1": {"Role": ROLE},
    "2": {"Role": ROLE},
    "3": {"Role": "arn:aws:iam::000000000000:role/other"},
    "4": {"Role": ROLE, "DeadLetterConfig": {"TargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq"}},
}


def arn_of(v):
    return f"arn:aws:lambda:us-east-1:000000000000:function:f:{v}"


def error(fn, *args):
    with pytest.raises(AwsError) as e:
        fn(*args)
    return e.value.code, e.value.message


def test_route_without_weights_always_primary():
    r = Route.of({"FunctionVersion": "1"})
    assert r.versions() == ("1",)
    assert {r.pick() for _ in range(100)} == {"1"}


def test_route_pick_follows_the_draw():
    r = Route.of({"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.3}}})
    assert r.versions() == ("1", "2")
    assert r.pick(lambda: 0.0) == "2"
    assert r.pick(lambda: 0.2999) == "2"
    assert r.pick(lambda: 0.3) == "1"
    assert r.pick(lambda: 0.9999) == "1"


def test_route_edge_weights():
    zero = Route.of({"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.0}}})
    one = Route.of({"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 1.0}}})
    draws = [random.random() for _ in range(1000)]
    assert {zero.pick(lambda d=d: d) for d in draws} == {"1"}
    assert {one.pick(lambda d=d: d) for d in draws} == {"2"}


def test_route_split_is_statistically_right():
    rng = random.Random(7)
    r = Route.of({"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.25}}})
    n = 20000
    hits = sum(r.pick(rng.random) == "2" for _ in range(n))
    sd = (n * 0.25 * 0.75) ** 0.5
    assert abs(hits - n * 0.25) < 4 * sd


def test_routing_config_accepts_two_published_versions():
    assert routing_config(VERSIONS, "1", {"AdditionalVersionWeights": {"2": 0.5}}, arn_of) == {
        "AdditionalVersionWeights": {"2": 0.5}
    }


@pytest.mark.parametrize("routing", [None, {}, {"AdditionalVersionWeights": {}}])
def test_routing_config_empty_means_none(routing):
    assert routing_config(VERSIONS, "1", routing, arn_of) is None
    assert routing_config(VERSIONS, "$LATEST", routing, arn_of) is None


def test_routing_config_rules():
    assert error(routing_config, VERSIONS, "1", {"AdditionalVersionWeights": {"2": 0.1, "3": 0.1}}, arn_of) == (
        "InvalidParameterValueException", "Number of items in AdditionalVersionWeights cannot be greater than 1")
    assert error(routing_config, VERSIONS, "1", {"AdditionalVersionWeights": {"1": 0.5}}, arn_of) == (
        "InvalidParameterValueException",
        "Invalid function version 1. Function version 1 is already included in routing configuration.")
    assert error(routing_config, VERSIONS, "$LATEST", {"AdditionalVersionWeights": {"1": 0.5}}, arn_of) == (
        "InvalidParameterValueException", "$LATEST is not supported for an alias pointing to more than 1 version")
    assert error(routing_config, VERSIONS, "1", {"AdditionalVersionWeights": {"10": 0.5}}, arn_of) == (
        "ResourceNotFoundException", f"Function not found: {arn_of(10)}")
    assert error(routing_config, VERSIONS, "1", {"AdditionalVersionWeights": {"3": 0.5}}, arn_of) == (
        "InvalidParameterValueException", "Specified versions must be associated with the same execution role")
    code, _ = error(routing_config, VERSIONS, "1", {"AdditionalVersionWeights": {"4": 0.5}}, arn_of)
    assert code == "InvalidParameterValueException"
