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
