"""Whether API Gateway may invoke a function: the function's resource-based policy.

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html#http-api-develop-integrations-lambda-permissions
(and https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway.html#apigateway-permissions):
the policy of the function, version or alias the integration names must allow
``lambda:InvokeFunction`` to the service principal ``apigateway.amazonaws.com``;
a statement with ``AWS:SourceArn`` must match the route's execute-api ARN
``arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path>``
(``…/<stage>/$default`` for the ``$default`` route). Enforced whatever Lamb's client
authentication setting is. Decisions are remembered per policy revision and source ARN.
"""

from __future__ import annotations

from ..policy import evaluate as policy_eval
from ..policy.resources import policy_of

PRINCIPAL = policy_eval.Principal.service("apigateway.amazonaws.com")


def source_arn(region: str, account: str, api_id: str, stage: str, method: str, route_key: str) -> str:
    base = f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}"
    if route_key == "$default":
        return f"{base}/$default"
    route_method, _, path = route_key.partition(" ")
    return f"{base}/{method if route_method == 'ANY' else route_method}{path}"


class InvokePermission:
    def __init__(self, account: str) -> None:
        self.account = account
        self._decisions: dict[tuple, bool] = {}

    def allowed(self, record: dict, function_arn: str, source: str) -> bool:
        stored = policy_of(record)
        if stored is None:
            return False
        key = (stored["RevisionId"], function_arn, source)
        known = self._decisions.get(key)
        if known is None:
            request = policy_eval.Request(PRINCIPAL, "lambda:InvokeFunction", function_arn,
                                          {"aws:SourceArn": source, "aws:SourceAccount": self.account})
            known = policy_eval.evaluate([stored["Document"]], request) is policy_eval.Decision.ALLOW
            if len(self._decisions) > 10_000:
                self._decisions.clear()
            self._decisions[key] = known
        return known
