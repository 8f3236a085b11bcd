"""The stack records on the Lamb server (``/_lamb/stacks``, see lamb/stack_routes.py), over HTTP.

``/_lamb/`` is the operator's (lamb/services/operator.py): requests are SigV4-signed (service
``lambda``) with the credentials boto3's standard chain finds, as the deploy's AWS calls are
(``eval "$(lamb env)"`` gives the home account's root key).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.session import get_session


class Conflict(Exception):
    """Another deploy wrote the stack since we read it."""


class OperatorSigner:
    """Signs requests to Lamb's ``/_lamb/`` routes with boto3's standard credentials (none: unsigned)."""

    def __init__(self) -> None:
        session = get_session()
        self.credentials = session.get_credentials()  # None: unsigned (Lamb with --auth off)
        self.region = session.get_config_variable("region") or "us-east-1"

    def _signed(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        if self.credentials is None:
            return headers
        aws = AWSRequest(method, url, data=data or b"", headers=headers)
        SigV4Auth(self.credentials.get_frozen_credentials(), "lambda", self.region).add_auth(aws)
        return dict(aws.headers.items())

    def request(self, method: str, url: str, data: bytes | None = None,
                headers: dict[str, str] | None = None) -> urllib.request.Request:
        return urllib.request.Request(url, data=data, method=method, headers=self._signed(method, url, data, headers or {}))


class StackClient(OperatorSigner):
    def __init__(self, endpoint: str):
        super().__init__()
        self.base = endpoint.rstrip("/") + "/_lamb/stacks"

    def _call(self, method: str, path: str = "", body: dict | None = None, revision: int | None = None):
        headers = {"Content-Type": "application/json"}
        if revision is not None:
            headers["If-Match"] = str(revision)
        data = json.dumps(body).encode() if body is not None else None
        url = self.base + path
        req = self.request(method, url, data, headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            if e.code == 404 and method == "GET":
                return None
            if e.code == 412:
                raise Conflict(json.loads(e.read() or b"{}").get("message", "stack changed")) from None
            raise RuntimeError(f"{method} {self.base + path}: HTTP {e.code} {e.read()[:200]!r}") from None

    def identity(self) -> tuple[str, str]:
        out = self._call("GET")
        return out["Region"], out["AccountId"]

    def list(self) -> list[dict]:
        return self._call("GET")["Stacks"]

    def get(self, name: str) -> dict | None:
        return self._call("GET", "/" + urllib.parse.quote(name))

    def put(self, name: str, record: dict, revision: int) -> int:
        return self._call("PUT", "/" + urllib.parse.quote(name), record, revision)["Revision"]

    def delete(self, name: str, revision: int) -> None:
        self._call("DELETE", "/" + urllib.parse.quote(name), revision=revision)
