"""Lamb's settings.

Settings come from, in increasing precedence: defaults, ``LAMB_*`` environment
variables, and command-line flags. Limits (``lamb.limits``) are overridden with
``LAMB_LIMIT_<NAME>=<int>`` (e.g. ``LAMB_LIMIT_ACCOUNT_CONCURRENCY=10``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .limits import DEFAULT as DEFAULT_LIMITS
from .limits import Limits

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000
DEFAULT_DATA_DIR = "~/.lamb"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "000000000000"


def _default_runtime_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lamb" / "runtimes"


def _floats(value: str) -> tuple[float, ...]:
    """``"60,120"`` -> ``(60.0, 120.0)``."""
    return tuple(float(v) for v in value.replace(" ", "").split(",") if v)


DEBUG_FIRST_PORT = 5678  # debugpy's customary port


def parse_debug(value: str | Iterable[str]) -> dict[str, int]:
    """``"a:5678,b"`` (or several such strings) -> ``{"a": 5678, "b": 5679}``."""
    items = [value] if isinstance(value, str) else list(value)
    named: list[tuple[str, int]] = []
    for item in items:
        for part in item.replace(" ", "").split(","):
            if not part:
                continue
            name, _, port = part.partition(":")
            if not name or (port and not (port.isdigit() and 0 < int(port) < 65536)):
                raise ValueError(f"--debug wants NAME or NAME:PORT, not {part!r}")
            named.append((name, int(port) if port else 0))
    taken = {port for _, port in named if port}
    out: dict[str, int] = {}
    next_port = DEBUG_FIRST_PORT
    for name, port in named:
        if not port:
            while next_port in taken:
                next_port += 1
            port = next_port
            taken.add(port)
        out[name] = port
    if len(set(out.values())) != len(out):
        raise ValueError("--debug: two functions on one port")
    return out


def _runtime_client(setting: str) -> Callable[[str], str]:
    def convert(value: str) -> str:
        v = value.strip().lower()
        if v not in ("lamb", "native"):
            raise ValueError(f"{setting} must be lamb or native, not {value!r}")
        return v

    return convert


@dataclass
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path = field(default_factory=lambda: Path(DEFAULT_DATA_DIR).expanduser())
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    # Where per-interpreter runtime roots (awslambdaric + boto3) are built and cached.
    runtime_cache: Path = field(default_factory=_default_runtime_cache)
    # Seconds an idle environment is kept warm before it is shut down.
    keep_alive_s: float = 900.0
    # Grace period between SIGTERM and SIGKILL when an environment shuts down.
    shutdown_grace_s: float = 2.0
    # An idle environment is frozen this long after its last invocation (-1: never).
    # AWS freezes at once; a short grace keeps back-to-back invocations from paying a
    # freeze/thaw cycle of the cgroup freezer each (measured: p90 0.8 ms -> 3.9 ms at 50 ms).
    freeze_after_s: float = 1.0
    # "colocate": the event loop on one CPU, and the one busy environment beside it (a warm
    # invocation's wake-ups stay on one CPU); "off": the scheduler places both (lamb.cpus).
    cpu_placement: str = "colocate"
    # Isolation backend: None picks the best available; "process" or "linux" forces one.
    sandbox: str | None = None
    # Network of the linux sandbox's environments: "isolated" (a namespace each; the default when
    # None where the host can), "none" (no egress) or "host" (the host's network) (lamb.sandbox.network).
    network: str | None = None
    # Ports of services on the host's loopback that isolated environments may reach, at
    # host.lamb.internal ("4566,5000-5100"; LAMB_NETWORK_HOST_PORTS). Loopback AWS_ENDPOINT_URL_*
    # given to Lamb are added.
    network_host_ports: str = ""
    # The DNS resolvers isolated environments' queries go to ("127.0.0.1:5353,10.0.0.2";
    # LAMB_NETWORK_DNS); default: the IPv4 nameservers of the host's /etc/resolv.conf.
    network_dns: str = ""
    # Which Active-traced invocations no caller decided about are traced: "RESERVOIR,RATE" per
    # function and second (LAMB_TRACE_SAMPLING); default AWS's fixed rule, 1 a second and 5 % more.
    trace_sampling: str = ""
    # Network namespaces kept made ahead of demand (a burst beyond them waits for the maker).
    network_spares: int = 8
    # /tmp of the linux sandbox's environments: None/"disk" (the default: an ext4 filesystem each,
    # not charged to memory, where the host has loop devices; else a tmpfs) or "tmpfs" (counts
    # toward MemorySize) (lamb.sandbox.scratch).
    tmp: str | None = None
    # Functions that run under a debugger: name -> port on 127.0.0.1 (``--debug NAME[:PORT]``,
    # ``LAMB_DEBUG=a:5678,b``; lamb.invoke.debug).
    debug: dict[str, int] = field(default_factory=dict)
    # Asynchronous invocation (lamb.events). AWS's timings by default; tests shorten them.
    # Seconds before the 2nd and 3rd attempt after a function error (LAMB_ASYNC_RETRY_DELAYS=60,120).
    async_retry_delays: tuple[float, ...] = (60.0, 120.0)
    # Throttle/system-error backoff: first delay and ceiling, doubling (LAMB_ASYNC_BACKOFF=1,300).
    async_backoff: tuple[float, float] = (1.0, 300.0)
    # Factor applied to MaximumEventAgeInSeconds (tests: 0.02 turns 60 s into 1.2 s).
    async_event_age_scale: float = 1.0
    # Asynchronous invocations in flight at once, over all functions.
    async_concurrency: int = 16
    # Destination / DLQ deliveries are retried with backoff for this long, then dropped.
    async_delivery_max_age_s: float = 21_600.0
    # Payload bytes of queued events kept in memory; beyond it they are read back from disk.
    async_memory_mb: int = 64
    # Global memory budget: MemorySize MB of all live execution environments together
    # (lamb.invoke.memory_budget). None: 3 x host RAM (75 % of RAM at a quarter of
    # MemorySize used on average); 0 or less: no budget (LAMB_ENV_MEMORY_MB, --env-memory-mb).
    env_memory_mb: int | None = None
    # The public port: seconds a request's head may take to arrive, and a body may go
    # without progress, before a 408 ends the connection, and the largest head (431); 0: no limit.
    header_timeout_s: float = 30.0
    max_header_bytes: int = 64 * 1024
    # Stream event sources (lamb.sources.streams.Timings); AWS's values by default, tests shorten
    # them. Idle poll interval (None: 1 s Kinesis, 0.25 s DynamoDB Streams), shard discovery
    # interval, and doubling backoff (first delay, ceiling) after function errors and throttles
    # (LAMB_STREAM_RETRY_BACKOFF=1,60) and while a stream is unreachable (LAMB_STREAM_SOURCE_BACKOFF).
    stream_poll_interval_s: float | None = None
    stream_discovery_interval_s: float = 60.0
    stream_retry_backoff: tuple[float, float] = (1.0, 60.0)
    stream_source_backoff: tuple[float, float] = (1.0, 60.0)
    # Idle shards: empty reads double the poll interval up to this many seconds (None: AWS's fixed rate).
    stream_idle_poll_max_s: float | None = None
    # Function URLs (lamb.urls): the origin of the URLs Lamb hands out, with {id} for the
    # url id (LAMB_URL_ORIGIN=https://{id}.fn.example.com behind real DNS); None:
    # http://{id}.lambda-url.<region>.localhost:<port>.
    url_origin: str | None = None
    # A port of its own that serves function URLs only (no AWS API), e.g. the one a proxy
    # exposes (LAMB_URL_PORT); the default origin then names it. None: URLs share the API port.
    url_port: int | None = None
    # A TLS port serving what the plain port serves (LAMB_HTTPS_PORT, --https-port; 0 picks one):
    # certificates chosen by SNI, the custom domains' mutual TLS (lamb.http.tls, lamb.apis.mutual_tls).
    # None: no TLS listener.
    https_port: int | None = None
    # A folder of custom domains' certificates and keys, ``<domain>.pem`` (the chain, leaf first)
    # and ``<domain>.key`` (LAMB_TLS_CERTIFICATES_DIR); default <data dir>/tls/certificates.
    tls_certificates_dir: Path | None = None
    # Keys AWS_IAM function URLs accept until identities exist (issue 17):
    # LAMB_URL_IAM_KEYS="AKID=secret[@principal-arn],..." (principal: the account's root).
    url_iam_keys: str = ""
    # Factor on every schedule duration (rate() periods, flexible windows, event ages, retry
    # back-off) of EventBridge rules and Scheduler schedules; tests use e.g. 0.01 (lamb.schedules.ticker).
    schedule_time_scale: float = 1.0
    # CloudWatch Logs (lamb.logs.retention): seconds between retention / size sweeps, and the
    # length of one retention day in seconds (tests shorten both; LAMB_LOG_SWEEP_S, LAMB_LOG_DAY_S).
    log_sweep_s: float = 60.0
    log_day_s: float = 86400.0
    # Seconds between Live Tail updates (AWS sends one a second; LAMB_LOG_LIVE_TAIL_INTERVAL_S).
    log_live_tail_interval_s: float = 1.0
    # Host folders a function's code may be used from in place (hot reload, os.pathsep-separated:
    # Code S3Bucket "hot-reload", S3Key the folder; lamb.services.hot_reload). Empty: refused.
    hot_reload_roots: str = ""
    # Least seconds a created or updated function stays Pending / InProgress before it
    # settles (lamb.services.function_state); 0: as soon as Lamb's work is done (tests raise it).
    state_transition_s: float = 0.0
    # Longest an Invoke of a Pending function waits for it to become Active (AWS refuses at once).
    pending_invoke_wait_s: float = 60.0
    # Event source mappings (lamb.sources). AWS's timings by default; tests shorten them.
    # SQS long poll (WaitTimeSeconds, 0-20) of an idle mapping.
    esm_sqs_wait_s: int = 20
    # Backoff after a source could not be reached: first delay and ceiling, doubling.
    esm_backoff: tuple[float, float] = (1.0, 60.0)
    # A message of a FIFO group that is busy elsewhere is hidden this many seconds again.
    esm_fifo_defer_s: int = 1
    # A poller's lease in the store lasts this long and is renewed every third of it.
    esm_lease_s: float = 30.0
    # Threads for pollers' blocking SQS calls (a long poll holds one while it waits).
    esm_threads: int = 256
    # Amazon MQ brokers' AMQP addresses: "KEY=URL,..." with KEY a broker ARN, id or name, the
    # host:port DescribeBroker answers, or * (lamb.sources.mq_broker). Empty: DescribeBroker's.
    mq_endpoints: str = ""
    # Authentication and authorization of API callers (issue 17): "on" verifies SigV4 against
    # Lamb's keys and applies identity policies (the default); "off" accepts any credentials,
    # an explicit opt-out for throwaway local use (LAMB_AUTH=off, --auth off).
    auth: str = "on"
    # "off" on an address other than loopback is refused unless this is set (--auth-off-anywhere).
    auth_off_anywhere: bool = False
    # A KMS key (id, ARN or alias) that holds the master key sealing secrets at rest (lamb.master_key;
    # LAMB_MASTER_KEY_KMS); empty: the master key is the 0600 file master.key.
    master_key_kms: str = ""
    # How the managed Node.js runtimes reach the Runtime API (LAMB_NODE_RUNTIME_CLIENT): "lamb" (Lamb's
    # transport on the JavaScript thread, in place of aws-lambda-ric's native addon: one wake-up per
    # invocation) or "native" (the addon: libcurl on a libuv worker thread) (lamb.runtimes.node).
    node_runtime_client: str = "lamb"
    # How the managed Python runtimes reach the Runtime API (LAMB_PYTHON_RUNTIME_CLIENT): "lamb" (Lamb's
    # transport, runtimes/lamb_runtime_client.py, in place of awslambdaric's native runtime_client: a post
    # and the next behind it in one write) or "native" (the module: aws-lambda-cpp over libcurl).
    python_runtime_client: str = "lamb"
    # What credentials functions get: "role" (temporary credentials of the execution role,
    # minted by Lamb) or "passthrough" (Lamb's own AWS_ACCESS_KEY_ID/SECRET/SESSION_TOKEN, one
    # fixed set for every function, as before issue 17) (LAMB_FUNCTION_CREDENTIALS).
    function_credentials: str = "role"
    # Execution-role credentials from an upstream STS (boto3's standard configuration) instead
    # of Lamb's own (LAMB_UPSTREAM_STS=on; lamb.services.upstream_sts). Off: Lamb mints them.
    upstream_sts: bool = False
    limits: Limits = DEFAULT_LIMITS

    @property
    def master_key_path(self) -> Path:
        """The 0600 file holding the master key that seals secrets at rest (lamb.sealing)."""
        return self.data_dir / "master.key"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "lamb.db"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        env = os.environ if environ is None else environ
        s = cls()
        conv = {
            "host": str,
            "port": int,
            "data_dir": lambda v: Path(v).expanduser(),
            "region": str,
            "account_id": str,
            "runtime_cache": lambda v: Path(v).expanduser(),
            "keep_alive_s": float,
            "shutdown_grace_s": float,
            "freeze_after_s": float,
            "cpu_placement": str,
            "sandbox": str,
            "network": str,
            "network_host_ports": str,
            "network_dns": str,
            "trace_sampling": str,
            "network_spares": int,
            "tmp": str,
            "debug": parse_debug,
            "async_retry_delays": _floats,
            "async_backoff": _floats,
            "async_event_age_scale": float,
            "async_concurrency": int,
            "async_delivery_max_age_s": float,
            "async_memory_mb": int,
            "env_memory_mb": int,
            "header_timeout_s": float,
            "max_header_bytes": int,
            "stream_poll_interval_s": float,
            "stream_discovery_interval_s": float,
            "stream_retry_backoff": _floats,
            "stream_source_backoff": _floats,
            "stream_idle_poll_max_s": float,
            "url_origin": str,
            "url_port": int,
            "https_port": int,
            "tls_certificates_dir": lambda v: Path(v).expanduser(),
            "url_iam_keys": str,
            "schedule_time_scale": float,
            "log_sweep_s": float,
            "log_day_s": float,
            "log_live_tail_interval_s": float,
            "hot_reload_roots": str,
            "state_transition_s": float,
            "pending_invoke_wait_s": float,
            "esm_sqs_wait_s": int,
            "esm_backoff": _floats,
            "esm_fifo_defer_s": int,
            "esm_lease_s": float,
            "esm_threads": int,
            "mq_endpoints": str,
            "auth": lambda v: v.strip().lower(),
            "function_credentials": lambda v: v.strip().lower(),
            "upstream_sts": lambda v: v.strip().lower() in ("1", "true", "yes", "on"),
            "auth_off_anywhere": lambda v: v.strip().lower() in ("1", "true", "yes", "on"),
            "master_key_kms": str.strip,
            "node_runtime_client": _runtime_client("LAMB_NODE_RUNTIME_CLIENT"),
            "python_runtime_client": _runtime_client("LAMB_PYTHON_RUNTIME_CLIENT"),
        }
        for name, fn in conv.items():
            raw = env.get("LAMB_" + name.upper())
            if raw:
                setattr(s, name, fn(raw))
        limit_overrides = {
            k[len("LAMB_LIMIT_"):].lower(): int(v)
            for k, v in env.items()
            if k.startswith("LAMB_LIMIT_")
        }
        if limit_overrides:
            s.limits = s.limits.override(**limit_overrides)
        for name, value in overrides.items():
            if value is not None:
                setattr(s, name, conv[name](value) if name in conv and isinstance(value, str) else value)
        return s

