"""REST API caching's control plane: a stage's cache cluster, the methods' caching settings, an
integration's cache key, and the flush operations (the cache itself: ``apis/api_cache.py``).

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-caching.html and the API
reference: CreateStage/CreateDeployment/UpdateStage ``cacheClusterEnabled`` and ``cacheClusterSize``
(``cacheClusterStatus`` AVAILABLE when enabled, NOT_AVAILABLE otherwise: Lamb's cache is ready at once,
where AWS passes through CREATE_IN_PROGRESS); UpdateStage's ``/{resource-path}/{method}/caching/*``
paths (``*/*`` for every method); PutIntegration/UpdateIntegration ``cacheKeyParameters`` and
``cacheNamespace``; FlushStageCache and FlushStageAuthorizersCache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..apis import api_cache
from . import apigateway as rest
from . import operation

if TYPE_CHECKING:
    from .context import RequestContext

SERVICE = rest.SERVICE
_KEY_SOURCES = ("method.request.querystring.", "method.request.multivaluequerystring.", "method.request.header.",
                "method.request.path.")


def cluster_size(value: str) -> str:
    if value not in api_cache.SIZES:
        raise rest._bad(f"Invalid cache cluster size specified: {value}. Valid sizes are "
                        f"{', '.join(api_cache.SIZES)}.")
    return value


def set_cluster(stage: dict, enabled: bool | None, size: str | None) -> None:
    """A stage's cache cluster (CreateStage, CreateDeployment, UpdateStage): ready at once when enabled."""
    if size is not None:
        stage["cacheClusterSize"] = cluster_size(str(size))
    if enabled is not None:
        stage["cacheClusterEnabled"] = bool(enabled)
    if stage.get("cacheClusterEnabled"):
        stage.setdefault("cacheClusterSize", api_cache.DEFAULT_SIZE)
        stage["cacheClusterStatus"] = "AVAILABLE"
    else:
        stage["cacheClusterStatus"] = "NOT_AVAILABLE"


def patch_stage_cache(stage: dict, parts: list[str], kind: str, value: str | None) -> bool:
    """UpdateStage's cache cluster paths (``/cacheClusterEnabled``, ``/cacheClusterSize``); False when
    ``parts`` names neither (the methods' ``caching/*`` settings are ``apis/method_settings.py``'s)."""
    if parts == ["cacheClusterEnabled"] and kind == "replace":
        set_cluster(stage, str(value).lower() == "true", None)
        return True
    if parts == ["cacheClusterSize"] and kind == "replace":
        set_cluster(stage, None, value)
        return True
    return False


def cache_key(integration: dict, params: dict) -> None:
    """An integration's ``cacheKeyParameters`` and ``cacheNamespace`` (PutIntegration)."""
    keys = params.get("cacheKeyParameters")
    if keys is not None:
        for key in keys:
            if not key.startswith(_KEY_SOURCES) or key.endswith("."):
                raise rest._bad(f"Invalid cache key parameter specified: {key}")
        integration["cacheKeyParameters"] = list(keys)
    if params.get("cacheNamespace"):
        integration["cacheNamespace"] = params["cacheNamespace"]


def patch_cache_key(integration: dict, path: str, kind: str, value: str | None) -> bool:
    """UpdateIntegration's ``/cacheNamespace`` and ``/cacheKeyParameters/<param>``; False for other paths."""
    if path == "/cacheNamespace" and kind == "replace":
        integration["cacheNamespace"] = value or integration.get("cacheNamespace")
        return True
    if not path.startswith("/cacheKeyParameters/") or kind not in ("add", "remove"):
        return False
    param = path[len("/cacheKeyParameters/"):]
    keys = [k for k in integration.get("cacheKeyParameters") or [] if k != param]
    if kind == "add":
        cache_key(integration, {"cacheKeyParameters": keys + [param]})
    else:
        integration["cacheKeyParameters"] = keys
    return True


def _stage(ctx: "RequestContext", params: dict) -> dict:
    stage = rest._doc(ctx, params["restApiId"])["stages"].get(params["stageName"])
    if stage is None:
        raise rest._not_found(ctx, "Stage", params["stageName"])
    return stage


@operation("FlushStageCache", service=SERVICE)
def flush_stage_cache(ctx: "RequestContext", params: dict) -> dict:
    _stage(ctx, params)
    ctx.lamb.http_apis.caches.flush(params["restApiId"], params["stageName"])
    return {}


@operation("FlushStageAuthorizersCache", service=SERVICE)
def flush_stage_authorizers_cache(ctx: "RequestContext", params: dict) -> dict:
    _stage(ctx, params)
    ctx.lamb.http_apis.auth_cache.drop((params["restApiId"], params["stageName"]))
    return {}
