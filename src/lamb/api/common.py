"""Helpers every function-area handler shares: the function a request names, its views,
preconditions, pagination, code upload and code URLs.

Kept apart from ``functions.py`` so that the handlers of versions, aliases, layers and
concurrency build on them without importing the function handlers (and those import
``layers`` and ``versions`` at the top, with no cycle).
"""

from __future__ import annotations

import asyncio
import base64
import copy
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..arn import LATEST
from ..protocol.errors import AwsError, invalid_parameter, precondition_failed
from ..services import hot_reload, s3_code

if TYPE_CHECKING:
    from .context import RequestContext

# Members ListFunctions leaves out of each FunctionConfiguration.
NOT_LISTED = ("State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
              "LastUpdateStatusReasonCode", "RuntimeVersionConfig")


def resolve(ctx: "RequestContext", params: dict, *, route: bool = False):
    """The function and version a request names (``FunctionStore.resolve``): ``(ref, fn, version, config)``."""
    return ctx.lamb.functions.resolve(params["FunctionName"], params.get("Qualifier"), route=route)


def function_of(ctx: "RequestContext", params: dict, *, what: str | None = None):
    """The function a request names, whatever its qualifier (``FunctionStore.function``): ``(ref, fn)``."""
    return ctx.lamb.functions.function(params["FunctionName"], what=what)


def check_revision(params: dict, config: dict) -> None:
    rid = params.get("RevisionId")
    if rid is not None and rid != config["RevisionId"]:
        raise precondition_failed(
            "The Revision Id provided does not match the latest Revision Id. "
            "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
        )


def view(config: dict, qualifier: str | None = None) -> dict:
    """The FunctionConfiguration as AWS returns it (internal keys dropped); with a
    qualifier, its FunctionArn names the function as the request qualified it."""
    out = {k: copy.deepcopy(v) for k, v in config.items() if not k.startswith("_")}
    if qualifier is not None:
        out["FunctionArn"] = f"{unqualified_arn(config)}:{qualifier}"
    return out


def unqualified_arn(config: dict) -> str:
    arn = config["FunctionArn"]
    return arn if config["Version"] == LATEST else arn.rsplit(":", 1)[0]


async def store_code(ctx: "RequestContext", source: dict, missing: str, hot_folder: Path | None = None,
                     inspect: Callable[[bytes], None] | None = None):
    """Validate and store the zip a ``Code``/``Content`` structure gives (function code or layer
    content), off the event loop: ``ZipFile`` (at most 50 MB, AWS's 413 otherwise) or the S3 object
    ``S3Bucket``/``S3Key``/``S3ObjectVersion`` name (``lamb.services.s3_code``); ``missing`` is
    AWS's text when there is neither; a ``hot_folder`` (``lamb.services.hot_reload``) is zipped as it is now.
    ``inspect`` sees the zip before it is stored (code signing's checks) and may refuse it."""
    lamb = ctx.lamb
    limits = lamb.settings.limits
    where = s3_code.location(source)
    if hot_folder is not None:
        zip_bytes = await asyncio.to_thread(hot_reload.snapshot_zip, hot_folder)
    elif where is not None:
        if not where[0] or not where[1]:
            raise invalid_parameter(missing)
        zip_bytes = await asyncio.to_thread(lamb.s3_code.fetch, *where)
    else:
        zip_bytes = source.get("ZipFile")
        if not zip_bytes:
            raise invalid_parameter(missing)
        if len(zip_bytes) > limits.zip_direct_upload_max_bytes:
            raise AwsError("RequestEntityTooLargeException",
                           f"Zipped size must be smaller than {limits.zip_direct_upload_max_bytes} bytes", 413)
    if inspect is not None:
        await asyncio.to_thread(inspect, zip_bytes)
    return await asyncio.to_thread(lamb.code.put, zip_bytes, unzipped_limit=limits.unzipped_code_max_bytes)


def listed(config: dict, *, qualified: bool) -> dict:
    """A configuration as list operations show it (qualified: $LATEST's ARN too)."""
    return {k: v for k, v in view(config, config["Version"] if qualified else None).items() if k not in NOT_LISTED}


def paginate(ctx: "RequestContext", params: dict, rows: list, key: str, render, page_max: int | None = None) -> dict:
    """Marker/MaxItems pagination as Lambda does it: opaque markers, at most 50 a page (or ``page_max``)."""
    start = 0
    marker = params.get("Marker")
    if marker:
        try:
            start = int(base64.urlsafe_b64decode(marker.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            raise invalid_parameter("Invalid marker: " + marker)
    page_max = page_max or ctx.lamb.settings.limits.list_max_items
    size = min(params.get("MaxItems") or page_max, page_max)
    page = rows[start:start + size]
    out: dict = {key: [render(r) for r in page]}
    if start + size < len(rows):
        out["NextMarker"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return out


def code_location(ctx: "RequestContext", name: str, key: str) -> str:
    """A pre-signed URL on this server that downloads the exact zip for 10 minutes (``lamb.services.code_url``)."""
    return ctx.lamb.code_urls.sign(ctx.base_url, name, key)
