"""One execution environment and its Runtime API door.

An environment is one sandboxed process tree running a runtime that speaks the
Lambda Runtime API (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
Every connection to the Runtime API belongs to exactly one environment: with the
isolating backend the shared listener (``runtime_api``) routes it by the uid of
the process that opened it, otherwise the environment has a listener of its
own. So a runtime can only ever receive its own environment's events and post
its own results. Lifecycle (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html):

    STARTING --first /next--> IDLE <--/response|/error-- BUSY
        |                      |  --invocation-->         |
        +--init error, exit, timeout, shutdown--> DEAD <--+

The first ``GET /next`` ends Init (its duration is reported as Init Duration on
the cold invocation). An invocation is handed over as the answer to a pending
``/next`` long-poll; the runtime's ``/response`` or ``/error`` ends it.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import functools
import json
import logging
import os
import signal
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ..http.server import HttpServer, Pending, Request, Response
from .. import runtimes
from ..logs import platform
from ..sandbox import RuntimeInfo, Sandbox
from ..clock import now_ms
from ..logs.capture import OutputCapture
from ..logs.json_format import JsonLogs
from . import extension_watch, extensions as ext_api, telemetry as tel
from .extensions import Extensions
from .invocation import EntrypointMissing, Invocation, InvocationResult
from .scoped import scope_of
from .telemetry import Telemetry
from .trace_header import unsampled
from .runtime_api import ACCEPTED, RuntimeApiListener, next_event, runtime_app, runtime_error, runtime_server
from .stream import DEFAULT_CONTENT_TYPE, ResponseStream, trailer_error

if TYPE_CHECKING:
    from ..cpus import Placement
    from .pool import VersionPool
    from .tracing import InvocationTracer

log = logging.getLogger("lamb.env")

class State(enum.Enum):
    STARTING = "starting"
    IDLE = "idle"
    BUSY = "busy"
    DEAD = "dead"


# The legal moves (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html:
# Init, then Invoke phases, then Shutdown). DEAD is final; entering it again is a no-op.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.STARTING: frozenset({State.IDLE, State.DEAD}),
    State.IDLE: frozenset({State.IDLE, State.BUSY, State.DEAD}),
    # BUSY -> BUSY: the next invocation was assigned after the response, before the runtime's /next.
    State.BUSY: frozenset({State.IDLE, State.BUSY, State.DEAD}),
    State.DEAD: frozenset(),
}


class IllegalTransition(RuntimeError):
    """An environment was asked to move between states the lifecycle does not connect."""


@dataclass(frozen=True)
class EnvironmentHost:
    """What an environment uses of the host, given by the invoker (not the invoker itself)."""

    sandbox: Sandbox
    runtime_api: Callable[[], "RuntimeApiListener | None"]  # the shared listener, when environments share one
    runtime_host: str
    track_pid: Callable[[int, "ExecutionEnvironment"], None]  # exits are reported by pid
    untrack_pid: Callable[[int], None]
    freeze_after_s: float
    # Lambda's metrics (``metrics.Metrics.put``): Invocations, Errors, Duration, ... per function.
    record_metric: Callable[..., None] | None = None  # (scope, metric, value, **dims): Metrics.put_in
    # Spans of Active-traced invocations, exported over OTLP (None: no collector configured).
    tracer: "InvocationTracer | None" = None
    # Metering: (function, version, architecture, memory MB, ephemeral MB, billed ms, of which Init) per invocation.
    record_usage: Callable[..., None] | None = None
    # Work to do once the caller's answer is written (``lamb.http.afterwards.Afterwards.add``);
    # None: at once.
    after_answer: Callable[[Callable[[], None]], None] | None = None
    # Which CPU the one busy environment runs on (``lamb.cpus.Placement``); None: the scheduler's choice.
    placement: "Placement | None" = None


@dataclass(frozen=True)
class PoolCallbacks:
    """How an environment reports to its pool (each is called with the environment)."""

    on_ready: Callable[["ExecutionEnvironment"], None]  # Init finished with nothing assigned
    on_released: Callable[["ExecutionEnvironment"], None]  # an invocation ended; it can take another
    on_gone: Callable[["ExecutionEnvironment"], None]  # left service (may be reported more than once)
    on_init_timeout: Callable[[Invocation], None]  # its first Init timed out: run Init again inside ``inv``


class ExecutionEnvironment:
    def __init__(self, pool: "VersionPool", env_id: str, host: EnvironmentHost, report: PoolCallbacks,
                 provisioned: bool = False, suppressed_init: bool = False):
        self.pool = pool  # the version it belongs to: configuration, zygote, spawn spec
        self.host = host
        self.report = report
        self.runtime_app = runtime_app(self)  # its Runtime API: what the listener serves for its connections
        self.id = env_id
        self.provisioned = provisioned  # initialised ahead of demand (provisioned concurrency)
        # Init run again inside an invocation whose first Init timed out (``_init_timed_out``).
        self.suppressed_init = suppressed_init
        self.initialized = False
        self.state = State.STARTING
        self.pid: int | None = None
        self.listener: HttpServer | None = None  # a Runtime API of its own (no peer identity)
        self._peer_key: int | None = None  # its key on the shared Runtime API listener
        self.runtime_connections: set = set()  # its connections to the shared listener
        self.runtime_api = ""
        self.created = time.perf_counter()
        self.init_ms: float | None = None  # reported on the first invocation only
        self.init_error: bytes | None = None
        self.last_used = time.monotonic()
        self.current: Invocation | None = None  # assigned, maybe not yet delivered
        self.delivered = False
        self._next_waiter: asyncio.Future | Pending | None = None
        self._streaming = None  # the body of a streamed response still coming in (http.body.BodyStream)
        self._output: OutputCapture | None = None  # the runtime's stdout/stderr
        self._init_timer: asyncio.TimerHandle | None = None
        self._kill_after: asyncio.TimerHandle | None = None
        self._status_fd = -1
        self._peak_mb = 0  # last Max Memory Used sample (plain-process backend)
        self.sandbox = None  # the sandbox Handle, once started
        self._freeze_timer: asyncio.TimerHandle | None = None
        # Extensions API and Telemetry API (extensions.py, telemetry.py): the runtime's first /next
        # waits for the extensions' Init; an invoke phase whose extensions are still working.
        self.extensions = Extensions(pool.extension_names, pool.extension_metadata, self._extensions_changed,
                                     pool.config.limits.max_extensions)
        self.telemetry = Telemetry(pool.config.limits, self._extension_name, enabled=bool(pool.extension_names),
                                   connect=self._connect_inside)
        self._init_next: asyncio.Future | None = None
        # (invocation, status, error type, function error, when the runtime's part ended)
        self._pending_report: tuple[Invocation, str | None, str | None, bool, float] | None = None
        # An invocation answered whose END/REPORT, metrics and metering are still to be done
        # (``_report_later``): (invocation, function error, when it ended).
        self._unreported: tuple[Invocation, bool, float] | None = None
        self._extension_watches: dict[str, Callable[[], None]] = {}  # extension id -> stop watching its process
        self._extension_timer: asyncio.TimerHandle | None = None
        self._term_timer: asyncio.TimerHandle | None = None
        # Shutdown with external extensions (``_shutdown_with_extensions``): how the runtime
        # alone gets SIGTERM — "runtime" (self.pid is it; the zygote keeps its PID namespace
        # past its end until ``_end_namespace``), "init" (self.pid is a Python init that
        # forwards SIGUSR1 as SIGTERM and outlives the runtime) or "" (no init: the
        # extensions end with the runtime).
        self._term_mode = ""
        self._shutdown_deadline_ms = 0
        self._shutdown_reason = ""
        self._runtime_ended = False
        self._runtime_reported = False  # its end was reported (the invoker no longer tracks its pid)
        self._namespace_ended = False
        day = time.strftime("%Y/%m/%d", time.gmtime())
        self.log_stream = pool.logs.stream(
            pool.config.log_group, f"{day}/[{pool.config.version}]{uuid.uuid4().hex}"
        )
        # LogFormat JSON: platform lines as JSON records, System/ApplicationLogLevel applied (logs/json_format.py).
        c = pool.config
        self._json_logs = JsonLogs(c.function_name, c.version, c.system_log_level, c.log_level) \
            if c.log_format == "JSON" else None
        self._app_filter = self._json_logs.filter() if self._json_logs is not None else None

    # ------------------------------------------------------------------ start
    async def start(self) -> None:
        """Open the Runtime API listener and the log pipe, fork the runtime."""
        cfg = self.pool.config
        loop = asyncio.get_running_loop()
        self.sandbox = self.host.sandbox.prepare(self.id, self.pool.sandbox_spec, self._runtime_info())
        await self.sandbox.ready()  # a burst may wait here for its network namespace
        if self.pool.prepare_env is not None:
            await self.pool.prepare_env()  # the role's credentials from an upstream STS, off the loop
        if self.state is State.DEAD:  # killed while it waited (its sandbox went with it)
            return
        shared = self.host.runtime_api()
        key = self.sandbox.peer_key
        if shared is not None and key is not None:
            # Isolated: the one Runtime API address every environment shares, routed by uid.
            shared.register(key, self)
            self._peer_key = key
            self.runtime_api = shared.address
        else:
            self.listener = runtime_server(self.runtime_app, cfg.limits.sync_response_max_bytes + 1024 * 1024,
                                           self.host.after_answer)
            port = await self.listener.start(self.host.runtime_host, 0)
            self.runtime_api = f"{self.host.runtime_host}:{port}"
        r, w = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(r, False)
        self._output = OutputCapture(r, self._emit, self._emit_raw)
        self._output.start(loop)
        if self.suppressed_init:
            # Part of the invocation: bounded by what is left of the function's timeout.
            inv = self.current
            left = cfg.timeout_s - (time.perf_counter() - inv.started) if inv is not None and inv.started else cfg.timeout_s
            self._init_timer = loop.call_later(max(0.0, left), self._init_timed_out)
        else:
            self._init_timer = loop.call_later(cfg.limits.init_timeout_s, self._init_timed_out)
            self._log(platform.init_start_line(runtimes.version_name(cfg.runtime), runtimes.version_arn(cfg.region, cfg.runtime)), None)
            if self.telemetry.enabled:
                self.telemetry.emit("platform", "platform.initStart", {
                    "initializationType": self._init_type(), "phase": "init",
                    "runtimeVersion": runtimes.version_name(cfg.runtime),
                    "runtimeVersionArn": runtimes.version_arn(cfg.region, cfg.runtime),
                    "functionName": cfg.function_name, "functionVersion": cfg.version,
                })
        try:
            spec = self.pool.spawn_spec(self)
        except EntrypointMissing as e:
            os.close(w)
            inv = self.current
            if inv is not None:
                inv.started = time.perf_counter()
                self._log(platform.start_line(inv.request_id, cfg.version), inv)
                message = f"RequestId: {inv.request_id} Error: {e}"
                self._log(message, inv)
                self._log("Runtime.InvalidEntrypoint", inv)
                self.fail(inv, "Runtime.InvalidEntrypoint", message)
            self.kill("no bootstrap")
            return
        plan = spec.get("sandbox") or {}
        if spec.get("extensions"):
            self._term_mode = "runtime" if plan.get("init_exec") else \
                "init" if plan.get("init") or "pid" in (plan.get("unshare") or ()) else ""
        try:
            self.pid = await self.pool.zygote.spawn(spec, w)
        finally:
            os.close(w)
        if self.state is State.DEAD:  # killed while the fork was in flight
            self._signal(signal.SIGKILL)
            return
        self.host.track_pid(self.pid, self)
        try:
            self._status_fd = os.open(f"/proc/{self.pid}/status", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self._status_fd = -1

    async def _connect_inside(self, host: str, port: int):
        """A connection to a listener of this environment's (a Telemetry API destination)."""
        if self.sandbox is None:
            raise ConnectionRefusedError(f"environment {self.id} is gone")
        return await self.sandbox.open_connection(host, port)

    def _runtime_info(self) -> RuntimeInfo:
        rt = self.pool.runtime
        prefixes: tuple[str, ...] = ()
        if rt.family == "python":
            prefixes = self.pool.zygote.prefixes
        elif rt.family == "nodejs" and rt.node:
            prefixes = (os.path.dirname(os.path.dirname(rt.node)),)
        z = self.pool.zygote
        return RuntimeInfo(prefixes, str(rt.root) if rt.root else "", z.prefixes, str(z.runtime_root or ""))

    def _enter(self, new: State) -> bool:
        """Move to ``new`` if the lifecycle allows it from the current state; False when already DEAD
        and asked for DEAD again. Any other illegal move raises ``IllegalTransition``."""
        old = self.state
        if new not in TRANSITIONS[old]:
            if old is State.DEAD and new is State.DEAD:
                return False
            raise IllegalTransition(f"environment {self.id}: {old.name} -> {new.name}")
        self.state = new
        place = self.host.placement
        if place is not None:
            # The one busy environment shares the loop's CPU (lamb.cpus).
            if new is State.BUSY:
                place.busy(self, self.pid if self.pool.runtime.polls_where_it_posts else None)
            elif new is State.DEAD:
                place.gone(self)
            elif old is State.BUSY:
                place.idle(self)
        return True

    # --------------------------------------------------------- invocations
    def assign(self, inv: Invocation) -> None:
        """Give this environment its next invocation (delivered on /next)."""
        self.current = inv
        self.delivered = False
        self.last_used = time.monotonic()
        if self._freeze_timer is not None:
            self._freeze_timer.cancel()
            self._freeze_timer = None
        if self.sandbox is not None and self.sandbox.frozen:
            self.sandbox.thaw()
        waiter = self._next_waiter
        if waiter is not None and not waiter.done():
            self._next_waiter = None
            waiter.set_result(self._deliver(inv))

    def log_start(self, inv: Invocation) -> None:
        """The START line of ``inv`` (before its suppressed init's output)."""
        self._log(platform.start_line(inv.request_id, self.pool.config.version), inv)

    def _deliver(self, inv: Invocation) -> Response:
        self._report_now()  # the last invocation's END and REPORT come before this one's START
        cfg = self.pool.config
        self._enter(State.BUSY)
        self.delivered = True
        loop = asyncio.get_running_loop()
        if self.suppressed_init and inv.started:
            # START was logged when Init began again for this invocation; the timeout counts from there.
            left = max(0.0, inv.timeout_s - (time.perf_counter() - inv.started))
        else:
            inv.started = time.perf_counter()
            left = inv.timeout_s
            self._log(platform.start_line(inv.request_id, cfg.version), inv)
        inv.deadline_ms = now_ms() + int(left * 1000)
        inv.timer = loop.call_later(left, self._invocation_timed_out, inv)
        if cfg.tracing and self.host.tracer is not None:
            self._trace(inv, self.host.tracer)
        elif inv.trace_id:
            inv.trace_id = unsampled(inv.trace_id)  # nobody traces it: no decision means not sampled
        if self.extensions.by_id:
            self.extensions.send(ext_api.invoke_event(inv.request_id, inv.deadline_ms, inv.invoked_arn, inv.trace_id))
        if self.telemetry.enabled:
            record = {"requestId": inv.request_id, "version": cfg.version}
            if inv.trace_id:
                record["tracing"] = tel.tracing(inv.trace_id)
            self.telemetry.emit("platform", "platform.start", record)
        return next_event(inv)

    def _trace(self, inv: Invocation, tracer: "InvocationTracer") -> None:
        """Open ``inv``'s spans; the runtime gets the header naming its Invoke span."""
        init = None
        if self.init_ms is not None:  # a cold start: its Init, in wall-clock time
            end = time.time() - (time.perf_counter() - (self.created + self.init_ms / 1000.0))
            init = (end - self.init_ms / 1000.0, end)
        cfg = self.pool.config
        inv.traced, inv.trace_id = tracer.start(inv.trace_id, cfg.function_name, cfg.version, cfg.function_arn,
                                                inv.request_id, init)

    def _finish(
        self, inv: Invocation, payload: bytes, function_error: str | None, *, status: str | None = None,
        error_type: str | None = None,
    ) -> None:
        """End an invocation: platform log lines, result to the caller.

        With extensions still working on it (they have not called next since its INVOKE event)
        the caller gets the result now and END/REPORT wait for them: AWS's invoke phase ends
        when the runtime and every extension have called next, and its Duration (REPORT,
        ``platform.report``) covers the extensions' time after the runtime's response
        (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html#runtimes-lifecycle-invoke).
        A platform error or timeout (``status``) ends the invoke phase at once: the environment is reset.
        """
        if inv.timer is not None:
            inv.timer.cancel()
        if inv.stream is not None:
            inv.stream.close()  # ended (timeout, crash) before its body did: the reader stops
        # One reported later (``_report_later``) reads the runtime's output then, before END: it is read here
        # only when something needs it now (the log tail, the Telemetry API's order, extensions, an error).
        later = status is None and not inv.want_tail and not self.extensions.by_id
        if not later or self.telemetry.enabled:
            self._drain_log()
        cfg = self.pool.config
        if self.telemetry.enabled:
            self._runtime_done(inv, payload, status, error_type)
        if status is None and self.extensions.by_id and not self.extensions.all_waiting() and self.state is not State.DEAD:
            inv.resolve(InvocationResult(payload, function_error, self._tail(inv), cfg.version))
            if self.current is inv:
                self.current = None
            self._pending_report = (inv, status, error_type, function_error is not None, time.perf_counter())
            self.log_stream.flush()
            left = max(0.0, inv.timeout_s - (time.perf_counter() - inv.started)) if inv.started else 0.0
            self._extension_timer = asyncio.get_event_loop().call_later(left, self._extensions_timed_out)
            return
        if later:
            self._report_later(inv, InvocationResult(payload, function_error, None, cfg.version))
            return
        self._report(inv, status, error_type, function_error is not None)
        inv.resolve(InvocationResult(payload, function_error, self._tail(inv), cfg.version))
        if self.current is inv:
            self.current = None

    def _report_later(self, inv: Invocation, result: InvocationResult) -> None:
        """Answer the caller first; END and REPORT, the metrics and the metering follow once the
        answer is on the wire, so that they are not on the caller's path.

        The host runs it right after the caller's answer is written (``after_answer``), before
        Lamb reads another request. It comes before anything else of this environment too: its
        next invocation's START (``_deliver``), its end and its shutdown report it first
        (``_report_now``). A caller that wants the log tail (which holds the REPORT line) is
        reported before its answer, as are platform errors.
        """
        self._unreported = (inv, result.function_error is not None, time.perf_counter())
        after = self.host.after_answer
        if after is not None:  # queued before the answer: a caller's answer may be written inside resolve
            after(self._report_now)  # (http/answering), and the queue runs right after that write
        inv.resolve(result)
        if self.current is inv:
            self.current = None
        if after is None:
            self._report_now()

    def _report_now(self) -> None:
        """The report ``_report_later`` left, if it is still to be done."""
        pending = self._unreported
        if pending is not None:
            self._unreported = None
            self._report(pending[0], None, None, pending[1], ended=pending[2])

    def _report(self, inv: Invocation, status: str | None, error_type: str | None, failed: bool = True,
                runtime_end: float | None = None, ended: float | None = None) -> None:
        """END and REPORT: the invoke phase is over (``runtime_end``: when the runtime's part ended,
        if extensions went on after it; ``ended``: when the phase ended, if that was earlier than now)."""
        self._drain_log()  # the extensions' last lines belong before END
        end = time.perf_counter() if ended is None else ended
        duration = (end - inv.started) * 1000.0 if inv.started else 0.0
        cfg = self.pool.config
        init_ms = self.init_ms
        self.init_ms = None
        max_mb = self.max_memory_mb()
        self._log(platform.end_line(inv.request_id), inv)
        self._log(platform.report_line(inv.request_id, duration, cfg.memory_mb, max_mb, init_ms, status, error_type), inv)
        self.log_stream.flush()
        record = self.host.record_metric
        if record is not None:
            put = functools.partial(record, scope_of(self.pool.key))  # the function's account and region
            dims = {"FunctionName": cfg.function_name, "Resource": _resource(inv.invoked_arn, cfg.function_name),
                    "ExecutedVersion": cfg.version}
            put("Invocations", 1, **dims)
            if failed or status:
                put("Errors", 1, **dims)
            put("Duration", duration, **dims)
            if runtime_end is not None:
                put("PostRuntimeExtensionsDuration", (time.perf_counter() - runtime_end) * 1000.0, **dims)
        if inv.traced is not None and self.host.tracer is not None:
            wall_end = None if runtime_end is None else time.time() - (time.perf_counter() - runtime_end)
            self.host.tracer.finish(inv.traced, error_type or ("Unhandled" if failed or status else None), wall_end)
            inv.traced = None
        billed = platform.billed_ms(duration + (init_ms or 0.0))  # Init is billed since 2025-08-01
        if self.host.record_usage is not None:
            self.host.record_usage(cfg.function_name, cfg.version, cfg.architecture, cfg.memory_mb, cfg.ephemeral_mb,
                                   billed, billed - platform.billed_ms(duration) if init_ms else 0)
        if self.telemetry.enabled:
            self.telemetry.emit("platform", "platform.report", tel.report_record(
                inv.request_id, _telemetry_status(status), duration, billed, cfg.memory_mb, max_mb,
                init_ms, error_type, inv.trace_id,
            ))

    def _tail(self, inv: Invocation) -> str | None:
        if not inv.want_tail:
            return None
        text = ("\n".join(inv.log) + "\n").encode()
        return base64.b64encode(text[-self.pool.config.limits.log_tail_bytes:]).decode()

    def _runtime_done(self, inv: Invocation, payload: bytes, status: str | None, error_type: str | None) -> None:
        """``platform.runtimeDone``: the runtime's part of the invoke phase."""
        runtime_ms = (time.perf_counter() - inv.started) * 1000.0 if inv.started else 0.0
        start = time.time() - runtime_ms / 1000.0
        record: dict = {
            "requestId": inv.request_id, "status": _telemetry_status(status),
            "metrics": {"durationMs": round(runtime_ms, 3), "producedBytes": len(payload)},
            "spans": [tel.span("responseLatency", start, runtime_ms), tel.span("responseDuration", time.time(), 0.0)],
        }
        if error_type:
            record["errorType"] = error_type
        if inv.trace_id:
            record["tracing"] = tel.tracing(inv.trace_id)
        self.telemetry.emit("platform", "platform.runtimeDone", record)

    def fail(self, inv: Invocation, error_type: str, message: str, *, status: str | None = "error") -> None:
        """End an invocation with a platform error (compact JSON, errorType first, as AWS sends it)."""
        body = json.dumps({"errorType": error_type, "errorMessage": message}, separators=(",", ":")).encode()
        self._finish(inv, body, "Unhandled", status=status, error_type=error_type if status == "error" else None)

    # ---------------------------------------------------------- Runtime API
    # What the runtime's calls mean for this environment; paths and wire format are in runtime_api.py.
    def on_next(self) -> Response | asyncio.Future:
        streaming = self._streaming
        if streaming is not None and not streaming.ended:
            # A runtime may ask for the next event on another connection before its streamed
            # response's last chunk is in (Node's runtime client does): that is not "done without
            # a response"; the request waits for the stream's end.
            return asyncio.ensure_future(self._next_after(streaming))
        if self.state is State.STARTING:
            if not self.extensions.init_ready():
                # Init also waits for every extension to register and call next (Extensions API).
                if self._init_next is None or self._init_next.done():
                    self._init_next = asyncio.get_running_loop().create_future()
                return self._init_next
            self._init_complete()
        elif self.state is State.BUSY and self.current is not None and self.delivered:
            # A runtime asking for more work before answering: AWS treats the
            # invocation as finished without a response.
            self._finish(self.current, b"null", None)
            self._released()
        return self._runtime_next()

    def _init_complete(self) -> None:
        """Init is over: the runtime and every extension have called next."""
        self.initialized = True
        # Provisioned environments initialise ahead of demand, and a suppressed init is part of
        # its invocation's Duration: neither REPORT shows an Init Duration.
        self.init_ms = None if self.provisioned or self.suppressed_init else (time.perf_counter() - self.created) * 1000.0
        self.max_memory_mb()  # a first sample, in case the runtime dies before it ever answers
        if self._init_timer is not None:
            self._init_timer.cancel()
            self._init_timer = None
        self._enter(State.IDLE)
        self.extensions.close_registration()
        if self.telemetry.enabled:
            self._init_done_events()
        if self.current is None:
            self.report.on_ready(self)

    def _init_done_events(self) -> None:
        """``platform.initRuntimeDone`` and ``platform.initReport`` (Telemetry API)."""
        spent = (time.perf_counter() - self.created) * 1000.0
        base = {"initializationType": self._init_type(), "phase": "init", "status": "success"}
        self.telemetry.emit("platform", "platform.initRuntimeDone", {
            **base, "spans": [tel.span("runtimeInit", time.time() - spent / 1000.0, spent)]})
        self.telemetry.emit("platform", "platform.initReport", {**base, "metrics": {"durationMs": round(spent, 3)}})

    def _init_type(self) -> str:
        return "provisioned-concurrency" if self.provisioned else "on-demand"

    def _released(self) -> None:
        """The runtime is done with its invocation: back to the pool, unless extensions still work on it."""
        if self._pending_report is None:
            self.report.on_released(self)

    # ------------------------------------------------------------- extensions
    def on_extension_api(self, req: Request) -> Response | asyncio.Future:
        """The Extensions API and the Telemetry API, on the Runtime API's address."""
        if req.path.startswith(ext_api.PREFIX):
            resp = self.extensions.handle(req)
            if req.path.endswith("/register") and isinstance(resp, Response) and resp.status == 200:
                ext = self.extensions.by_id[dict(resp.headers)[ext_api.IDENTIFIER_HEADER]]
                if not ext.internal:
                    self._watch_extension(ext)
                if self.telemetry.enabled:
                    self.telemetry.emit("platform", "platform.extension",
                                        {"name": ext.name, "state": "Ready", "events": sorted(ext.events)})
            return resp
        if req.path == tel.PATH:
            self.telemetry.enabled = True
            return self.telemetry.handle(req)
        return runtime_error(404, "InvalidRequest", f"Unknown path {req.path}")

    def _watch_extension(self, ext: ext_api.Extension) -> None:
        """An external extension's process ending outside Shutdown fails the environment as
        ``Extension.Crash`` (``extension_watch``)."""
        pid = extension_watch.find(self.pid, ext.name) if self.pid is not None else None
        if pid is None:
            return

        def exited() -> None:
            self._extension_watches.pop(ext.id, None)
            if self._shutdown_deadline_ms and not self._extension_watches:
                self._end_shutdown()  # the last external extension is done with its Shutdown
                return
            if self.state is State.DEAD or self.extensions.shutting_down:
                return  # the Shutdown phase, or the environment is going anyway
            if self.pid is not None and not extension_watch.running(self.pid):
                return  # the runtime ended first (its end takes the extensions along): on_exit reports it
            ext.error = "Extension.Crash"
            self._extension_failed(ext, "Extension.Crash")

        stop = extension_watch.watch(pid, exited)
        if stop is not None:
            self._extension_watches[ext.id] = stop

    def _extension_name(self, req: Request) -> str | Response:
        ext = self.extensions.caller(req)
        return ext if isinstance(ext, Response) else ext.name

    def _extensions_changed(self) -> None:
        """An extension registered, called next or reported an error: move the phase on if it can."""
        exts = self.extensions
        failed = exts.failed()
        if failed is not None and self.state is not State.DEAD:
            self._extension_failed(failed)
            return
        if self.state is State.STARTING and self._init_next is not None and exts.init_ready():
            fut, self._init_next = self._init_next, None
            self._init_complete()
            if not fut.done():
                self._runtime_next(fut)
        elif self._pending_report is not None and exts.all_waiting():
            inv, status, error_type, failed, runtime_end = self._pending_report
            self._pending_report = None
            if self._extension_timer is not None:
                self._extension_timer.cancel()
                self._extension_timer = None
            self._report(inv, status, error_type, failed, runtime_end)
            if self.state is not State.DEAD:
                self.report.on_released(self)
        elif exts.shutting_down and exts.all_waiting() and self._shutdown_deadline_ms:
            self._end_shutdown()  # every extension called next after its SHUTDOWN event

    def _extension_failed(self, ext: ext_api.Extension, crash: str | None = None) -> None:
        """An extension reported init/error or exit/error, or its process died (``crash``:
        ``Extension.Crash``): the environment fails as AWS's ``Extension.InitError`` /
        ``Extension.ExitError`` / ``Extension.Crash`` and is reset."""
        error_type = crash or ("Extension.InitError" if self.state is State.STARTING else "Extension.ExitError")
        if self._enter(State.DEAD):  # first, so that nothing below waits for extensions
            self.report.on_gone(self)
        message = f"Extension {ext.name} exited" if crash else f"Extension {ext.name} reported {ext.error}"
        state = "Crash" if crash else "InitError" if error_type.endswith("InitError") else "ExitError"
        self._log(f"EXTENSION\tName: {ext.name}\tState: {state}\tErrorType: {ext.error}", self.current)
        inv = self.current
        pending = self._pending_report
        if error_type == "Extension.InitError" or (crash and not self.initialized):
            init_ms = (time.perf_counter() - self.created) * 1000.0
            self._log(platform.init_report_line(init_ms, "init", "error", error_type), inv)
            if inv is not None and not inv.done:
                inv.started = inv.started or time.perf_counter()
                if not self.suppressed_init:
                    self.log_start(inv)
                self.fail(inv, error_type, f"RequestId: {inv.request_id} Error: {message}")
        elif inv is not None and not inv.done and self.delivered:
            self.fail(inv, error_type, f"RequestId: {inv.request_id} Error: {message}")
        elif pending is not None:
            self._pending_report = None
            self._report(pending[0], "error", error_type)
        self.kill("extension error")

    def _extensions_timed_out(self) -> None:
        """Extensions still at work when the function's timeout ran out: the invoke phase ends as a timeout."""
        self._extension_timer = None
        pending = self._pending_report
        if pending is None:
            return
        self._pending_report = None
        self._log(platform.timeout_line(pending[0].request_id, pending[0].timeout_s), pending[0])
        self._report(pending[0], "timeout", None)
        self.kill("extension timeout")

    def _runtime_next(self, fut: "asyncio.Future | None" = None) -> "Response | asyncio.Future | Pending":
        """The answer to the runtime's /next: its invocation, or a long-poll (``fut`` when one is held;
        else a ``Pending``, which writes the event as soon as ``assign`` gives it)."""
        answer: Response | None = None
        if self.state is State.DEAD:
            answer = runtime_error(403, "InvalidStateTransition", "Environment is shutting down")
        elif self.current is not None and not self.delivered:
            answer = self._deliver(self.current)
        if answer is not None:
            if fut is None:
                return answer
            if not fut.done():
                fut.set_result(answer)
            return fut
        self._enter(State.IDLE)
        loop = asyncio.get_running_loop()
        waiter: "asyncio.Future | Pending" = Pending() if fut is None else fut
        self._next_waiter = waiter
        # Idle: freeze the environment (no CPU until the next invocation thaws it); not one under a
        # debugger, whose adapter must answer between invocations (lamb.invoke.debug).
        freeze_after = self.host.freeze_after_s
        if freeze_after >= 0 and self._freeze_timer is None and not self.pool.config.debug_port:
            self._freeze_timer = loop.call_later(freeze_after, self._freeze)
        return waiter

    async def _next_after(self, body) -> Response:
        ended = asyncio.get_running_loop().create_future()
        body.on_end(lambda _b: ended.done() or ended.set_result(None))
        await ended
        answer = self.on_next()
        return answer if isinstance(answer, Response) else await answer

    def _freeze(self) -> None:
        self._freeze_timer = None
        if self._pending_report is not None:  # extensions still at work: try again later
            self._freeze_timer = asyncio.get_event_loop().call_later(max(self.host.freeze_after_s, 0.05), self._freeze)
            return
        if self.state is State.IDLE and self.current is None and self.sandbox is not None:
            self.sandbox.freeze()

    def _check_request_id(self, request_id: str) -> Invocation | Response:
        inv = self.current
        if inv is None or not self.delivered or inv.request_id != request_id:
            return runtime_error(400, "InvalidRequestID", "Invalid request ID")
        return inv

    def on_response(self, request_id: str, req: Request) -> Response | asyncio.Future:
        inv = self._check_request_id(request_id)
        if isinstance(inv, Response):
            return inv
        if req.stream is not None:
            return self._streamed_response(inv, req)
        limit = self.pool.config.limits.sync_response_max_bytes
        if len(req.body) > limit or req.too_large:
            self.fail(
                inv,
                "Function.ResponseSizeTooLarge",
                f"Response payload size exceeded maximum allowed payload size ({limit} bytes).",
            )
            self._released()
            return runtime_error(413, "RequestEntityTooLarge", f"Exceeded maximum allowed payload size ({limit} bytes).")
        self._finish(inv, req.body, None)
        self._released()
        return ACCEPTED

    def _streamed_response(self, inv: Invocation, req: Request) -> asyncio.Future:
        """A streamed ``/response`` (``invoke/stream.py``): the caller reads it as it arrives; the
        invocation ends with the body, failed when its trailers carry an error or it is too big.
        The runtime's POST is answered then."""
        limits = self.pool.config.limits
        body = req.stream
        assert body is not None
        reader = inv.on_stream
        if reader is None:  # a plain Invoke of a streaming function: the response is read whole
            body.max_bytes = limits.sync_response_max_bytes
            body.high_water = body.max_bytes + 1
        else:
            body.max_bytes = limits.stream_response_max_bytes
        stream = ResponseStream(req.headers.get("content-type") or DEFAULT_CONTENT_TYPE, body,
                                uncapped_bytes=limits.stream_uncapped_bytes,
                                bytes_per_s=limits.stream_bandwidth_bytes_per_s)
        answered: asyncio.Future = asyncio.get_running_loop().create_future()

        def ended(b) -> None:
            self._streaming = None
            answer = ACCEPTED
            if inv.done or self.current is not inv:
                answer = runtime_error(400, "InvalidRequestID", "Invalid request ID")  # timed out meanwhile
            elif b.overflow:
                limit = body.max_bytes
                self.fail(inv, "Function.ResponseSizeTooLarge",
                          f"Response payload size exceeded maximum allowed payload size ({limit} bytes).")
                self._released()
                answer = runtime_error(413, "RequestEntityTooLarge",
                                       f"Exceeded maximum allowed payload size ({limit} bytes).")
            elif not b.aborted:
                error = trailer_error(b.trailers)
                if error is None:
                    self._finish(inv, b"" if reader is not None else b.take_all(), None)
                else:
                    self._finish(inv, error[1], "Unhandled", status="error", error_type=error[0])
                self._released()
            # aborted: the runtime's connection was lost; its exit ends the invocation.
            if not answered.done():
                answered.set_result(answer)

        self._streaming = body
        body.on_end(ended)
        if reader is not None:
            inv.stream = stream
            reader(stream)
        return answered

    def on_error(self, request_id: str, req: Request) -> Response:
        inv = self._check_request_id(request_id)
        if isinstance(inv, Response):
            return inv
        body = req.body
        try:
            json.loads(body)
        except ValueError:
            error_type = req.headers.get("lambda-runtime-function-error-type", "Unhandled")
            body = json.dumps({"errorMessage": body.decode("utf-8", "replace"), "errorType": error_type}).encode()
        self._finish(inv, body, "Unhandled")
        self._released()
        return ACCEPTED

    def on_init_error(self, req: Request) -> Response:
        if self.state is not State.STARTING:
            return runtime_error(403, "InvalidStateTransition", "State transition from Ready to InitError failed for runtime")
        self.init_error = req.body or b"{}"
        return ACCEPTED

    # ------------------------------------------------------------- failures
    def _invocation_timed_out(self, inv: Invocation) -> None:
        if self.current is not inv or self.state is State.DEAD:
            return
        self._log(platform.timeout_line(inv.request_id, inv.timeout_s), inv)
        self.fail(
            inv, "Sandbox.Timedout", f"RequestId: {inv.request_id} Error: Task timed out after {inv.timeout_s:.2f} seconds",
            status="timeout",
        )
        if self.extensions.wants("SHUTDOWN"):
            self.shutdown(0.0, reason="timeout")
        else:
            self.kill("timeout")

    def _init_timed_out(self) -> None:
        """Init ran past its limit.

        AWS (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html, Init phase):
        an on-demand Init is limited to 10 s; past that, Lambda runs Init again at the first
        invocation with the function's configured timeout (a *suppressed init*: part of the
        invocation, no Init Duration in its REPORT). That second Init, and the invocation,
        must finish within the function's timeout.
        """
        self._init_timer = None
        if self.state is not State.STARTING:
            return
        inv = self.current
        cfg = self.pool.config
        if self.suppressed_init:
            if inv is not None and not inv.done:
                spent = (time.perf_counter() - self.created) * 1000.0
                self._log(platform.init_report_line(spent, "invoke", "timeout"), inv)
                self._log(platform.timeout_line(inv.request_id, inv.timeout_s), inv)
                self.fail(
                    inv, "Sandbox.Timedout", f"RequestId: {inv.request_id} Error: Task timed out after {inv.timeout_s:.2f} seconds",
                    status="timeout",
                )
            self.kill("init timeout")
            return
        timeout = cfg.limits.init_timeout_s
        if inv is not None and not inv.done and not self.provisioned:
            self._log(platform.init_report_line(timeout * 1000.0, "init", "timeout"), inv)
            self.current = None
            self.kill("init timeout")
            self.report.on_init_timeout(inv)
            return
        if inv is not None:
            inv.started = inv.started or time.perf_counter()
            self._log(platform.init_report_line(timeout * 1000.0, "init", "timeout"), inv)
            self.fail(
                inv, "Sandbox.Timedout", f"RequestId: {inv.request_id} Error: Task timed out after {timeout:.2f} seconds",
                status="timeout",
            )
        self.kill("init timeout")

    def on_exit(self, code: int | None, sig: int | None) -> None:
        """The runtime process ended (reported by the zygote)."""
        self._report_now()
        if self._term_mode == "runtime" and self._shutdown_deadline_ms and not self._namespace_ended:
            # Shutdown phase: the runtime is done; the extensions get their SHUTDOWN event now.
            self._runtime_ended = self._runtime_reported = True
            self._drain_log()
            self._shutdown_extensions()
            return
        was = self.state
        inv = self.current
        self._enter(State.DEAD)
        self._drain_log()
        pending, self._pending_report = self._pending_report, None
        if pending is not None:  # the runtime ended while extensions worked on its last invocation
            self._report(pending[0], "error", "Runtime.ExitError")
        if inv is not None and not inv.done:
            inv.started = inv.started or time.perf_counter()
            if was is State.STARTING and self.init_error is not None:
                # The runtime's /init/error body reaches the caller verbatim.
                try:
                    error_type = json.loads(self.init_error).get("errorType") or "Runtime.Unknown"
                except (ValueError, AttributeError):
                    error_type = "Runtime.Unknown"
                init_ms = (time.perf_counter() - self.created) * 1000.0
                phase = "invoke" if self.suppressed_init else "init"
                self._log(platform.init_report_line(init_ms, phase, "error", error_type), inv)
                if not self.suppressed_init:
                    self._log(platform.start_line(inv.request_id, self.pool.config.version), inv)
                self.init_ms = None
                self._finish(inv, self.init_error, "Unhandled", status="error", error_type=error_type)
            else:
                detail = f"signal: {signal.Signals(sig).name.lower()[3:]}" if sig else f"exit status {code}"
                if sig == signal.SIGKILL:
                    detail = "signal: killed"
                message = f"RequestId: {inv.request_id} Error: Runtime exited with error: {detail}"
                # A kill by the memory cgroup's OOM killer is AWS's Runtime.OutOfMemory.
                error_type = "Runtime.OutOfMemory" if self.sandbox is not None and self.sandbox.out_of_memory() else "Runtime.ExitError"
                if was is State.STARTING and not self.suppressed_init:
                    self._log(platform.start_line(inv.request_id, self.pool.config.version), inv)
                self._log(message, inv)
                self._log(error_type, inv)
                self.fail(inv, error_type, message)
        self._cleanup()

    def kill(self, reason: str = "") -> None:
        """Stop now: SIGKILL the whole process group (or have the init kill every descendant)."""
        self._report_now()
        if self._enter(State.DEAD):
            self.report.on_gone(self)
        self._end_namespace()
        if self.sandbox is not None and self.sandbox.stops_on_term and self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self._kill_after = asyncio.get_event_loop().call_later(1.0, self._signal, signal.SIGKILL)
            return
        self._signal(signal.SIGKILL)
        if self.pid is None:
            self._cleanup()

    def shutdown(self, grace_s: float, reason: str = "spindown") -> None:
        """Shutdown phase: SIGTERM, then SIGKILL after the grace period.

        With extensions, AWS's rules apply instead
        (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown):
        500 ms in all with internal extensions only; with an external extension 2,000 ms in
        all (``_shutdown_with_extensions``).
        """
        self._report_now()
        if self._enter(State.DEAD):
            self.report.on_gone(self)
        if self.pid is None:
            self._cleanup()
            return
        lim = self.pool.config.limits
        if self.extensions.has_external():
            if not self._shutdown_deadline_ms:
                self._shutdown_with_extensions(reason)
            return
        if self.extensions.by_id:
            grace_s = lim.internal_extension_shutdown_ms / 1000.0
        self._signal(signal.SIGTERM)
        self._kill_after = asyncio.get_event_loop().call_later(grace_s, self._signal, signal.SIGKILL)

    def _shutdown_with_extensions(self, reason: str) -> None:
        """AWS's order: SIGTERM to the runtime alone; once it has ended, or its share (300 ms,
        500 ms with an internal extension) has passed, the SHUTDOWN event (``shutdownReason``,
        ``deadlineMs``) to each extension registered for it, after the Telemetry API's buffered
        events; at 2,000 ms from the start, or once every extension has exited or called next,
        SIGKILL for whatever is left (the whole PID namespace)."""
        lim = self.pool.config.limits
        if self._freeze_timer is not None:
            self._freeze_timer.cancel()
            self._freeze_timer = None
        if self.sandbox is not None and self.sandbox.frozen:
            self.sandbox.thaw()
        self._shutdown_reason = reason
        self._shutdown_deadline_ms = now_ms() + lim.extension_shutdown_ms
        internal = any(e.internal for e in self.extensions.by_id.values())
        share = lim.internal_extension_shutdown_ms if internal else lim.runtime_shutdown_share_ms
        self._terminate_runtime()
        loop = asyncio.get_event_loop()
        self._term_timer = loop.call_later(share / 1000.0, self._shutdown_extensions)
        self._kill_after = loop.call_later(lim.extension_shutdown_ms / 1000.0, self._end_shutdown)

    def _terminate_runtime(self) -> None:
        """SIGTERM to the runtime process only (not to the extensions beside it)."""
        if self.pid is None:
            return
        sig, pid = signal.SIGTERM, self.pid
        if self._term_mode == "init":
            sig = signal.SIGUSR1  # the environment's init passes it on as SIGTERM to the runtime
        elif not self._term_mode:
            self._signal(signal.SIGTERM)  # the extensions end with the runtime anyway
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    def _shutdown_extensions(self) -> None:
        """The runtime ended or had its share of the Shutdown phase: the extensions' turn."""
        if self._term_timer is not None:
            self._term_timer.cancel()
            self._term_timer = None
        if self.extensions.shutting_down or self._namespace_ended:
            return
        if not self.extensions.wants("SHUTDOWN"):
            self._end_shutdown()
            return
        self.telemetry.flush_all()  # buffered events first, as AWS sends them before SHUTDOWN
        self.extensions.send(ext_api.shutdown_event(self._shutdown_reason, self._shutdown_deadline_ms))
        self._extensions_changed()  # all may be waiting already

    def _end_shutdown(self) -> None:
        """The end of the Shutdown phase: SIGKILL for everything left in the environment."""
        if self._term_timer is not None:
            self._term_timer.cancel()
            self._term_timer = None
        if self._kill_after is not None:
            self._kill_after.cancel()
            self._kill_after = None
        if not self._runtime_ended:  # (once it ended, its pid names nothing of this environment)
            self._signal(signal.SIGKILL)
        self._end_namespace()  # lamb-init's end takes every process left in the namespace
        if self._runtime_ended:
            self._runtime_ended = False
            self._cleanup()

    def _end_namespace(self) -> None:
        """Have the zygote end the PID namespace it keeps past the runtime (``_term_mode`` "runtime")."""
        if self._term_mode == "runtime" and not self._namespace_ended and self.pid is not None:
            self._namespace_ended = True
            self.pool.zygote.end(self.pid)

    def _signal(self, sig: int) -> None:
        if self.pid is None:
            return
        if self.sandbox is not None and self.sandbox.frozen:
            self.sandbox.thaw()  # a frozen task does not act on signals, not even SIGKILL
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def _cleanup(self) -> None:
        self._report_now()
        self._end_namespace()
        for timer in (self._term_timer, self._extension_timer):
            if timer is not None:
                timer.cancel()
        self._term_timer = self._extension_timer = None
        if self._init_next is not None and not self._init_next.done():
            self._init_next.cancel()
        self.extensions.close()
        for stop in self._extension_watches.values():
            stop()
        self._extension_watches.clear()
        self.telemetry.close()
        if self._freeze_timer is not None:
            self._freeze_timer.cancel()
            self._freeze_timer = None
        if self._kill_after is not None:
            self._kill_after.cancel()
            self._kill_after = None
        if self._init_timer is not None:
            self._init_timer.cancel()
            self._init_timer = None
        if self._next_waiter is not None and not self._next_waiter.done():
            self._next_waiter.cancel()
        self._next_waiter = None
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        if self._peer_key is not None:
            self.host.runtime_api().unregister(self._peer_key, self)
            self._peer_key = None
        if self._output is not None:
            self._output.close()
        if self._status_fd >= 0:
            os.close(self._status_fd)
            self._status_fd = -1
        self.log_stream.close()
        if self.sandbox is not None:
            # Waiting for killed processes to leave their cgroup must not stall the loop.
            asyncio.get_event_loop().run_in_executor(None, self.sandbox.destroy)
            self.sandbox = None
        if self.pid is not None and not self._runtime_reported:
            self.host.untrack_pid(self.pid)  # (once its end is reported the pid is no longer this one's)
        self.report.on_gone(self)

    # ----------------------------------------------------------------- logs
    def _log(self, message: str, inv: Invocation | None) -> None:
        ts = now_ms()
        if self._json_logs is not None:
            message = self._json_logs.platform(message, ts)  # type: ignore[assignment]
            if message is None:  # below SystemLogLevel, or END (no JSON form)
                return
        self.log_stream.write(ts, message)
        if inv is not None and inv.want_tail:
            inv.log.append(message)

    def _drain_log(self) -> None:
        """Everything the runtime wrote so far, a trailing line without newline included."""
        if self._output is not None:
            self._output.drain(flush=True)

    def _emit_raw(self, ts: int, lines: list[bytes]) -> bool:
        """The runtime's output written as bytes when nothing here wants it as text (no LogType
        Tail, no Telemetry API subscriber, no level filter); False: ``_emit`` takes it."""
        inv = self.current
        if (inv is not None and inv.want_tail) or self.telemetry.enabled or self._app_filter is not None:
            return False
        self.log_stream.write_raw(ts, lines)
        if inv is None:
            self.log_stream.flush()  # output outside an invocation: written now (see _emit)
        return True

    def _emit(self, ts: int, lines: list[str]) -> None:
        """The runtime's output lines: to the log stream, and to the tail of the invocation running."""
        if self._app_filter is not None:
            lines = self._app_filter(lines)  # below ApplicationLogLevel (JSON format)
        self.log_stream.write_lines(ts, lines)
        inv = self.current
        if inv is not None and inv.want_tail:
            inv.log.extend(lines)
        if self.telemetry.enabled:
            structured = self.pool.config.log_format == "JSON"  # JSON log lines are records, not strings
            for msg in lines:
                self.telemetry.emit("function", "function", _record_of(msg) if structured else msg, ts)
        if inv is None:
            # Output outside a runtime's invocation (extensions, background threads): written now, not at the next REPORT.
            self.log_stream.flush()

    def max_memory_mb(self) -> int:
        """Peak memory of the environment in MB (AWS's Max Memory Used).

        From the environment's memory cgroup when it has one, else the runtime
        process's peak resident set (VmHWM).
        """
        if self.sandbox is not None:
            peak = self.sandbox.max_memory_mb()
            if peak is not None:
                return peak
        fd = self._status_fd
        if fd >= 0:
            try:
                data = os.pread(fd, 4096, 0)
                i = data.find(b"VmHWM:")
                if i >= 0:
                    kb = int(data[i + 6 : data.index(b"kB", i)].strip())
                    self._peak_mb = max(self._peak_mb, round(kb / 1024), 1)
            except (OSError, ValueError):
                pass  # the process is gone: report the last sample
        return self._peak_mb

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state.value, "pid": self.pid, "provisioned": self.provisioned}


def _resource(invoked_arn: str, function_name: str) -> str:
    """CloudWatch's ``Resource`` dimension: ``name:qualifier`` as invoked, ``name`` when unqualified."""
    parts = invoked_arn.split(":", 7)
    return f"{function_name}:{parts[7]}" if len(parts) == 8 else function_name


def _telemetry_status(status: str | None) -> str:
    """REPORT's Status as the Telemetry API names it (success, error, timeout, failure)."""
    return status or "success"


def _record_of(line: str) -> object:
    """A JSON-format log line as the Telemetry API's ``function`` record: the object, else the text."""
    if line.startswith("{"):
        try:
            return json.loads(line)
        except ValueError:
            pass
    return line
