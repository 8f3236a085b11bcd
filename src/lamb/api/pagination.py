"""NextToken pagination as EventBridge and EventBridge Scheduler do it: opaque tokens, a page size
parameter capped at the service's maximum."""

from __future__ import annotations

import base64

from ..protocol.errors import AwsError


def token_page(params: dict, rows: list, key: str, *, size_param: str, size_max: int) -> dict:
    start = 0
    token = params.get("NextToken")
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            raise AwsError("ValidationException", "The nextToken provided is invalid.", 400) from None
    size = min(params.get(size_param) or size_max, size_max)
    out: dict = {key: rows[start:start + size]}
    if start + size < len(rows):
        out["NextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return out
