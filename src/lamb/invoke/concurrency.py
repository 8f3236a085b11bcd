"""Concurrency: the account pool, reserved concurrency, scaling and request rates.

AWS's rules (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html,
https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html):

* Concurrency is the number of in-flight invocations. The account (region) has a
  limit (1,000 by default); a function with *reserved* concurrency may run at
  most that many and the reservation is taken out of the shared pool, which
  every other function shares (UnreservedConcurrentExecutions, never below 100).
  Reserved 0 throttles every invocation.
* Each function may add up to 1,000 execution environments every 10 seconds,
  refilled continuously; invocations that would need a new environment beyond
  that are throttled.
* Requests per second are limited to 10 × the concurrency limit (the account's,
  or a function's reserved concurrency).

A throttle is TooManyRequestsException (429) with the Reason AWS gives. All of
this is in-memory counting on the invoke path: a few dict operations.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from ..limits import Limits
from ..protocol.errors import AwsError

ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"
ACCOUNT_RATE = "FunctionInvocationRateLimitExceeded"
RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
RESERVED_RATE = "ReservedFunctionInvocationRateLimitExceeded"


def throttle(reason: str) -> AwsError:
    return AwsError("TooManyRequestsException", "Rate Exceeded.", 429, Reason=reason, retryAfterSeconds="1")


@dataclass
class TokenBucket:
    """``rate`` tokens per second, at most ``capacity`` banked; starts full."""

    capacity: float
    rate: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def take(self, now: float) -> bool:
        tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            return True
        self.tokens = tokens
        return False

    def give_back(self) -> None:
        """Return a token taken for something that did not happen."""
        self.tokens = min(self.capacity, self.tokens + 1.0)


class Concurrency:
    """In-flight counts and the limits that apply to them."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.account_limit = limits.account_concurrency
        self.reserved: dict[str, int] = {}  # function -> ReservedConcurrentExecutions
        self.reserved_total = 0
        self.in_flight: dict[str, int] = {}
        self.total = 0
        self.unreserved = 0  # in flight for functions without a reservation
        self._scaling: dict[str, TokenBucket] = {}
        self._rates: dict[str, TokenBucket] = {}
        self._account_rate = TokenBucket(10.0 * self.account_limit, 10.0 * self.account_limit)
        # Provisioned concurrency a function's configs hold (set by the invoker): it comes out of
        # the function's reservation, so on-demand invocations get only the rest.
        self.provisioned_of: Callable[[str], int] = lambda function: 0
        self.on_demand: dict[str, int] = {}  # in flight outside provisioned environments, per function

    # ------------------------------------------------------------ settings
    def set_reserved(self, function: str, value: int | None) -> None:
        old = self.reserved.pop(function, None)
        if old is not None:
            self.reserved_total -= old
            self._rates.pop(function, None)
        if value is not None:
            self.reserved[function] = value
            self.reserved_total += value
        # In-flight executions move between the shared pool and the reservation.
        n = self.in_flight.get(function, 0)
        if (old is None) != (value is None):
            self.unreserved += n if value is None else -n

    def unreserved_limit(self) -> int:
        return self.account_limit - self.reserved_total

    # ---------------------------------------------------------- invocations
    def acquire(self, function: str, needs_new_environment: bool, provisioned: bool = False) -> None:
        """Count one invocation in, or raise AWS's throttle. Pair with ``release``.

        ``provisioned``: a provisioned environment serves it. Others may use only the part of
        the reservation provisioned concurrency does not hold: when it holds all of it they get
        429 ``ReservedFunctionConcurrentInvocationLimitExceeded``, as on AWS.
        """
        now = time.monotonic()
        reserved = self.reserved.get(function)
        n = self.in_flight.get(function, 0)
        if reserved is not None:
            if n >= reserved:
                raise throttle(RESERVED_LIMIT)
            if not provisioned and self.on_demand.get(function, 0) >= reserved - self.provisioned_of(function):
                raise throttle(RESERVED_LIMIT)
            bucket = self._rates.get(function)
            if bucket is None:
                bucket = self._rates[function] = TokenBucket(10.0 * reserved, 10.0 * reserved)
            if not bucket.take(now):
                raise throttle(RESERVED_RATE)
        else:
            if self.unreserved >= self.account_limit - self.reserved_total:
                raise throttle(ACCOUNT_LIMIT)
            if not self._account_rate.take(now):
                raise throttle(ACCOUNT_RATE)
        if needs_new_environment:
            scaling = self._scaling.get(function)
            if scaling is None:
                per = self.limits.scaling_environments
                scaling = self._scaling[function] = TokenBucket(per, per / self.limits.scaling_window_s)
            if not scaling.take(now):
                raise throttle(RESERVED_LIMIT if reserved is not None else ACCOUNT_LIMIT)
        self.in_flight[function] = n + 1
        if not provisioned:
            self.on_demand[function] = self.on_demand.get(function, 0) + 1
        self.total += 1
        if reserved is None:
            self.unreserved += 1

    def refund_scaling(self, function: str) -> None:
        """A new environment was counted but never started (the memory budget had no room)."""
        scaling = self._scaling.get(function)
        if scaling is not None:
            scaling.give_back()

    def release(self, function: str, provisioned: bool = False) -> None:
        if not provisioned:
            m = self.on_demand.get(function, 0) - 1
            if m <= 0:
                self.on_demand.pop(function, None)
            else:
                self.on_demand[function] = m
        n = self.in_flight.get(function, 0) - 1
        if n <= 0:
            self.in_flight.pop(function, None)
        else:
            self.in_flight[function] = n
        self.total -= 1
        if function not in self.reserved:
            self.unreserved -= 1

    def forget(self, function: str) -> None:
        """The function is gone: drop its reservation and buckets."""
        self.set_reserved(function, None)
        self._scaling.pop(function, None)
