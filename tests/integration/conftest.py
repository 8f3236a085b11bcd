"""Integration test harness for Lamb: real server processes, real clients, real sockets.

Every server runs as ``python -m lamb serve`` in a subprocess on a free loopback
port with a fresh data dir. The server's working directory is a fresh folder of
its own (``LambServer.base``); the zygotes it starts inherit that cwd and every
execution environment chdirs into ``<data dir>/code/<sha>``, so "processes whose
cwd is under ``base``" names exactly this server's process tree, even after a
kill -9 reparents it. Teardown stops the server (SIGTERM, then SIGKILL) and fails
if any of those processes outlives it.

Authentication is on (Lamb's default), so a test reaches Lamb as a user does:

- boto3 through ``server.client(service)`` (the root key of the server's credentials file,
  ``server.credentials()``); the AWS CLI and ``lamb deploy`` with ``server.aws_env()``
  (what ``eval "$(lamb env)"`` exports);
- raw HTTP signed with ``server.signed(method, path, body, headers)`` (SigV4, service
  ``lambda``), and Lamb's own ``/_lamb/...`` routes through ``server.get_json(path)``
  (signed as the operator); unsigned, ``/_lamb/health`` answers only ``{"status": "ok"}``;
- every started server has ``ROLE`` (trusting Lambda, allowed ``lambda:*`` so functions can
  call Lamb back), created through Lamb's IAM API; a function with any other role of the
  server's account needs ``server.ensure_role(arn[, policy=...])`` first;
- ``DUMMY_CREDS`` are for moto's server and Lamb's own environment, never for Lamb's API;
  a test of unsigned or badly signed requests asserts AWS's 403s.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from pathlib import Path
from typing import Callable, Iterable

import boto3
import pytest
from botocore.config import Config

REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"
ROLE = "arn:aws:iam::000000000000:role/lamb-test"
# The trust policy of an execution role: CreateFunction refuses a role Lambda cannot assume.
TRUST_LAMBDA = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
# What the tests' execution role (ROLE) may do: call Lamb back (a function that invokes another, or
# itself, lists functions, ...), as a user grants their functions' roles what they call.
ROLE_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}]}
# Keys for moto's server and Lamb's own environment (moto accepts any): never Lamb's API, which
# checks signatures against its own keys (LambServer.credentials()).
DUMMY_CREDS = {"aws_access_key_id": "AKIDLAMBTEST", "aws_secret_access_key": "lambtestsecret"}
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
# Functions reach the test's own services on the host's loopback (sinks, gates, moto) as a user's
# functions reach theirs with the default isolated network: at host.lamb.internal, their ports
# allowed (LAMB_NETWORK_HOST_PORTS). The tests' services take ephemeral ports.
HOST_NAME = "host.lamb.internal"


def _ephemeral_ports() -> str:
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return f"{low}-{high}"


def host_url(port: int, path: str = "/") -> str:
    """A test service on the host's loopback, as a function reaches it."""
    return f"http://{HOST_NAME}:{port}{path}"


