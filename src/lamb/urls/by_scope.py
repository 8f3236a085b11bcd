"""Function URLs and HTTP APIs of every account and region on one port.

Each scope (``lamb.scopes``: one account in one region) has its own URL index and API store,
so each gets its own server (``urls.serve.UrlServer``, ``apis.serve.HttpApiServer``). A request
names a url id or API id (in its ``Host`` or its ``/_lamb/...`` path); ids are random, so the
scope that holds the id serves it. With one scope (the usual case) nothing is looked up.
"""

from __future__ import annotations

from typing import Any, Callable, Generic, Sequence, TypeVar

from ..http.server import Request

S = TypeVar("S")


class ByScope(Generic[S]):
    """``__call__(request)``: the answer of the server of the scope that owns what the request
    names, else the first (home) scope's (which answers as it does for a missing id)."""

    def __init__(self, scopes: Callable[[], Sequence[Any]], make: Callable[[Any], S],
                 owns: Callable[[S, Request], bool]) -> None:
        self.scopes = scopes
        self.make = make
        self.owns = owns
        self._servers: dict[int, tuple[Any, S]] = {}

    def server(self, scope: Any) -> S:
        made = self._servers.get(id(scope))
        if made is None or made[0] is not scope:
            made = self._servers[id(scope)] = (scope, self.make(scope))
        return made[1]

    def pick(self, req: Request) -> S:
        """The server of the scope that owns what the request names, else the home scope's."""
        scopes = self.scopes()
        if len(scopes) > 1:
            for scope in scopes:
                server = self.server(scope)
                if self.owns(server, req):
                    return server
        return self.server(scopes[0])

    def __call__(self, req: Request):
        return self.pick(req)(req)  # type: ignore[operator]


def owns_url(server, req: Request) -> bool:
    """Whether ``server`` (a ``UrlServer``) holds the function URL the request names."""
    addresses = server.addresses()
    url_id = addresses.id_from_host(req.headers.get("host"))
    if url_id is None:
        routed = addresses.id_from_path(req.path)
        url_id = routed[0] if routed is not None else None
    return url_id is not None and server.index.seen(url_id)


def owns_api(server, req: Request) -> bool:
    """Whether ``server`` (an ``apis.serve.HttpApiServer``) holds the HTTP or REST API the request names."""
    found = server.locate(req)
    if found is None:
        return False
    if found[0] is None:  # one of its custom domain names, no mapping for the path: it answers 403
        return True
    return server.store.get(found[0]) is not None or (server.rest is not None and server.rest.get(found[0]) is not None)
