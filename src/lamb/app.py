"""Lamb assembled: stores, runtimes, invoker and the public port, in one process."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import resource
import secrets
import socket
import time
from pathlib import Path
from typing import Callable

import botocore

from . import api, sandbox
from .api import runtime_management
from .api.coverage import coverage
from .auth.credential_scope import region_of
from .apis.serve import HttpApis
from .apis.certificates import AcmCertificates
from .apis.domains import Domains
from .apis.mutual_tls import s3_reader
from .apis.vpc_links import Network as VpcNetwork, VpcLinks
from .apis.store import HttpApiStore
from .apis.usage_plans import UsagePlans
from .apis.websocket import connection_arn
from .config import Settings
from .events.queue import EventQueue
from .gateway import for_environments, make_app, on_server_error
from .identity import profile
from .identity.authn import Authenticator, Caller
from .identity.store import IdentityStore
from . import http_guards
from .http.server import HttpServer, bind_socket
from .http.tls import Site, TlsSites, default_names
from .invoke.invoker import Invoker
from .invoke.scoped import ScopedInvoker, scope_id
from .invoke.prometheus import LambdaPrometheus
from .logs.groups import LogGroups
from .logs.service import CloudWatchLogs
from .logs.store import LogStore
from .policy.resources import document_of
from .protocol import Protocol
from .protocol.registry import ServedModel, ServedModels
from .runtimes.manager import SUPPORTED, RuntimeManager
from .scopes import Scope, Scopes, ScopeSettings
from .kms_sealing import KmsSealer
from .master_key import MasterKeys
from .schedules.firing import sqs_attributes
from .schedules.permission import InvokePermission
from .schedules.service import Schedules
from .services.code_signing import CodeSigning
from .sources.filtering import parse_pattern
from .services.code_url import CodeUrls
from .services.signing_jobs import SigningJobs
from .signing.configs import CodeSigningConfigs
from .signing.signer import SignerStore
from .services.function_state import FunctionStates
from .services.aws_clients import AwsClients
from .services.s3_code import S3Code
from .services.vpc import VpcLookup
from .services.invoke import Invocations
from .services.access import PASS_ROLE_OPERATIONS, Access, check_assumable
from .services.role_clients import RoleClients
from .services.upstream_sts import UpstreamRoles
from .services.authorize import Who
from .services.operator import OperatorGate
from .services.provisioning import Provisioning
from .services.recursion import RecursionGuard
from .store.code import CodeStore
from .store.db import Database
from .store.functions import FunctionStore
from .store.layers import LayerStore
from .store.opt import opt_key, opt_root, remove_unreferenced_opt
from .store.stacks import StackStore
from .store.usage import UsageStore
from .services import metering
from .urls.address import Addresses, default_origin
from .urls.index import UrlIndex
from .protocol.errors import AwsError
from .sources import params as source_params
from .sources import sqs as sqs_source
from .sources import rabbitmq as rabbitmq_source
from .sources.esm_metrics import counter_factory
from .sources.filter_encryption import FilterCrypto, encrypted_kind, kms_client
from .sources.manager import SourceManager, node_id
from .sources.mappings import MappingStore
from .sources.sqs_client import CLIENT_CONFIG as SQS_CLIENT_CONFIG, Clients, DaemonExecutor, QueueClient
from .sources.checkpoints import CheckpointStore
from .sources.failure_destinations import FailureSender
from .sources.stream_kind import stream_kind
from .sources.streams import Timings as StreamTimings

log = logging.getLogger("lamb")

# Blobs younger than this are never collected: an upload in flight is not yet referenced.
CODE_GC_MIN_AGE_S = 120


def _raise_fd_limit() -> None:
    """Every environment holds a few descriptors in Lamb; allow thousands."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# Seconds between writes of metered usage to SQLite (what a kill -9 may lose).
USAGE_FLUSH_S = float(os.environ.get("LAMB_USAGE_FLUSH_S", "5"))


def _resource_policy(functions: FunctionStore, name: str, qualifier: str | None) -> dict | None:
    fn = functions.get(name)
    if fn is None:
        return None
    record = fn.aliases.get(qualifier) if qualifier in fn.aliases else fn.versions.get(qualifier or "$LATEST")
    return document_of(record) if record is not None else None


