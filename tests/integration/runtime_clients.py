"""What the runtime-client comparisons (Lamb's transport against the native one) check alike for every runtime."""

from __future__ import annotations

import base64
import json

from .conftest import invoke


def context_round(client, name: str) -> dict:
    """An invocation with a client context whose handler echoes the event and its context: the echo, the
    request id, the ARN, the time left and the trace header as the runtime gave them. The handler's output."""
    ctx = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    resp, out = invoke(client, name, {"a": "ü", "n": [1, 2]}, ClientContext=ctx)
    assert "FunctionError" not in resp, out
    assert out["echo"] == {"a": "ü", "n": [1, 2]}
    assert out["id"] == resp["ResponseMetadata"]["RequestId"]
    assert out["arn"].endswith(f":function:{name}")
    assert 0 < out["left"] <= 10_000
    assert out["trace"] and out["trace"].startswith("Root=1-")
    return out
