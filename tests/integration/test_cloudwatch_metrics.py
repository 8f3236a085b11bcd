"""CloudWatch's metric API for AWS/Lambda on Lamb's port (issue 15): GetMetricStatistics,
GetMetricData and ListMetrics through every protocol of botocore's ``cloudwatch`` model —
Smithy RPC v2 CBOR (what boto3 and the AWS CLI of botocore ≥ 1.43 speak), the query protocol
(older SDKs, Grafana's) and json — with clients built from the installed model."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
from pathlib import Path

import boto3
import botocore.loaders
import botocore.session
import pytest

from .awscli import aws, aws_json, needs_cli
from .conftest import client_config, create, invoke, unique

FAILING = "def handler(event, context):\n    if event.get('fail'):\n        raise ValueError('asked to fail')\n    return 'ok'\n"


def window(minutes: int = 30) -> dict:
    now = dt.datetime.now(dt.timezone.utc)
    return {"StartTime": now - dt.timedelta(minutes=minutes), "EndTime": now + dt.timedelta(minutes=minutes)}


def one_datapoint(cw, metric: str, dims: dict, **kw) -> dict:
    """The statistics of ``metric`` over the last and next half hour as one datapoint."""
    out = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName=metric, Period=3600,
                                   Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()], **window(), **kw)
    assert out["Label"] == metric
    assert len(out["Datapoints"]) == 1, out
    return out["Datapoints"][0]


def client_speaking(server, wire: str, tmp_path: Path):
    """A boto3 CloudWatch client whose model offers only ``wire`` (as an SDK of that protocol
    sends): the installed model with its ``protocols`` narrowed, found through AWS_DATA_PATH's
    setting (``data_path``)."""
    loader = botocore.loaders.Loader()
    model = loader.load_service_model("cloudwatch", "service-2")
    version = model["metadata"]["apiVersion"]
    folder = tmp_path / wire / "cloudwatch" / version
    folder.mkdir(parents=True)
    model["metadata"]["protocol"] = wire
    model["metadata"]["protocols"] = [wire]
    (folder / "service-2.json").write_text(json.dumps(model))
    _, rules_path = loader.load_data_with_path(f"cloudwatch/{version}/endpoint-rule-set-1")
    for source in Path(rules_path).parent.glob("endpoint-rule-set-1.json*"):
        shutil.copy(source, folder / source.name)
    session = botocore.session.Session()
    session.set_config_variable("data_path", str(tmp_path / wire))
    client = boto3.Session(botocore_session=session).client(
        "cloudwatch", endpoint_url=server.url, region_name=server.region, config=client_config(),
        **server.credentials())
    assert client.meta.service_model.protocol == wire
    return client


@pytest.fixture(scope="module")
def invoked(lam):
    """A function invoked 3 times successfully and once with an error, plus twice through an alias."""
    name = unique("cw")
    create(lam, name, FAILING)
    for event in ({}, {}, {}, {"fail": True}):
        invoke(lam, name, event)
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    for _ in range(2):
        invoke(lam, name, {}, Qualifier="live")
    return name, version


def test_cbor_is_what_boto3_speaks(lamb_server):
    cw = lamb_server.client("cloudwatch")
    assert cw.meta.service_model.protocol == "smithy-rpc-v2-cbor"


def test_get_metric_statistics_counts_invocations_errors_and_duration(lamb_server, invoked):
    name, version = invoked
    cw = lamb_server.client("cloudwatch")
    fn = {"FunctionName": name}
    assert one_datapoint(cw, "Invocations", fn, Statistics=["Sum", "SampleCount"]) | {"Timestamp": None} == {
        "Timestamp": None, "Sum": 6.0, "SampleCount": 6.0, "Unit": "Count"}
    assert one_datapoint(cw, "Errors", fn, Statistics=["Sum"])["Sum"] == 1.0
    duration = one_datapoint(cw, "Duration", fn, Statistics=["SampleCount", "Minimum", "Maximum", "Average"])
    assert duration["Unit"] == "Milliseconds" and duration["SampleCount"] == 6.0
    assert 0 < duration["Minimum"] <= duration["Average"] <= duration["Maximum"]
    pct = one_datapoint(cw, "Duration", fn, ExtendedStatistics=["p50", "p90", "p99"])["ExtendedStatistics"]
    assert duration["Minimum"] <= pct["p50"] <= pct["p90"] <= pct["p99"] <= duration["Maximum"]
    # per version / alias (Resource) and per executed version behind the alias
    assert one_datapoint(cw, "Invocations", {**fn, "Resource": f"{name}:live"}, Statistics=["Sum"])["Sum"] == 2.0
    assert one_datapoint(cw, "Invocations", {**fn, "Resource": name}, Statistics=["Sum"])["Sum"] == 4.0
    assert one_datapoint(cw, "Invocations", {**fn, "Resource": f"{name}:live", "ExecutedVersion": version},
                         Statistics=["Sum"])["Sum"] == 2.0
    # across all functions: at least these six
    assert one_datapoint(cw, "Invocations", {}, Statistics=["Sum"])["Sum"] >= 6.0
    # a unit the metric does not have, another namespace: no datapoints
    none = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations", Period=60, Statistics=["Sum"],
                                    Dimensions=[{"Name": "FunctionName", "Value": name}], Unit="Bytes", **window())
    assert none["Datapoints"] == []
    other = cw.get_metric_statistics(Namespace="AWS/EC2", MetricName="Invocations", Period=60, Statistics=["Sum"],
                                     **window())
    assert other["Datapoints"] == []


def test_get_metric_data_and_list_metrics(lamb_server, invoked):
    name, version = invoked
    cw = lamb_server.client("cloudwatch")

    def query(qid, metric, stat, **dims):
        return {"Id": qid, "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": metric,
                                                     "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]},
                                          "Period": 3600, "Stat": stat}}

    out = cw.get_metric_data(MetricDataQueries=[
        query("inv", "Invocations", "Sum", FunctionName=name),
        query("err", "Errors", "Sum", FunctionName=name),
        query("p99", "Duration", "p99", FunctionName=name),
        {**query("hidden", "Throttles", "Sum", FunctionName=name), "ReturnData": False},
        {**query("conc", "ConcurrentExecutions", "Maximum", FunctionName=name), "Label": "in flight"},
    ], **window())
    results = {r["Id"]: r for r in out["MetricDataResults"]}
    assert set(results) == {"inv", "err", "p99", "conc"}
    assert results["inv"]["Values"] == [6.0] and results["inv"]["StatusCode"] == "Complete"
    assert results["inv"]["Label"] == "Invocations" and len(results["inv"]["Timestamps"]) == 1
    assert results["err"]["Values"] == [1.0]
    assert results["p99"]["Values"][0] > 0
    assert results["conc"]["Label"] == "in flight" and results["conc"]["Values"] == [1.0]

    # MaxDatapoints pages through the datapoints
    first = cw.get_metric_data(MetricDataQueries=[query("a", "Invocations", "Sum", FunctionName=name),
                                                  query("b", "Errors", "Sum", FunctionName=name)],
                               MaxDatapoints=1, **window())
    assert [len(r["Values"]) for r in first["MetricDataResults"]] == [1, 0]
    second = cw.get_metric_data(MetricDataQueries=[query("a", "Invocations", "Sum", FunctionName=name),
                                                   query("b", "Errors", "Sum", FunctionName=name)],
                                MaxDatapoints=1, NextToken=first["NextToken"], **window())
    assert [r["Values"] for r in second["MetricDataResults"]] == [[], [1.0]] and "NextToken" not in second

    listed = cw.list_metrics(Namespace="AWS/Lambda", Dimensions=[{"Name": "FunctionName", "Value": name}])["Metrics"]
    sets = {(m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"])) for m in listed}
    assert ("Invocations", (("FunctionName", name),)) in sets
    assert ("Duration", (("FunctionName", name), ("Resource", f"{name}:live"))) in sets
    assert ("Invocations", (("ExecutedVersion", version), ("FunctionName", name), ("Resource", f"{name}:live"))) in sets
    assert all(m["Namespace"] == "AWS/Lambda" for m in listed)


@pytest.mark.parametrize("wire", ["query", "json"])
def test_older_protocols_answer_the_same(lamb_server, invoked, wire, tmp_path):
    name, _ = invoked
    cw = client_speaking(lamb_server, wire, tmp_path)
    point = one_datapoint(cw, "Invocations", {"FunctionName": name}, Statistics=["Sum", "Maximum"])
    assert (point["Sum"], point["Maximum"], point["Unit"]) == (6.0, 1.0, "Count")
    assert isinstance(point["Timestamp"], dt.datetime)
    pct = one_datapoint(cw, "Duration", {"FunctionName": name}, ExtendedStatistics=["p99"])
    assert pct["ExtendedStatistics"]["p99"] > 0
    data = cw.get_metric_data(MetricDataQueries=[{"Id": "e", "MetricStat": {"Metric": {
        "Namespace": "AWS/Lambda", "MetricName": "Errors", "Dimensions": [{"Name": "FunctionName", "Value": name}]},
        "Period": 3600, "Stat": "Sum"}}], **window())
    assert data["MetricDataResults"][0]["Values"] == [1.0]
    assert any(m["MetricName"] == "Errors" for m in cw.list_metrics(
        Dimensions=[{"Name": "FunctionName", "Value": name}])["Metrics"])
    with pytest.raises(cw.exceptions.InvalidParameterCombinationException) as e:
        cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations", Period=60, **window())
    assert e.value.response["Error"]["Message"] == "Must specify either Statistics or ExtendedStatistics"


@pytest.mark.parametrize("call, code, message", [
    (dict(Statistics=["Sum"], ExtendedStatistics=["p99"]), "InvalidParameterCombination",
     "Must specify either Statistics or ExtendedStatistics, but not both."),
    (dict(Statistics=["Sum"], Period=61), "InvalidParameterValue", "The parameter Period must be a multiple of 60."),
    (dict(Statistics=["Sum"], Period=1, minutes=30), "InvalidParameterCombination",
     "You have requested up to 3600 datapoints, which exceeds the limit of 1440. You may reduce the datapoints "
     "requested by increasing Period, or decreasing the time range."),
])
def test_bad_requests_get_cloudwatch_errors(lamb_server, call, code, message):
    cw = lamb_server.client("cloudwatch")
    call = dict(call)
    span = window(call.pop("minutes", 10))
    call.setdefault("Period", 60)
    with pytest.raises(cw.exceptions.ClientError) as e:
        cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations", **span, **call)
    err = e.value.response["Error"]
    assert (err["Code"], err["Message"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, message, 400)


def test_start_after_end_is_refused(lamb_server):
    cw = lamb_server.client("cloudwatch")
    now = dt.datetime.now(dt.timezone.utc)
    with pytest.raises(cw.exceptions.InvalidParameterValueException) as e:
        cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations", Period=60, Statistics=["Sum"],
                                 StartTime=now, EndTime=now - dt.timedelta(minutes=1))
    assert e.value.response["Error"]["Message"] == "The parameter StartTime must be less than the parameter EndTime."


@needs_cli
def test_aws_cli_get_metric_statistics(lamb_server, invoked):
    name, _ = invoked
    span = window()
    out = aws_json(lamb_server, "get-metric-statistics", "--namespace", "AWS/Lambda", "--metric-name", "Errors",
                   "--dimensions", f"Name=FunctionName,Value={name}", "--statistics", "Sum", "--period", "3600",
                   "--start-time", span["StartTime"].isoformat(), "--end-time", span["EndTime"].isoformat(),
                   service="cloudwatch")
    assert [p["Sum"] for p in out["Datapoints"]] == [1.0]
    listed = aws_json(lamb_server, "list-metrics", "--namespace", "AWS/Lambda", "--metric-name", "Invocations",
                      "--dimensions", f"Name=FunctionName,Value={name}", service="cloudwatch")
    assert {"Name": "FunctionName", "Value": name} in [d for m in listed["Metrics"] for d in m["Dimensions"]]


def test_async_metrics(lamb_server, lam):
    """AsyncEventsReceived and AsyncEventAge from the async queue, in CloudWatch and Prometheus."""
    from prometheus_client.parser import text_string_to_metric_families
    import urllib.request

    from .conftest import wait_for

    name = unique("cw-async")
    create(lam, name, FAILING)
    for _ in range(2):
        assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    cw = lamb_server.client("cloudwatch")
    fn = {"FunctionName": name}

    def invoked_twice():
        out = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="AsyncEventAge", Period=3600,
                                       Dimensions=[{"Name": "FunctionName", "Value": name}], Statistics=["SampleCount"],
                                       **window())
        return [p["SampleCount"] for p in out["Datapoints"]] == [2.0]

    wait_for(invoked_twice, 60, 0.1, "two async invocations")
    assert one_datapoint(cw, "AsyncEventsReceived", fn, Statistics=["Sum"])["Sum"] == 2.0
    assert one_datapoint(cw, "AsyncEventAge", fn, Statistics=["Maximum"])["Unit"] == "Milliseconds"
    with urllib.request.urlopen(lamb_server.url + "/metrics") as r:
        text = r.read().decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    where = (("account", lamb_server.account_id), ("faas_name", name), ("region", lamb_server.region))
    assert samples[("aws_lambda_async_events_received_total", where)] == 2
