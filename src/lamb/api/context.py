"""What an operation handler may know about its request beyond its parameters."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..app import Lamb  # the composition root: handlers reach the services it wired
    from ..http.server import Request


class RequestContext:
    """What a handler may know about the request beyond its parameters."""

    __slots__ = ("lamb", "request", "operation", "request_id")

    def __init__(self, lamb: "Lamb", request: Request, operation: str, request_id: str):
        self.lamb = lamb
        self.request = request
        self.operation = operation
        # AWS's x-amzn-RequestId; for Invoke it is also the invocation's request id.
        self.request_id = request_id

    @property
    def base_url(self) -> str:
        host = self.request.headers.get("host") or f"{self.lamb.settings.host}:{self.lamb.port}"
        return f"http://{host}"
