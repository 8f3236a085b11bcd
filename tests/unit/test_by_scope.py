"""Function URLs and HTTP APIs of every scope on one port (``lamb.urls.by_scope``)."""

from __future__ import annotations

from types import SimpleNamespace

from lamb.urls.address import Addresses, default_origin
from lamb.urls.by_scope import ByScope, owns_api, owns_url


class Server:
    def __init__(self, name: str, region: str, ids: set):
        self.name = name
        self.index = SimpleNamespace(seen=ids.__contains__)
        self.addresses = lambda: Addresses(default_origin(region, 9000))

    def __call__(self, req):
        return self.name


def req(host: str | None = None, path: str = "/"):
    return SimpleNamespace(headers={"host": host} if host else {}, path=path)


def test_the_scope_holding_the_id_serves_it():
    home, eu = SimpleNamespace(n="home", region="us-east-1", ids={"a" * 32}), \
        SimpleNamespace(n="eu", region="eu-west-1", ids={"b" * 32})
    scopes = [home]
    router = ByScope(lambda: scopes, lambda s: Server(s.n, s.region, s.ids), owns_url)
    assert router(req(f"{'b' * 32}.lambda-url.eu-west-1.localhost:9000")) == "home"  # one scope: no look-up
    scopes.append(eu)
    assert router(req(f"{'b' * 32}.lambda-url.eu-west-1.localhost:9000")) == "eu"
    assert router(req(path=f"/_lamb/url/{'b' * 32}/x")) == "eu"
    assert router(req(f"{'a' * 32}.lambda-url.us-east-1.localhost:9000")) == "home"
    assert router(req(f"{'c' * 32}.lambda-url.eu-west-1.localhost:9000")) == "home"  # nobody's: home answers
    assert router.server(eu) is router.server(eu)


def test_owns_api_by_either_store():
    def server(http: dict, rest: dict | None):
        return SimpleNamespace(locate=lambda r: ("id1", None, "/") if r.path == "/" else None,
                               store=SimpleNamespace(get=http.get),
                               rest=SimpleNamespace(get=rest.get) if rest is not None else None)

    assert owns_api(server({"id1": {}}, None), req()) and owns_api(server({}, {"id1": {}}), req())
    assert not owns_api(server({}, {}), req()) and not owns_api(server({"id1": {}}, None), req(path="/x"))
