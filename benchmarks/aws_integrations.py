"""What an HTTP API AWS service integration (SQS-SendMessage) adds to the service's own call.

    python benchmarks/aws_integrations.py [--requests 2000]

Starts moto's server (``python -m moto.server``) as SQS and its own ``lamb serve`` reaching it through
``AWS_ENDPOINT_URL``, creates a queue, a role trusting ``apigateway.amazonaws.com`` in Lamb's IAM and an
HTTP API whose ``POST /send`` route is an ``SQS-SendMessage`` integration (``MessageBody`` =
``$request.body``). Then, in the same run, in alternating blocks of 200 sequential requests, each on one
keep-alive connection:

* ``api``: ``POST /send`` to the API (Lamb maps the request, calls SQS through boto3 on its pool and
  relays the answer);
* ``direct``: the same SendMessage sent straight to moto by a boto3 client.

Prints p50/p90/p99 (ms) of each and the difference of the medians: the gateway's cost on top of the call.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from function_url import summary  # noqa: E402
from invoke_latency import boto_kw, start_server, stop_server  # noqa: E402

CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            return proc, url
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.1)


def main() -> None:
    import argparse

    import boto3

    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    n = ap.parse_args().requests
    moto, moto_url = start_moto()
    proc = data = None
    try:
        proc, endpoint, data = start_server(env={**CREDS, "AWS_ENDPOINT_URL": moto_url})
        sqs = boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        queue = sqs.create_queue(QueueName=f"bench-{os.getpid()}")["QueueUrl"]
        iam = boto3.client("iam", **boto_kw(endpoint))
        role = iam.create_role(RoleName=f"apigw-bench-{os.getpid()}", AssumeRolePolicyDocument=json.dumps(TRUST))
        v2 = boto3.client("apigatewayv2", **boto_kw(endpoint))
        api = v2.create_api(Name="bench", ProtocolType="HTTP")
        integ = v2.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY",
                                      IntegrationSubtype="SQS-SendMessage", CredentialsArn=role["Role"]["Arn"],
                                      RequestParameters={"QueueUrl": queue, "MessageBody": "$request.body"})
        v2.create_route(ApiId=api["ApiId"], RouteKey="POST /send", Target=f"integrations/{integ['IntegrationId']}")
        v2.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
        host = f"{api['ApiId']}.execute-api.us-east-1.localhost"
        conn = http.client.HTTPConnection(endpoint.split("://", 1)[1])

        def via_api() -> None:
            conn.request("POST", "/send", body=b'{"n": 1}', headers={"Host": host, "Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200, resp.status

        def direct() -> None:
            sqs.send_message(QueueUrl=queue, MessageBody='{"n": 1}')

        kinds = {"api": via_api, "direct": direct}
        for fn in kinds.values():  # warm both paths (clients, pools, connections)
            for _ in range(50):
                fn()
        out: dict[str, list[float]] = {k: [] for k in kinds}
        while min(len(v) for v in out.values()) < n:
            for k, fn in kinds.items():
                for _ in range(200):
                    t = time.perf_counter()
                    fn()
                    out[k].append((time.perf_counter() - t) * 1000)
        api_s, direct_s = summary(out["api"]), summary(out["direct"])
        print(json.dumps({"sequential_ms": {"api": api_s, "direct": direct_s,
                                            "api_minus_direct_p50": round(api_s["p50"] - direct_s["p50"], 3)}}))
    finally:
        stop_server(proc, data)
        moto.terminate()
        moto.wait(30)


if __name__ == "__main__":
    main()
