"""Every runtime family: Python 3.9–3.13, Node.js through aws-lambda-ric, custom bootstraps."""

from __future__ import annotations

import base64
import json
import shutil
import stat
import subprocess

import pytest

from lamb.runtimes import node as node_runtime
from lamb.runtimes import python as python_runtime

from .conftest import ROLE, create, invoke, make_zip, unique

PY_VERSION = "import sys\ndef handler(e, c):\n    return list(sys.version_info[:2])\n"


@pytest.mark.parametrize("runtime", sorted(python_runtime.PYTHON_RUNTIMES))
def test_python_versions(lam, runtime):
    if python_runtime.find_interpreter(runtime) is None:
        pytest.fail(f"no {runtime} interpreter on this host")
    name = unique(runtime.replace(".", ""))
    create(lam, name, PY_VERSION, runtime=runtime)
    resp, out = invoke(lam, name)
    assert resp.get("FunctionError") is None, out
    assert out == list(python_runtime.PYTHON_RUNTIMES[runtime])


NODE_ASYNC = """
let count = 0;
export const handler = async (event, context) => {
  count += 1;
  console.log("event", JSON.stringify(event));
  return { count, event, name: context.functionName, version: context.functionVersion,
           arn: context.invokedFunctionArn, requestId: context.awsRequestId,
           remaining: context.getRemainingTimeInMillis(), node: process.versions.node,
           env: process.env.AWS_EXECUTION_ENV };
};
"""
NODE_CALLBACK = """
exports.handler = (event, context, callback) => {
  callback(null, { doubled: event.n * 2 });
};
"""
NODE_THROWS = """
exports.handler = async (event) => {
  if (event.fail) throw new TypeError("bad input");
  return { doubled: event.n * 2 };
};
"""


@pytest.fixture(scope="module")
def node20(lam):
    if node_runtime.find_node("nodejs20.x") is None:
        pytest.fail("no node 20 on this host")
    return "nodejs20.x"


def test_nodejs_async_handler(lam, node20):
    name = unique("node")
    create(lam, name, {"index.mjs": NODE_ASYNC}, handler="index.handler", runtime=node20)
    resp, out = invoke(lam, name, {"a": 1}, LogType="Tail")
    assert resp.get("FunctionError") is None, out
    assert out["count"] == 1 and out["event"] == {"a": 1}
    assert out["name"] == name and out["version"] == "$LATEST"
    assert out["arn"].endswith(f":function:{name}")
    assert out["node"].startswith("20.")
    assert out["env"] == "AWS_Lambda_nodejs20.x"
    assert 0 < out["remaining"] <= 3000
    log = base64.b64decode(resp["LogResult"]).decode()
    assert f"\t{out['requestId']}\tINFO\tevent {{\"a\":1}}" in log
    assert invoke(lam, name, {"a": 2})[1]["count"] == 2  # warm


def test_nodejs_commonjs_handler_and_error(lam, node20):
    name = unique("nodeerr")
    create(lam, name, {"index.js": NODE_THROWS}, handler="index.handler", runtime=node20)
    assert invoke(lam, name, {"n": 21})[1] == {"doubled": 42}
    resp, out = invoke(lam, name, {"fail": True})
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "TypeError" and out["errorMessage"] == "bad input"
    assert isinstance(out.get("trace"), list)


def test_nodejs_callback_handler(lam, node20):
    name = unique("nodecb")
    create(lam, name, {"index.js": NODE_CALLBACK}, handler="index.handler", runtime=node20)
    assert invoke(lam, name, {"n": 21})[1] == {"doubled": 42}


def test_nodejs22_without_interpreter_is_failed(fresh_server):
    # LAMB_NODEJS22_X names the node to use; one that does not exist stands for a host without Node 22.
    lam = fresh_server(env={"LAMB_NODEJS22_X": "/nonexistent/node"}).client()
    name = unique("node22")
    lam.create_function(FunctionName=name, Runtime="nodejs22.x", Role=ROLE,
                        Handler="index.handler", Code={"ZipFile": make_zip({"index.mjs": NODE_ASYNC})})
    import time

    deadline = time.time() + 30
    while True:
        cfg = lam.get_function_configuration(FunctionName=name)
        if cfg["State"] != "Pending" or time.time() > deadline:
            break
        time.sleep(0.2)
    assert cfg["State"] == "Failed"
    assert cfg["StateReasonCode"] == "InvalidRuntime"
    assert "nodejs22.x" in cfg["StateReason"]
    with pytest.raises(lam.exceptions.ResourceConflictException) as e:
        lam.invoke(FunctionName=name)
    assert "Failed" in str(e.value)


