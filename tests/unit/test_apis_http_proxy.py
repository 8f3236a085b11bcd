"""apis/http_proxy.py: the forwarded request (URI variables, query, headers), HTTP APIs' parameter
mapping both ways, REST's requestParameters, validation of mapping keys."""

from __future__ import annotations

from lamb.apis import http_proxy as hp

SEEN = hp.Seen({"x-in": "v", "Authorization": "t"}, "q=1&q=2&id=7", "/items/a", {"proxy": "a/b", "id": "7"},
               b'{"user": {"name": "ann"}}', {"stage": "prod", "identity": {"sourceIp": "10.0.0.1"}}, {"env": "dev"})


def test_target_url_fills_path_and_stage_variables_and_appends_the_query():
    assert hp.target_url("http://h/b/{proxy}", {"proxy": "a/b c"}, {}, "x=1") == "http://h/b/a/b%20c?x=1"
    assert hp.target_url("https://${stageVariables.host}/v?k=1", {}, {"host": "e.com"}, "x=1") == "https://e.com/v?k=1&x=1"
    assert hp.target_url("http://h/{id}/{proxy+}", {"id": "7", "proxy": "p"}, {}, "") == "http://h/7/p"


def test_forward_headers_drop_hop_by_hop_and_add_forwarding():
    out = dict(hp.forward_headers({"host": "api", "connection": "keep-alive", "x-forwarded-for": "1.2.3.4",
                                   "accept": "*/*"}, source_ip="5.6.7.8", port=9, proto="http", trace="Root=1",
                                  host="api.example"))
    assert "host" not in out and "connection" not in out and out["accept"] == "*/*"
    assert out["X-Forwarded-For"] == "1.2.3.4, 5.6.7.8" and out["X-Forwarded-Port"] == "9"
    assert out["Forwarded"] == "for=5.6.7.8;host=api.example;proto=http" and out["X-Amzn-Trace-Id"] == "Root=1"


def test_expressions():
    assert hp.expression("a-${request.header.X-IN}-b", SEEN) == "a-v-b"  # braces end a name
    assert hp.expression("${request.querystring.q}", SEEN) == "1,2"
    assert hp.expression("$request.path|$request.path.id", SEEN) == "/items/a|7"
    assert hp.expression("$request.body.user.name", SEEN) == "ann"
    assert hp.expression("$context.identity.sourceIp $stageVariables.env", SEEN) == "10.0.0.1 dev"
    answer = hp.Answer(200, [("X-B", "1")], b'{"id": 5}')
    assert hp.expression("$response.header.x-b/$response.body.id", SEEN, answer) == "1/5"


def test_request_parameters():
    out = hp.Outgoing("GET", "http://h/p?a=1&b=2", [("X-Keep", "1"), ("X-Drop", "2"), ("X-Over", "old")], b"")
    out = hp.apply_request_parameters(out, {"remove:header.x-drop": "''", "overwrite:header.X-Over": "new",
                                            "append:header.x-keep": "$stageVariables.env",
                                            "overwrite:querystring.a": "$request.path.id",
                                            "append:querystring.b": "3", "remove:querystring.c": "''",
                                            "overwrite:path": "/new/$request.path.id"}, SEEN)
    assert out.url == "http://h/new/7?b=2&a=7&b=3"
    assert out.headers == [("X-Keep", "1"), ("X-Over", "new"), ("x-keep", "dev")]


def test_map_request_for_a_lambda_event():
    mapped = hp.map_request("/prod/items/a", "q=1&drop=x", [("x-in", "v"), ("cookie", "c=1")],
                            {"append:header.X-In": "w", "overwrite:header.x-new": "${request.path.id}-$context.stage",
                             "remove:querystring.drop": "''", "append:querystring.q": "$request.querystring.q",
                             "overwrite:path": "moved/$request.path.proxy"}, SEEN)
    assert mapped == hp.Mapped("/moved/a/b", "q=1&q=1,2",
                               [("x-in", "v"), ("cookie", "c=1"), ("X-In", "w"), ("x-new", "7-prod")])
    assert hp.map_request("/p", "a=%2F+b", [("x", "1")], {"remove:header.y": "''"}, SEEN) == \
        hp.Mapped("/p", "a=%2F+b", [("x", "1")])  # the query as it came when no key changes it


def test_response_parameters_by_status():
    answer = hp.Answer(404, [("X-A", "1"), ("Server", "s")], b"{}")
    params = {"404": {"overwrite:statuscode": "200", "remove:header.x-a": "''", "append:header.x-c": "$context.stage"}}
    assert hp.apply_response_parameters(answer, params, SEEN) == hp.Answer(200, [("Server", "s"), ("x-c", "prod")], b"{}")
    assert hp.apply_response_parameters(answer, {"200": {"overwrite:statuscode": "500"}}, SEEN) == answer


def test_rest_request_parameters():
    got = hp.rest_request_parameters(
        {"integration.request.path.proxy": "method.request.path.proxy", "integration.request.header.X": "'lit'",
         "integration.request.querystring.s": "stageVariables.env", "integration.request.header.Y":
         "method.request.header.x-IN", "integration.request.querystring.c": "context.stage"},
        {"path": {"proxy": "a/b"}, "header": {"x-in": "v"}, "querystring": {}}, {"env": "dev"}, {"stage": "prod"})
    assert got == {"path": {"proxy": "a/b"}, "header": {"X": "lit", "Y": "v"}, "querystring": {"s": "dev", "c": "prod"}}


def test_validation():
    assert hp.is_http_url("https://e.com/x") and hp.is_http_url("http://${stageVariables.h}/x")
    assert not hp.is_http_url("ftp://e.com") and not hp.is_http_url("arn:aws:lambda:x")
    assert hp.check_request_parameters({"overwrite:header.x-a": "v", "append:querystring.q": "v",
                                        "overwrite:path": "/p"}) is None
    assert hp.check_request_parameters({"overwrite:header.Host": "v"})
    assert hp.check_request_parameters({"replace:header.x": "v"})
    assert hp.check_response_parameters({"200": {"overwrite:statuscode": "204"}}) is None
    assert hp.check_response_parameters({"99": {}}) and hp.check_response_parameters({"200": {"overwrite:path": "/"}})


def test_rest_remapped_response_headers():
    from lamb.apis.http_proxy import remapped

    got = remapped([("WWW-Authenticate", "Bearer"), ("Server", "nginx"), ("Date", "d"), ("Authorization", "a"),
                    ("Content-MD5", "m"), ("User-Agent", "u"), ("Max-Forwards", "3"), ("Connection", "close"),
                    ("Upgrade", "h2c"), ("Trailer", "x"), ("Content-Type", "text/plain"), ("X-Own", "1")])
    assert got == [("x-amzn-Remapped-WWW-Authenticate", "Bearer"), ("x-amzn-Remapped-Server", "nginx"),
                   ("x-amzn-Remapped-Date", "d"), ("x-amzn-Remapped-Authorization", "a"),
                   ("x-amzn-Remapped-Content-MD5", "m"), ("x-amzn-Remapped-User-Agent", "u"),
                   ("x-amzn-Remapped-Max-Forwards", "3"), ("x-amzn-Remapped-Connection", "close"),
                   ("Content-Type", "text/plain"), ("X-Own", "1")]
