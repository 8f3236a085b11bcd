"""api/apigateway_cache.py: a stage's cache cluster, the caching method settings, an integration's cache key
(the operations themselves: tests/integration/test_rest_api_cache.py)."""

from __future__ import annotations

import pytest

from lamb.api import apigateway_cache as cache
from lamb.apis import method_settings
from lamb.protocol.errors import AwsError


def test_cluster_status_and_size():
    stage: dict = {}
    cache.set_cluster(stage, None, None)
    assert stage == {"cacheClusterStatus": "NOT_AVAILABLE"}
    cache.set_cluster(stage, True, None)
    assert stage == {"cacheClusterEnabled": True, "cacheClusterSize": "0.5", "cacheClusterStatus": "AVAILABLE"}
    assert cache.patch_stage_cache(stage, ["cacheClusterSize"], "replace", "237")
    assert stage["cacheClusterSize"] == "237"
    with pytest.raises(AwsError) as e:
        cache.patch_stage_cache(stage, ["cacheClusterSize"], "replace", "2")
    assert e.value.code == "BadRequestException"
    assert cache.patch_stage_cache(stage, ["cacheClusterEnabled"], "replace", "false")
    assert (stage["cacheClusterEnabled"], stage["cacheClusterStatus"]) == (False, "NOT_AVAILABLE")


def test_method_caching_paths():
    """The caching/* members are method settings (apis/method_settings.py) with the cache's checks."""
    defaults = method_settings.defaults(10_000, 5_000)
    settings: dict = {"*/*": {"metricsEnabled": True}}
    assert method_settings.patch(settings, "/*/*/caching/enabled", "replace", "true", defaults)
    assert settings["*/*"] == {"metricsEnabled": True, "cachingEnabled": True}
    assert method_settings.patch(settings, "/~1pets/GET/caching/ttlInSeconds", "replace", "60", defaults)
    own = settings["~1pets/GET"]  # a method's own member starts as a copy of */*
    assert own["cacheTtlInSeconds"] == 60 and own["cachingEnabled"] is True and own["metricsEnabled"] is True
    assert method_settings.patch(settings, "/*/*/caching/unauthorizedCacheControlHeaderStrategy", "replace",
                                 "FAIL_WITH_403", defaults)
    for path, value in (("/*/*/caching/ttlInSeconds", "3601"), ("/*/*/caching/ttlInSeconds", "x"),
                        ("/*/*/caching/unauthorizedCacheControlHeaderStrategy", "NOPE"),
                        ("/~1pets/*/caching/enabled", "true")):
        with pytest.raises(method_settings.Invalid):
            method_settings.patch(settings, path, "replace", value, defaults)
    assert not cache.patch_stage_cache({}, ["*", "*", "caching", "enabled"], "replace", "true")
    assert not cache.patch_stage_cache({}, ["description"], "replace", "x")


def test_integration_cache_key():
    integ = {"cacheNamespace": "res1", "cacheKeyParameters": []}
    cache.cache_key(integ, {"cacheKeyParameters": ["method.request.header.X-A"], "cacheNamespace": "shared"})
    assert integ == {"cacheNamespace": "shared", "cacheKeyParameters": ["method.request.header.X-A"]}
    with pytest.raises(AwsError, match="Invalid cache key parameter specified: method.request.body.x"):
        cache.cache_key(integ, {"cacheKeyParameters": ["method.request.body.x"]})
    assert cache.patch_cache_key(integ, "/cacheKeyParameters/method.request.querystring.q", "add", None)
    assert integ["cacheKeyParameters"] == ["method.request.header.X-A", "method.request.querystring.q"]
    assert cache.patch_cache_key(integ, "/cacheKeyParameters/method.request.header.X-A", "remove", None)
    assert cache.patch_cache_key(integ, "/cacheNamespace", "replace", "other")
    assert integ == {"cacheNamespace": "other", "cacheKeyParameters": ["method.request.querystring.q"]}
    assert not cache.patch_cache_key(integ, "/uri", "replace", "x")