# --------------------------------------------------------------------- helpers
def free_port() -> int:
    """A free loopback TCP port: bind port 0, read it, release it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value or ``timeout`` expires."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value: {last!r})")
        time.sleep(interval)


def make_zip(files: dict, modes: dict | None = None, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``{name: str | bytes}``; ``modes`` gives unix modes (e.g. 0o755) per name."""
    modes = modes or {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            mode = modes.get(name, 0o644)
            if not stat.S_IFMT(mode):
                mode |= stat.S_IFREG
            info.external_attr = mode << 16
            info.create_system = 3  # unix, so the mode bits are meaningful
            data = content.encode() if isinstance(content, str) else content
            zf.writestr(info, data)
    return buf.getvalue()


def code_sha256(zip_bytes: bytes) -> str:
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()


def unique(prefix: str = "fn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _proc_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return False
    state = data[data.rindex(b")") + 2:][:1]
    return state not in (b"Z", b"X")


def _proc_starttime(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(b")") + 2:].split()[19].decode()


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return int(data[data.rindex(b")") + 2:].split()[1])


def all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def descendants(root: int) -> set[int]:
    """Every living process whose ancestor chain reaches ``root``."""
    parents = {pid: _ppid(pid) for pid in all_pids()}
    out: set[int] = set()
    for pid in parents:
        seen = set()
        cur = parents.get(pid)
        while cur and cur not in seen:
            if cur == root:
                out.add(pid)
                break
            seen.add(cur)
            cur = parents.get(cur)
    return {p for p in out if _proc_alive(p)}


def procs_with_cwd_under(base: Path) -> set[int]:
    """Living processes whose working directory is ``base`` or inside it."""
    prefix = str(base)
    out = set()
    for pid in all_pids():
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if (cwd == prefix or cwd.startswith(prefix + "/")) and _proc_alive(pid):
            out.add(pid)
    return out


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def signing_path(path: str) -> str:
    """``path`` with its query in SigV4's canonical encoding (every name and value percent-encoded,
    ``/`` too), which is what a server verifies whatever the raw query was; botocore's signer takes
    a URL's query as already encoded, so a raw ``?group=/aws/lambda/x`` is signed through this."""
    from urllib.parse import quote, unquote

    base, _, query = path.partition("?")
    if not query:
        return path
    pairs = (pair.partition("=") for pair in query.split("&"))
    return base + "?" + "&".join(f"{quote(unquote(k), safe='-_.~')}={quote(unquote(v.replace('+', ' ')), safe='-_.~')}"
                                 for k, _, v in pairs)


def client_config(**kw) -> Config:
    base = dict(retries={"max_attempts": 0}, connect_timeout=5, read_timeout=60)
    base.update(kw)
    return Config(**base)


# ---------------------------------------------------------------------- server
class LambServer:
    """One ``lamb serve`` subprocess with its own folder, data dir and port."""

    def __init__(self, base: Path | None = None, *, port: int | None = None, region: str | None = None,
                 account_id: str | None = None, extra_args: Iterable[str] = (), env: dict | None = None,
                 command: Iterable[str] | None = None, test_role: bool = True):
        self.base = Path(base) if base else Path(tempfile.mkdtemp(prefix="lamb-it-"))
        self.base.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.base / "data"
        self.port = port or free_port()
        self.region = region or REGION
        self.account_id = account_id or DEFAULT_ACCOUNT
        self.extra_args = list(extra_args)
        self.env = env or {}
        # how to run Lamb: ``python -m lamb`` by default, or e.g. the installed ``lamb`` console script
        self.command = list(command) if command is not None else [sys.executable, "-m", "lamb"]
        self.test_role = test_role  # create ROLE (the tests' execution role) once the server answers
        self.proc: subprocess.Popen | None = None
        self.log_path = self.base / "server.log"
        self._killed = False
        self._known: dict[int, str | None] = {}  # pid -> starttime of processes seen in this tree

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def host_url(self, port: int, path: str = "/") -> str:
        """A test service on the host's loopback as this server's functions reach it: at
        host.lamb.internal with the linux sandbox, at 127.0.0.1 with the plain-process one (the host's network)."""
        if self.get_json("/_lamb/health")["sandbox"] == "linux":
            return host_url(port, path)
        return f"http://127.0.0.1:{port}{path}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> "LambServer":
        args = [*self.command, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--data-dir", str(self.data_dir)]
        if self.region != REGION:
            args += ["--region", self.region]
        if self.account_id != DEFAULT_ACCOUNT:
            args += ["--account-id", self.account_id]
        args += self.extra_args
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LAMB_", "AWS_"))}
        env.update(PYTHONUNBUFFERED="1", LAMB_NETWORK_HOST_PORTS=_ephemeral_ports())
        env.update(self.env)
        # LAMB_IT_PYTHONPATH=<folder holding a lamb package>: test another build of Lamb than the installed one
        if os.environ.get("LAMB_IT_PYTHONPATH"):
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.environ["LAMB_IT_PYTHONPATH"], env.get("PYTHONPATH")]))
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(args, cwd=self.base, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        try:
            wait_for(self._healthy, START_TIMEOUT_S, 0.05, f"lamb to listen on {self.url}")
        except BaseException as e:
            # never leave a server behind that did not come up in time
            self.terminate(timeout=5)
            try:
                self.assert_no_survivors()
            finally:
                if isinstance(e, AssertionError):
                    raise AssertionError(f"{e}; server log: {self.log_tail()}") from None
            raise
        if self.test_role:
            self.ensure_role(ROLE, policy=ROLE_POLICY)
        return self

    def ensure_role(self, arn: str, trust: dict | None = None, policy: dict | None = None) -> str:
        """Create the execution role ``arn`` through Lamb's IAM API, as a user does before
        CreateFunction (kept when it exists, e.g. after a restart), with ``policy`` inline. Roles
        of another account than the server's are not Lamb's to create (CreateFunction takes them
        as given)."""
        if arn.split(":")[4] != self.account_id:
            return arn
        iam = self.client("iam")
        name = arn.rsplit("/", 1)[1]
        try:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust or TRUST_LAMBDA))
        except iam.exceptions.EntityAlreadyExistsException:
            pass
        if policy is not None:
            iam.put_role_policy(RoleName=name, PolicyName="tests", PolicyDocument=json.dumps(policy))
        return arn

    def _healthy(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"lamb exited with {self.proc.returncode}: {self.log_tail()}")
        try:
            with urllib.request.urlopen(self.url + "/_lamb/health", timeout=2) as r:
                return r.status == 200 and json.loads(r.read())["status"] == "ok"
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    # -- process bookkeeping
    def tree(self) -> set[int]:
        """The server's living process tree: descendants plus anything with its cwd."""
        pids = procs_with_cwd_under(self.base)
        if self.proc is not None and self.proc.poll() is None:
            pids |= descendants(self.proc.pid)
            pids.discard(self.proc.pid)
        for p in pids:
            self._known.setdefault(p, _proc_starttime(p))
        return pids

    def survivors(self) -> set[int]:
        """Processes of this server's tree still alive (pid reuse excluded by start time)."""
        self.tree()
        return {p for p, st in self._known.items() if _proc_alive(p) and _proc_starttime(p) == st}

    def assert_no_survivors(self, timeout: float = 5.0) -> None:
        try:
            wait_for(lambda: not self.survivors(), timeout, 0.05, "the server's processes to exit")
        except AssertionError:
            left = {p: cmdline(p) for p in self.survivors()}
            for p in left:  # do not leave them running on the machine
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            raise AssertionError(f"processes outlived the lamb server: {left}")

    # -- stopping
    def terminate(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``. Returns the exit code."""
        if self.proc is None:
            return None
        self.tree()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def kill9(self) -> None:
        """SIGKILL the lamb server process only (not its children)."""
        assert self.proc is not None
        self.tree()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)
        self._killed = True

    def restart(self) -> "LambServer":
        """Start again on the same port and data dir (after terminate or kill9)."""
        assert self.proc is not None and self.proc.poll() is not None, "stop the server first"
        self._killed = False
        return self.start()

    def close(self, check: bool = True) -> None:
        """Stop the server and make sure nothing of it is left."""
        rc = self.terminate()
        try:
            if check:
                self.assert_no_survivors()
                assert rc == 0 or (rc == -signal.SIGKILL and self.proc.returncode is not None and self._killed), \
                    f"lamb exited with {rc}: {self.log_tail()}"
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    # -- clients
    def credentials(self, profile: str = "default") -> dict:
        """The keys of ``profile`` in the server's credentials file, where a user finds them
        (``lamb credentials``, ``eval "$(lamb env)"``): the home account's root key for ``default``."""
        import configparser

        cp = configparser.ConfigParser(interpolation=None)
        cp.read(self.data_dir / "credentials")
        assert cp.has_section(profile), f"no profile [{profile}] in {self.data_dir / 'credentials'}"
        return {k: cp[profile][k] for k in ("aws_access_key_id", "aws_secret_access_key")}

    def aws_env(self, profile: str = "default") -> dict[str, str]:
        """The variables ``eval "$(lamb env)"`` sets: for a subprocess (the AWS CLI, lamb deploy)."""
        creds = self.credentials(profile)
        return {"AWS_ACCESS_KEY_ID": creds["aws_access_key_id"], "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"],
                "AWS_DEFAULT_REGION": self.region, "AWS_ENDPOINT_URL": self.url}

    def client(self, service: str = "lambda", *, profile: str = "default", **config) -> "boto3.client":
        return boto3.client(service, endpoint_url=self.url, region_name=self.region, config=client_config(**config),
                            **self.credentials(profile))

    def signed(self, method: str, path: str, body: bytes = b"", headers: dict | None = None,
               profile: str = "default", service: str = "lambda") -> dict[str, str]:
        """The headers of ``method path`` signed with SigV4 (botocore's signer) and the server's
        keys, for a raw HTTP request to the AWS API or to Lamb's own ``/_lamb/`` routes."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        creds = self.credentials(profile)
        req = AWSRequest(method, self.url + signing_path(path), data=body, headers=dict(headers or {}))
        SigV4Auth(Credentials(creds["aws_access_key_id"], creds["aws_secret_access_key"]), service,
                  self.region).add_auth(req)
        return dict(req.headers.items())

    def raw_client(self, **config):
        """A client that skips botocore's own parameter validation (to reach the server's)."""
        return self.client(parameter_validation=False, **config)

    def arn(self, name: str, qualifier: str | None = None) -> str:
        arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
        return f"{arn}:{qualifier}" if qualifier else arn

    def get_json(self, path: str):
        """GET one of Lamb's own routes (``/_lamb/...``), signed as the operator (the home account's root)."""
        req = urllib.request.Request(self.url + path, headers=self.signed("GET", path))
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())


# -------------------------------------------------------------------- creating
PY_RUNTIME = "python3.12"


def create(client, name: str, code, *, handler: str = "fn.handler", runtime: str = PY_RUNTIME, wait: bool = True,
           **kw) -> dict:
    """CreateFunction and wait for ``function_active_v2``.

    ``code`` is zip bytes, a ``{path: source}`` dict, or the source of ``fn.py``.
    """
    if isinstance(code, str):
        code = make_zip({"fn.py": code})
    elif isinstance(code, dict):
        code = make_zip(code)
    kw.setdefault("Role", ROLE)
    resp = client.create_function(FunctionName=name, Runtime=runtime, Handler=handler, Code={"ZipFile": code}, **kw)
    if wait:
        client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return resp


def invoke(client, name: str, event=None, **kw) -> tuple[dict, object]:
    """Invoke RequestResponse; returns (response, decoded JSON payload)."""
    if event is not None:
        kw["Payload"] = json.dumps(event).encode()
    resp = client.invoke(FunctionName=name, **kw)
    raw = resp["Payload"].read()
    resp["RawPayload"] = raw
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw
    return resp, payload


def error_of(e: "pytest.ExceptionInfo") -> tuple[str, str, int]:
    """(code, message, HTTP status) of a botocore ClientError."""
    r = e.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def request_id_of(resp: dict) -> str:
    return resp["ResponseMetadata"]["RequestId"]


def refused(client, code: str, status: int, message: str, call, **kw) -> None:
    """``call(**kw)`` fails with exactly this error code, HTTP status and message."""
    with pytest.raises(client.exceptions.ClientError) as e:
        call(**kw)
    resp = e.value.response
    assert (resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"]["Message"]) == (
        code, status, message)


# --------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def lamb_server():
    """The shared server for most tests (default region and account)."""
    server = LambServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def lam(lamb_server):
    """A boto3 Lambda client of the shared server."""
    return lamb_server.client()


@pytest.fixture(scope="session")
def raw_lam(lamb_server):
    return lamb_server.raw_client()


@pytest.fixture
def fresh_server():
    """A server of its own for one test (for restarts, kills and exact counts)."""
    servers: list[LambServer] = []

    def start(**kw) -> LambServer:
        s = LambServer(**kw).start()
        servers.append(s)
        return s

    yield start
    errors = []
    for s in servers:
        try:
            s.close()
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, errors


SANDBOXES = ("linux", "process")


def start_sandboxed(factory, sandbox: str) -> LambServer:
    """Start a server with ``--sandbox <sandbox>`` through ``factory(**kw)``; skip where linux is unavailable."""
    if sandbox == "linux" and os.geteuid() != 0:
        pytest.fail("the linux sandbox needs root")
    try:
        return factory(extra_args=["--sandbox", sandbox])
    except AssertionError as e:
        if sandbox == "linux" and "not available" in str(e):
            pytest.fail(f"the linux sandbox is not available here: {e}")
        raise


@pytest.fixture(scope="session")
def sandbox_server():
    """``sandbox_server('linux' | 'process')``: a shared server per sandbox backend, started on first use."""
    started: dict[str, LambServer] = {}

    def get(sandbox: str) -> LambServer:
        if sandbox not in started:
            started[sandbox] = start_sandboxed(lambda **kw: LambServer(**kw).start(), sandbox)
        return started[sandbox]

    yield get
    errors = []
    for s in started.values():
        try:
            s.close()
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, errors
