"""boto3 clients for the AWS services Lamb itself calls (S3 for code, EC2 for VPC lookups).

They use boto3's standard configuration, as any AWS tool would: the credentials chain,
``AWS_ENDPOINT_URL_<SERVICE>`` / ``AWS_ENDPOINT_URL``, profiles; real AWS by default, any
compatible server when configured. There is no Lamb-specific knob. Calls block: run them
off the event loop.
"""

from __future__ import annotations

import threading
from typing import Any

from ..protocol.errors import AwsError, invalid_parameter

# Fail fast: a slow or absent service should not hold a request for botocore's whole retry loop.
CLIENT_CONFIG = dict(connect_timeout=5, read_timeout=60, retries={"max_attempts": 2, "mode": "standard"})


class AwsClients:
    """One client per service in Lamb's region, made on first use."""

    def __init__(self, region: str):
        self.region = region
        self._lock = threading.Lock()
        self._session: Any = None
        self._clients: dict[str, Any] = {}

    def get(self, service: str):
        with self._lock:  # boto3 sessions are not thread-safe; clients are
            c = self._clients.get(service)
            if c is None:
                import boto3
                from botocore.config import Config

                if self._session is None:
                    self._session = boto3.session.Session()
                c = self._session.client(service, region_name=self.region, config=Config(**CLIENT_CONFIG))
                if not _is_aws_host(c.meta.endpoint_url):
                    # A configured endpoint (a compatible server) is named whole: operations whose model adds a
                    # host prefix (Cloud Map's DiscoverInstances: ``data-``) must not change it.
                    c = self._session.client(service, region_name=self.region,
                                             config=Config(**CLIENT_CONFIG, inject_host_prefix=False))
                self._clients[service] = c
            return c


def _is_aws_host(url: str) -> bool:
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws"))


_endpoints: dict[tuple[str, str], str] = {}


def endpoint_url(service: str, region: str) -> str:
    """Where boto3's standard configuration sends ``service`` in ``region`` (``AWS_ENDPOINT_URL_<SERVICE>``,
    ``AWS_ENDPOINT_URL``, else AWS's own endpoint); no call is made. Blocks the first time per region."""
    key = (service, region)
    if key not in _endpoints:
        import boto3

        _endpoints[key] = boto3.session.Session().client(service, region_name=region).meta.endpoint_url
    return _endpoints[key]


def refused(service: str, operation: str, error: Any) -> AwsError:
    """How Lambda passes on another service's refusal (a botocore ``ClientError``): 400
    InvalidParameterValueException "Error occurred while GetObject. S3 Error Code: NoSuchKey.
    S3 Error Message: The specified key does not exist." with the code and message it answered."""
    err = error.response.get("Error", {})
    return invalid_parameter(f"Error occurred while {operation}. {service} Error Code: {err.get('Code', '')}. "
                             f"{service} Error Message: {err.get('Message', '')}")
