"""REST API resources as a route table, and the REST error body (lamb.apis.rest)."""

from lamb.apis.rest import RestDeployed, missing_token


def test_resources_match_like_routes():
    resources = {
        "r": {"id": "r", "path": "/", "resourceMethods": {"GET": {}}},
        "p": {"id": "p", "path": "/{proxy+}", "resourceMethods": {"ANY": {}}},
        "i": {"id": "i", "path": "/items/{id}", "resourceMethods": {"GET": {}}},
        "n": {"id": "n", "path": "/none"},
    }
    table = RestDeployed({"resources": resources}, "arn:aws:execute-api:us-east-1:0:a").table
    assert table.match("GET", "/").route_id == "r GET"
    assert table.match("GET", "/items/3").path_parameters == {"id": "3"}
    assert table.match("POST", "/items/3").route_id == "p ANY"
    assert table.match("POST", "/") is None


def test_missing_authentication_token_body():
    r = missing_token("rid")
    assert r.status == 403 and r.body == b'{"message":"Missing Authentication Token"}'


def test_explicit_deny_and_no_allow_are_told_apart():
    import pytest

    from lamb.apis.authorizers import Refused
    from lamb.apis.rest import _decide

    arn = "arn:aws:execute-api:us-east-1:123456789012:api/s/GET/x"

    def answer(effect):
        st = [{"Effect": effect, "Action": "execute-api:Invoke", "Resource": arn}] if effect else []
        return {"principalId": "p", "policyDocument": {"Version": "2012-10-17", "Statement": st}, "context": {"a": 1}}

    assert _decide(answer("Allow"), arn, 3).for_event("1.0") == {"a": 1, "principalId": "p", "integrationLatency": 3}
    for effect, message in (("Deny", "User is not authorized to access this resource with an explicit deny"),
                            (None, "User is not authorized to access this resource")):
        with pytest.raises(Refused) as e:
            _decide(answer(effect), arn, 0)
        assert (e.value.status, e.value.message) == (403, message)
    with pytest.raises(Refused) as e:
        _decide({"policyDocument": {}}, arn, 0)
    assert e.value.status == 500
