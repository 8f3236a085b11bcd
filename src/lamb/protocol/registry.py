"""The served models: which botocore model (and which handlers) answers a request on Lamb's one port.

Clients sign every request with SigV4; the credential scope names the service
(``Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/events/aws4_request, ...``,
https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html). The json
protocol also names its target (``X-Amz-Target: AWSEvents.PutRule``). So a request goes to:

1. the model whose ``targetPrefix`` its ``X-Amz-Target`` starts with, if it has one;
2. else the model whose signing name its credential scope names;
3. else (an unsigned request, e.g. curl) the default model (Lambda's).

A model of any protocol this layer speaks plugs in the same way: ``add(Protocol("logs"),
handlers)``. Models that share a signing name (``apigateway`` signs both API Gateway's v1
model, paths ``/restapis/…``, and ``apigatewayv2``, paths ``/v2/…``) are told apart by a
path prefix given to ``add``. A request for a service Lamb does not serve gets ``UnknownOperationException``.
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
        # signing name -> [(path prefix, model)], longest prefix first ("" matches any path)
        self._by_signing: dict[str, list[tuple[str, ServedModel]]] = {}
        self._by_target: dict[str, ServedModel] = {}
        self.add(default.protocol, default.handlers)

    def add(self, protocol: Protocol, handlers: Mapping[str, Callable[..., Any]], path_prefix: str | None = "") -> None:
        """Serve a model; ``path_prefix=None``: by its ``X-Amz-Target`` only (a second protocol
        of a model already served under its signing name, e.g. cloudwatch's json)."""
        served = ServedModel(protocol, handlers)
        if protocol.target_prefix:
            self._by_target[protocol.target_prefix] = served
        if path_prefix is None:
            return
        entries = self._by_signing.setdefault(protocol.signing_name, [])
        if any(prefix == path_prefix for prefix, _ in entries):
            raise ValueError(f"{protocol.signing_name} {path_prefix!r} is served twice")
        entries.append((path_prefix, served))
        entries.sort(key=lambda e: -len(e[0]))

    def names(self) -> list[str]:
        return sorted(self._by_signing)

    def select(self, headers: Mapping[str, str], path: str = "") -> ServedModel:
        """The model for a request (lower-cased header names, the raw path); raises ``AwsError``
        for an unserved service."""
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
        served = next((m for prefix, m in self._by_signing.get(service, ()) if path.startswith(prefix)), None)
        if served is None:
            raise AwsError("UnknownOperationException",
                           f"Lamb does not serve the {service} service (it serves {', '.join(self.names())}).", 404)
        return served
