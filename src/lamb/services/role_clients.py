"""boto3 clients that act as a function's execution role, for the calls Lamb makes on its behalf.

On AWS, Lambda uses a function's execution role to send to its destinations and dead-letter
queue and to read from its event sources (SQS, Kinesis, DynamoDB streams, Amazon MQ's broker and
secret): https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html. A missing
permission shows as a failed delivery or as the mapping's LastProcessingResult.

``RoleClients(credentials)`` hands out clients for ``(service, region, role ARN, session name)``
built from ``credentials(role, session)`` (``UpstreamRoles``: the role's temporary credentials,
reused until half their lifetime is gone). A client is kept per key and rebuilt when the
credentials change, so it is refreshed before the session expires. ``credentials`` may call an
upstream STS and block: ``client`` runs where boto3's calls run, on worker threads, never on the
event loop (``bound`` defers it to the call).

Without a role, or with ``credentials`` None (no upstream STS, or
``LAMB_FUNCTION_CREDENTIALS=passthrough``: the same rule as the invoker's), a client has Lamb's
own boto3 configuration (credentials chain, ``AWS_ENDPOINT_URL_<SERVICE>``, profiles).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

# Fail fast: the callers retry with their own backoff rather than hold a thread in botocore's retries.
CLIENT_CONFIG = dict(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"})

Credentials = Callable[[str, str], dict]


class RoleClients:
    """``client(service, region, role, session)``: a boto3 client acting as ``role`` (or as Lamb)."""

    def __init__(self, credentials: Credentials | None, config: dict | None = None, session: Any = None):
        self.credentials = credentials
        self.config = dict(config or CLIENT_CONFIG)
        self._lock = threading.Lock()  # boto3 sessions are not thread-safe; clients are
        self._session = session
        self._own: dict[tuple[str, str], Any] = {}
        # (service, region, role, session name) -> (access key id, client): the newest credentials only.
        self._roles: dict[tuple[str, str, str, str], tuple[str, Any]] = {}

    def _make(self, service: str, region: str | None, creds: dict | None) -> Any:
        import boto3
        from botocore.config import Config

        if self._session is None:
            self._session = boto3.session.Session()
        kw: dict = {}
        if creds:
            kw = {"aws_access_key_id": creds["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": creds["AWS_SECRET_ACCESS_KEY"],
                  "aws_session_token": creds.get("AWS_SESSION_TOKEN")}
        return self._session.client(service, region_name=region, config=Config(**self.config), **kw)

    def acts_as(self, role: str | None) -> bool:
        """Whether a client for ``role`` acts as the role (else it is Lamb's own)."""
        return bool(role) and self.credentials is not None

    def own(self, service: str, region: str | None) -> Any:
        """Lamb's own client (its boto3 configuration)."""
        key = (service, region or "")
        c = self._own.get(key)
        if c is None:
            with self._lock:
                c = self._own.get(key)
                if c is None:
                    c = self._own[key] = self._make(service, region, None)
        return c

    def client(self, service: str, region: str | None, role: str | None = None, session: str = "") -> Any:
        """A client acting as ``role`` (session name ``session``, the function's name), or Lamb's own
        without a role or without role credentials. May block (AssumeRole): call it off the loop."""
        if not role or self.credentials is None:
            return self.own(service, region)
        creds = self.credentials(role, session)  # raises when the role cannot be assumed
        if not creds:  # not a role ARN
            return self.own(service, region)
        key = (service, region or "", role, session)
        found = self._roles.get(key)
        if found is not None and found[0] == creds["AWS_ACCESS_KEY_ID"]:
            return found[1]
        with self._lock:
            found = self._roles.get(key)
            if found is None or found[0] != creds["AWS_ACCESS_KEY_ID"]:
                found = self._roles[key] = (creds["AWS_ACCESS_KEY_ID"], self._make(service, region, creds))
        return found[1]

    def bound(self, service: str, region: str | None, role: Callable[[], str | None], session: str = "") -> "Bound":
        """A client-like object for long-lived holders (stream pollers): each method call resolves the
        role (``role()``, the function's current one) and its current client when it runs."""
        return Bound(self, service, region, role, session)


def refused(exc: BaseException) -> bool:
    """Whether a boto3 error is the service refusing the caller (403 / AccessDenied)."""
    response = getattr(exc, "response", None) or {}
    code = response.get("Error", {}).get("Code", "")
    return response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403 or code.startswith("AccessDenied")


class Bound:
    """``bound.get_records(**kw)`` runs ``clients.client(...).get_records(**kw)``; ``bound.exceptions``
    are the service's (one boto3 session: the same classes for every client of a service)."""

    def __init__(self, clients: RoleClients, service: str, region: str | None, role: Callable[[], str | None],
                 session: str):
        self._clients, self._service, self._region, self._role, self._session = clients, service, region, role, session

    def current(self) -> Any:
        return self._clients.client(self._service, self._region, self._role(), self._session)

    @property
    def as_role(self) -> bool:
        """Whether calls act as the function's role (its refusals are the role's)."""
        return self._clients.acts_as(self._role())

    @property
    def exceptions(self) -> Any:
        return self._clients.own(self._service, self._region).exceptions

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kw: Any) -> Any:
            return getattr(self.current(), name)(*args, **kw)

        return call
