"""apis/api_cache.py: the stage cache's LRU by bytes and TTL, the methods' settings, the key, invalidation."""

from __future__ import annotations

import pytest

from lamb.apis import api_cache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_live_for_their_ttl():
    clock = Clock()
    cache = api_cache.StageCache(10_000, clock)
    assert cache.put(("k",), 60, 200, [("Content-Type", "text/plain")], b"one")
    assert cache.get(("k",)).body == b"one"
    clock.now += 60
    assert cache.get(("k",)) is None and cache.used == 0 and len(cache) == 0
    assert not cache.put(("k",), 0, 200, [], b"ttl 0 keeps nothing")
    assert cache.get(("k",)) is None


def test_least_recently_used_entries_leave_first_within_the_capacity():
    cache = api_cache.StageCache(3 * (api_cache._OVERHEAD + 100 + 2), Clock())
    for name in ("a", "b", "c"):
        assert cache.put((name,), 60, 200, [], b"x" * 100)
    assert cache.get(("a",)) is not None  # a is now the most recent
    assert cache.put(("d",), 60, 200, [], b"x" * 100)  # b leaves
    assert cache.get(("b",)) is None
    assert [cache.get((n,)) is not None for n in ("a", "c", "d")] == [True, True, True]
    assert cache.used <= cache.capacity
    assert not cache.put(("huge",), 60, 200, [], b"x" * 1000)  # larger than the whole cache
    assert not api_cache.StageCache(10 * api_cache.MAX_ENTRY_BYTES, Clock()).put(
        ("big",), 60, 200, [], b"x" * (api_cache.MAX_ENTRY_BYTES + 1))  # AWS's largest cached response
    cache.invalidate(("a",))
    assert cache.get(("a",)) is None
    cache.flush()
    assert len(cache) == 0 and cache.used == 0


def test_stage_caches_follow_the_stage_settings():
    caches = api_cache.ApiCaches(max_bytes=1024)
    assert caches.of("api", "s", {"cacheClusterEnabled": False}) is None
    first = caches.of("api", "s", {"cacheClusterEnabled": True, "cacheClusterSize": "0.5"})
    assert first.capacity == 1024  # Lamb's cap below the cluster's 0.5 GB
    assert api_cache.ApiCaches().capacity("1.6") == int(1.6 * 1024 ** 3)
    first.put(("k",), 60, 200, [], b"v")
    assert caches.of("api", "s", {"cacheClusterEnabled": True, "cacheClusterSize": "0.5"}) is first
    caches.flush("api", "s")
    assert first.get(("k",)) is None
    resized = caches.of("api", "s", {"cacheClusterEnabled": True, "cacheClusterSize": "1.6"})
    assert resized is not first  # a new size: a new, empty cache
    caches.drop("api")
    assert caches.of("api", "s", {"cacheClusterEnabled": True, "cacheClusterSize": "1.6"}) is not resized


def test_method_settings_choose_what_is_cached():
    stage = {"methodSettings": {"*/*": {"cachingEnabled": True, "cacheTtlInSeconds": 60}}}
    assert api_cache.method_caching(stage, "/pets", "GET", "GET")["cacheTtlInSeconds"] == 60
    assert api_cache.method_caching(stage, "/pets", "POST", "POST") is None  # only GET by default
    assert api_cache.method_caching(stage, "/pets", "ANY", "POST") is None
    stage["methodSettings"]["~1pets/POST"] = {"cachingEnabled": True, "cacheTtlInSeconds": 30}
    assert api_cache.method_caching(stage, "/pets", "POST", "POST")["cacheTtlInSeconds"] == 30
    stage["methodSettings"]["~1pets/GET"] = {"cachingEnabled": True, "cacheTtlInSeconds": 0}
    assert api_cache.method_caching(stage, "/pets", "GET", "GET") is None  # TTL 0: not cached
    assert api_cache.method_caching({}, "/pets", "GET", "GET") is None
    settings = api_cache.method_caching(stage, "/other", "GET", "GET")
    assert settings["requireAuthorizationForCacheControl"] is True
    assert settings["unauthorizedCacheControlHeaderStrategy"] == "SUCCEED_WITH_RESPONSE_HEADER"


