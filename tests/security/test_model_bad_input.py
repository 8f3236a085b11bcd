"""Every operation of botocore's Lambda model, fed bad input generated from its shapes.

Each answer is a 2xx or AWS's error shape with the model's status for its code
(``conftest.problem_with``): never a 5xx outside the model, a hang or a body that
is not JSON. The server process lives and answers after every operation's group.
"""

from __future__ import annotations

import pytest

from .conftest import SEED, assert_alive, problem_with
from .model_requests import Targets, generate, lambda_model

PER_OPERATION = 100
RANDOM_PER_OPERATION = 40
OPERATIONS = sorted(lambda_model().operation_names)


@pytest.fixture(scope="module")
def generated(sec_targets: Targets):
    return generate(sec_targets, SEED, PER_OPERATION, RANDOM_PER_OPERATION)


def test_every_operation_of_the_model_is_generated(generated):
    assert set(generated) == set(OPERATIONS) and len(OPERATIONS) > 50
    assert all(reqs[0].kind == "baseline" and len(reqs) >= 5 for reqs in generated.values())


@pytest.mark.parametrize("operation", OPERATIONS)
def test_bad_input_gets_an_aws_shaped_answer(operation, generated, raw_http, sec_server):
    problems = []
    for req in generated[operation]:
        status, headers, body = raw_http.send(req)
        why = problem_with(operation, status, headers, body)
        if why:
            problems.append(f"{req.kind}: {req.method} {req.path[:120]} -> {why}")
    assert_alive(sec_server)
    assert not problems, f"{len(problems)} bad answers:\n" + "\n".join(problems[:20])
