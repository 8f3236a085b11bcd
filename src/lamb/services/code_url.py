"""Pre-signed code download URLs: GetFunction's ``Code.Location``.

AWS answers GetFunction with a presigned S3 URL valid for 10 minutes
(https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCodeLocation.html). Lamb
serves the zip itself under ``/_lamb/code/<name>/<sha256>.zip`` and signs the path
and its expiry with the data dir's secret (HMAC-SHA256), so a URL cannot be forged or
extended; the gateway checks it before sending the zip.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote

CODE_URL_TTL_S = 600


class CodeUrls:
    def __init__(self, secret: bytes, ttl_s: int = CODE_URL_TTL_S):
        self.secret = secret
        self.ttl_s = ttl_s

    def _sign(self, path: str, expires: int) -> str:
        return hmac.new(self.secret, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def sign(self, base_url: str, name: str, key: str) -> str:
        """A URL on this server that downloads the exact zip ``key`` of ``name`` for ``ttl_s`` seconds."""
        path = f"/_lamb/code/{quote(name)}/{key}.zip"
        expires = int(time.time()) + self.ttl_s
        return f"{base_url}{path}?X-Amz-Expires={self.ttl_s}&Expires={expires}&Signature={self._sign(path, expires)}"

    def verify(self, path: str, query: dict[str, str]) -> bool:
        try:
            expires = int(query.get("Expires", "0"))
        except ValueError:
            return False
        if expires < time.time():
            return False
        return hmac.compare_digest(self._sign(path, expires), query.get("Signature", ""))
