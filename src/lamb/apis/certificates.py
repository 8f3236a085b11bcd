"""Whether a domain name's certificate exists, asked of ACM through boto3's standard configuration.

ACM is asked when boto3 finds credentials, at the endpoint boto3 picks: one the user configured
(``AWS_ENDPOINT_URL_ACM``, ``AWS_ENDPOINT_URL``, a profile's ``endpoint_url``), else AWS's own. An
unreachable ACM is not an answer. Otherwise nothing is asked and a well-formed ARN is taken (``domains.CERTIFICATE_ARN``).
The TLS port (``http/tls.py``) serves a domain's certificate from Lamb's certificates folder. ACM
hands out a private key only for a certificate it can export (issued by a private CA, or requested
with ``Options={"Export": "ENABLED"}``): ``install`` asks ExportCertificate when a domain names a
certificate and writes what it answers into the folder. An imported certificate is never exported
(ACM refuses, on AWS as in moto), so its ``<domain>.pem``/``.key`` are the user's to put there.
"""

from __future__ import annotations

import logging
import secrets
import threading
from pathlib import Path
from typing import Any

from ..services.aws_clients import CLIENT_CONFIG

log = logging.getLogger("lamb.apis.certificates")

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

    def export(self, arn: str) -> tuple[bytes, bytes] | None:
        """(certificate and chain PEM, unencrypted private key PEM) of an exportable ACM certificate;
        None when ACM is not asked, cannot be reached or refuses (not exportable, imported)."""
        parts = arn.split(":")
        if len(parts) < 6 or parts[2] != "acm":
            return None
        client = self._client(parts[3])
        if client is None:
            return None
        from botocore.exceptions import BotoCoreError, ClientError
        from cryptography.hazmat.primitives import serialization

        passphrase = secrets.token_urlsafe(24).encode()
        try:
            got = client.export_certificate(CertificateArn=arn, Passphrase=passphrase)
        except (ClientError, BotoCoreError) as e:
            log.debug("ACM does not export %s: %s", arn, e)
            return None
        key = serialization.load_pem_private_key(got["PrivateKey"].encode(), password=passphrase)
        plain = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
        chain = got["Certificate"].strip() + "\n" + (got.get("CertificateChain") or "").strip() + "\n"
        return chain.encode(), plain

    def install(self, folder: Path, name: str, arn: str | None) -> bool:
        """Write the exportable certificate ``arn`` as ``<name>.pem``/``<name>.key`` (0600) into ``folder``
        for the TLS port, with ``<name>.arn`` saying Lamb wrote them; files the user put there (no
        ``.arn``) are kept. Blocks: ACM is asked (run it in a thread). Whether files were written."""
        if not arn:
            return False
        marker = folder / f"{name}.arn"
        if (folder / f"{name}.pem").exists() and not marker.exists():
            return False  # the user's own certificate
        if marker.exists() and marker.read_text() == arn:
            return False
        exported = self.export(arn)
        if exported is None:
            return False
        from ..http.tls import write_certificate

        write_certificate(folder, name, *exported)
        marker.write_text(arn)
        return True
