"""REST API caching: a stage's cache cluster, an in-memory LRU bounded by bytes.

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-caching.html:

- a stage's cache (``cacheClusterEnabled``) has a capacity (``cacheClusterSize``, GB); Lamb's cache is
  an LRU over the entries' bytes, the capacity capped by the ``api_cache_max_bytes`` limit; changing the
  size or disabling the cache deletes its data, as AWS recreates the instance;
- a method is cached when the stage's cache is on and its method setting (the method's own, else
  ``*/*``) has ``cachingEnabled`` and a TTL above 0; for ``*/*`` only GET methods, others need a
  setting of their own (AWS: "only GET methods have caching enabled by default");
- the key: the method, the integration's ``cacheNamespace`` (its resource id by default) and the values
  of its ``cacheKeyParameters`` (``method.request.{querystring,header,path}.<name>``): path parameters
  that are not key parameters do not separate entries, as on AWS;
- a response above 1,048,576 bytes is not cached (AWS's maximum cached response; with
  ``cacheDataEncrypted`` the entry is sealed with AES-GCM under the cache's own random key, kept in
  memory only, and its sealed size counts, as AWS says encryption may increase it);
- ``Cache-Control: max-age=0`` from a client invalidates the entry (the integration answers and replaces
  it) when ``requireAuthorizationForCacheControl`` is off or the caller may ``execute-api:InvalidateCache``
  on the method; otherwise ``unauthorizedCacheControlHeaderStrategy`` decides: ``FAIL_WITH_403``,
  ``SUCCEED_WITH_RESPONSE_HEADER`` (served as if the header were absent, with a warning header) or
  ``SUCCEED_WITHOUT_RESPONSE_HEADER``;
- only 2xx answers of the integration are stored (Lamb's rule: AWS does not document which statuses it
  keeps).
"""

from __future__ import annotations

import json
import os
import time
from collections import OrderedDict
from typing import Callable, Mapping, NamedTuple

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

GB = 1024 ** 3
# cacheClusterSize (botocore's CacheClusterSize enum) -> bytes
SIZES = {s: int(float(s) * GB) for s in ("0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")}
DEFAULT_SIZE = "0.5"
MAX_ENTRY_BYTES = 1_048_576
TTL_DEFAULT_S = 300
TTL_MAX_S = 3600
STRATEGIES = ("FAIL_WITH_403", "SUCCEED_WITH_RESPONSE_HEADER", "SUCCEED_WITHOUT_RESPONSE_HEADER")
# A MethodSetting's caching members and their defaults (GetStage shows them so).
DEFAULTS = {"cachingEnabled": False, "cacheTtlInSeconds": TTL_DEFAULT_S, "cacheDataEncrypted": False,
            "requireAuthorizationForCacheControl": True,
            "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER"}
WARNING_HEADER = "x-amz-apigw-cache-control"
WARNING_TEXT = "199 Cache-Control header ignored: the caller is not authorized to invalidate the cache"
INVALIDATE_ACTION = "execute-api:InvalidateCache"
_OVERHEAD = 64  # bytes counted per entry beside its key, headers and body


class Entry(NamedTuple):
    status: int
    headers: tuple  # () while sealed: they are in ``body``
    body: bytes
    expires: float
    size: int
    sealed: bool = False


class StageCache:
    """One stage's cache cluster: entries by key until their TTL, least recently used dropped first."""

    def __init__(self, capacity: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.clock = clock
        self.used = 0
        self._entries: "OrderedDict[tuple, Entry]" = OrderedDict()
        self._aead: AESGCM | None = None  # cacheDataEncrypted entries' key, made on first use

    def _seal(self, headers: tuple, body: bytes) -> bytes:
        if self._aead is None:
            self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        packed = json.dumps(headers).encode()
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, len(packed).to_bytes(4, "big") + packed + body, None)

    def _open(self, entry: Entry) -> Entry:
        assert self._aead is not None
        plain = self._aead.decrypt(entry.body[:12], entry.body[12:], None)
        n = int.from_bytes(plain[:4], "big")
        headers = tuple(tuple(h) for h in json.loads(plain[4:4 + n]))
        return entry._replace(headers=headers, body=plain[4 + n:], sealed=False)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= self.clock():
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return self._open(entry) if entry.sealed else entry

    def put(self, key: tuple, ttl_s: int, status: int, headers, body: bytes, encrypted: bool = False) -> bool:
        """Keep an answer for ``ttl_s`` seconds (sealed when ``encrypted``); False when it is not kept
        (too large, TTL 0)."""
        self._remove(key)
        headers = tuple(headers)
        if encrypted:
            body, headers = self._seal(headers, body), ()
        if ttl_s <= 0 or len(body) > MAX_ENTRY_BYTES:
            return False
        size = _OVERHEAD + len(body) + sum(len(k) + len(v) for k, v in headers) + sum(len(str(p)) for p in key)
        if size > self.capacity:
            return False
        while self.used + size > self.capacity:
            oldest = next(iter(self._entries))
            self._remove(oldest)
        self._entries[key] = Entry(status, headers, body, self.clock() + ttl_s, size, encrypted)
        self.used += size
        return True

    def invalidate(self, key: tuple) -> None:
        self._remove(key)

    def flush(self) -> None:
        self._entries.clear()
        self.used = 0

    def _remove(self, key: tuple) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.used -= entry.size


