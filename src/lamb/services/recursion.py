"""Recursive loop detection: the per-function setting and the check every invocation passes.

https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html: Lambda counts
how many times one chain of requests invoked a function (the X-Ray ``Lineage``,
``lineage.py``) and stops it past ``Limits.recursion_max_invocations`` (16) unless
``PutFunctionRecursionConfig`` set ``Allow``. A synchronous caller gets
``RecursiveInvocationException``; an async event goes to its on-failure destination.
The setting is kept in ``Function.data["RecursiveLoop"]`` (absent: Terminate).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

from ..arn import function_arn
from ..protocol.errors import AwsError
from . import lineage

if TYPE_CHECKING:
    from ..store.functions import Function, FunctionStore

log = logging.getLogger("lamb.recursion")

RECURSIVE_LOOP = "RecursiveLoop"
TERMINATE = "Terminate"
ALLOW = "Allow"
MESSAGE = (
    "Lambda has detected your function being invoked in a recursive loop with other AWS resources "
    "and stopped your function's invocation."
)


def recursive_loop(fn: "Function") -> str:
    return fn.data.get(RECURSIVE_LOOP) or TERMINATE


def set_recursive_loop(store: "FunctionStore", fn: "Function", value: str) -> None:
    store.update_data(fn.name, **{RECURSIVE_LOOP: value})


def error() -> AwsError:
    """What a synchronous caller gets for an invocation stopped as recursive."""
    return AwsError("RecursiveInvocationException", MESSAGE, 400)


class RecursionGuard:
    """The Lineage hop of each invocation and the decision to stop it; counts what it stopped."""

    def __init__(self, region: str, account_id: str, max_invocations: int):
        self.region = region
        self.account_id = account_id
        self.max_invocations = max_invocations
        self.dropped = 0  # RecursiveInvocationsDropped
        self.metric: Callable[..., None] | None = None  # the same, as a metric point (metrics.Metrics.put)

    def hop(self, fn: "Function", cause: str | None, what: str = "an invocation") -> tuple[str, bool]:
        """``(header, stop)``: the X-Ray header this invocation of ``fn`` gets, given the header of
        the request that caused it, and whether loop detection stops it (then counted and logged)."""
        header, count = lineage.hop(cause, function_arn(self.region, self.account_id, fn.name))
        if count < self.max_invocations or recursive_loop(fn) != TERMINATE:
            return header, False
        self.dropped += 1
        if self.metric is not None:
            self.metric("RecursiveInvocationsDropped", 1, FunctionName=fn.name)
        log.error(
            "RecursiveInvocationsDropped: stopped %s of %s: invoked %d times in one chain of requests "
            "(recursive loop detection; PutFunctionRecursionConfig Allow turns it off)", what, fn.name, count,
        )
        return header, True
