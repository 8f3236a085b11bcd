"""Every operation of botocore's Lambda model, fed bad input generated from its shapes.

Each answer is a 2xx or AWS's error shape with the model's status for its code
(``conftest.problem_with``): never a 5xx outside the model, a hang or a body that
is not JSON. An error from an operation's handler changes nothing (the functions,
the target's configuration, aliases, concurrency and event invoke configs, the
layer's versions read the same before and after). The server process lives and
answers after every operation's group.
"""

from __future__ import annotations

import pytest

import json

from .conftest import NOT_IMPLEMENTED, SEED, Client, assert_alive, problem_with
from .model_requests import RawRequest, Targets, generate, lambda_model

PER_OPERATION = 100
RANDOM_PER_OPERATION = 40
OPERATIONS = sorted(lambda_model().operation_names)


@pytest.fixture(scope="module")
def generated(sec_targets: Targets):
    return generate(sec_targets, SEED, PER_OPERATION, RANDOM_PER_OPERATION)


def test_every_operation_of_the_model_is_generated(generated):
    assert set(generated) == set(OPERATIONS) and len(OPERATIONS) > 50
    assert all(reqs[0].kind == "baseline" and len(reqs) >= 5 for reqs in generated.values())


# Errors raised before any handler runs (routing, parsing, the model's constraints): no state to check.
_BEFORE_HANDLERS = {"ValidationException", "SerializationException", "UnknownOperationException", NOT_IMPLEMENTED[0]}
# Fields that move on their own (state transitions, presigned URLs).
_VOLATILE = {"State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
             "LastUpdateStatusReasonCode", "Location", "Status", "StatusReason", "AvailableProvisionedConcurrentExecutions"}


def _strip(doc):
    if isinstance(doc, dict):
        return {k: _strip(v) for k, v in doc.items() if k not in _VOLATILE}
    if isinstance(doc, (list, tuple)):
        return [_strip(v) for v in doc]
    return doc


def snapshot(client: Client, t: Targets) -> str:
    """What an error must not change, as one canonical string."""
    fn = t.function
    paths = [f"/2015-03-31/functions/{fn}", f"/2015-03-31/functions/{fn}/aliases",
             f"/2017-10-31/functions/{fn}/concurrency", f"/2019-09-25/functions/{fn}/event-invoke-config/list",
             f"/2018-10-31/layers/{t.layer}/versions", f"/2015-03-31/functions/{fn}/versions"]
    parts = []
    marker = ""
    while True:  # every function, every version
        _, _, body = client.send(RawRequest("snapshot", "snapshot", "GET",
                                            f"/2015-03-31/functions?FunctionVersion=ALL{marker}"), record=False)
        page = json.loads(body)
        parts.append(page.get("Functions"))
        if not page.get("NextMarker"):
            break
        marker = f"&Marker={page['NextMarker']}"
    for path in paths:
        status, _, body = client.send(RawRequest("snapshot", "snapshot", "GET", path), record=False)
        parts.append((status, json.loads(body) if body else None))
    return json.dumps(_strip(parts), sort_keys=True)


def _difference(before: str, after: str) -> str:
    a, b = json.loads(before), json.loads(after)
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"part {i}: {json.dumps(x)[:300]} -> {json.dumps(y)[:300]}"
    return "(lengths differ)"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_bad_input_gets_an_aws_shaped_answer_and_changes_nothing(operation, generated, raw_http, sec_server,
                                                                  sec_targets):
    problems = []
    before = snapshot(raw_http, sec_targets)
    for req in generated[operation]:
        status, headers, body = raw_http.send(req)
        why = problem_with(operation, status, headers, body)
        if why:
            problems.append(f"{req.kind}: {req.method} {req.path[:120]} -> {why}")
        if req.method == "GET":
            continue
        if status < 300:
            before = snapshot(raw_http, sec_targets)  # a success may change things
        elif headers.get("x-amzn-errortype") not in _BEFORE_HANDLERS:
            after = snapshot(raw_http, sec_targets)
            if after != before:
                problems.append(f"{req.kind}: {req.method} {req.path[:120]} -> {status} changed state: "
                                f"{_difference(before, after)}")
                before = after
    assert_alive(sec_server)
    assert not problems, f"{len(problems)} bad answers:\n" + "\n".join(problems[:20])
