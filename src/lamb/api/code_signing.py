"""GetFunctionCodeSigningConfig
(https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionCodeSigningConfig.html).

Deploy tools read it for every function they manage (the Terraform AWS provider
on each refresh of ``aws_lambda_function``, CloudFormation's
``AWS::Lambda::Function`` read handler). A function with no code signing config
gets 200 with an empty body, as AWS answers (LocalStack's AWS-validated snapshot
``TestCodeSigningConfig::test_code_signing_not_found_excs``,
``get_function_csc_fnwithoutcsc``); an unknown function gets 404 with the
unqualified function ARN.

The rest of code signing (configs, Put/DeleteFunctionCodeSigningConfig, signature
checks) is issue 17. A function's config ARN lives in its function-wide data under
``CONFIG_KEY``; that work sets it, this answer reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import operation
from .common import function_of

if TYPE_CHECKING:
    from .context import RequestContext

CONFIG_KEY = "CodeSigningConfigArn"


@operation("GetFunctionCodeSigningConfig")
def get_function_code_signing_config(ctx: "RequestContext", params: dict) -> dict:
    _, fn = function_of(ctx, params)
    arn = fn.data.get(CONFIG_KEY)
    if not arn:
        return {}
    return {"CodeSigningConfigArn": arn, "FunctionName": fn.name}
