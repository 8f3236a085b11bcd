"""The served models: which botocore model (and which handlers) answers a request on Lamb's one port.

Clients sign every request with SigV4; the credential scope names the service
(``Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/events/aws4_request, ...``,
https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html). The json
protocol also names its target (``X-Amz-Target: AWSEvents.PutRule``). So a request goes to:

1. the model whose ``targetPrefix`` its ``X-Amz-Target`` starts with, if it has one;
2. else the model whose signing name its credential scope names;
3. else (an unsigned request, e.g. curl) the default model (Lambda's).

A model of any protocol this layer speaks plugs in the same way: ``add(Protocol("logs"),
handlers)``. A request for a service Lamb does not serve gets ``UnknownOperationException``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple

from .errors import AwsError
from .protocol import Protocol


class ServedModel(NamedTuple):
    protocol: Protocol
    handlers: Mapping[str, Callable[..., Any]]  # operation name -> handler


def scope_service(authorization: str) -> str | None:
    """The service of a SigV4 ``Authorization`` header's credential scope, or None."""
    i = authorization.find("Credential=")
    if i < 0:
        return None
    j = authorization.find(",", i)
    parts = authorization[i + 11: j if j >= 0 else None].split("/")
    return parts[3] if len(parts) == 5 else None


class ServedModels:
    """A registry of served models; ``select`` picks the one a request is for."""

    def __init__(self, default: ServedModel) -> None:
        self.default = default
        self._by_signing: dict[str, ServedModel] = {}
        self._by_target: dict[str, ServedModel] = {}
        self.add(default.protocol, default.handlers)

    def add(self, protocol: Protocol, handlers: Mapping[str, Callable[..., Any]]) -> None:
        served = ServedModel(protocol, handlers)
        if protocol.signing_name in self._by_signing:
            raise ValueError(f"{protocol.signing_name} is served twice")
        self._by_signing[protocol.signing_name] = served
        if protocol.target_prefix:
            self._by_target[protocol.target_prefix] = served

    def names(self) -> list[str]:
        return sorted(self._by_signing)

    def select(self, headers: Mapping[str, str]) -> ServedModel:
        """The model for a request (lower-cased header names); raises ``AwsError`` for an unserved service."""
        target = headers.get("x-amz-target")
        if target:
            served = self._by_target.get(target.split(".", 1)[0])
            if served is not None:
                return served
        auth = headers.get("authorization")
        if not auth:
            return self.default
        service = scope_service(auth)
        if service is None:
            return self.default
        served = self._by_signing.get(service)
        if served is None:
            raise AwsError("UnknownOperationException",
                           f"Lamb does not serve the {service} service (it serves {', '.join(self.names())}).", 404)
        return served
