"""Get/PutFunctionScalingConfig against a real ``lamb serve``.

A scaling config belongs to a function on a capacity provider (Lambda Managed
Instances); Lamb has none, so a found function version gets AWS's answer for a
function without one: 403 AccessDeniedException "The function provided by the arn
does not contain a capacity provider configuration" (recorded from AWS for
PutFunctionScalingConfig, go-to-k/cdkd#1616; the same for Get is Lamb's choice).
"""

from __future__ import annotations

import pytest

from .awscli import aws
from .conftest import create, refused, unique

CODE = "def handler(e, c):\n    return 1\n"
NO_CAPACITY_PROVIDER = "The function provided by the arn does not contain a capacity provider configuration"



def test_a_function_without_a_capacity_provider(lam, lamb_server):
    name = unique("scale")
    create(lam, name, CODE)
    lam.publish_version(FunctionName=name)
    calls = ((lam.get_function_scaling_config, {}),
             (lam.put_function_scaling_config, {"FunctionScalingConfig": {"MinExecutionEnvironments": 1,
                                                                          "MaxExecutionEnvironments": 2}}))
    for call, kw in calls:
        refused(lam, "AccessDeniedException", 403, NO_CAPACITY_PROVIDER, call, FunctionName=name, Qualifier="1", **kw)
        refused(lam, "ResourceNotFoundException", 404, f"Function not found: {lamb_server.arn(name, '7')}",
                call, FunctionName=name, Qualifier="7", **kw)
        refused(lam, "ResourceNotFoundException", 404, f"Function not found: {lamb_server.arn(name, '$LATEST.PUBLISHED')}",
                call, FunctionName=name, Qualifier="$LATEST.PUBLISHED", **kw)
        refused(lam, "ResourceNotFoundException", 404, f"Function not found: {lamb_server.arn('no-such-fn')}",
                call, FunctionName="no-such-fn", Qualifier="1", **kw)


def test_the_models_constraints(lam, raw_lam):
    name = unique("scale")
    create(lam, name, CODE)
    with pytest.raises(raw_lam.exceptions.ClientError) as e:
        raw_lam.get_function_scaling_config(FunctionName=name, Qualifier="$LATEST")
    err = e.value.response
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]) == (
        "ValidationException", 400,
        "1 validation error detected: Value '$LATEST' at 'qualifier' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: (\\$LATEST\\.PUBLISHED|[0-9]+)")
    with pytest.raises(raw_lam.exceptions.ClientError) as e:
        raw_lam.put_function_scaling_config(FunctionName=name, Qualifier="1",
                                            FunctionScalingConfig={"MaxExecutionEnvironments": 15001})
    err = e.value.response
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("ValidationException", 400)
    assert "Value '15001' at 'functionScalingConfig.maxExecutionEnvironments' failed to satisfy constraint: " \
           "Member must have value less than or equal to 15000" in err["Error"]["Message"]


def test_the_aws_cli(lam, lamb_server):
    name = unique("scale")
    create(lam, name, CODE)
    lam.publish_version(FunctionName=name)
    proc = aws(lamb_server, "get-function-scaling-config", "--function-name", name, "--qualifier", "1", check=False)
    assert proc.returncode in (254, 255)  # a service error: 255 in AWS CLI v1, 254 in v2
    assert ("An error occurred (AccessDeniedException) when calling the GetFunctionScalingConfig operation: "
            f"{NO_CAPACITY_PROVIDER}") in proc.stderr
