"""API Gateway's CloudWatch metrics (``AWS/ApiGateway``) after real requests: an HTTP API's
``Count``/``4xx``/``5xx``/``Latency``/``IntegrationLatency``/``DataProcessed`` by ``ApiId`` and
``ApiId, Stage`` (and per route with detailed metrics), a REST API's ``Count``/``4XXError``/
``5XXError`` by ``ApiName`` and ``ApiName, Stage``, read with boto3's CloudWatch client."""

from __future__ import annotations

import datetime as dt

from .conftest import create, unique, wait_for
from .test_deploy_apis import curl

CODE = ("def handler(event, context):\n"
        "    if 'boom' in (event.get('rawPath') or event.get('path') or ''):\n"
        "        raise ValueError('asked to fail')\n"
        "    return {'statusCode': 200, 'body': 'fine'}\n")


def window() -> dict:
    now = dt.datetime.now(dt.timezone.utc)
    return {"StartTime": now - dt.timedelta(minutes=30), "EndTime": now + dt.timedelta(minutes=30)}


def stat(cw, metric: str, dims: dict, statistic: str = "Sum") -> float | None:
    """``statistic`` of ``metric`` over the last and next half hour (None without data)."""
    out = cw.get_metric_statistics(Namespace="AWS/ApiGateway", MetricName=metric, Period=3600, Statistics=[statistic],
                                   Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()], **window())
    assert out["Label"] == metric and len(out["Datapoints"]) <= 1, out
    return out["Datapoints"][0][statistic] if out["Datapoints"] else None


def listed(cw, **kw) -> set[tuple[str, tuple]]:
    found = cw.list_metrics(Namespace="AWS/ApiGateway", **kw)["Metrics"]
    assert all(m["Namespace"] == "AWS/ApiGateway" for m in found)
    return {(m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"]))) for m in found}


def function(server, prefix: str, code: str = CODE) -> str:
    """A new function API Gateway may invoke; its ARN."""
    lam = server.client()
    fn = unique(prefix)
    arn = create(lam, fn, code)["FunctionArn"]
    lam.add_permission(FunctionName=fn, StatementId="apigw", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com")
    return arn


def test_http_api_metrics_per_api_stage_and_route(lamb_server):
    v2, cw = lamb_server.client("apigatewayv2"), lamb_server.client("cloudwatch")
    arn = function(lamb_server, "m2")
    api_id = v2.create_api(Name="metered", ProtocolType="HTTP", Target=arn, RouteKey="GET /items/{id}")["ApiId"]
    base = f"http://{api_id}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}"
    assert curl(base + "/items/7")[0] == 200
    assert curl(base + "/nothing-here")[0] == 404  # no route: 4xx
    assert curl(base + "/items/boom")[0] == 500  # a function error: 5xx
    by_stage = {"ApiId": api_id, "Stage": "$default"}
    wait_for(lambda: stat(cw, "Count", by_stage) == 3, 30, 0.2, "three requests counted")
    assert stat(cw, "Count", {"ApiId": api_id}) == 3
    assert (stat(cw, "4xx", by_stage), stat(cw, "5xx", by_stage)) == (1, 1)
    assert abs(stat(cw, "4xx", by_stage, "Average") - 1 / 3) < 1e-9  # the error rate
    assert stat(cw, "IntegrationLatency", by_stage, "SampleCount") == 2  # the 404 reached no integration
    assert stat(cw, "Latency", by_stage, "SampleCount") == 3
    assert stat(cw, "Latency", by_stage, "Maximum") >= stat(cw, "IntegrationLatency", by_stage, "Maximum") > 0
    assert stat(cw, "DataProcessed", by_stage) >= len("fine")
    names = {name for name, _ in listed(cw, Dimensions=[{"Name": "ApiId", "Value": api_id}])}
    assert names == {"Count", "4xx", "5xx", "Latency", "IntegrationLatency", "DataProcessed"}
    assert stat(cw, "Count", {"ApiName": "metered", "Stage": "$default"}) is None  # REST's dimensions

    # Detailed metrics: per route as well (ApiId, Method, Resource, Stage), still summed per stage.
    v2.update_stage(ApiId=api_id, StageName="$default", DefaultRouteSettings={"DetailedMetricsEnabled": True})
    assert curl(base + "/items/8")[0] == 200
    route = dict(by_stage, Method="GET", Resource="/items/{id}")
    wait_for(lambda: stat(cw, "Count", route) == 1, 30, 0.2, "a request counted for its route")
    assert stat(cw, "Count", by_stage) == 4
    assert ("Count", tuple(sorted(route.items()))) in listed(cw, MetricName="Count")


def test_rest_api_metrics_by_api_name_and_stage(lamb_server):
    apigw, cw = lamb_server.client("apigateway"), lamb_server.client("cloudwatch")
    arn = function(lamb_server, "m1")
    name = unique("metered-") + "-é"  # ApiName drops non-ASCII characters
    api = apigw.create_rest_api(name=name)
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="{proxy+}")
    apigw.put_method(restApiId=api["id"], resourceId=res["id"], httpMethod="ANY", authorizationType="NONE")
    apigw.put_integration(restApiId=api["id"], resourceId=res["id"], httpMethod="ANY", type="AWS_PROXY",
                          integrationHttpMethod="POST",
                          uri=f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{arn}/invocations")
    apigw.create_deployment(restApiId=api["id"], stageName="live")
    base = f"http://{api['id']}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}"
    assert curl(base + "/live/a/b")[0] == 200
    assert curl(base + "/live")[0] == 403  # no resource: Missing Authentication Token, a 4XXError
    assert curl(base + "/live/boom")[0] == 502  # a function error: 5XXError
    by_stage = {"ApiName": name[:-1], "Stage": "live"}
    wait_for(lambda: stat(cw, "Count", by_stage) == 3, 30, 0.2, "three requests counted")
    assert stat(cw, "Count", {"ApiName": name[:-1]}) == 3
    assert (stat(cw, "4XXError", by_stage), stat(cw, "5XXError", by_stage)) == (1, 1)
    assert stat(cw, "IntegrationLatency", by_stage, "SampleCount") == 2
    assert stat(cw, "DataProcessed", by_stage) is None and stat(cw, "4xx", by_stage) is None  # HTTP APIs' only
    assert {n for n, _ in listed(cw, Dimensions=[{"Name": "ApiName", "Value": name[:-1]}])} == {
        "Count", "4XXError", "5XXError", "Latency", "IntegrationLatency"}
    # Detailed metrics (UpdateStage's /*/*/metrics/enabled): per method and resource as well.
    apigw.update_stage(restApiId=api["id"], stageName="live",
                       patchOperations=[{"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"}])
    assert apigw.get_stage(restApiId=api["id"], stageName="live")["methodSettings"]["*/*"]["metricsEnabled"] is True
    assert curl(base + "/live/c")[0] == 200
    method = dict(by_stage, Method="ANY", Resource="/{proxy+}")
    wait_for(lambda: stat(cw, "Count", method) == 1, 30, 0.2, "a request counted for its method")
    assert stat(cw, "Count", by_stage) == 4
    data = cw.get_metric_data(MetricDataQueries=[{"Id": "errors", "MetricStat": {
        "Metric": {"Namespace": "AWS/ApiGateway", "MetricName": "5XXError",
                   "Dimensions": [{"Name": k, "Value": v} for k, v in by_stage.items()]},
        "Period": 3600, "Stat": "Sum"}}], **window())["MetricDataResults"]
    assert data[0]["Values"] == [1.0]
