"""aws-lambda-powertools inside a Lamb function produces its documented output (issue 15).

Logger: one JSON object per line with the Lambda context keys (cold_start, function_name,
function_memory_size, function_arn, function_request_id) and ``xray_trace_id`` from
``_X_AMZN_TRACE_ID`` (https://docs.powertools.aws.dev/lambda/python/latest/core/logger/).
Metrics: CloudWatch Embedded Metric Format lines, with the ColdStart metric on the first
invocation only (https://docs.powertools.aws.dev/lambda/python/latest/core/metrics/).
The output is read back with CloudWatch Logs' FilterLogEvents, as a user reads it.

Powertools is a test dependency; the test ships it to the function as a layer built from the
installed package, as a user's build does.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import importlib.util

import aws_lambda_powertools
import pytest

from .conftest import create, invoke, unique, wait_for
from .test_tracing import OtlpReceiver

HANDLER = '''
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service="payment")
metrics = Metrics(namespace="Shop", service="payment")


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context
def handler(event, context):
    logger.info("charging", extra={"order": event["order"]})
    metrics.add_metric(name="Orders", unit=MetricUnit.Count, value=1)
    metrics.add_dimension(name="channel", value="web")
    return {"order": event["order"]}
'''


def powertools_layer() -> bytes:
    """A layer zip with aws_lambda_powertools and typing_extensions under python/ (jmespath is in the runtime)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        package = Path(aws_lambda_powertools.__file__).parent
        for f in package.rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts:
                z.write(f, f"python/aws_lambda_powertools/{f.relative_to(package)}")
        # Powertools' own dependency (so present wherever it is installed); the runtime has jmespath.
        z.write(importlib.util.find_spec("typing_extensions").origin, "python/typing_extensions.py")
    return buf.getvalue()


def messages(lamb_server, group: str, request_id: str) -> list[str]:
    """The lines of one invocation: from its START to its END line (EMF lines carry no request id)."""
    logs = lamb_server.client("logs")
    lines = [e["message"] for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group)
             for e in page["events"]]
    start = next((i for i, m in enumerate(lines) if m.startswith(f"START RequestId: {request_id}")), None)
    end = next((i for i, m in enumerate(lines) if m.startswith(f"END RequestId: {request_id}")), None)
    return [] if start is None or end is None else lines[start + 1:end]


def test_logger_and_metrics_write_their_documented_output(lamb_server, lam):
    layer = lam.publish_layer_version(LayerName=unique("powertools"), Content={"ZipFile": powertools_layer()},
                                      CompatibleRuntimes=["python3.12"])
    name = unique("pt")
    create(lam, name, {"fn.py": HANDLER}, Layers=[layer["LayerVersionArn"]], MemorySize=256)
    arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
    group = f"/aws/lambda/{name}"

    outputs = []
    for order in (1, 2):
        resp, out = invoke(lam, name, {"order": order})
        assert resp.get("FunctionError") is None and out == {"order": order}, out
        rid = resp["ResponseMetadata"]["RequestId"]
        wait_for(lambda: messages(lamb_server, group, rid), 30, 0.2, "the invocation's lines")
        outputs.append((rid, messages(lamb_server, group, rid)))

    for i, (rid, lines) in enumerate(outputs):
        records = [json.loads(m) for m in lines if m.startswith("{")]
        log = next(r for r in records if r.get("message") == "charging")
        assert log["level"] == "INFO" and log["service"] == "payment" and log["order"] == i + 1
        assert log["cold_start"] is (i == 0)
        assert (log["function_name"], log["function_arn"], log["function_request_id"]) == (name, arn, rid)
        # awslambdaric's context.memory_limit_in_mb is the variable's text, on AWS as here.
        assert log["function_memory_size"] == "256"
        assert log["xray_trace_id"].startswith("1-") and log["location"].startswith("handler:")

        emf = [r for r in records if "_aws" in r]
        orders = next(r for r in emf if "Orders" in r)
        directive = orders["_aws"]["CloudWatchMetrics"][0]
        assert directive["Namespace"] == "Shop"
        assert directive["Metrics"] == [{"Name": "Orders", "Unit": "Count"}]
        assert sorted(directive["Dimensions"][0]) == ["channel", "service"]
        assert (orders["Orders"], orders["service"], orders["channel"]) == ([1.0], "payment", "web")
        cold = [r for r in emf if "ColdStart" in r]
        if i == 0:  # the ColdStart metric, with the function's name as its dimension, on the first invocation only
            assert len(cold) == 1 and cold[0]["function_name"] == name and cold[0]["ColdStart"] == [1.0]
        else:
            assert cold == []


TRACED = '''
from aws_lambda_powertools import Tracer

tracer = Tracer(service="payment")


@tracer.capture_method
def charge(order):
    tracer.put_annotation(key="order", value=order)
    return order * 2


@tracer.capture_lambda_handler
def handler(event, context):
    return {"charged": charge(event["order"])}
'''


def tracer_layer() -> bytes:
    """Powertools with the X-Ray SDK its Tracer uses (aws-xray-sdk and wrapt, whose pure-Python
    fallback serves a runtime other than the wheel's)."""
    import aws_xray_sdk

    wrapt = Path(importlib.util.find_spec("wrapt").origin).parent  # the X-Ray SDK's own dependency
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for package in (Path(aws_lambda_powertools.__file__).parent, Path(aws_xray_sdk.__file__).parent, wrapt):
            for f in package.rglob("*"):
                if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".so":
                    z.write(f, f"python/{package.name}/{f.relative_to(package)}")
        z.write(importlib.util.find_spec("typing_extensions").origin, "python/typing_extensions.py")
    return buf.getvalue()


@pytest.mark.parametrize("network", ["host", "isolated"])
def test_tracer_segments_join_the_invocation_trace(fresh_server, network):
    receiver = OtlpReceiver()
    try:
        server = fresh_server(env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "50"},
                              extra_args=["--network", network])
        lam = server.client()
        layer = lam.publish_layer_version(LayerName=unique("tracer"), Content={"ZipFile": tracer_layer()})
        name = unique("ptrace")
        create(lam, name, {"fn.py": TRACED}, Layers=[layer["LayerVersionArn"]], TracingConfig={"Mode": "Active"},
               Timeout=30)
        resp, out = invoke(lam, name, {"order": 21}, LogType="Tail")
        assert out == {"charged": 42}, base64.b64decode(resp["LogResult"]).decode()
        spans = {}
        wait_for(lambda: spans.update({s.name: s for s in receiver.spans}) or {"## handler", "## fn.charge"} <= set(spans),
                 30, 0.1, "the Tracer's subsegments")
        handler, charge, invoke_span = spans["## handler"], spans["## fn.charge"], spans["Invoke"]
        # The X-Ray SDK's subsegments join the invocation's trace under Lamb's Invoke span.
        assert handler.trace_id == invoke_span.trace_id == charge.trace_id
        assert handler.parent_span_id == invoke_span.span_id and charge.parent_span_id == handler.span_id
        attrs = {a.key: a.value for a in handler.attributes}
        assert attrs["xray.annotation.ColdStart"].bool_value is True
        assert attrs["xray.annotation.Service"].string_value == "payment"
        assert {a.key: a.value for a in charge.attributes}["xray.annotation.order"].int_value == 21
        assert invoke_span.start_time_unix_nano <= handler.start_time_unix_nano <= handler.end_time_unix_nano
    finally:
        receiver.close()
