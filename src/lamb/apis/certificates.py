"""Whether a domain name's certificate exists, asked of ACM through boto3's standard configuration.

ACM is asked when boto3 finds credentials, at the endpoint boto3 picks: one the user configured
(``AWS_ENDPOINT_URL_ACM``, ``AWS_ENDPOINT_URL``, a profile's ``endpoint_url``), else AWS's own. An
unreachable ACM is not an answer. Otherwise nothing is asked and a well-formed ARN is taken (``domains.CERTIFICATE_ARN``).
Only its existence is asked: ACM does not export an imported certificate's private key, so the
TLS port (``http/tls.py``) serves the domain's certificate from Lamb's certificates folder.
"""

from __future__ import annotations

import threading
from typing import Any

from ..services.aws_clients import CLIENT_CONFIG

_MISSING = ("ResourceNotFoundException", "InvalidArnException", "ValidationException")


class AcmCertificates:
    """``__call__(arn)``: True (ACM has it), False (ACM says it does not exist), None (ACM not asked)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}

    def _client(self, region: str) -> Any | None:
        with self._lock:
            if region not in self._clients:
                import boto3
                from botocore.config import Config

                session = boto3.session.Session()
                client = session.client("acm", region_name=region, config=Config(**CLIENT_CONFIG))
                # boto3 cannot sign without credentials, for AWS or for a configured endpoint
                self._clients[region] = client if session.get_credentials() is not None else None
            return self._clients[region]

    def __call__(self, arn: str) -> bool | None:
        parts = arn.split(":")
        if len(parts) < 6 or parts[2] != "acm":
            return None  # an IAM server certificate: IAM is not asked
        client = self._client(parts[3])
        if client is None:
            return None
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            client.describe_certificate(CertificateArn=arn)
            return True
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in _MISSING:
                return False
            return None
        except BotoCoreError:  # unreachable: the ARN's form is all that is checked
            return None
