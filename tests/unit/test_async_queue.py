"""The async queue's decisions with a scripted invoker: throttles, system errors, event age.

The queue is built from its real collaborators (settings, the function store and the
invoke door, ``lamb.services.invoke.Invocations``, with its recursion guard). The
invoker below the door is the one seam replaced here (the integration tests run the
real one): it plays back outcomes, so the queue's handling of ``TooManyRequestsException``
(what concurrency limits raise, issue 5) is checked without a concurrency feature.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import NamedTuple

import pytest

from lamb.config import Settings
from lamb.events.queue import EventQueue
from lamb.invoke.concurrency import Concurrency
from lamb.invoke.invocation import InvocationResult
from lamb.limits import DEFAULT as DEFAULT_LIMITS
from lamb.protocol.errors import AwsError
from lamb.services.invoke import Invocations
from lamb.services.recursion import RecursionGuard
from lamb.store.db import Database
from lamb.store.functions import FunctionStore

THROTTLE = AwsError("TooManyRequestsException", "Rate Exceeded.", 429, Reason="ReservedFunctionConcurrentInvocationLimitExceeded")


class ScriptedPool(NamedTuple):
    name: str
    version: str


class ScriptedInvoker:
    """``submit`` plays the next item of ``script``: an exception to raise, ``("reject", exc)``,
    ``("error", payload)`` (a function error) or ``("ok", payload)``."""

    def __init__(self, script):
        self.script = list(script)
        self.calls: list[tuple[float, str, str]] = []
        self.concurrency = Concurrency(DEFAULT_LIMITS)  # Lamb's own limiter, as the queue reads it

    def pool_for(self, name, version, config):
        return ScriptedPool(name, version)

    def submit(self, pool, payload, arn, on_done, *, request_id=None, trace=None, **kw):
        self.calls.append((time.monotonic(), request_id, trace))
        step = self.script.pop(0) if self.script else ("ok", b"null")
        if isinstance(step, BaseException):
            raise step
        kind, value = step
        loop = asyncio.get_running_loop()
        if kind == "reject":
            loop.call_soon(on_done, None, value)
        else:
            fe = "Unhandled" if kind == "error" else None
            loop.call_soon(on_done, InvocationResult(value, fe, None, pool.version), None)


def make_lamb(tmp_path, script, create=True, **settings):
    s = Settings(data_dir=tmp_path, async_retry_delays=(0.05, 0.1), async_backoff=(0.02, 0.1), **settings)
    functions = FunctionStore(Database(tmp_path / "lamb.db"))
    config = {"FunctionName": "f", "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:f",
              "Version": "$LATEST", "Runtime": "python3.12", "Timeout": 3, "RevisionId": "r"}
    if create:
        functions.create("f", {"Created": 1.0}, config)
    invoker = ScriptedInvoker(script)
    invocations = Invocations(functions, invoker, None,  # the runtime is never waited for: pool_for always answers
                              RecursionGuard(s.region, s.account_id, s.limits.recursion_max_invocations),
                              region=s.region, account_id=s.account_id)
    events = EventQueue(s, functions, invocations)
    invocations.bind_queue(events.accept)
    return Assembly(s, functions, invoker, invocations, events)


class Assembly(NamedTuple):
    """What the tests hold on to: the queue and the collaborators it was built from."""

    settings: Settings
    functions: FunctionStore
    invoker: ScriptedInvoker
    invocations: Invocations
    events: EventQueue


async def settle(lamb, timeout=5.0):
    deadline = time.monotonic() + timeout
    while lamb.events.describe()["queued"] or lamb.events.describe()["deliveries_pending"]:
        assert time.monotonic() < deadline, lamb.events.describe()
        await asyncio.sleep(0.01)


def run(coro):
    return asyncio.run(coro)


def test_throttles_are_retried_with_backoff_and_not_counted(tmp_path):
    lamb = make_lamb(tmp_path, [THROTTLE, ("reject", THROTTLE), THROTTLE, ("ok", b'"done"')])

    async def main():
        await lamb.events.start()
        fn = lamb.functions.get("f")
        assert await lamb.events.accept(fn, None, b'{"a": 1}', None) == {"StatusCode": 202}
        await settle(lamb)
        lamb.events.stop()

    run(main())
    calls = lamb.invoker.calls
    assert len(calls) == 4
    assert len({c[1] for c in calls}) == 1  # one request id throughout
    gaps = [b[0] - a[0] for a, b in zip(calls, calls[1:])]
    assert gaps[0] >= 0.015 and gaps[1] >= 0.035 and gaps[2] >= 0.075  # 0.02, 0.04, 0.08 s (doubling)
    stats = lamb.events.stats
    assert stats["throttled_or_system_errors"] == 3 and stats["succeeded"] == 1
    assert stats["invocations"] == 2  # the two accepted by the invoker; raised throttles are not invocations


def test_throttled_until_event_age_exceeded(tmp_path):
    lamb = make_lamb(tmp_path, [THROTTLE] * 1000, async_event_age_scale=0.01)  # 60 s -> 0.6 s

    async def main():
        await lamb.events.start()
        fn = lamb.functions.get("f")
        fn.data["EventInvokeConfigs"] = {"$LATEST": {"MaximumEventAgeInSeconds": 60, "LastModified": 0}}
        await lamb.events.accept(fn, None, b"{}", None)
        await settle(lamb)
        lamb.events.stop()

    t0 = time.monotonic()
    run(main())
    assert time.monotonic() - t0 >= 0.55
    assert lamb.events.stats["event_age_exceeded"] == 1
    assert lamb.events.stats["succeeded"] == 0


def test_function_errors_counted_and_system_errors_not(tmp_path):
    boom = json.dumps({"errorMessage": "boom", "errorType": "Exception"}).encode()
    lamb = make_lamb(tmp_path, [("error", boom), RuntimeError("spawn failed"), ("error", boom), ("error", boom)])

    async def main():
        await lamb.events.start()
        await lamb.events.accept(lamb.functions.get("f"), None, b"{}", None)
        await settle(lamb)
        lamb.events.stop()

    run(main())
    s = lamb.events.stats
    assert s["function_errors"] == 3 and s["retries_exhausted"] == 1 and s["throttled_or_system_errors"] == 1
    assert len(lamb.invoker.calls) == 4


def test_recovered_after_restart(tmp_path):
    """Accepted but never run (Lamb stopped first): the next queue on the same data dir runs it."""
    first = make_lamb(tmp_path, [])
    first.events.max_inflight = 0  # accept only

    async def accept_only():
        await first.events.start()
        await first.events.accept(first.functions.get("f"), "$LATEST", b'{"n": 1}', "Root=1-a-b;Lineage=1:00000000:3")
        first.events.stop()

    run(accept_only())
    first.functions.db.close()
    second = make_lamb(tmp_path, [], create=False)
    assert second.events.describe()["queued"] == 1

    async def main():
        await second.events.start()
        await settle(second)
        second.events.stop()

    run(main())
    (call,) = second.invoker.calls
    assert "Lineage=1:00000000:3|1:" in call[2]  # the cause's lineage is kept with the event, this hop appended
    assert second.events.stats["succeeded"] == 1


@pytest.mark.parametrize("reserved", [0])
def test_reserved_concurrency_zero_goes_straight_to_failure(tmp_path, reserved):
    lamb = make_lamb(tmp_path, [])

    async def main():
        await lamb.events.start()
        fn = lamb.functions.get("f")
        fn.data["ReservedConcurrentExecutions"] = reserved  # what PutFunctionConcurrency stores
        lamb.invoker.concurrency.set_reserved("f", reserved)  # and what it tells the limiter
        await lamb.events.accept(fn, None, b"{}", None)
        await settle(lamb)
        lamb.events.stop()

    run(main())
    assert lamb.invoker.calls == []
    assert lamb.events.stats["retries_exhausted"] == 1


def test_event_states_only_make_legal_moves():
    from lamb.events.queue import EVENT_TRANSITIONS, Event, EventState, IllegalEventTransition

    ev = Event(1, "rid", "f", "", 1.0, "Root=1-a-b", b"{}", 2, 0.0, 0.0)
    assert ev.state is EventState.DELAYED
    ev.move(EventState.READY)
    ev.move(EventState.CLAIMING)
    ev.move(EventState.RUNNING)
    ev.move(EventState.FINISHING)
    ev.move(EventState.DONE)
    with pytest.raises(IllegalEventTransition):
        ev.move(EventState.READY)  # finished is final
    assert EVENT_TRANSITIONS[EventState.READY] == frozenset({EventState.CLAIMING})
