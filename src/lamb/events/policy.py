"""When an asynchronous event is tried again, and when it is given up.

From https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html:

* A **function error** (the handler raised, the runtime failed, a timeout) is
  retried up to ``MaximumRetryAttempts`` times (0-2, default 2): one minute
  before the second attempt, two minutes before the third.
* A **throttle** (429) or **system error** (5xx) returns the event to the queue;
  Lambda retries it with a delay that grows exponentially from 1 second to at most
  5 minutes, for as long as the event is younger than ``MaximumEventAgeInSeconds``
  (60-21600, default 6 hours). These retries do not count as attempts.
* An event older than ``MaximumEventAgeInSeconds`` is discarded
  (``EventAgeExceeded``), one whose attempts are used up too (``RetriesExhausted``);
  either goes to the on-failure destination and the dead-letter queue.

Delays are configuration (``Settings.async_retry_delays``, ``async_backoff``) so
tests run fast; the functions here are pure.
"""

from __future__ import annotations

from dataclasses import dataclass

SUCCESS = "Success"
RETRIES_EXHAUSTED = "RetriesExhausted"
EVENT_AGE_EXCEEDED = "EventAgeExceeded"


@dataclass(frozen=True)
class Policy:
    """The error handling of one function, version or alias (its event invoke config)."""

    max_retries: int = 2
    max_age_s: float = 21_600.0

    @classmethod
    def of(cls, config: dict | None, limits, age_scale: float = 1.0) -> "Policy":
        config = config or {}
        retries = config.get("MaximumRetryAttempts")
        age = config.get("MaximumEventAgeInSeconds")
        return cls(
            limits.async_retry_attempts_default if retries is None else retries,
            (limits.async_event_age_default_s if age is None else age) * age_scale,
        )


def function_error_delay(attempts: int, delays: tuple[float, ...]) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1 -> first retry)."""
    if not delays:
        return 0.0
    return delays[min(max(attempts, 1), len(delays)) - 1]


def backoff(retries: int, base: float, cap: float) -> float:
    """Throttle/system-error delay before retry number ``retries`` (1, 2, ...): base·2^(n-1), at most cap."""
    n = max(retries, 1) - 1
    if n > 60:
        return cap
    return min(cap, base * (2 ** n))


def next_due(now: float, delay: float, expires_at: float) -> float:
    """When to look at the event again: after ``delay``, but no later than its expiry."""
    return min(now + delay, expires_at)


def after_function_error(attempts: int, policy: Policy) -> bool:
    """True when a function error after ``attempts`` attempts leaves a retry."""
    return attempts <= policy.max_retries
