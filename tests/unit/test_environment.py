"""The environment's lifecycle table (``lamb.invoke.environment``): the moves the lifecycle connects."""

from __future__ import annotations

from lamb.invoke.environment import TRANSITIONS, IllegalTransition, State


def test_lifecycle_moves():
    assert TRANSITIONS[State.DEAD] == frozenset()  # final
    assert State.BUSY not in TRANSITIONS[State.STARTING]  # Init finishes (first /next) before any invocation
    assert State.BUSY in TRANSITIONS[State.BUSY]  # the next invocation, assigned before the runtime's /next
    assert all(State.DEAD in TRANSITIONS[s] for s in (State.STARTING, State.IDLE, State.BUSY))
    assert issubclass(IllegalTransition, RuntimeError)
