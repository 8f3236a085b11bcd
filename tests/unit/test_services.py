"""The service layer's pieces with real collaborators: resolution, the door's checks,
loop detection, function state, code URLs and the environment's lifecycle rules."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lamb.invoke.environment import TRANSITIONS, IllegalTransition, State
from lamb.protocol.errors import AwsError
from lamb.services import lineage
from lamb.services.code_url import CodeUrls
from lamb.services.function_state import FunctionStates
from lamb.services.invoke import Invocations, check_state
from lamb.services.recursion import ALLOW, RecursionGuard, set_recursive_loop
from lamb.store.db import Database
from lamb.store.functions import FunctionStore

ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"


def store(tmp_path: Path) -> FunctionStore:
    functions = FunctionStore(Database(tmp_path / "lamb.db"))
    functions.create("f", {"Created": 1.0}, {"FunctionName": "f", "FunctionArn": ARN, "Version": "$LATEST",
                                             "Runtime": "python3.12", "State": "Active", "RevisionId": "r0"})
    functions.put_version("f", "1", {"FunctionName": "f", "FunctionArn": ARN + ":1", "Version": "1",
                                     "Runtime": "python3.12", "State": "Active", "RevisionId": "r1"})
    functions.put_alias("f", {"Name": "live", "FunctionVersion": "1"})
    return functions


def test_resolve_names_versions_and_aliases(tmp_path):
    functions = store(tmp_path)
    assert functions.resolve("f").version == "$LATEST"
    assert functions.resolve(ARN, "1").config["RevisionId"] == "r1"
    target = functions.resolve("f:live", route=True)
    assert (target.ref.qualifier, target.version) == ("live", "1")


@pytest.mark.parametrize("name, qualifier, arn", [
    ("g", None, ARN[:-1] + "g"),
    ("f", "7", ARN + ":7"),
    ("f", "gone", ARN + ":gone"),
])
def test_one_not_found_answer(tmp_path, name, qualifier, arn):
    with pytest.raises(AwsError) as e:
        store(tmp_path).resolve(name, qualifier)
    assert (e.value.code, e.value.message) == ("ResourceNotFoundException", f"Function not found: {arn}")


def test_state_check():
    check_state({"State": "Active"})
    with pytest.raises(AwsError) as e:
        check_state({"State": "Pending"})
    assert e.value.code == "ResourceConflictException" and "Pending" in e.value.message
    with pytest.raises(AwsError) as e:
        check_state({"State": "Failed", "StateReason": "no runtime"})
    assert e.value.message.endswith("in the Failed state: no runtime")


def test_recursion_guard_stops_the_17th_and_allow_turns_it_off(tmp_path):
    functions = store(tmp_path)
    fn = functions.get("f")
    guard = RecursionGuard("us-east-1", "000000000000", 16)
    cause = f"Root=1-a-b;Lineage=1:{lineage.function_hash(ARN)}:15"
    header, stop = guard.hop(fn, cause)
    assert stop and guard.dropped == 1 and header.endswith(":16")
    set_recursive_loop(functions, fn, ALLOW)
    assert guard.hop(functions.get("f"), cause)[1] is False and guard.dropped == 1


def test_door_raises_recursive_invocation_for_a_synchronous_caller(tmp_path):
    functions = store(tmp_path)
    door = Invocations(functions, None, None, RecursionGuard("us-east-1", "000000000000", 16),
                       region="us-east-1", account_id="000000000000")
    cause = f"Root=1-a-b;Lineage=1:{lineage.function_hash(ARN)}:16"
    with pytest.raises(AwsError) as e:
        door.trace(functions.get("f"), cause)
    assert e.value.code == "RecursiveInvocationException"
    assert door.invoked_arn(door.resolve("f", "live")) == ARN + ":live"


def test_async_accept_goes_to_the_bound_queue(tmp_path):
    functions = store(tmp_path)
    door = Invocations(functions, None, None, RecursionGuard("us-east-1", "000000000000", 16),
                       region="us-east-1", account_id="000000000000")
    seen = []

    async def enqueue(fn, qualifier, payload, trace, request_id=None):
        seen.append((fn.name, qualifier, payload, trace, request_id))
        return {"StatusCode": 202}

    door.bind_queue(enqueue)
    assert asyncio.run(door.invoke_async("f", "live", b"{}", trace_header="Root=1-a-b", request_id="r")) == {"StatusCode": 202}
    assert seen == [("f", "live", b"{}", "Root=1-a-b", "r")]


class Runtimes:
    """The questions function state asks of the runtime manager."""

    def __init__(self, ready: bool, error: str | None = None):
        self._ready, self._error = ready, error
        self.up = asyncio.Event()

    def ready(self, runtime):
        return self._ready

    def error(self, runtime):
        return self._error

    async def wait_ready(self, runtime):
        await self.up.wait()
        self._ready = True
        return True


def test_function_state_follows_the_runtime(tmp_path):
    functions = store(tmp_path)
    assert FunctionStates(functions, Runtimes(True), None).of("python3.12") == {"State": "Active"}
    assert FunctionStates(functions, Runtimes(False), None).of("python3.12")["State"] == "Pending"
    failed = FunctionStates(functions, Runtimes(False, "no python3.12 here"), None).of("python3.12")
    assert failed == {"State": "Failed", "StateReason": "no python3.12 here", "StateReasonCode": "InvalidRuntime"}
    # the transitions themselves: tests/unit/test_function_state.py


def test_code_urls_are_signed_and_expire():
    urls = CodeUrls(b"k" * 32)
    url = urls.sign("http://h", "f", "a" * 64)
    path, _, query = url.removeprefix("http://h").partition("?")
    params = dict(p.split("=", 1) for p in query.split("&"))
    assert urls.verify(path, params)
    assert not urls.verify(path.replace("/f/", "/g/"), params)
    assert not CodeUrls(b"x" * 32).verify(path, params)
    assert not CodeUrls(b"k" * 32, ttl_s=-1).verify(*_split(CodeUrls(b"k" * 32, ttl_s=-1).sign("http://h", "f", "a" * 64)))


def _split(url: str):
    path, _, query = url.removeprefix("http://h").partition("?")
    return path, dict(p.split("=", 1) for p in query.split("&"))


def test_environment_lifecycle_moves():
    assert TRANSITIONS[State.DEAD] == frozenset()
    assert State.BUSY not in TRANSITIONS[State.STARTING]  # Init finishes (first /next) before any invocation
    assert issubclass(IllegalTransition, RuntimeError)
