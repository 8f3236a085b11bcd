"""Operation handlers, one module per API area.

A handler is ``handler(ctx, params) -> dict`` (or an awaitable of one): it gets
the parsed, validated input parameters (member names as in botocore's model)
and returns a dict shaped like the operation's output shape. It raises
``AwsError`` for anything the client should see. It never deals with the wire.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Union

Handler = Callable[[Any, dict], Union[dict, Awaitable[dict]]]
OPERATIONS: dict[str, Handler] = {}
# Handlers per served botocore model (service name -> operation -> handler); Lambda's are OPERATIONS.
SERVICES: dict[str, dict[str, Handler]] = {"lambda": OPERATIONS}


def operation(name: str, service: str = "lambda") -> Callable[[Handler], Handler]:
    """Register ``name`` of botocore's ``service`` model (``lambda``, ``events``, ``scheduler``)."""
    table = SERVICES.setdefault(service, {})

    def register(fn: Handler) -> Handler:
        if name in table:
            raise RuntimeError(f"operation {service}.{name} registered twice")
        table[name] = fn
        return fn

    return register


def load_all() -> dict[str, Handler]:
    """Import every API area so that its operations register."""
    from . import account, functions, invoke  # noqa: F401
    from . import event_invoke_config, invoke_async, recursion  # noqa: F401  (issue 6)
    from . import aliases, layers, versions  # noqa: F401  (issue 4)
    from . import concurrency  # noqa: F401  (issue 5)
    from . import tags  # noqa: F401
    from . import code_signing, runtime_management, scaling_config  # noqa: F401  (issue 16)
    from . import function_urls, invoke_stream, permissions  # noqa: F401  (issue 14)
    from . import event_source_mappings  # noqa: F401  (issue 13)

    return OPERATIONS


def load_services() -> dict[str, dict[str, Handler]]:
    """Every served model's handlers, by botocore service name (Lambda's included)."""
    load_all()
    from . import events_rules, scheduler  # noqa: F401  (issue 16: schedules)
    from . import events_put  # noqa: F401  (PutEvents: rules with an EventPattern)
    from . import iam, sts  # noqa: F401  (issue 17: identities)
    from . import apigateway, apigatewayv2  # noqa: F401  (issue 20: REST and HTTP APIs)
    from . import logs  # noqa: F401  (issue 15: CloudWatch Logs)
    from . import cloudwatch  # noqa: F401  (issue 15: CloudWatch metrics)
    from . import signer  # noqa: F401  (issue 17: code signing's signing profiles and jobs)
    from . import apigateway_import, apigateway_patch, apigatewayv2_import  # noqa: F401  (OpenAPI import, Update*)
    from . import apigateway_responses  # noqa: F401  (method and integration responses: MOCK integrations)
    from . import apigateway_models  # noqa: F401  (models, request validators, UpdateMethod)
    from . import apigateway_gateway_responses  # noqa: F401  (gateway responses)
    from . import apigateway_account  # noqa: F401  (GetAccount/UpdateAccount)
    from . import apigateway_cache  # noqa: F401  (FlushStageCache, FlushStageAuthorizersCache)
    from . import apigateway_domains, apigatewayv2_domains  # noqa: F401  (custom domain names, API mappings)
    from . import apigateway_usage  # noqa: F401  (API keys and usage plans)
    from . import apigateway_vpc_links  # noqa: F401  (VPC links, v1 and v2)
    from . import apigatewaymanagement  # noqa: F401  (WebSocket APIs' @connections API)

    return SERVICES