def test_the_key_is_the_namespace_and_the_key_parameters():
    integ = {"cacheNamespace": "ns", "cacheKeyParameters": ["method.request.querystring.q",
                                                            "method.request.header.X-Tenant",
                                                            "method.request.path.id"]}
    one = api_cache.key_of("GET", integ, "res", {"q": ["1"]}, {"x-tenant": "a"}, {"id": "7"})
    assert one == api_cache.key_of("GET", integ, "res", {"q": ["1"], "other": ["x"]}, {"x-tenant": "a", "h": "v"},
                                   {"id": "7"})
    assert one != api_cache.key_of("GET", integ, "res", {"q": ["2"]}, {"x-tenant": "a"}, {"id": "7"})
    assert one != api_cache.key_of("GET", integ, "res", {"q": ["1"]}, {"x-tenant": "b"}, {"id": "7"})
    assert one != api_cache.key_of("GET", integ, "res", {"q": ["1"]}, {"x-tenant": "a"}, {"id": "8"})
    bare = {"cacheKeyParameters": []}  # path parameters not in the key share an entry, as on AWS
    assert api_cache.key_of("GET", bare, "r1", {}, {}, {"id": "1"}) == api_cache.key_of("GET", bare, "r1", {}, {},
                                                                                          {"id": "2"})
    assert api_cache.key_of("GET", bare, "r1", {}, {}, {}) != api_cache.key_of("GET", bare, "r2", {}, {}, {})


def test_cache_control_invalidation_by_strategy():
    cache = api_cache.StageCache(10_000, Clock())
    base = dict(api_cache.DEFAULTS, cachingEnabled=True)
    asked = {"cache-control": "no-transform, max-age=0"}
    assert api_cache.invalidation_asked(asked) and not api_cache.invalidation_asked({"cache-control": "max-age=10"})
    assert api_cache.plan(cache, base, ("k",), asked, lambda: True).fresh
    step = api_cache.plan(cache, base, ("k",), asked, lambda: False)
    assert (step.fresh, step.warn) == (False, True)
    quiet = dict(base, unauthorizedCacheControlHeaderStrategy="SUCCEED_WITHOUT_RESPONSE_HEADER")
    assert api_cache.plan(cache, quiet, ("k",), asked, lambda: False)[4:] == (False, False)
    with pytest.raises(api_cache.Refused):
        api_cache.plan(cache, dict(base, unauthorizedCacheControlHeaderStrategy="FAIL_WITH_403"), ("k",), asked,
                       lambda: False)
    open_to_all = dict(base, requireAuthorizationForCacheControl=False)
    assert api_cache.plan(cache, open_to_all, ("k",), asked, lambda: False).fresh
    assert not api_cache.plan(cache, base, ("k",), {}, lambda: True).fresh


def test_encrypted_entries_are_sealed_in_memory():
    cache = api_cache.StageCache(10_000, Clock())
    headers = [("Content-Type", "application/json"), ("X-Secret", "header value")]
    assert cache.put(("k",), 60, 201, headers, b'{"secret": "body"}', encrypted=True)
    stored = cache._entries[("k",)]
    assert stored.sealed and stored.headers == () and b"secret" not in stored.body and b"header value" not in stored.body
    assert stored.size > api_cache._OVERHEAD + len(b'{"secret": "body"}')  # the sealed size counts
    got = cache.get(("k",))
    assert (got.status, got.headers, got.body) == (201, tuple(headers), b'{"secret": "body"}')
    assert api_cache.plan(cache, dict(api_cache.DEFAULTS, cacheDataEncrypted=True), ("k",), {}, lambda: True).encrypted
