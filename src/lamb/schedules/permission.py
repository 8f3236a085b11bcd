"""Whether an EventBridge rule may invoke its Lambda target: the function's resource policy.

EventBridge invokes a function only when the function's resource-based policy allows
``events.amazonaws.com`` to call ``lambda:InvokeFunction`` — usually a statement added
with AddPermission, its ``SourceArn`` condition naming the rule
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-lambda-permissions).
The policy consulted is the one of what the target ARN names: the function
(unqualified or ``$LATEST``), a published version or an alias
(https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html).
Without an Allow the invocation fails with ``AccessDeniedException``; the firing then
treats it as AWS does an undeliverable event (no retry; dead-letter queue or log).

EventBridge Scheduler invokes with the schedule's execution role (``RoleArn``), not
the resource policy, so its principal is not checked here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..arn import LATEST, function_arn
from ..policy import evaluate as policy_eval
from ..policy.context import time_keys
from ..policy.resources import Resource, document_of
from ..protocol.errors import AwsError
from .firing import EVENTS_PRINCIPAL

if TYPE_CHECKING:
    from ..store.functions import FunctionStore

ACTION = "lambda:InvokeFunction"


class InvokePermission:
    """``authorize(function ARN, principal, source ARN)`` for ``Firing``: raises
    ``AccessDeniedException`` (403) when the target's policy does not allow the rule."""

    def __init__(self, functions: "FunctionStore", *, region: str, account: str) -> None:
        self.functions = functions
        self.region = region
        self.account = account

    def __call__(self, target_arn: str, principal: str, source_arn: str) -> None:
        if principal != EVENTS_PRINCIPAL:
            return  # Scheduler: the schedule's RoleArn is its permission
        target = self.functions.resolve(target_arn)  # ResourceNotFoundException for a missing function
        qualifier = None if target.ref.qualifier in (None, LATEST) else target.ref.qualifier
        record = Resource(target.fn, qualifier, qualifier in target.fn.aliases).record
        resource = function_arn(self.region, self.account, target.fn.name, qualifier)
        context = {"aws:SourceArn": source_arn, "aws:SourceAccount": self.account, **time_keys()}
        request = policy_eval.Request(policy_eval.Principal.service(principal), ACTION, resource, context)
        if policy_eval.evaluate([document_of(record)], request) is not policy_eval.Decision.ALLOW:
            raise AwsError("AccessDeniedException",
                           f"User: {principal} is not authorized to perform: {ACTION} on resource: {resource} "
                           f"because no resource-based policy allows the {ACTION} action", 403)
