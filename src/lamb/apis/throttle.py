"""Throttling: token buckets (``rate`` tokens a second, at most ``burst`` kept), one per key.

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html:
an HTTP API stage's ``DefaultRouteSettings`` (``ThrottlingRateLimit`` requests per second,
``ThrottlingBurstLimit`` the bucket's size) apply to every route, ``RouteSettings[<route
key>]`` override them for one route (``settings``; key (API, stage, route key)).
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html:
a REST API stage's method settings (``*/*``, or a method's own member: ``method_settings.py``) limit
each method (``rest_settings``; key (API, stage, resource path, method)), and the account's
throttle (``ACCOUNT``: ``apigateway_account_rate_limit``/``_burst_limit`` in ``limits.py``) all
APIs of the account and region together. A request without a token answers 429.
"""

from __future__ import annotations

import time
from typing import Callable, Mapping

from . import method_settings

ACCOUNT = ("account",)  # the key of the account-level bucket


class Buckets:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[tuple, list[float]] = {}  # key -> [tokens, last refill]

    @staticmethod
    def settings(stage: dict, route_key: str) -> tuple[float, int] | None:
        """(rate per second, burst) for a route of a stage, or None when not throttled."""
        default = stage.get("DefaultRouteSettings") or {}
        route = (stage.get("RouteSettings") or {}).get(route_key) or {}  # its values that are set win
        rate, burst = route.get("ThrottlingRateLimit"), route.get("ThrottlingBurstLimit")
        if rate is None:
            rate = default.get("ThrottlingRateLimit")
        if burst is None:
            burst = default.get("ThrottlingBurstLimit")
        if rate is None and burst is None:
            return None
        rate = float(rate if rate is not None else 0.0)
        burst = int(burst if burst is not None else max(1, int(rate)))
        return rate, burst

    @staticmethod
    def rest_settings(stage: Mapping, resource_path: str, method: str) -> tuple[float, int] | None:
        """(rate per second, burst) for a method of a REST API stage, or None when not throttled."""
        found = method_settings.effective(stage.get("methodSettings"), resource_path, method)
        if found is None:
            return None
        member = found[1]
        rate, burst = member.get("throttlingRateLimit"), member.get("throttlingBurstLimit")
        if rate is None or burst is None or rate < 0 or burst < 0:  # -1: not set
            return None
        return float(rate), int(burst)

    def take(self, key: tuple, rate: float, burst: int) -> bool:
        """Whether a request under ``key`` may go now."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None or bucket[2] != rate or bucket[3] != burst:
            bucket = self._buckets[key] = [float(burst), now, rate, burst]
        tokens = min(float(burst), bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            return False
        bucket[0] = tokens - 1.0
        return True
