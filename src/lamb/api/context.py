"""What an operation handler may know beyond its parameters: its request, and the services below.

``Services`` is the API layer's whole view of Lamb: the stores, the invoker's
retirement on change, and the service layer (``lamb.services``). A ``lamb.scopes.Scope``
(one account in one region, its stores and services; the rest Lamb's) provides it;
handlers reach nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..apis.serve import HttpApis
    from ..config import Settings
    from ..identity.store import IdentityStore
    from ..kms_sealing import KmsSealer
    from ..http.server import Request
    from ..invoke.invoker import Invoker
    from ..logs.service import CloudWatchLogs
    from ..services.code_signing import CodeSigning
    from ..services.code_url import CodeUrls
    from ..services.signing_jobs import SigningJobs
    from ..signing.configs import CodeSigningConfigs
    from ..signing.signer import SignerStore
    from ..services.function_state import FunctionStates
    from ..services.invoke import Invocations
    from ..services.provisioning import Provisioning
    from ..schedules.service import Schedules
    from ..sources.filter_encryption import FilterCrypto
    from ..sources.manager import SourceManager
    from ..sources.mappings import MappingStore
    from ..store.code import CodeStore
    from ..store.functions import FunctionStore
    from ..store.layers import LayerStore


class Services(Protocol):
    settings: "Settings"
    port: int
    functions: "FunctionStore"
    layers: "LayerStore"
    code: "CodeStore"
    invoker: "Invoker"  # retire_function: a version's environments go when its code or configuration changes
    invocations: "Invocations"
    states: "FunctionStates"
    provisioning: "Provisioning"
    code_urls: "CodeUrls"
    schedules: "Schedules"  # EventBridge rules and Scheduler schedules (issue 16)
    mappings: "MappingStore"  # event source mappings (issue 13)
    sources: "SourceManager"  # their pollers
    filter_crypto: "FilterCrypto"  # their FilterCriteria under a KMSKeyArn
    identities: "IdentityStore"  # accounts, users, roles, policies, keys and sessions (issue 17)
    http_apis: "HttpApis"  # API Gateway HTTP APIs (issue 20)
    cloudwatch_logs: "CloudWatchLogs"  # log groups, streams, retention, Live Tail (issue 15)
    code_signing_configs: "CodeSigningConfigs"  # code signing (issue 17): Lambda's configs
    signer: "SignerStore"  # AWS Signer's profiles and jobs
    signing_jobs: "SigningJobs"  # StartSigningJob's S3 side
    code_signing: "CodeSigning"  # the checks on deployment
    kms: "KmsSealer"  # KMSKeyArn's key for environment variables at rest

    def collect_code(self) -> None:
        """Delete code no version, layer or environment uses any more (in the background)."""
        ...


class RequestContext:
    """What a handler may know about the request beyond its parameters."""

    __slots__ = ("lamb", "request", "operation", "request_id", "caller")

    def __init__(self, lamb: Services, request: "Request", operation: str, request_id: str, caller=None):
        self.lamb = lamb
        self.request = request
        self.operation = operation
        # AWS's x-amzn-RequestId; for Invoke it is also the invocation's request id.
        self.request_id = request_id
        # Who signed the request (lamb.identity.authn.Caller); the home root when authentication is off.
        self.caller = caller

    @property
    def base_url(self) -> str:
        host = self.request.headers.get("host") or f"{self.lamb.settings.host}:{self.lamb.port}"
        return f"http://{host}"
