"""Helpers for the asynchronous-invocation tests (issue 6).

* ``MotoServer``: moto's standalone server (``python -m moto.server``) as a real
  SQS/SNS/EventBridge/S3-compatible endpoint on a free loopback port. Lamb is
  started with ``AWS_ENDPOINT_URL`` pointing at it (boto3's standard
  configuration, nothing Lamb-specific), so destination and dead-letter delivery
  reach it exactly as they would reach AWS.
* ``Sink``: a tiny HTTP server in the test process; functions POST a JSON
  document to it for every attempt, so the tests see what ran, when and with which
  request id, whatever sandbox the functions run in (they share the host network).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from .conftest import DUMMY_CREDS, LambServer, free_port, host_url, unique, wait_for

REGION = "us-east-1"

# Fast async timings for tests (AWS: 60,120 s retry delays; 1 s..5 min backoff; 6 h age).
FAST_ENV = {
    "LAMB_ASYNC_RETRY_DELAYS": "0.5,1.0",
    "LAMB_ASYNC_BACKOFF": "0.05,0.5",
    "LAMB_ASYNC_EVENT_AGE_SCALE": "0.02",  # MaximumEventAgeInSeconds=60 -> 1.2 s
}


class MotoServer:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
        )
        wait_for(self._up, 30, 0.1, "moto server to start")
        self.account = self.client("sts").get_caller_identity()["Account"]

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"moto server exited with {self.proc.returncode}")
        try:
            with urllib.request.urlopen(self.url + "/moto-api/", timeout=1):
                return True
        except Exception:
            return False

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.url, region_name=REGION, **DUMMY_CREDS)

    def env(self) -> dict:
        """What Lamb needs to reach it: boto3's own standard variables."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": DUMMY_CREDS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": REGION,
        }

    # -- resources
    def queue(self, name: str) -> tuple[str, str]:
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def receive(self, url: str, n: int = 1, timeout: float = 20.0) -> list[dict]:
        """At least ``n`` messages of a queue (with attributes), waiting up to ``timeout``."""
        sqs = self.client("sqs")
        got: list[dict] = []
        deadline = time.monotonic() + timeout
        while len(got) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {n} message(s) on {url}; got {len(got)}")
            resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])
            msgs = resp.get("Messages", [])
            for m in msgs:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            got += msgs
            if not msgs:
                time.sleep(0.1)
        return got

    def empty(self, url: str, wait: float = 0.5) -> bool:
        time.sleep(wait)
        resp = self.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return not resp.get("Messages")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


class Sink:
    """Collects the JSON documents functions POST to ``url``."""

    def __init__(self):
        items = self.items = []
        lock = self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with lock:
                    items.append(json.loads(body))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = host_url(self.server.server_address[1])  # as functions reach it (tests/integration/conftest.py)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of(self, key: str, value) -> list[dict]:
        with self.lock:
            return [i for i in self.items if i.get(key) == value]

    def wait(self, key: str, value, n: int, timeout: float = 20.0) -> list[dict]:
        return wait_for(lambda: (lambda got: got if len(got) >= n else None)(self.of(key, value)), timeout, 0.05,
                        f"{n} post(s) with {key}={value!r} (have {len(self.of(key, value))})")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def sink_code(sink_url: str, body: str = "", tail: str = "") -> str:
    """Source of ``fn.py``: every attempt POSTs {tag, n, rid, t, trace, arn, version, event} to the sink.

    ``body`` runs after the post (e.g. ``raise Exception('boom')``); the handler
    returns ``{'ok': True, 'n': event.get('n')}`` unless ``body`` returns first.
    """
    lines = "\n".join("    " + ln for ln in body.splitlines()) if body else ""
    return f"""import json, os, time, urllib.request
SINK = {sink_url!r}
def post(doc):
    req = urllib.request.Request(SINK, data=json.dumps(doc).encode(), method='POST',
                                 headers={{'Content-Type': 'application/json'}})
    urllib.request.urlopen(req, timeout=10).read()
def handler(event, context):
    post({{'tag': event.get('tag') if isinstance(event, dict) else None, 'n': event.get('n') if isinstance(event, dict) else None,
          'rid': context.aws_request_id, 't': time.time(), 'trace': os.environ.get('_X_AMZN_TRACE_ID'),
          'arn': context.invoked_function_arn, 'version': context.function_version, 'event': event}})
{lines}
    return {{'ok': True, 'n': event.get('n') if isinstance(event, dict) else None}}
{tail}
"""


def health(server: LambServer) -> dict:
    return server.get_json("/_lamb/health")["async"]


def served_with(moto: MotoServer, *services: str):
    """A Lamb server that reaches ``services`` (e.g. "S3", "EC2") at moto's server through
    boto3's standard variables (``AWS_ENDPOINT_URL_<SERVICE>``); a generator for a fixture."""
    env = {f"AWS_ENDPOINT_URL_{s.upper()}": moto.url for s in services}
    env.update(AWS_ACCESS_KEY_ID=DUMMY_CREDS["aws_access_key_id"], AWS_SECRET_ACCESS_KEY=DUMMY_CREDS["aws_secret_access_key"],
               AWS_DEFAULT_REGION=REGION)
    server = LambServer(env=env).start()
    try:
        yield server
    finally:
        server.close()


def versioned_bucket(moto: MotoServer, prefix: str):
    """A new versioned bucket in moto's S3: ``(s3 client, bucket name)``."""
    s3 = moto.client("s3")
    name = unique(prefix).lower()
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return s3, name


# ---------------------------------------------------------------- fixtures
def running_moto():
    """A fixture body: a moto server, stopped afterwards."""
    server = MotoServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto():
    yield from running_moto()


@pytest.fixture
def sink():
    s = Sink()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="session")
def async_server(moto, tmp_path_factory):
    """A Lamb with fast async timings that reaches moto for destinations and DLQs.

    Its log is kept in pytest's temporary folder (``async-server*/server.log``) after the run.
    """
    yield from serving({**moto.env(), **FAST_ENV}, tmp_path_factory, "async-server")


def serving(env: dict, tmp_path_factory, label: str):
    """A fixture body: a Lamb with ``env``, its log kept in ``<label>*/server.log`` after the run."""
    server = LambServer(env=env).start()
    try:
        yield server
    finally:
        try:
            shutil.copy(server.log_path, tmp_path_factory.mktemp(label) / "server.log")
        except OSError:
            pass
        server.close()


@pytest.fixture(scope="session")
def alam(async_server):
    return async_server.client()
