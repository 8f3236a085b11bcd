"""Stage throttling buckets (lamb.apis.throttle), on a test clock."""

from lamb.apis.throttle import Buckets


def test_burst_then_refill_and_route_override():
    now = [0.0]
    b = Buckets(clock=lambda: now[0])
    stage = {"DefaultRouteSettings": {"ThrottlingBurstLimit": 2, "ThrottlingRateLimit": 1.0},
             "RouteSettings": {"GET /x": {"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 0.5}}}
    assert b.settings(stage, "GET /y") == (1.0, 2)
    assert b.settings(stage, "GET /x") == (0.5, 1)
    assert b.settings({}, "GET /y") is None
    assert [b.take("k", 1.0, 2) for _ in range(3)] == [True, True, False]
    now[0] = 1.0
    assert b.take("k", 1.0, 2) and not b.take("k", 1.0, 2)


def test_rest_method_settings_throttle_each_method():
    from lamb.apis.throttle import Buckets

    stage = {"methodSettings": {"*/*": {"throttlingRateLimit": 0.001, "throttlingBurstLimit": 1},
                                "pets/POST": {"throttlingRateLimit": 100.0, "throttlingBurstLimit": 0}}}
    assert Buckets.rest_settings(stage, "/pets", "GET") == (0.001, 1)
    assert Buckets.rest_settings(stage, "/pets", "POST") == (100.0, 0)
    assert Buckets.rest_settings({}, "/pets", "GET") is None
    assert Buckets.rest_settings({"methodSettings": {"*/*": {"throttlingRateLimit": -1.0,
                                                             "throttlingBurstLimit": -1}}}, "/", "GET") is None
    b = Buckets(clock=lambda: 100.0)
    assert b.take(("a", "s", "/pets", "GET"), 0.001, 1) and not b.take(("a", "s", "/pets", "GET"), 0.001, 1)
    assert b.take(("a", "s", "/", "GET"), 0.001, 1)  # another method: its own bucket
    assert not b.take(("a", "s", "/pets", "POST"), 100.0, 0)  # burst 0: nothing passes
