"""GetFunctionCodeSigningConfig against a real ``lamb serve``: what deploy tools read.

Answers recorded from AWS in LocalStack's AWS-validated snapshots
(tests/aws/services/lambda_/test_lambda_api.snapshot.json): a function without a
code signing config gets 200 and an empty body (``get_function_csc_fnwithoutcsc``),
an unknown function 404 naming its unqualified ARN, an ARN of another region
"Functions from ... are not reachable in this region" (``test_get_function_wrong_region``).
"""

from __future__ import annotations

from .awscli import aws, aws_json
from .conftest import create, refused as conftest_refused, unique

CODE = "def handler(e, c):\n    return 1\n"


def refused(lam, code: str, status: int, message: str, **kw) -> None:
    conftest_refused(lam, code, status, message, lam.get_function_code_signing_config, **kw)


def test_a_function_without_a_config_gets_an_empty_answer(lam, lamb_server):
    name = unique("csc")
    create(lam, name, CODE)
    for fn in (name, lamb_server.arn(name), f"{lamb_server.account_id}:function:{name}"):
        resp = lam.get_function_code_signing_config(FunctionName=fn)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert {k: v for k, v in resp.items() if k != "ResponseMetadata"} == {}


def test_unknown_functions(lam, lamb_server):
    refused(lam, "ResourceNotFoundException", 404, f"Function not found: {lamb_server.arn('no-such-fn')}",
            FunctionName="no-such-fn")
    name = unique("csc")
    create(lam, name, CODE)
    refused(lam, "ResourceNotFoundException", 404,
            "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
            FunctionName=f"arn:aws:lambda:eu-west-1:{lamb_server.account_id}:function:{name}")


def test_the_aws_cli(lam, lamb_server):
    name = unique("csc")
    create(lam, name, CODE)
    assert aws_json(lamb_server, "get-function-code-signing-config", "--function-name", name) in (None, {})
    proc = aws(lamb_server, "get-function-code-signing-config", "--function-name", "no-such-fn", check=False)
    assert proc.returncode in (254, 255)  # a service error: 255 in AWS CLI v1, 254 in v2
    assert ("An error occurred (ResourceNotFoundException) when calling the GetFunctionCodeSigningConfig operation: "
            f"Function not found: {lamb_server.arn('no-such-fn')}") in proc.stderr
