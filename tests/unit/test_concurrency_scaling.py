"""The scaling-rate bucket (lamb.invoke.concurrency): tokens taken for environments that never started come back."""

from __future__ import annotations

import pytest

from lamb.invoke.concurrency import Concurrency
from lamb.limits import Limits
from lamb.protocol.errors import AwsError


def test_a_start_refused_for_memory_gives_its_scaling_token_back():
    # Two new environments per hour: the bucket does not refill during the test.
    c = Concurrency(Limits().override(scaling_environments=2, scaling_window_s=3600))
    c.acquire("fn", needs_new_environment=True)
    c.acquire("fn", needs_new_environment=True)
    with pytest.raises(AwsError) as e:
        c.acquire("fn", needs_new_environment=True)
    assert e.value.status == 429
    # The invoker counted a start in, then the memory budget refused it: nothing started.
    c.release("fn")
    c.refund_scaling("fn")
    c.acquire("fn", needs_new_environment=True)  # the refunded token
    assert c.in_flight["fn"] == 2
    # Refunds never bank more than the bucket holds.
    for _ in range(5):
        c.refund_scaling("fn")
    for _ in range(2):
        c.acquire("fn", needs_new_environment=True)
    with pytest.raises(AwsError):
        c.acquire("fn", needs_new_environment=True)
