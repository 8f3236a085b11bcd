"""Asynchronous function states and revisions as AWS answers them (issue 19, item 1),
driven with boto3's waiters and the AWS CLI the way users drive them.

The shared server settles as soon as Lamb's work is done (its runtime is prepared), so a
GetFunction sent right after CreateFunction's answer already sees Active. A server with
``LAMB_STATE_TRANSITION_S`` keeps functions in the intermediate state long enough to see it.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from .awscli import aws_json
from .conftest import ROLE, PY_RUNTIME, create, invoke, make_zip, unique

REASON = "The function is being created."
CODE = "def handler(event, context):\n    return {'v': %d}\n"
STATE_FIELDS = ("State", "StateReason", "StateReasonCode")
UPDATE_FIELDS = ("LastUpdateStatus", "LastUpdateStatusReason", "LastUpdateStatusReasonCode")
WAIT = {"Delay": 1, "MaxAttempts": 60}


def fields(cfg: dict, names) -> dict:
    return {k: cfg[k] for k in names if k in cfg}


def pending_answer(cfg: dict) -> None:
    assert fields(cfg, STATE_FIELDS) == {"State": "Pending", "StateReason": REASON, "StateReasonCode": "Creating"}
    assert not fields(cfg, UPDATE_FIELDS)


def in_progress_answer(cfg: dict) -> None:
    assert cfg["State"] == "Active" and "StateReason" not in cfg
    assert fields(cfg, UPDATE_FIELDS) == {"LastUpdateStatus": "InProgress", "LastUpdateStatusReason": REASON,
                                          "LastUpdateStatusReasonCode": "Creating"}


def settled(cfg: dict) -> None:
    assert cfg["State"] == "Active" and cfg["LastUpdateStatus"] == "Successful"
    assert not fields(cfg, ("StateReason", "StateReasonCode", "LastUpdateStatusReason", "LastUpdateStatusReasonCode"))


@pytest.fixture(scope="module")
def prepared(lam):
    """The runtime is prepared on the shared server (a function of it was created and waited for)."""
    create(lam, unique("warmup"), CODE % 0)
    return lam


def test_revision_sequence_create_active_update_done_tag(prepared, lamb_server):
    lam = prepared
    name = unique("states")
    created = lam.create_function(FunctionName=name, Runtime=PY_RUNTIME, Role=ROLE, Handler="fn.handler",
                                  Code={"ZipFile": make_zip({"fn.py": CODE % 1})})
    pending_answer(created)
    # With a prepared runtime the transition is done before the next request is read.
    active = lam.get_function(FunctionName=name)["Configuration"]
    settled(active)
    assert active["RevisionId"] != created["RevisionId"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=WAIT)
    assert lam.get_function_configuration(FunctionName=name)["RevisionId"] == active["RevisionId"]

    updated = lam.update_function_configuration(FunctionName=name, Timeout=9)
    in_progress_answer(updated)
    assert updated["Timeout"] == 9 and updated["RevisionId"] != active["RevisionId"]
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=WAIT)
    done = lam.get_function_configuration(FunctionName=name)
    settled(done)
    assert done["RevisionId"] not in (updated["RevisionId"], active["RevisionId"], created["RevisionId"])

    lam.tag_resource(Resource=done["FunctionArn"], Tags={"team": "a"})
    tagged = lam.get_function_configuration(FunctionName=name)
    assert tagged["RevisionId"] != done["RevisionId"]
    lam.untag_resource(Resource=done["FunctionArn"], TagKeys=["team"])
    assert lam.get_function_configuration(FunctionName=name)["RevisionId"] != tagged["RevisionId"]

    code = lam.update_function_code(FunctionName=name, ZipFile=make_zip({"fn.py": CODE % 2}))
    in_progress_answer(code)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=WAIT)
    settled(lam.get_function_configuration(FunctionName=name))
    assert invoke(lam, name)[1] == {"v": 2}


def test_create_with_publish_answers_the_version_pending(prepared):
    lam = prepared
    name = unique("states-pub")
    created = lam.create_function(FunctionName=name, Runtime=PY_RUNTIME, Role=ROLE, Handler="fn.handler",
                                  Code={"ZipFile": make_zip({"fn.py": CODE % 1})}, Publish=True)
    assert created["Version"] == "1"
    pending_answer(created)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, Qualifier="1", WaiterConfig=WAIT)
    v1 = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    settled(v1)
    assert v1["RevisionId"] != created["RevisionId"]
    settled(lam.get_function_configuration(FunctionName=name))


def test_invoke_right_after_create_runs(prepared):
    lam = prepared
    name = unique("states-inv")
    lam.create_function(FunctionName=name, Runtime=PY_RUNTIME, Role=ROLE, Handler="fn.handler",
                        Code={"ZipFile": make_zip({"fn.py": CODE % 5})})
    assert invoke(lam, name)[1] == {"v": 5}


@pytest.fixture(scope="module")
def slow_server():
    """A server whose functions stay Pending / InProgress for a second (LAMB_STATE_TRANSITION_S)."""
    from .conftest import LambServer
    server = LambServer(env={"LAMB_STATE_TRANSITION_S": "1"}).start()
    try:
        yield server
    finally:
        server.close()


def test_intermediate_states_and_conflicts(slow_server):
    lam = slow_server.client()
    name = unique("states-slow")
    arn = slow_server.arn(name)
    created = lam.create_function(FunctionName=name, Runtime=PY_RUNTIME, Role=ROLE, Handler="fn.handler",
                                  Code={"ZipFile": make_zip({"fn.py": CODE % 1})})
    pending_answer(created)
    pending_answer(lam.get_function_configuration(FunctionName=name))
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=name, Timeout=5)
    assert e.value.response["Error"]["Code"] == "ResourceConflictException"
    assert e.value.response["Error"]["Message"] == (
        "The operation cannot be performed at this time. The function is currently in the following state: Pending")
    # An Invoke while Pending waits for Active (a deliberate difference: AWS refuses it).
    assert invoke(lam, name)[1] == {"v": 1}
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=WAIT)
    active = lam.get_function_configuration(FunctionName=name)
    settled(active)

    # A runtime change keeps the function Active with the update InProgress.
    changed = lam.update_function_configuration(FunctionName=name, Runtime="python3.11")
    in_progress_answer(changed)
    in_progress_answer(lam.get_function_configuration(FunctionName=name))
    with pytest.raises(ClientError) as e:
        lam.update_function_code(FunctionName=name, ZipFile=make_zip({"fn.py": CODE % 2}))
    assert e.value.response["Error"]["Code"] == "ResourceConflictException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert e.value.response["Error"]["Message"] == (
        f"The operation cannot be performed at this time. An update is in progress for resource: {arn}")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=WAIT)
    done = lam.get_function_configuration(FunctionName=name)
    settled(done)
    assert done["Runtime"] == "python3.11" and done["RevisionId"] != changed["RevisionId"]

    published = lam.update_function_code(FunctionName=name, ZipFile=make_zip({"fn.py": CODE % 3}), Publish=True)
    assert published["Version"] == "1"
    pending_answer(published)
    in_progress_answer(lam.get_function_configuration(FunctionName=name))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=WAIT)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, Qualifier="1", WaiterConfig=WAIT)
    v1 = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    settled(v1)
    assert v1["RevisionId"] != published["RevisionId"]
    assert invoke(lam, name, Qualifier="1")[1] == {"v": 3}


def test_cli_create_answers_pending_and_waits(slow_server, tmp_path):
    name = unique("states-cli")
    (tmp_path / "code.zip").write_bytes(make_zip({"fn.py": CODE % 7}))
    out = aws_json(slow_server, "create-function", "--function-name", name, "--runtime", PY_RUNTIME, "--role", ROLE,
                   "--handler", "fn.handler", "--zip-file", "fileb://code.zip", cwd=tmp_path)
    pending_answer(out)
    aws_json(slow_server, "wait", "function-active-v2", "--function-name", name)
    settled(aws_json(slow_server, "get-function-configuration", "--function-name", name))
    out = aws_json(slow_server, "update-function-configuration", "--function-name", name, "--memory-size", "256")
    in_progress_answer(out)
    aws_json(slow_server, "wait", "function-updated-v2", "--function-name", name)
    got = aws_json(slow_server, "get-function-configuration", "--function-name", name)
    settled(got)
    assert got["MemorySize"] == 256 and json.dumps(got)