def _resource_tags(functions: FunctionStore, name: str) -> dict | None:
    fn = functions.get(name)
    return fn.data.get("Tags") if fn is not None else None


class Lamb:
    """Where the components are made and wired; each gets only what it uses.

    Layers, top to bottom (enforced by import-linter, see docs/architecture.md):
    app → gateway → api → events → services → invoke → runtimes / sandbox → stores.
    Every invocation, from the API, the async queue or a trigger, goes through
    ``self.invocations`` (``lamb.services.invoke.Invocations``).
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.db_path)
        self.aws = AwsClients(settings.region)  # S3, EC2, KMS, STS through boto3's standard configuration
        # Identities (issue 17): secrets sealed under the master key (a 0600 file, or KMS: lamb.master_key);
        # the home account and its root key.
        self.master_keys = MasterKeys(settings.master_key_path, settings.master_key_kms, lambda: self.aws.get("kms"))
        self.sealer = self.master_keys.sealer()
        self.identities = IdentityStore(self.db, self.sealer)
        self.identities.ensure_account(settings.account_id)
        self.auth_on = settings.auth != "off"
        self.authenticate = Authenticator(self.identities, settings.account_id, enabled=self.auth_on).authenticate
        # A function's KMSKeyArn seals its environment variables under that key (lamb.kms_sealing).
        self.kms = KmsSealer(lambda: self.aws.get("kms"))
        self.stacks = StackStore(self.db)  # lamb deploy's stack records (/_lamb/stacks)
        self._addresses: dict[tuple, Addresses] = {}  # function URL addresses by (origin, region, port)
        self.code = CodeStore(settings.data_dir)
        self.logs = LogStore(settings.data_dir / "logs")
        # The CloudWatch Logs API over those files (issue 15): groups' settings, retention, Live Tail.
        self.cloudwatch_logs = CloudWatchLogs(self.logs, LogGroups(settings.data_dir / "log-groups.json"),
                                              region=settings.region, account_id=settings.account_id,
                                              limits=settings.limits, day_ms=int(settings.log_day_s * 1000))
        self.sandbox = sandbox.choose(settings.data_dir, settings.sandbox, settings.runtime_cache, settings.network,
                                      settings.tmp, network_spares=settings.network_spares,
                                      host_ports=settings.network_host_ports, dns=settings.network_dns)
        self.runtimes = RuntimeManager(
            settings.runtime_cache, self._on_exit, self.sandbox.zygote_setup, lambda rt: self.invoker.zygote_env(rt),
            debug=bool(settings.debug), node_client=settings.node_runtime_client,
            python_client=settings.python_runtime_client,
        )
        self.invoker = Invoker(settings, self.logs, self.runtimes, self.code.ensure_unpacked, self.sandbox)
        self.prometheus = LambdaPrometheus(self.invoker.concurrency_snapshot, (settings.account_id, settings.region))
        self.invoker.metrics.observers.append(self.prometheus.observe)
        self.usage = UsageStore(self.db)  # metering (issue 15): billed duration, GB-seconds, requests
        self.invoker.usage_sink = self.usage.record
        # The calls Lamb makes for a function (destinations, DLQs, event-source pollers) act as its
        # execution role where the role's credentials are the services' own (an upstream STS), as on
        # AWS; Lamb's minted credentials are valid at Lamb only, so without one they use Lamb's own
        # configuration, as they do with LAMB_FUNCTION_CREDENTIALS=passthrough (lamb.services.role_clients).
        as_role = settings.upstream_sts and settings.function_credentials != "passthrough"
        role_credentials = (lambda role, session: self.invoker.role_credentials(role, session)) if as_role else None
        self.role_clients = RoleClients(role_credentials)
        self._tasks: set[asyncio.Task] = set()
        self._source_io: tuple[Clients, DaemonExecutor] | None = None
        # State per account and region (lamb.scopes); the home account in the default region is
        # ``home``, whose stores and services are also this object's (self.functions, ...).
        self.scopes = Scopes(self.make_scope, data_dir=settings.data_dir, home=(settings.account_id, settings.region),
                             held_accounts=lambda: self.identities.accounts)
        self.scopes.discover()
        home = self.scopes.home
        self.functions, self.layers, self.urls = home.functions, home.layers, home.urls
        self.recursion, self.invocations, self.events = home.recursion, home.invocations, home.events
        self.states, self.provisioning, self.schedules = home.states, home.provisioning, home.schedules
        self.mappings, self.sources, self.access, self.http_apis = home.mappings, home.sources, home.access, home.http_apis
        self.protocol = Protocol()
        self.handlers = api.load_all()
        # Every model served on the one port, picked per request by SigV4 scope / X-Amz-Target.
        services = api.load_services()
        self.models = ServedModels(ServedModel(self.protocol, self.handlers))
        for service in ("events", "scheduler", "iam", "sts", "logs", "signer"):
            self.models.add(Protocol(service), services[service])
        self.operations = coverage(self.protocol.operations, self.handlers, botocore.__version__)
        self.authorize = self._authorize if self.auth_on else None
        self.admit_operator = OperatorGate(self.authenticate, self.identities.policies_of, settings.account_id,
                                           enabled=self.auth_on,
                                           boundary_of=self.identities.boundary_of).admit  # the /_lamb/ routes
        # API Gateway's v2 model shares the signing name "apigateway" with v1: told apart by path.
        self.models.add(Protocol("apigatewayv2"), services["apigatewayv2"], path_prefix="/v2/")
        self.models.add(Protocol("apigateway"), services["apigateway"])  # REST APIs: /restapis/...
        # WebSocket APIs' @connections API (signing name execute-api; gateway.py strips the stage prefix).
        self.models.add(Protocol("apigatewaymanagementapi"), services["apigatewaymanagementapi"],
                        path_prefix="/@connections/")
        # CloudWatch metrics (issue 15), in each protocol of its model: query (POST /), Smithy RPC v2
        # CBOR (POST /service/…/operation/…, botocore ≥ 1.43), json (by X-Amz-Target only).
        self.models.add(Protocol("cloudwatch", wire="query"), services["cloudwatch"])
        self.models.add(Protocol("cloudwatch", wire="smithy-rpc-v2-cbor"), services["cloudwatch"], path_prefix="/service/")
        self.models.add(Protocol("cloudwatch", wire="json"), services["cloudwatch"], path_prefix=None)
        self.secret = self._secret()
        self.code_urls = CodeUrls(self.secret)
        # Execution-role credentials: minted by Lamb, or from an upstream STS (LAMB_UPSTREAM_STS=on).
        self.invoker.role_credentials = (
            UpstreamRoles(lambda: self.aws.get("sts"), settings.limits.sts_assume_role_default_s)
            if settings.upstream_sts else UpstreamRoles(lambda: self, settings.limits.execution_credentials_s))
        self.s3_code = S3Code(lambda: self.aws.get("s3"), settings.limits.unzipped_code_max_bytes)  # Code.S3Bucket/S3Key
        self.vpcs = VpcLookup(lambda: self.aws.get("ec2"))  # VpcConfig's VpcId
        # Code signing (issue 17): per account and region (make_scope); the home one's are also this object's.
        self.code_signing_configs, self.signer = home.code_signing_configs, home.signer
        self.signing_jobs, self.code_signing = home.signing_jobs, home.code_signing
        self.server: HttpServer | None = None
        self.url_server: HttpServer | None = None  # LAMB_URL_PORT: function URLs only
        self.env_server: HttpServer | None = None  # the public app as environments reach it (their namespace)
        self.tls: TlsSites | None = None  # LAMB_HTTPS_PORT: the TLS listener's certificates (http/tls.py)
        self.https_port: int | None = None
        self._https: socket.socket | None = None  # its listening socket, accepted on by ``TlsSites.serve``
        self._https_task: asyncio.Task | None = None
        self.port = settings.port
        self.started_at = time.time()

    def _secret(self) -> bytes:
        rows = self.db.query("SELECT value FROM meta WHERE key = 'secret'")
        if rows:
            return bytes.fromhex(rows[0][0])
        value = secrets.token_bytes(32)
        with self.db.tx() as c:
            c.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('secret', ?)", (value.hex(),))
        return bytes.fromhex(self.db.query("SELECT value FROM meta WHERE key = 'secret'")[0][0])

    def _authorize(self, caller: Caller, service: str, operation: str, params: dict, scope: Scope) -> None:
        """Whether ``caller`` may do ``operation`` in ``scope`` (the request's, ``scope_for``)."""
        key = caller.key
        policies, boundary = self.identities.grants_of(key) if key is not None else (None, None)
        session = key.session_policies if key is not None else None
        tags = self.identities.principal_tags(key) if key is not None and policies is not None else None
        scope.access.authorize(Who(caller.account, caller.arn, policies, session=session, boundary=boundary,
                                   tags=tags, source_identity=key.source_identity if key is not None else None),
                               service, operation, params)
        if service == "lambda" and operation in PASS_ROLE_OPERATIONS and isinstance(params.get("Role"), str):
            check_assumable(self.identities, params["Role"])

    def url_signer(self, access_key: str):
        """An AWS_IAM function URL's signer from Lamb's identities (active, unexpired keys)."""
        from .urls.serve import Signer

        key = self.identities.key(access_key)
        if key is None or key.status != "Active" or (key.expires is not None and key.expires <= time.time()):
            return None
        policies, boundary = self.identities.grants_of(key)
        return Signer(key.secret, key.principal, policies, key.token, boundary, key.session_policies,
                      self.identities.principal_tags(key))

    def scope_for(self, caller: Caller, req, params: dict | None) -> Scope:
        """The account and region whose state a request reads and changes (``lamb.scopes``)."""
        return self.scopes.for_request(caller.account, region_of(req.headers, req.query), params)

    @property
    def certificates_dir(self) -> Path:
        """Custom domains' ``<domain>.pem``/``.key`` for the TLS port (LAMB_TLS_CERTIFICATES_DIR)."""
        return self.settings.tls_certificates_dir or self.settings.data_dir / "tls" / "certificates"

    def _tls_site(self, server_name: str) -> Site | None:
        """The custom domain a TLS handshake names, in any account and region (``http/tls.py``)."""
        for scope in self.all_scopes():
            found = scope.http_apis.domains.tls_site(server_name)
            if found is not None:
                return Site(*found)
        return None

    def make_scope(self, account: str, region: str, folder: Path) -> Scope:
        """One account in one region: its stores over its own database, the services over them."""
        s = self.settings
        home = (account, region) == (s.account_id, s.region)
        scope = Scope(account, region, folder, self)
        scope.settings = s if home else ScopeSettings(s, region=region, account_id=account)
        scope.db = db = self.db if home else Database(folder / "lamb.db")
        scope.functions = functions = FunctionStore(db, region=region, account_id=account, sealer=self.sealer, kms=self.kms)
        scope.layers = LayerStore(db)
        scope.urls = UrlIndex(functions)  # function URLs by url id (issue 14)
        scope.invoker = ScopedInvoker(self.invoker, scope_id(account, region, (s.account_id, s.region)))
        # Its log groups (issue 15): CloudWatch Logs is regional and per account, as its metrics are.
        if home:
            scope.logs, scope.cloudwatch_logs = self.logs, self.cloudwatch_logs
        else:
            scope.logs = LogStore(folder / "logs")
            scope.cloudwatch_logs = CloudWatchLogs(scope.logs, LogGroups(folder / "log-groups.json"), region=region,
                                                   account_id=account, limits=s.limits, day_ms=int(s.log_day_s * 1000))
        self.invoker.log_stores[scope.invoker.scope] = scope.logs
        scope.recursion = RecursionGuard(region, account, s.limits.recursion_max_invocations)
        # The one door into the invoker: the API, the async queue and every trigger call it.
        scope.invocations = Invocations(functions, scope.invoker, self.runtimes, scope.recursion,
                                        region=region, account_id=account)
        # Asynchronous invocation (issue 6): the home scope's queue in <data dir>/events.db, others beside their db.
        scope.events = EventQueue(s if home else ScopeSettings(s, region=region, account_id=account, data_dir=folder),
                                  functions, scope.invocations)
        # Their CloudWatch metrics (issue 15) join the invoker's points.
        scope.events.metric = scope.events.deliveries.metric = scope.recursion.metric = scope.invoker.metrics.put
        scope.events.deliveries.deliverer.clients = self.role_clients  # as the function's role (destinations, DLQ)
        scope.invocations.bind_queue(scope.events.accept)
        scope.states = FunctionStates(functions, self.runtimes, self.spawn, transition_s=s.state_transition_s)
        scope.invocations.bind_states(scope.states.until_settled, s.pending_invoke_wait_s)
        scope.provisioning = Provisioning(functions, scope.invoker, self.runtimes, self.spawn)
        # Schedules (issue 16): EventBridge rules and Scheduler schedules fire through the one door.
        scope.schedules = Schedules(db, scope.invocations.invoke_async, region=region, account=account,
                                    scale=s.schedule_time_scale,
                                    dead_letter=functools.partial(self._schedule_dead_letter, scope.events),
                                    authorize=InvokePermission(functions, region=region, account=account),
                                    compile_pattern=parse_pattern)  # EventBridge patterns: Lambda's filter grammar
        scope.mappings = MappingStore(db)  # event source mappings (issue 13)
        scope.sources = self._source_manager(scope)
        scope.access = Access(region=region, home=account, resource_policy=functools.partial(_resource_policy, functions),
                              resource_tags=functools.partial(_resource_tags, functions),
                              iam_request=self.identities.request,
                              connection_arn=lambda ident, op: connection_arn(scope.http_apis.websockets, region,
                                                                              account, ident, op))
        scope.http_apis = HttpApis(HttpApiStore(db), HttpApiStore(db, "rest_apis"), region, lambda: self.port,
                                   HttpApiStore(db, "apigateway_settings"),  # issue 20
                                   cache_max_bytes=s.limits.api_cache_max_bytes,
                                   usage=UsagePlans(db, self.sealer))  # API keys and usage plans
        # API Gateway's custom domain names, shared by the v1 and v2 APIs (apis/domains.py)
        acm = AcmCertificates()
        scope.http_apis.domains = Domains(HttpApiStore(db, "apigateway_domains"), region, acm, s.limits,
                                           account_id=account)
        # an exportable ACM certificate written where the TLS port reads domains' certificates (http/tls.py)
        scope.http_apis.domains.install_certificate = functools.partial(acm.install, self.certificates_dir)
        scope.http_apis.domains.read_object = s3_reader(lambda: self.aws.get("s3"), s.limits.api_truststore_max_bytes)
        # API Gateway's VPC links, v1 and v2 (apis/vpc_links.py), checked against elbv2/EC2 through boto3
        links_aws = self.aws if home else AwsClients(region)
        scope.http_apis.vpc_links = VpcLinks(HttpApiStore(db, "apigateway_vpc_links"), region, account, s.limits,
                                             VpcNetwork(links_aws.get))
        if not home:  # its function URLs' host names carry its region
            scope.url_addresses = functools.partial(self.url_addresses, region)
        scope.reconcile = lambda: runtime_management.reconcile(functions, region)  # this release's runtime versions
        # Code signing (issue 17): Lambda's configs, AWS Signer's profiles and jobs (regional, as on AWS),
        # and the checks on deployment against them.
        scope.code_signing_configs = CodeSigningConfigs(db, region=region, account=account)
        scope.signer = SignerStore(db, self.sealer, region=region, account=account)
        scope.signing_jobs = SigningJobs(scope.signer, lambda: self.aws.get("s3"), s.limits.unzipped_code_max_bytes)
        scope.code_signing = CodeSigning(scope.code_signing_configs, scope.signer)
        return scope

    def assume_role(self, RoleArn: str, RoleSessionName: str, DurationSeconds: int) -> dict:
        """Lamb as the STS of execution roles: an in-memory assumed-role session, shaped like
        ``sts.assume_role``'s answer (so ``UpstreamRoles`` caches it per role and function)."""
        self.identities.drop_expired_sessions(time.time())
        key = self.identities.role_session(RoleArn, RoleSessionName, DurationSeconds, persist=False)
        return {"Credentials": {"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret,
                                "SessionToken": key.token}}

    def write_profile(self) -> None:
        """The home account's root key, region and endpoint in ``<data dir>/credentials`` [default] (0600)."""
        keys = self.identities.root_keys(self.settings.account_id)
        if not keys:
            return
        host = self.settings.host if self.settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        profile.write_section(self.settings.data_dir, "default", {
            "aws_access_key_id": keys[0].access_key_id, "aws_secret_access_key": keys[0].secret,
            "region": self.settings.region, "endpoint_url": f"http://{host}:{self.port}",
            "account_id": self.settings.account_id})

    def url_addresses(self, region: str | None = None) -> Addresses:
        """How function URLs (of ``region``, the default one if None) are named and recognised
        (``LAMB_URL_ORIGIN``, or this port)."""
        port = self.settings.url_port or self.port
        region = region or self.settings.region
        key = (self.settings.url_origin, region, port)
        found = self._addresses.get(key)
        if found is None:
            found = self._addresses[key] = Addresses(self.settings.url_origin or default_origin(region, port))
        return found

    def all_scopes(self) -> list[Scope]:
        """Every account and region's services, the home scope first (``lamb.scopes``)."""
        return self.scopes.list()

    @staticmethod
    async def _schedule_dead_letter(events: EventQueue, queue_arn: str, body: bytes, attributes: dict[str, str],
                                    role: str | None = None, session: str = "") -> None:
        """A schedule target's DeadLetterConfig queue, sent like the async queue's dead letters
        (a Scheduler schedule's by its execution role ``role``)."""
        meta = {"kind": "dlq", "attributes": sqs_attributes(attributes), "role": role, "function_name": session}
        await asyncio.to_thread(events.deliveries.deliverer.send, queue_arn, body, meta)

    # ------------------------------------------------------------ event sources (issue 13)
    @staticmethod
    def _source_invoke(scope: Scope, function: str, qualifier: str | None, payload: bytes, trace: str | None = None):
        """What event source pollers invoke functions through: the one door (RequestResponse).
        A function still Pending right after a start is waited for by the door."""
        return scope.invocations.invoke(function, qualifier, payload, trace_header=trace)

    @staticmethod
    def _mapping_role(scope: Scope, cfg: dict) -> str:
        """The execution role of the version a mapping invokes (Kinesis records' invokeIdentityArn)."""
        try:
            return scope.functions.resolve(cfg["FunctionArn"]).config.get("Role", "")
        except AwsError:  # the function is gone: its invocations fail and are reported
            return ""

    def _as_mapping_role(self, scope: Scope, cfg: dict | None) -> tuple[Callable[[], str | None], str]:
        """``(role(), session name)`` with which a mapping's poller reads its source: its function's
        current execution role, under the function's name (None without a mapping: Lamb's own)."""
        if cfg is None:
            return (lambda: None), ""
        return (lambda: self._mapping_role(scope, cfg) or None), cfg["FunctionArn"].split(":")[6]

    def _source_manager(self, scope: Scope) -> SourceManager:
        s = self.settings
        source_invoke = functools.partial(self._source_invoke, scope)

        def stream_invoke(function_arn: str, payload: bytes):
            """Stream pollers' door: the mapping's FunctionArn (its qualifier included)."""
            return source_invoke(function_arn, None, payload)

        if self._source_io is None:  # SQS clients and poller threads, shared by every scope
            self._source_io = (Clients(RoleClients(self.role_clients.credentials, SQS_CLIENT_CONFIG)),
                               DaemonExecutor(s.esm_threads))
            self.filter_crypto = FilterCrypto(kms_client, self._source_io[1])  # KMSKeyArn of every scope's mappings
        clients, executor = self._source_io
        timings = sqs_source.Timings(wait_s=min(s.esm_sqs_wait_s, s.limits.sqs_long_poll_max_s), backoff_s=s.esm_backoff,
                                     fifo_defer_s=s.esm_fifo_defer_s, payload_max_bytes=s.limits.sync_payload_max_bytes)
        count_for = counter_factory(scope.invoker.metrics.put)  # MetricsConfig EventCount
        as_role = functools.partial(self._as_mapping_role, scope)

        def queue_for(arn: str, cfg: dict | None) -> QueueClient:
            role, session = as_role(cfg)
            return QueueClient(arn, clients, executor, role=role, session=session)

        def stream_client(cfg: dict):
            role, session = as_role(cfg)
            arn = cfg["EventSourceArn"]
            service = "kinesis" if arn.split(":")[2] == "kinesis" else "dynamodbstreams"
            return self.role_clients.bound(service, arn.split(":")[3], role, session)

        def mq_client(service: str, region: str, cfg: dict | None):
            role, session = as_role(cfg)
            return self.role_clients.client(service, region, role(), session)

        sqs = sqs_source.sqs_kind(source_invoke, queue_for, timings,
                                  max_concurrency=s.limits.sqs_mapping_concurrency_max,
                                  receive_max=s.limits.sqs_receive_max, max_filters=s.limits.event_filters_per_mapping,
                                  count_for=count_for)
        streams = stream_kind(stream_invoke, checkpoints=CheckpointStore(scope.db),
                              send_failure=FailureSender(scope.events.deliveries.deliverer, executor,
                                                         role_of=lambda arn: self._mapping_role(scope, {"FunctionArn": arn})),
                              role_of=functools.partial(self._mapping_role, scope), timings=StreamTimings.from_settings(s),
                              max_filters=s.limits.event_filters_per_mapping, executor=executor, count_for=count_for,
                              poller_client=stream_client)
        kinds = {sqs_source.SQS: sqs, sqs_source.SQS_FIFO: sqs, source_params.KINESIS: streams, source_params.DYNAMODB: streams}
        kinds[source_params.RABBITMQ] = rabbitmq_source.default_kind(
            stream_invoke, endpoints=s.mq_endpoints, executor=executor, max_filters=s.limits.event_filters_per_mapping,
            client_for=mq_client,
            timings=rabbitmq_source.Timings(backoff_s=s.esm_backoff, retry_s=s.esm_backoff,
                                            window_default_s=s.limits.mq_batching_window_default_ms / 1000,
                                            payload_max_bytes=s.limits.sync_payload_max_bytes))
        # KMSKeyArn: filter criteria kept encrypted; pollers decrypt them when they start.
        kinds = {name: encrypted_kind(kind, self.filter_crypto, s.esm_backoff) for name, kind in kinds.items()}
        return SourceManager(scope.mappings, kinds, node_id(s.data_dir / "node-id"), s.esm_lease_s)

    def _on_exit(self, pid: int, code, sig) -> None:
        self.invoker.on_exit(pid, code, sig)

    def spawn(self, coro) -> asyncio.Task:
        """Run background work owned by Lamb (cancelled at stop)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def collect_code(self) -> None:
        """Delete code (and merged layer folders) no function version, layer version
        nor running environment uses."""
        keep: set = set()
        opt_keep: set = set()
        for scope in self.scopes:  # code of every account and region
            keep |= scope.functions.code_keys() | scope.layers.code_keys()
            opt_keep |= {opt_key(keys) for keys in scope.functions.layer_key_lists()}
        for pool in list(self.invoker.pools.values()) + list(self.invoker.retired):
            keep.add(pool.config.code_dir.name)
            if pool.config.opt_dir is not None:
                opt_keep.add(pool.config.opt_dir.name)

        def run() -> None:
            self.code.remove_unreferenced(keep, CODE_GC_MIN_AGE_S)
            remove_unreferenced_opt(opt_root(self.settings.data_dir), opt_keep, CODE_GC_MIN_AGE_S)

        self.spawn(asyncio.to_thread(run))

    async def start(self) -> None:
        _raise_fd_limit()
        self.sandbox.cleanup_stale()
        limits = self.settings.limits
        for scope in self.scopes:
            scope.reconcile()  # this release's runtime versions
        public = make_app(self)
        self.server = HttpServer(
            public, max_body=limits.request_body_max_bytes, on_error=on_server_error,
            header_timeout=self.settings.header_timeout_s or None, max_header_bytes=self.settings.max_header_bytes or None,
            protocol_error=http_guards.protocol_error, large_body_bytes=http_guards.smallest(limits),
            large_body=http_guards.large_body(self.protocol.route, self.protocol.serialize_error, limits),
        )
        from_environment = self.sandbox.environment_caller()
        if from_environment is not None:
            # Environments on the host's network reach this port too: theirs is the guarded app.
            guarded = for_environments(public)
            self.server.route = lambda _conn, sock: guarded if from_environment(sock) else public
        # An invocation's REPORT, metrics and metering follow its caller's answer (http/afterwards.py).
        self.server.after_answer = self.invoker.afterwards.run
        self.port = await self.server.start(self.settings.host, self.settings.port)
        if self.settings.url_port is not None:
            from .urls.by_scope import ByScope, owns_url
            from .urls.serve import make_url_server, urls_only

            self.url_server = HttpServer(urls_only(ByScope(self.all_scopes, make_url_server, owns_url)),
                                         max_body=self.settings.limits.request_body_max_bytes, on_error=on_server_error)
            self.url_server.after_answer = self.invoker.afterwards.run
            self.settings.url_port = await self.url_server.start(self.settings.host, self.settings.url_port)
        if self.settings.https_port is not None:  # the same app over TLS (http/tls.py)
            self.tls = TlsSites(self.settings.data_dir / "tls", self.certificates_dir, self._tls_site,
                                default_names((self.settings.region,)))
            sock = bind_socket(self.settings.host, self.settings.https_port)
            sock.listen(1024)
            self._https = sock
            self._https_task = asyncio.get_running_loop().create_task(self.tls.serve(sock, self.server.serve_accepted))
            self.https_port = self.settings.https_port = sock.getsockname()[1]
        if self.settings.port == 0:
            self.settings.port = self.port
            self.invoker.passthrough_env = self.invoker.passthrough()
        self.write_profile()
        await self.invoker.start()
        if self.invoker.runtime_api is not None:
            # Environments with a network of their own reach both through listeners inside it.
            self.env_server = HttpServer(for_environments(public),
                                         max_body=self.settings.limits.request_body_max_bytes, on_error=on_server_error)
            self.env_server.after_answer = self.invoker.afterwards.run
            rt = self.invoker.runtime_api.server
            self.sandbox.start_network(asyncio.get_running_loop(), (self.port, self.env_server.add_socket),
                                       (rt.port, rt.add_socket), self.invoker.passthrough_env)
        # Every scope's background work: async queue, pollers, function states, provisioned concurrency, schedules.
        self.scopes.start()
        self.spawn(self._sweep_logs())
        self.spawn(self._flush_usage())
        # From now on a lone busy environment and the loop may share one CPU (lamb.cpus).
        await self.invoker.placement.start()

    async def _sweep_logs(self) -> None:
        """Retention and the size bound of every log group, every ``log_sweep_s`` (lamb.logs.retention)."""
        while True:
            await asyncio.sleep(self.settings.log_sweep_s)
            try:
                for scope in self.all_scopes():
                    swept = await asyncio.to_thread(scope.cloudwatch_logs.sweep, int(time.time() * 1000))
                    if swept.expired or swept.evicted:
                        log.info("log sweep (%s): %d streams past retention, %d over the group size bound deleted",
                                 scope, swept.expired, swept.evicted)
            except Exception:  # noqa: BLE001 - the next sweep tries again
                log.exception("log sweep failed")

    async def _flush_usage(self) -> None:
        while True:
            await asyncio.sleep(USAGE_FLUSH_S)
            self.usage.flush()

    def usage_report(self, month: str | None = None, function: str | None = None) -> dict:
        """``/_lamb/usage`` and ``lamb usage``: metered usage with its estimated cost."""
        return metering.report(self.usage.rows(month, function), metering.load_prices())

    def metrics_exposition(self) -> tuple[bytes, str]:
        return self.prometheus.exposition()

    def health(self) -> dict:
        return {
            "status": "ok",
            "sandbox": self.sandbox.name,
            "sandbox_detail": self.sandbox.describe(),
            "runtimes": {
                r: ("ready" if self.runtimes.ready(r) else (self.runtimes.error(r) or "not started"))
                for r in SUPPORTED
            },
            "pid": os.getpid(),
            "async": self.events.describe(),
            "event_sources": self.sources.describe(),
            "scopes": [f"{scope.account}/{scope.region}" for scope in self.scopes],  # accounts and regions with state
            "memory": self.invoker.memory.describe(),
            "cpu_placement": self.invoker.placement.describe(),
            "operations": self.operations,
            "code_signing": self.code_signing.counts(),
        }

    async def stop(self) -> None:
        if self._https_task is not None:
            self._https_task.cancel()
            self.tls.close()
        if self._https is not None:
            self._https.close()
        if self.server is not None:
            self.server.close()
        if self.url_server is not None:
            self.url_server.close()
        if self.env_server is not None:
            self.env_server.close()
        for task in list(self._tasks):
            task.cancel()
        self.scopes.stop()  # async queues before the environments die: their attempts stay leased for the restart
        self.invoker.stop()
        self.usage.flush()
        self.runtimes.close()
        cleanup = getattr(self.sandbox, "cleanup_own", None)
        if cleanup is not None:
            cleanup()
        self.scopes.close()
        self.db.close()
