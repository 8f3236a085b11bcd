"""API Gateway's CloudWatch metrics (namespace ``AWS/ApiGateway``), one set of points per request.

HTTP APIs (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html):
``Count``, ``4xx``, ``5xx``, ``Latency``, ``IntegrationLatency``, ``DataProcessed`` under the
dimension sets ``ApiId`` and ``ApiId, Stage``, and ``ApiId, Method, Resource, Stage`` when the
stage's ``DefaultRouteSettings.DetailedMetricsEnabled`` is on.

WebSocket APIs (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-logging.html):
``ConnectCount``, ``MessageCount``, ``IntegrationError``, ``ClientError``, ``ExecutionError``,
``IntegrationLatency`` under ``ApiId`` and ``ApiId, Stage``, and ``ApiId, Stage, Route`` when the stage's
``DefaultRouteSettings.DetailedMetricsEnabled`` is on (``websocket`` records them).

REST APIs (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html):
``Count``, ``4XXError``, ``5XXError``, ``Latency``, ``IntegrationLatency`` under ``ApiName`` and
``ApiName, Stage``, and ``ApiName, Method, Resource, Stage`` for a method whose settings (its own
member of the stage's method settings, else ``*/*``) have ``metricsEnabled``. ``ApiName`` is the API's name without its non-ASCII characters,
or the API's id when none is left. ``CacheHitCount``/``CacheMissCount`` for stages with an API cache
(``api_cache``): 1 or 0 per request to a cached method (hit or miss), nothing for other requests.

``4xx``/``5xx`` are 1 or 0 per request, so their ``Average`` is the error rate and their ``Sum``
the count, as AWS describes. Each request is stored once, under its fullest dimension set; the
smaller sets are sums of those (``projections``, given to ``invoke.metric_query``). Pure.
"""

from __future__ import annotations

from typing import Callable, Iterator, Mapping

from . import method_settings

NAMESPACE = "AWS/ApiGateway"

UNITS = {
    "Count": "Count", "4xx": "Count", "5xx": "Count", "4XXError": "Count", "5XXError": "Count",
    "CacheHitCount": "Count", "CacheMissCount": "Count",
    "ConnectCount": "Count", "MessageCount": "Count", "IntegrationError": "Count", "ClientError": "Count",
    "ExecutionError": "Count",
    "Latency": "Milliseconds", "IntegrationLatency": "Milliseconds", "DataProcessed": "Bytes",
}


def api_name(name: str, api_id: str) -> str:
    """A REST API's ``ApiName`` dimension: its name without non-ASCII characters, else its id."""
    kept = "".join(c for c in name if c.isascii())
    return kept or api_id


def detailed(stage: Mapping, rest: bool, resource: str = "", method: str = "*") -> bool:
    """Whether a stage publishes per-route metrics (REST APIs: for this method of this resource, by the
    stage's method settings, ``method_settings.py``)."""
    if rest:
        found = method_settings.effective(stage.get("methodSettings"), resource, method)
        return found is not None and bool(found[1].get("metricsEnabled"))
    return bool((stage.get("DefaultRouteSettings") or {}).get("DetailedMetricsEnabled"))


def record(put: Callable[..., None], *, rest: bool, api: str, stage: str, status: int, latency_ms: float,
           integration_ms: float | None, data_bytes: int, method: str | None = None,
           resource: str | None = None, cache_hit: bool | None = None) -> None:
    """One request's points. ``api``: the ApiName (REST) or ApiId (HTTP); ``method``/``resource``
    only when the stage has detailed metrics (and a route or resource matched); ``cache_hit``: None
    unless the request reached a cached method, else whether the answer came from the cache."""
    dims = {"ApiName" if rest else "ApiId": api, "Stage": stage}
    if method is not None and resource is not None:
        dims["Method"], dims["Resource"] = method, resource
    put("Count", 1, **dims)
    put("4XXError" if rest else "4xx", 1 if 400 <= status < 500 else 0, **dims)
    put("5XXError" if rest else "5xx", 1 if status >= 500 else 0, **dims)
    put("Latency", latency_ms, **dims)
    if integration_ms is not None:
        put("IntegrationLatency", integration_ms, **dims)
    if not rest:
        put("DataProcessed", data_bytes, **dims)
    elif cache_hit is not None:
        put("CacheHitCount", 1 if cache_hit else 0, **dims)
        put("CacheMissCount", 0 if cache_hit else 1, **dims)


def projections(dims: Mapping[str, str]) -> Iterator[tuple[tuple[str, str], ...]]:
    """The dimension sets a point stored under ``dims`` is published under (sorted by name)."""
    key = "ApiName" if "ApiName" in dims else "ApiId"
    api = dims.get(key)
    if api is None:
        return
    yield ((key, api),)
    stage = dims.get("Stage")
    if stage is None:
        return
    yield tuple(sorted({key: api, "Stage": stage}.items()))
    if "Method" in dims and "Resource" in dims:
        yield tuple(sorted({key: api, "Stage": stage, "Method": dims["Method"], "Resource": dims["Resource"]}.items()))
    elif "Route" in dims:  # WebSocket APIs' detailed metrics
        yield tuple(sorted({key: api, "Stage": stage, "Route": dims["Route"]}.items()))


__all__ = ["NAMESPACE", "UNITS", "api_name", "detailed", "record", "projections"]
