"""The function-state machine (lamb.services.function_state) with a real FunctionStore:
each transition's fields, its RevisionId effect, the 409 guards and the waits."""

from __future__ import annotations

import asyncio

import pytest

from lamb.protocol.errors import AwsError
from lamb.services.function_state import BUILD, FunctionStates
from lamb.store.db import Database
from lamb.store.functions import FunctionStore

ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"


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

REASON = "The function is being created."


def base() -> dict:
    return {"FunctionName": "f", "FunctionArn": ARN, "Version": "$LATEST", "Runtime": "python3.12"}


async def tasks_settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_create_is_pending_then_active_with_a_new_revision(tmp_path):
    async def run():
        functions = FunctionStore(Database(tmp_path / "lamb.db"))
        states = FunctionStates(functions, Runtimes(True), asyncio.ensure_future)
        created = states.creating(base())
        assert {k: created[k] for k in ("State", "StateReason", "StateReasonCode")} == {
            "State": "Pending", "StateReason": REASON, "StateReasonCode": "Creating"}
        assert "LastUpdateStatus" not in created
        functions.create("f", {}, created)
        with pytest.raises(AwsError) as e:
            states.check_can_change(functions.get("f"))
        assert e.value.code == "ResourceConflictException" and e.value.message.endswith("following state: Pending")
        states.settle("f")
        assert functions.get("f").latest["State"] == "Pending"  # settles on the next loop turn, not inside the call
        await asyncio.sleep(0)
        latest = functions.get("f").latest
        assert latest["State"] == "Active" and latest["LastUpdateStatus"] == "Successful"
        assert "StateReason" not in latest and latest["RevisionId"] != created["RevisionId"]
        assert latest[BUILD] == created[BUILD]  # the code and configuration did not change

        updated = states.updating(latest)
        assert updated["State"] == "Active"
        assert {k: updated[k] for k in ("LastUpdateStatus", "LastUpdateStatusReason", "LastUpdateStatusReasonCode")} == {
            "LastUpdateStatus": "InProgress", "LastUpdateStatusReason": REASON, "LastUpdateStatusReasonCode": "Creating"}
        assert updated["RevisionId"] != latest["RevisionId"] and updated[BUILD] != latest[BUILD]
        functions.put_version("f", "$LATEST", updated)
        with pytest.raises(AwsError) as e:
            states.check_can_change(functions.get("f"))
        assert e.value.message == f"The operation cannot be performed at this time. An update is in progress for resource: {ARN}"
        states.settle("f")
        await asyncio.sleep(0)
        done = functions.get("f").latest
        assert done["LastUpdateStatus"] == "Successful" and "LastUpdateStatusReason" not in done
        assert done["RevisionId"] != updated["RevisionId"]
        states.check_can_change(functions.get("f"))

    asyncio.run(run())


def test_a_change_being_worked_on_is_in_progress(tmp_path):
    functions = FunctionStore(Database(tmp_path / "lamb.db"))
    functions.create("f", {}, dict(base(), State="Active", RevisionId="r"))
    states = FunctionStates(functions, Runtimes(True), None)
    with states.working("f"):
        with pytest.raises(AwsError):
            states.check_can_change(functions.get("f"))
    states.check_can_change(functions.get("f"))


def test_settle_waits_for_the_runtime_and_wakes_waiting_invocations(tmp_path):
    async def run():
        functions = FunctionStore(Database(tmp_path / "lamb.db"))
        runtimes = Runtimes(False)
        states = FunctionStates(functions, runtimes, asyncio.ensure_future)
        functions.create("f", {}, states.creating(base()))
        states.settle("f")
        waiter = asyncio.ensure_future(states.until_settled("f", 30))
        await tasks_settle()
        assert functions.get("f").latest["State"] == "Pending" and not waiter.done()
        assert await states.until_settled("f", 0.01) is False  # bounded
        runtimes.up.set()
        assert await waiter is True
        assert functions.get("f").latest["State"] == "Active"

    asyncio.run(run())


def test_a_runtime_that_cannot_run_settles_failed(tmp_path):
    async def run():
        functions = FunctionStore(Database(tmp_path / "lamb.db"))
        states = FunctionStates(functions, Runtimes(False, "no python3.12 here"), asyncio.ensure_future)
        functions.create("f", {}, states.creating(base()))
        states.settle("f")
        await asyncio.sleep(0)
        latest = functions.get("f").latest
        assert (latest["State"], latest["StateReason"], latest["LastUpdateStatus"]) == (
            "Failed", "no python3.12 here", "Failed")

    asyncio.run(run())


def test_state_follows_the_runtime(tmp_path):
    functions = FunctionStore(Database(tmp_path / "lamb.db"))
    assert FunctionStates(functions, Runtimes(True), None).of("python3.12") == {"State": "Active"}
    assert FunctionStates(functions, Runtimes(False), None).of("python3.12")["State"] == "Pending"
    failed = FunctionStates(functions, Runtimes(False, "no python3.12 here"), None).of("python3.12")
    assert failed == {"State": "Failed", "StateReason": "no python3.12 here", "StateReasonCode": "InvalidRuntime"}
    assert FunctionStates(functions, Runtimes(False), None).of("cobol")["State"] == "Failed"
