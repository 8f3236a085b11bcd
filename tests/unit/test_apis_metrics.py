"""API Gateway's metric points (``apis/metrics.py``) and how CloudWatch's dimension sets read them."""

from __future__ import annotations

from lamb.apis import metrics as m
from lamb.invoke import metric_query as mq
from lamb.invoke.metrics import Metrics


def test_api_name_drops_non_ascii_and_falls_back_to_the_id():
    assert m.api_name("shop-é-api", "abc123") == "shop--api"
    assert m.api_name("商店", "abc123") == "abc123"


def test_detailed_metrics_settings():
    assert m.detailed({"DefaultRouteSettings": {"DetailedMetricsEnabled": True}}, rest=False)
    assert not m.detailed({"DefaultRouteSettings": {}}, rest=False)
    assert m.detailed({"methodSettings": {"*/*": {"metricsEnabled": True}}}, rest=True)
    assert not m.detailed({}, rest=True)


def test_http_api_points_and_their_dimension_sets():
    store = Metrics()
    m.record(store.put, rest=False, api="a1", stage="$default", status=200, latency_ms=5, integration_ms=4,
             data_bytes=10)
    m.record(store.put, rest=False, api="a1", stage="$default", status=404, latency_ms=1, integration_ms=None,
             data_bytes=0, method="GET", resource="/x")
    m.record(store.put, rest=False, api="a1", stage="prod", status=502, latency_ms=1, integration_ms=1, data_bytes=3)
    series = list(store.series())
    listed = set(mq.list_metrics(series, "Count", projections=m.projections))
    assert listed == {("Count", (("ApiId", "a1"),)), ("Count", (("ApiId", "a1"), ("Stage", "$default"))),
                      ("Count", (("ApiId", "a1"), ("Stage", "prod"))),
                      ("Count", (("ApiId", "a1"), ("Method", "GET"), ("Resource", "/x"), ("Stage", "$default")))}

    def total(metric, **dims):
        parts = mq.matching(series, metric, dims, m.projections)
        return sum(p[0] for points in parts for p in points.values())

    assert total("Count", ApiId="a1") == 3
    assert total("Count", ApiId="a1", Stage="$default") == 2  # the plain and the per-route series add up
    assert total("4xx", ApiId="a1", Stage="$default") == 1 and total("5xx", ApiId="a1") == 1
    assert total("IntegrationLatency", ApiId="a1", Stage="$default") == 4
    assert total("DataProcessed", ApiId="a1") == 13
    assert total("Count", ApiId="a1", Method="GET") == 0  # not a published set


def test_rest_api_points_use_rest_names():
    store = Metrics()
    m.record(store.put, rest=True, api="shop", stage="live", status=403, latency_ms=1, integration_ms=None,
             data_bytes=5)
    names = {name for name, _, _ in store.series()}
    assert names == {"Count", "4XXError", "5XXError", "Latency"}
    assert list(m.projections({"ApiName": "shop", "Stage": "live"})) == [
        (("ApiName", "shop"),), (("ApiName", "shop"), ("Stage", "live"))]
    assert m.UNITS["Latency"] == "Milliseconds" and m.UNITS["4XXError"] == "Count"


def test_websocket_route_dimension_set():
    assert list(m.projections({"ApiId": "ws1", "Stage": "prod", "Route": "$connect"})) == [
        (("ApiId", "ws1"),), (("ApiId", "ws1"), ("Stage", "prod")),
        (("ApiId", "ws1"), ("Route", "$connect"), ("Stage", "prod"))]
    assert m.UNITS["ConnectCount"] == m.UNITS["MessageCount"] == "Count"
