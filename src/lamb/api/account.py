"""GetAccountSettings (https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html).

Limits come from ``lamb.limits``; usage is computed from the stored functions and layer versions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import operation

if TYPE_CHECKING:
    from .context import RequestContext


@operation("GetAccountSettings")
def get_account_settings(ctx: "RequestContext", params: dict) -> dict:
    lamb = ctx.lamb
    limits = lamb.settings.limits
    reserved = sum(
        fn.data.get("ReservedConcurrentExecutions") or 0 for fn in lamb.functions.functions.values()
    )
    # AWS counts every function version's and every layer version's code
    total_code = sum(
        cfg.get("CodeSize", 0) for fn in lamb.functions.functions.values() for cfg in fn.versions.values()
    ) + sum(record.get("CodeSize", 0) for layer in lamb.layers.layers.values() for record in layer.live())
    return {
        "AccountLimit": {
            "TotalCodeSize": limits.code_storage_max_bytes,
            "CodeSizeUnzipped": limits.unzipped_code_max_bytes,
            "CodeSizeZipped": limits.zip_direct_upload_max_bytes,
            "ConcurrentExecutions": limits.account_concurrency,
            "UnreservedConcurrentExecutions": limits.account_concurrency - reserved,
        },
        "AccountUsage": {"TotalCodeSize": total_code, "FunctionCount": len(lamb.functions.functions)},
    }