class ApiCaches:
    """The stages' caches of one account and region, by (API id, stage name)."""

    def __init__(self, max_bytes: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_bytes = max_bytes  # Lamb's cap on one stage's capacity (limits.api_cache_max_bytes)
        self.clock = clock
        self._caches: dict[tuple[str, str], tuple[str, StageCache]] = {}

    def capacity(self, size: str) -> int:
        full = SIZES.get(size, SIZES[DEFAULT_SIZE])
        return full if self.max_bytes is None else min(full, self.max_bytes)

    def of(self, api_id: str, stage_name: str, stage: Mapping) -> StageCache | None:
        """The stage's cache, made (or remade, empty, for a new size) as its settings say; None when off."""
        key = (api_id, stage_name)
        if not stage.get("cacheClusterEnabled"):
            self._caches.pop(key, None)
            return None
        size = stage.get("cacheClusterSize") or DEFAULT_SIZE
        found = self._caches.get(key)
        if found is None or found[0] != size:
            found = self._caches[key] = (size, StageCache(self.capacity(size), self.clock))
        return found[1]

    def flush(self, api_id: str, stage_name: str) -> None:
        found = self._caches.get((api_id, stage_name))
        if found is not None:
            found[1].flush()

    def drop(self, api_id: str, keep: Callable[[str], bool] = lambda _s: False) -> None:
        """Forget an API's stage caches (those whose stage ``keep`` does not keep)."""
        for key in [k for k in self._caches if k[0] == api_id and not keep(k[1])]:
            del self._caches[key]


def method_caching(stage: Mapping, resource_path: str, verb: str, request_method: str) -> dict | None:
    """The caching settings of a method (``verb``: as put, ``ANY`` included) for a request, or None
    when it is not cached."""
    from .method_settings import STAGE_KEY, effective  # it imports this module's defaults

    found = effective(stage.get("methodSettings"), resource_path, verb)
    if found is None:
        return None
    key, chosen = found
    settings = {k: chosen.get(k, v) for k, v in DEFAULTS.items()}
    if not settings["cachingEnabled"] or int(settings["cacheTtlInSeconds"]) <= 0:
        return None
    if key == STAGE_KEY and request_method != "GET":
        return None
    return settings


def key_of(verb: str, integration: Mapping, resource_id: str, query: Mapping[str, list], headers: Mapping[str, str],
           path_params: Mapping[str, str]) -> tuple:
    """A request's cache key (``query``: every value of each name; ``headers``: lower-cased names)."""
    parts: list = [verb, integration.get("cacheNamespace") or resource_id]
    for param in sorted(integration.get("cacheKeyParameters") or []):
        where, _, name = param.removeprefix("method.request.").partition(".")
        if where in ("querystring", "multivaluequerystring"):
            value = tuple(query.get(name) or ())
        elif where == "header":
            value = headers.get(name.lower())
        elif where == "path":
            value = path_params.get(name)
        else:
            value = None
        parts.append((param, value))
    return tuple(parts)


def invalidation_asked(headers: Mapping[str, str]) -> bool:
    """Whether the client's ``Cache-Control`` asks for a fresh answer (``max-age=0``)."""
    value = headers.get("cache-control") or ""
    return any(d.strip().replace(" ", "").lower() == "max-age=0" for d in value.split(","))


class Plan(NamedTuple):
    """What the cache does for one request."""

    cache: StageCache
    key: tuple
    ttl: int
    encrypted: bool  # cacheDataEncrypted: the entry is kept sealed
    fresh: bool  # skip the entry (an authorized invalidation): the integration answers and replaces it
    warn: bool  # an unauthorized Cache-Control ignored, said in a response header


class Refused(Exception):
    """An unauthorized invalidation under FAIL_WITH_403."""


def plan(cache: StageCache, settings: Mapping, key: tuple, headers: Mapping[str, str],
         may_invalidate: Callable[[], bool]) -> Plan:
    """The cache's part in a request to a cached method; raises ``Refused`` (FAIL_WITH_403)."""
    fresh = warn = False
    if invalidation_asked(headers):
        if not settings["requireAuthorizationForCacheControl"] or may_invalidate():
            fresh = True
        elif settings["unauthorizedCacheControlHeaderStrategy"] == "FAIL_WITH_403":
            raise Refused()
        else:
            warn = settings["unauthorizedCacheControlHeaderStrategy"] == "SUCCEED_WITH_RESPONSE_HEADER"
    return Plan(cache, key, int(settings["cacheTtlInSeconds"]), bool(settings["cacheDataEncrypted"]), fresh, warn)


__all__ = ["ApiCaches", "StageCache", "Entry", "Plan", "Refused", "SIZES", "DEFAULTS", "STRATEGIES",
           "method_caching", "key_of", "plan", "invalidation_asked"]
