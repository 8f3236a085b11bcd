"""Who is calling: every API request's SigV4 signature checked against the keys Lamb holds.

The errors are AWS's, all 403 (https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html):
no signature ``MissingAuthenticationTokenException``; an unknown (or inactive) key
``UnrecognizedClientException``; a wrong signature or a clock more than 5 minutes off
``InvalidSignatureException``; an expired session ``ExpiredTokenException``. The query
services (IAM, STS) name the same errors ``MissingAuthenticationToken``,
``InvalidClientTokenId``, ``SignatureDoesNotMatch`` and ``ExpiredToken``
(https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html).

With authentication off every request is the home account's root, whatever it signs.
"""

from __future__ import annotations

import time
from typing import Callable, Mapping, NamedTuple

from ..auth import sigv4
from ..protocol.errors import AwsError
from . import ids
from .store import IdentityStore, Key

_QUERY_CODES = {
    "MissingAuthenticationTokenException": "MissingAuthenticationToken",
    "UnrecognizedClientException": "InvalidClientTokenId",
    "InvalidSignatureException": "SignatureDoesNotMatch",
    "IncompleteSignatureException": "IncompleteSignature",
    "ExpiredTokenException": "ExpiredToken",
}
INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"


class Caller(NamedTuple):
    """The principal of a request: its account, ARN and key (None: authentication is off)."""

    account: str
    arn: str
    key: Key | None = None

    @property
    def is_root(self) -> bool:
        return self.arn == ids.root_arn(self.account)


def refusal(code: str, message: str, query_codes: bool) -> AwsError:
    if query_codes:
        return AwsError(_QUERY_CODES.get(code, code), message, 403, type_="Sender")
    return AwsError(code, message, 403)


class Authenticator:
    """``authenticate(method, path, query, headers, body, service)`` → ``Caller``, or AWS's 403."""

    def __init__(self, store: IdentityStore, home_account: str, *, enabled: bool,
                 clock: Callable[[], float] = time.time, query_services: frozenset[str] = frozenset({"iam", "sts"})):
        self.store = store
        self.enabled = enabled
        self.clock = clock
        self.query_services = query_services
        self.anonymous_root = Caller(home_account, ids.root_arn(home_account))

    def _secret(self, access_key: str) -> str | None:
        key = self.store.key(access_key)
        return key.secret if key is not None and key.status == "Active" else None

    def authenticate(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes,
                     service: str) -> Caller:
        if not self.enabled:
            return self.anonymous_root
        now = self.clock()
        query_codes = service in self.query_services
        try:
            signed = sigv4.verify(method, path, query, headers, body, self._secret, service, now=now)
        except sigv4.SignatureError as e:
            raise refusal(e.code, e.message, query_codes) from None
        key = self.store.keys[signed.access_key]
        if key.token is not None:
            if signed.session_token != key.token:
                raise refusal("UnrecognizedClientException", INVALID_TOKEN, query_codes)
            if key.expires is not None and now >= key.expires:
                raise refusal("ExpiredTokenException", EXPIRED_TOKEN, query_codes)
        elif signed.session_token:
            raise refusal("UnrecognizedClientException", INVALID_TOKEN, query_codes)
        return Caller(key.account, key.principal, key)
