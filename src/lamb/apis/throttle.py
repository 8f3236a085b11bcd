"""Stage throttling: a token bucket per (API, stage, route key).

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html:
a stage's ``DefaultRouteSettings`` (``ThrottlingRateLimit`` requests per second,
``ThrottlingBurstLimit`` the bucket's size) apply to every route, ``RouteSettings[<route
key>]`` override them for one route; a request without a token answers 429. Without
settings a stage is limited by the account's quota only, which Lamb does not apply.
"""

from __future__ import annotations

import time
from typing import Callable


class Buckets:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[tuple, list[float]] = {}  # key -> [tokens, last refill]

    @staticmethod
    def settings(stage: dict, route_key: str) -> tuple[float, int] | None:
        """(rate per second, burst) for a route of a stage, or None when not throttled."""
        merged = dict(stage.get("DefaultRouteSettings") or {})
        merged.update({k: v for k, v in ((stage.get("RouteSettings") or {}).get(route_key) or {}).items()
                       if v is not None})
        rate, burst = merged.get("ThrottlingRateLimit"), merged.get("ThrottlingBurstLimit")
        if rate is None and burst is None:
            return None
        rate = float(rate if rate is not None else 0.0)
        burst = int(burst if burst is not None else max(1, int(rate)))
        return rate, burst

    def take(self, key: tuple, rate: float, burst: int) -> bool:
        """Whether a request under ``key`` may go now."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None or bucket[2:] != [rate, burst]:
            bucket = self._buckets[key] = [float(burst), now, rate, burst]
        tokens = min(float(burst), bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            return False
        bucket[0] = tokens - 1.0
        return True
