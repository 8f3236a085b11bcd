"""A REST API stage's method settings: UpdateStage's patch paths and the settings a method gets.

https://docs.aws.amazon.com/apigateway/latest/api/API_MethodSetting.html: a stage's ``methodSettings``
maps a key, ``*/*`` (every method of the stage) or ``{resource path}/{http method}`` (one method), to
a ``MethodSetting``. UpdateStage changes one member with the patch path
``/{resource path}/{http method}/{setting}`` (https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateStage.html),
the resource path without its first ``/`` and, when it has more segments, either as they are
(``/pets/{id}/GET/...``) or with ``~1`` for ``/`` (``/~1pets~1{id}/GET/...``, CloudFormation's form;
``~1`` alone is the root resource). The settings served here: ``metrics/enabled`` (``metricsEnabled``:
detailed metrics, ``metrics.py``), ``logging/loglevel`` (``loggingLevel`` OFF, ERROR or INFO) and
``logging/dataTrace`` (``dataTraceEnabled``: execution logs, ``execution_log.py``),
``throttling/rateLimit`` and ``throttling/burstLimit`` (``throttle.py``), ``caching/*`` (the stage
cache, ``api_cache.py``). A new member starts from
AWS's defaults (the account's throttle, caching off) and a method's own member replaces ``*/*`` for
that method. ``PARSERS`` maps a setting's path to its key and value parser, so more settings (the
API cache's ``caching/*``) are one entry each. Pure.
"""

from __future__ import annotations

from typing import Callable, Mapping

from . import api_cache

STAGE_KEY = "*/*"
LOG_LEVELS = ("OFF", "ERROR", "INFO")
# An ANY method cannot carry its own settings (AWS answers the path as invalid).
METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "*"})

# The paths AWS lists when UpdateStage's path is not one of them, in AWS's own (irregular) punctuation.
_SETTINGS = ("metrics/enabled", "logging/dataTrace", "logging/loglevel", "throttling/burstLimit",
             "throttling/rateLimit", "caching/ttlInSeconds", "caching/enabled", "caching/dataEncrypted",
             "caching/requireAuthorizationForCacheControl", "caching/unauthorizedCacheControlHeaderStrategy")
_STAGE_PATHS = ("/deploymentId", "/description", "/cacheClusterEnabled", "/cacheClusterSize", "/clientCertificateId",
                "/accessLogSettings", "/accessLogSettings/destinationArn", "/accessLogSettings/format")


def _listing(prefix: str) -> str:
    out = ", ".join(f"{prefix}/{s}" for s in _SETTINGS)
    glue = " " if prefix == "/*/*" else ""
    return out.replace("/burstLimit, ", "/burstLimit" + glue).replace("/rateLimit, ", "/rateLimit" + glue)


VALID_PATHS = "[" + ", ".join(_STAGE_PATHS) + ", " + _listing("/{resourcePath}/{httpMethod}") + ", " + \
    _listing("/*/*") + ", /variables/{variable_name}, /tracingEnabled]"
VALID_SETTINGS = "[" + ", ".join(f".../{s}" for s in _SETTINGS) + "]"


class Invalid(ValueError):
    """A bad path or value: BadRequestException with this message."""


def defaults(account_rate: float, account_burst: int) -> dict:
    """A new member as GetStage shows it (the throttle: the account's, as AWS shows)."""
    return {"metricsEnabled": False, "loggingLevel": "OFF", "dataTraceEnabled": False,
            "throttlingBurstLimit": int(account_burst), "throttlingRateLimit": float(account_rate),
            **api_cache.DEFAULTS}


def _bool(value: str | None) -> bool:
    if str(value).lower() not in ("true", "false"):
        raise Invalid(f"Invalid boolean value: {value}")  # Lamb's wording
    return str(value).lower() == "true"


def _level(value: str | None) -> str:
    if value not in LOG_LEVELS:
        raise Invalid(f"Invalid logging level: {value}. Must be one of: {', '.join(LOG_LEVELS)}")  # Lamb's wording
    return value


def _rate(value: str | None) -> float:
    try:
        rate = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Invalid(f"Invalid rate limit value: {value}") from None  # Lamb's wording
    if rate < 0 or rate != rate:
        raise Invalid(f"Invalid rate limit value: {value}")
    return rate


def _burst(value: str | None) -> int:
    if not str(value).lstrip("-").isdigit() or int(str(value)) < 0:
        raise Invalid(f"Invalid burst limit value: {value}")  # Lamb's wording
    return int(str(value))


