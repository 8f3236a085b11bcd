"""Route keys and AWS's matching priority (lamb.apis.routing)."""

import pytest

from lamb.apis.routing import BadRouteKey, RouteTable, parse


def table(*keys):
    return RouteTable({f"r{i}": {"RouteKey": k} for i, k in enumerate(keys)})


def key_of(t, method, path):
    m = t.match(method, path)
    return None if m is None else (m.route_key, m.path_parameters)


def test_parse_rejects_bad_keys():
    for bad in ("FETCH /x", "GET x", "GET /{a+}/b", "GET /a//b", "GET /a{b}", "get /x"):
        with pytest.raises(BadRouteKey):
            parse(bad)
    assert parse("ANY /{proxy+}").greedy and parse("$default").is_default


def test_priority_exact_then_greedy_then_default():
    t = table("$default", "ANY /{proxy+}", "GET /items/{id}", "GET /items/special", "ANY /items/{rest+}",
              "POST /items/{id}", "ANY /items/{id}")
    assert key_of(t, "GET", "/items/special") == ("GET /items/special", {})
    assert key_of(t, "GET", "/items/9") == ("GET /items/{id}", {"id": "9"})
    assert key_of(t, "PUT", "/items/9") == ("ANY /items/{id}", {"id": "9"})
    assert key_of(t, "GET", "/items/a/b") == ("ANY /items/{rest+}", {"rest": "a/b"})
    assert key_of(t, "GET", "/other") == ("ANY /{proxy+}", {"proxy": "other"})
    assert key_of(t, "GET", "/") == ("$default", {})
    assert key_of(table("GET /a"), "GET", "/b") is None
