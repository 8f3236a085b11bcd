"""Recursive loop detection (``lamb.services.recursion``)."""

from __future__ import annotations

from lamb.services import lineage
from lamb.services.recursion import ALLOW, TERMINATE, RecursionGuard, recursive_loop, set_recursive_loop

from .conftest import ARN


def test_the_17th_invocation_in_a_chain_is_stopped_and_allow_turns_it_off(functions):
    fn = functions.get("f")
    assert recursive_loop(fn) == TERMINATE
    guard = RecursionGuard("us-east-1", "000000000000", 16)
    below = f"Root=1-a-b;Lineage=1:{lineage.function_hash(ARN)}:14"
    assert guard.hop(fn, below)[1] is False and guard.dropped == 0
    cause = f"Root=1-a-b;Lineage=1:{lineage.function_hash(ARN)}:15"
    header, stop = guard.hop(fn, cause)
    assert stop and guard.dropped == 1 and header.endswith(":16") and "Root=1-a-b;" in header
    set_recursive_loop(functions, fn, ALLOW)
    assert guard.hop(functions.get("f"), cause)[1] is False and guard.dropped == 1
