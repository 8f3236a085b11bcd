"""Route keys and how a request picks one, as HTTP APIs do.

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html:
a route key is ``$default`` or ``METHOD /path`` (``ANY`` matches every method); a path
segment ``{name}`` matches one segment, a last segment ``{name+}`` the rest of the path
(greedy). A request is matched, in order of priority: a route whose method and path
match without a greedy variable (the most specific first: literal segments beat
variables, left to right; a named method beats ``ANY``), then a route with a greedy
variable (the longest fixed prefix first), then ``$default``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
DEFAULT = "$default"
_VARIABLE = re.compile(r"^\{([A-Za-z0-9._-]+)(\+?)\}$")


class BadRouteKey(ValueError):
    pass


@dataclass(frozen=True)
class RouteKey:
    method: str  # "" for $default
    segments: tuple[str, ...]  # the path's segments, variables as written
    greedy: bool

    @property
    def is_default(self) -> bool:
        return self.method == ""

    def path(self) -> str:
        return "/" + "/".join(self.segments)


def parse(key: str) -> RouteKey:
    """A route key, or ``BadRouteKey``."""
    if key == DEFAULT:
        return RouteKey("", (), False)
    method, sep, path = key.partition(" ")
    if not sep or method not in METHODS or not path.startswith("/"):
        raise BadRouteKey(key)
    segments = tuple(s for s in path[1:].split("/")) if path != "/" else ()
    greedy = False
    for i, seg in enumerate(segments):
        if not seg:
            raise BadRouteKey(key)
        m = _VARIABLE.match(seg)
        if m is None and ("{" in seg or "}" in seg):
            raise BadRouteKey(key)
        if m is not None and m.group(2):
            if i != len(segments) - 1:
                raise BadRouteKey(key)
            greedy = True
    return RouteKey(method, segments, greedy)


@dataclass(frozen=True)
class Match:
    route_id: str
    route_key: str
    path_parameters: dict[str, str]


class RouteTable:
    """The routes of one deployment, ready to match requests."""

    def __init__(self, routes: dict[str, dict]) -> None:
        self._routes: list[tuple[tuple, str, str, RouteKey]] = []
        self.default: tuple[str, str] | None = None
        for route_id, route in routes.items():
            key = parse(route["RouteKey"])
            if key.is_default:
                self.default = (route_id, route["RouteKey"])
                continue
            literals = tuple(0 if _VARIABLE.match(s) else 1 for s in key.segments)
            if key.greedy:  # after every non-greedy route; longer fixed prefix first
                rank = (1, -(len(key.segments) - 1), tuple(-x for x in literals), key.method == "ANY")
            else:
                rank = (0, 0, tuple(-x for x in literals), key.method == "ANY")
            self._routes.append((rank, route_id, route["RouteKey"], key))
        self._routes.sort(key=lambda r: r[0])

    def match(self, method: str, path: str) -> Match | None:
        """The route for ``method`` on ``path`` (the raw path after the stage), or None."""
        parts = [unquote(p) for p in path.split("/")[1:]] if path not in ("", "/") else []
        for _, route_id, route_key, key in self._routes:
            if key.method != "ANY" and key.method != method:
                continue
            params = _bind(key, parts)
            if params is not None:
                return Match(route_id, route_key, params)
        if self.default is not None:
            return Match(self.default[0], self.default[1], {})
        return None


def _bind(key: RouteKey, parts: list[str]) -> dict[str, str] | None:
    segs = key.segments
    if key.greedy:
        fixed = len(segs) - 1
        if len(parts) <= fixed or not any(parts[fixed:]):
            return None
    elif len(parts) != len(segs):
        return None
    params: dict[str, str] = {}
    for i, seg in enumerate(segs):
        m = _VARIABLE.match(seg)
        if m is None:
            if parts[i] != seg:
                return None
        elif m.group(2):
            params[m.group(1)] = "/".join(parts[i:])
        else:
            if not parts[i]:
                return None
            params[m.group(1)] = parts[i]
    return params
