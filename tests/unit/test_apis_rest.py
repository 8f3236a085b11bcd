"""REST API resources as a route table, and the REST error body (lamb.apis.rest)."""

from lamb.apis.rest import RestDeployed, missing_token


def test_resources_match_like_routes():
    resources = {
        "r": {"id": "r", "path": "/", "resourceMethods": {"GET": {}}},
        "p": {"id": "p", "path": "/{proxy+}", "resourceMethods": {"ANY": {}}},
        "i": {"id": "i", "path": "/items/{id}", "resourceMethods": {"GET": {}}},
        "n": {"id": "n", "path": "/none"},
    }
    table = RestDeployed({"resources": resources}).table
    assert table.match("GET", "/").route_id == "r GET"
    assert table.match("GET", "/items/3").path_parameters == {"id": "3"}
    assert table.match("POST", "/items/3").route_id == "p ANY"
    assert table.match("POST", "/") is None


def test_missing_authentication_token_body():
    r = missing_token("rid")
    assert r.status == 403 and r.body == b'{"message":"Missing Authentication Token"}'
