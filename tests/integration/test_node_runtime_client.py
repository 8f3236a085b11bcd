"""The managed Node.js runtimes reach the Runtime API through Lamb's transport by default, and through
aws-lambda-ric's native addon with ``LAMB_NODE_RUNTIME_CLIENT=native``; a function cannot tell them apart:
the same results, errors, context and limits either way."""

from __future__ import annotations

from .conftest import cmdline, create, descendants, invoke, unique
from .runtime_clients import context_round

HANDLER = """
exports.handler = async (event, context) => {
  if (event.fail) throw new RangeError("fail \\u00fc " + event.fail);
  if (event.big) return "\\u00e9".repeat(event.big);
  return { echo: event, id: context.awsRequestId, arn: context.invokedFunctionArn,
           left: context.getRemainingTimeInMillis(), cc: context.clientContext || null,
           trace: process.env._X_AMZN_TRACE_ID || null };
};
"""


def _runtime_maps(server_pid: int) -> dict[str, bool]:
    """For each Node.js runtime process under the server: whether it loaded the native addon."""
    out = {}
    for pid in descendants(server_pid):
        line = cmdline(pid)
        if "aws-lambda-ric" in line or "index" in line and ".mjs" in line:
            try:
                with open(f"/proc/{pid}/maps") as f:
                    out[line] = "rapid-client.node" in f.read()
            except OSError:
                continue
    return out


def _observe(client, name: str) -> dict:
    out = context_round(client, name)
    resp, err = invoke(client, name, {"fail": "x"})
    assert resp["FunctionError"] == "Unhandled"
    big = 2_500_000  # 5 MB of UTF-8 (and ~5 MB of JSON): under the 6 MB response limit
    resp, text = invoke(client, name, {"big": big})
    assert "FunctionError" not in resp and text == "é" * big
    resp, too_big = invoke(client, name, {"big": 3_200_000})
    assert resp["FunctionError"] == "Unhandled" and too_big["errorType"] == "Function.ResponseSizeTooLarge"
    resp, again = invoke(client, name, {"a": 1})  # the environment goes on after each of them
    assert "FunctionError" not in resp and again["echo"] == {"a": 1}
    frames = [line.split(" (")[0].strip() for line in err["trace"]]
    return {"cc": out["cc"], "error": (err["errorType"], err["errorMessage"]), "frames": frames}


def test_lamb_transport_and_native_addon_answer_alike(lamb_server, lam, fresh_server):
    native_server = fresh_server(env={"LAMB_NODE_RUNTIME_CLIENT": "native"})
    seen = {}
    for label, server, client in (("lamb", lamb_server, lam), ("native", native_server, native_server.client())):
        name = unique("noderic")
        create(client, name, {"index.js": HANDLER}, handler="index.handler", runtime="nodejs20.x", Timeout=10)
        seen[label] = _observe(client, name)
        loaded = _runtime_maps(server.pid)
        assert loaded, f"no Node.js runtime process under the {label} server"
        if label == "lamb":
            assert not any(loaded.values()), loaded  # the addon is never loaded
            assert all("index-lamb.mjs" in line for line in loaded), loaded
        else:
            assert all(loaded.values()), loaded
    assert seen["lamb"] == seen["native"], seen
    assert seen["lamb"]["cc"] == {"custom": {"k": "v"}}
    assert seen["lamb"]["error"] == ("RangeError", "fail ü x")