SHELL_BOOTSTRAP = """#!/bin/sh
set -eu
while true; do
  HEADERS=$(mktemp)
  EVENT=$(curl -sS -D "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  echo "shell runtime handling $REQUEST_ID"
  if echo "$EVENT" | grep -q '"fail"'; then
    curl -sS -X POST -H "Lambda-Runtime-Function-Error-Type: Shell.Failure" \\
      "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/error" \\
      -d '{"errorMessage":"asked to fail","errorType":"Shell.Failure"}' > /dev/null
  else
    curl -sS -X POST "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" \\
      -d "{\\"echo\\": $EVENT, \\"handler\\": \\"$_HANDLER\\"}" > /dev/null
  fi
  rm -f "$HEADERS"
done
"""

# A custom runtime that is not Python: a Node.js script speaking the Runtime API with plain http.
NODE_BOOTSTRAP = """#!/usr/bin/env node
const http = require("http");
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: "/2018-06-01/runtime" + path }, (res) => {
      let data = ""; res.on("data", (c) => (data += c));
      res.on("end", () => resolve({ headers: res.headers, body: data }));
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}
(async () => {
  for (;;) {
    const next = await call("GET", "/invocation/next");
    const id = next.headers["lambda-runtime-aws-request-id"];
    const event = JSON.parse(next.body);
    await call("POST", `/invocation/${id}/response`, JSON.stringify({ sum: event.a + event.b, deadline: Number(next.headers["lambda-runtime-deadline-ms"]) > Date.now() }));
  }
})();
"""


def _bootstrap_zip(source: str) -> bytes:
    return make_zip({"bootstrap": source}, modes={"bootstrap": stat.S_IFREG | 0o755})


@pytest.mark.parametrize("runtime", ["provided.al2023", "provided.al2"])
def test_custom_runtime_shell_bootstrap(lam, runtime):
    if shutil.which("curl") is None:
        pytest.fail("the shell bootstrap uses curl")
    name = unique("sh")
    create(lam, name, _bootstrap_zip(SHELL_BOOTSTRAP), handler="my.handler", runtime=runtime)
    resp, out = invoke(lam, name, {"x": 1}, LogType="Tail")
    assert resp.get("FunctionError") is None, out
    assert out == {"echo": {"x": 1}, "handler": "my.handler"}
    log = base64.b64decode(resp["LogResult"]).decode()
    assert "shell runtime handling" in log
    resp, out = invoke(lam, name, {"fail": True})
    assert resp["FunctionError"] == "Unhandled"
    assert out == {"errorMessage": "asked to fail", "errorType": "Shell.Failure"}


def test_custom_runtime_non_python_bootstrap(lam):
    if shutil.which("node") is None:
        pytest.fail("needs node")
    name = unique("nodeboot")
    create(lam, name, _bootstrap_zip(NODE_BOOTSTRAP), handler="unused", runtime="provided.al2023")
    assert invoke(lam, name, {"a": 2, "b": 3})[1] == {"sum": 5, "deadline": True}


def test_custom_runtime_without_bootstrap(lam):
    name = unique("noboot")
    create(lam, name, {"readme.txt": "no bootstrap here"}, handler="x", runtime="provided.al2023")
    resp, out = invoke(lam, name)
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Runtime.InvalidEntrypoint"
    assert out["errorMessage"].endswith("Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]") or \
        "Couldn't find valid bootstrap(s)" in out["errorMessage"]


def test_awslambdaric_is_the_runtime(lam):
    name = unique("ric")
    create(lam, name, "import sys\ndef handler(e, c):\n    m = sys.modules.get('awslambdaric')\n"
                      "    return {'ric': m is not None, 'file': getattr(m, '__file__', None)}\n")
    out = invoke(lam, name)[1]
    assert out["ric"] is True
    assert "awslambdaric" in out["file"]
