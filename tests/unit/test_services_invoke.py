"""The door into the invoker (``lamb.services.invoke.Invocations``) with its real collaborators;
the invoker below it is the one seam replaced (it answers from a script)."""

from __future__ import annotations

import asyncio
from typing import NamedTuple

import pytest

from lamb.invoke.invocation import InvocationResult
from lamb.protocol.errors import AwsError
from lamb.services import lineage
from lamb.services.invoke import Invocations, check_state
from lamb.services.recursion import RecursionGuard

from .conftest import ARN


class Pool(NamedTuple):
    name: str
    version: str


class ScriptedInvoker:
    def __init__(self):
        self.calls = []

    def pool_for(self, name, version, config):
        return Pool(name, version)

    def submit(self, pool, payload, arn, on_done, **kw):
        self.calls.append((pool, payload, arn, kw))
        asyncio.get_running_loop().call_soon(on_done, InvocationResult(b'"ok"', None, None, pool.version), None)


def door(functions, invoker=None):
    return Invocations(functions, invoker, None, RecursionGuard("us-east-1", "000000000000", 16),
                       region="us-east-1", account_id="000000000000")


def test_state_check():
    check_state({"State": "Active"})
    with pytest.raises(AwsError) as e:
        check_state({"State": "Pending"})
    assert e.value.code == "ResourceConflictException" and "Pending" in e.value.message
    with pytest.raises(AwsError) as e:
        check_state({"State": "Failed", "StateReason": "no runtime"})
    assert e.value.message.endswith("in the Failed state: no runtime")


def test_invoke_resolves_checks_and_runs(functions):
    invoker = ScriptedInvoker()

    async def poller():  # what a trigger does
        return await door(functions, invoker).invoke("f", "live", b"{}", request_id="rid")

    result = asyncio.run(poller())
    assert (result.payload, result.executed_version, result.function_error) == (b'"ok"', "1", None)
    (pool, payload, arn, kw), = invoker.calls
    assert pool == Pool("f", "1") and arn == ARN + ":live" and kw["request_id"] == "rid"
    assert ";Lineage=1:" in kw["trace"] and kw["trace"].endswith(":0")  # the first hop of a new chain


def test_invoke_refuses_a_pending_function(functions):
    functions.put_version("f", "$LATEST", {**functions.get("f").latest, "State": "Pending"})
    invoker = ScriptedInvoker()

    async def poller():
        return await door(functions, invoker).invoke("f", None, b"{}")

    with pytest.raises(AwsError) as e:
        asyncio.run(poller())
    assert e.value.code == "ResourceConflictException" and invoker.calls == []


def test_a_synchronous_loop_is_stopped(functions):
    cause = f"Root=1-a-b;Lineage=1:{lineage.function_hash(ARN)}:16"
    with pytest.raises(AwsError) as e:
        door(functions).trace(functions.get("f"), cause)
    assert e.value.code == "RecursiveInvocationException"


def test_async_accept_goes_to_the_bound_queue(functions):
    d = door(functions)
    seen = []

    async def enqueue(fn, qualifier, payload, trace, request_id=None):
        seen.append((fn.name, qualifier, payload, trace, request_id))
        return {"StatusCode": 202}

    d.bind_queue(enqueue)

    async def poller():
        return await d.invoke_async("f", "live", b"{}", trace_header="Root=1-a-b", request_id="r")

    assert asyncio.run(poller()) == {"StatusCode": 202}
    assert seen == [("f", "live", b"{}", "Root=1-a-b", "r")]


class AnsweringInvoker(ScriptedInvoker):
    """Ends each invocation inside ``submit``, as an environment's answer ends one: from its own callback."""

    def submit(self, pool, payload, arn, on_done, **kw):
        self.calls.append((pool, payload, arn, kw))
        on_done(InvocationResult(b'"ok"', None, None, pool.version), None)


def test_call_hands_the_result_to_on_done_without_a_loop_turn(functions):
    invoker = AnsweringInvoker()
    seen = []

    async def caller():
        waiting = door(functions, invoker).call("f", "live", b"{}", lambda r, e: seen.append((r, e)), request_id="rid")
        assert waiting is None and len(seen) == 1  # before any await
        return seen[0]

    result, exc = asyncio.run(caller())
    assert exc is None and (result.payload, result.executed_version) == (b'"ok"', "1")
    assert invoker.calls[0][3]["request_id"] == "rid"


def test_call_of_a_pending_version_reports_through_on_done(functions):
    functions.put_version("f", "$LATEST", {**functions.get("f").latest, "State": "Pending"})
    invoker = AnsweringInvoker()
    seen = []

    async def caller():
        task = door(functions, invoker).call("f", None, b"{}", lambda r, e: seen.append((r, e)))
        assert task is not None and seen == []
        await asyncio.gather(task, return_exceptions=True)
        return seen

    (result, exc), = asyncio.run(caller())
    assert result is None and isinstance(exc, AwsError) and exc.code == "ResourceConflictException"
    assert invoker.calls == []


def test_cancelling_invoke_gives_up_a_pending_version(functions):
    functions.put_version("f", "$LATEST", {**functions.get("f").latest, "State": "Pending"})
    invoker = AnsweringInvoker()
    d = door(functions, invoker)

    async def caller():
        gate = asyncio.Event()

        async def until_settled(name, wait_s):
            await gate.wait()

        d.bind_states(until_settled, 5.0)
        fut = d.invoke("f", None, b"{}")
        await asyncio.sleep(0)
        fut.cancel()
        await asyncio.sleep(0)
        gate.set()
        for _ in range(5):
            await asyncio.sleep(0)
        return fut

    fut = asyncio.run(caller())
    assert fut.cancelled() and invoker.calls == []  # the waiting task ended with the future


def test_call_reuses_what_the_caller_resolved_except_for_an_alias(functions):
    invoker = AnsweringInvoker()
    d = door(functions, invoker)
    fn = functions.get("f")
    latest = functions.resolve("f")
    aliased = functions.resolve("f", "live")

    async def caller():
        d.call("f", None, b"{}", lambda r, e: None, resolved=latest._replace(version="seen"))
        d.call("f", "live", b"{}", lambda r, e: None, resolved=aliased._replace(version="stale"))

    asyncio.run(caller())
    assert [c[0].version for c in invoker.calls] == ["seen", "1"]  # reused; an alias drawn again
    assert "live" in fn.routes