def _ttl(value: str | None) -> int:
    if not str(value).isdigit() or not 0 <= int(str(value)) <= api_cache.TTL_MAX_S:
        raise Invalid(f"Cache ttl must be between 0 and {api_cache.TTL_MAX_S} seconds")  # Lamb's wording
    return int(str(value))


def _strategy(value: str | None) -> str:
    if value not in api_cache.STRATEGIES:
        raise Invalid(f"Invalid unauthorized cache control header strategy specified: {value}. Valid values "
                      f"are {', '.join(api_cache.STRATEGIES)}")  # Lamb's wording
    return value


# setting path -> (MethodSetting key, value parser)
PARSERS: dict[str, tuple[str, Callable[[str | None], object]]] = {
    "metrics/enabled": ("metricsEnabled", _bool),
    "logging/loglevel": ("loggingLevel", _level),
    "logging/dataTrace": ("dataTraceEnabled", _bool),
    "throttling/rateLimit": ("throttlingRateLimit", _rate),
    "throttling/burstLimit": ("throttlingBurstLimit", _burst),
    # the stage cache (api_cache.py)
    "caching/enabled": ("cachingEnabled", _bool),
    "caching/ttlInSeconds": ("cacheTtlInSeconds", _ttl),
    "caching/dataEncrypted": ("cacheDataEncrypted", _bool),
    "caching/requireAuthorizationForCacheControl": ("requireAuthorizationForCacheControl", _bool),
    "caching/unauthorizedCacheControlHeaderStrategy": ("unauthorizedCacheControlHeaderStrategy", _strategy),
}


def split(path: str) -> tuple[str, str] | None:
    """(member key, setting path) of a method-setting patch path, or None when it is not one
    (``/*/*/logging/loglevel`` -> (``*/*``, ``logging/loglevel``))."""
    parts = path.split("/")[1:]
    for i in range(1, len(parts)):
        if parts[i] in METHODS or parts[i] == "ANY":
            if not parts[0]:
                return None
            return "/".join(parts[:i + 1]), "/".join(parts[i + 1:])
    return None


def patch(settings: dict, path: str, kind: str, value: str | None, defaults_: dict) -> bool:
    """Apply one patch operation to a stage's ``methodSettings`` (in place). False when ``path`` is not a
    method-setting path (the caller answers it); raises ``Invalid`` for a bad setting or value."""
    found = split(path)
    if found is None:
        return False
    key, setting = found
    resource, _, method = key.rpartition("/")
    if method == "ANY" or (method == "*") != (key == STAGE_KEY) or (resource == "*") != (key == STAGE_KEY):
        raise Invalid(f"Invalid method setting path: {path}. Must be one of: {VALID_PATHS}")
    if kind == "remove" and not setting:
        settings.pop(key, None)
        return True
    parser = PARSERS.get(setting)
    if parser is None:
        raise Invalid(f"Invalid method setting path: {setting}. Must be one of: {VALID_SETTINGS}")
    name, parse = parser
    member = dict(settings.get(key) or settings.get(STAGE_KEY) or defaults_)
    if kind == "remove":
        member[name] = defaults_.get(name)
    else:
        member[name] = parse(value)
    settings[key] = member
    return True


def normal_path(key_path: str) -> str:
    """A member key's resource path as the resource's own path (``~1pets~1{id}``, ``pets/{id}`` -> ``/pets/{id}``)."""
    path = key_path.replace("~1", "/").replace("~0", "~")
    return path if path.startswith("/") else "/" + path


def effective(settings: Mapping[str, dict] | None, resource_path: str, method: str) -> tuple[str, dict] | None:
    """(member key, settings) that apply to a method of a resource: its own member, else ``*/*``, else None."""
    if not settings:
        return None
    if len(settings) > 1 or STAGE_KEY not in settings:
        for key, member in settings.items():
            if key != STAGE_KEY:
                path, _, verb = key.rpartition("/")
                if verb == method and normal_path(path) == resource_path:
                    return key, member
    member = settings.get(STAGE_KEY)
    return (STAGE_KEY, member) if member is not None else None


__all__ = ["STAGE_KEY", "LOG_LEVELS", "PARSERS", "Invalid", "defaults", "split", "patch", "effective",
           "normal_path", "VALID_PATHS", "VALID_SETTINGS"]
