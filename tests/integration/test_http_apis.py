"""HTTP APIs (issue 20) with real clients: ``aws apigatewayv2`` to create them, http.client
with the ``Host`` header and urllib through the path fallback to call them. Events are
compared with AWS's documented payloads
(https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html)."""

from __future__ import annotations

import http.client
import json
import subprocess
import urllib.error
import urllib.request

import pytest

from .awscli import aws, aws_json
from .conftest import LambServer, create, unique

ECHO = """
import json, os
def handler(event, context):
    # The invocation's trace header as the function sees it, next to the event.
    body = dict(event, lambTraceEnv=os.environ.get("_X_AMZN_TRACE_ID"))
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
"""
RESPONDER = """
import json, time
def handler(event, context):
    q = event.get("queryStringParameters") or {}
    if q.get("raise"):
        raise RuntimeError("boom")
    if q.get("sleep"):
        time.sleep(float(q["sleep"]))
    if q.get("bad"):
        return {"statusCode": "not a number"}
    return {"plain": True}
"""


@pytest.fixture(scope="module")
def server():
    s = LambServer().start()
    try:
        yield s
    finally:
        s.close()


def v2(server, *args):
    return aws_json(server, *args, service="apigatewayv2")


def allow(client, name: str, source_arn: str | None = None, sid: str = "apigw") -> None:
    kw = {"SourceArn": source_arn} if source_arn else {}
    client.add_permission(FunctionName=name, StatementId=sid, Action="lambda:InvokeFunction",
                          Principal="apigateway.amazonaws.com", **kw)


def call(server, api_id: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """By Host header: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        h = {"Host": f"{api_id}.execute-api.{server.region}.localhost:{server.port}"}
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def fallback(server, api_id: str, stage: str, path: str):
    url = f"{server.url}/_lamb/apis/{api_id}/{stage}{path}"
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.fixture(scope="module")
def echo(server):
    client = server.client()
    name = unique("echo")
    fn = create(client, name, ECHO)
    return name, fn["FunctionArn"]


def test_quick_create_serves_payload_2(server, echo):
    name, arn = echo
    api = v2(server, "create-api", "--name", "quick", "--protocol-type", "HTTP", "--target", arn)
    api_id = api["ApiId"]
    assert api["ApiEndpoint"] == f"http://{api_id}.execute-api.{server.region}.localhost:{server.port}"
    stages = v2(server, "get-stages", "--api-id", api_id)["Items"]
    assert [(s["StageName"], s["AutoDeploy"]) for s in stages] == [("$default", True)]
    # Without the function's permission API Gateway cannot invoke it.
    status, _, body = call(server, api_id, "GET", "/anything")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    allow(server.client(), name, f"arn:aws:execute-api:{server.region}:{server.account_id}:{api_id}/*/$default")
    status, headers, body = call(server, api_id, "POST", "/items/7?a=1&a=2&b=x", b'{"k": 1}',
                                 {"Content-Type": "application/json", "Cookie": "c1=v1; c2=v2"})
    assert status == 200, body
    assert "apigw-requestid" in headers
    event = json.loads(body)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/items/7"
    assert event["rawQueryString"] == "a=1&a=2&b=x"
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["body"] == '{"k": 1}' and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["accountId"] == server.account_id and ctx["apiId"] == api_id
    assert ctx["domainName"] == f"{api_id}.execute-api.{server.region}.localhost"
    assert ctx["domainPrefix"] == api_id
    assert ctx["http"]["method"] == "POST" and ctx["http"]["path"] == "/items/7"
    assert ctx["stage"] == "$default" and ctx["routeKey"] == "$default"
    assert "pathParameters" not in event and "stageVariables" not in event
    # One trace for the request: the event's X-Amzn-Trace-Id has the invocation's Root.
    root = event["headers"]["x-amzn-trace-id"].split(";")[0]
    assert root.startswith("Root=1-") and event["lambTraceEnv"].split(";")[0] == root, event
    # curl resolves *.localhost to loopback: the ApiEndpoint opens as it is.
    out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", api["ApiEndpoint"] + "/curl?x=1"],
                         capture_output=True, text=True, timeout=60)
    body, _, code = out.stdout.rpartition("\n")
    assert code == "200" and json.loads(body)["rawPath"] == "/curl", out.stderr
    # The path fallback reaches the same stage.
    status, body = fallback(server, api_id, "$default", "/via/path")
    assert status == 200 and json.loads(body)["rawPath"] == "/via/path"


def _full_api(server, arn: str, version: str, **stage) -> tuple[str, str]:
    api_id = v2(server, "create-api", "--name", "full", "--protocol-type", "HTTP")["ApiId"]
    integration = v2(server, "create-integration", "--api-id", api_id, "--integration-type", "AWS_PROXY",
                     "--integration-uri", arn, "--payload-format-version", version)["IntegrationId"]
    return api_id, integration


def test_full_create_payload_1_and_routing_priority(server, echo):
    name, arn = echo
    api_id, integration = _full_api(server, arn, "1.0")
    target = f"integrations/{integration}"
    for key in ("GET /items/{id}", "GET /items/special", "ANY /items/{proxy+}", "ANY /{proxy+}", "$default"):
        v2(server, "create-route", "--api-id", api_id, "--route-key", key, "--target", target)
    v2(server, "create-stage", "--api-id", api_id, "--stage-name", "prod", "--stage-variables", "color=blue")
    # Not deployed yet: 404.
    status, _, body = call(server, api_id, "GET", "/prod/items/1")
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})
    dep = v2(server, "create-deployment", "--api-id", api_id, "--stage-name", "prod")
    assert dep["DeploymentStatus"] == "DEPLOYED"
    allow(server.client(), name, f"arn:aws:execute-api:{server.region}:{server.account_id}:{api_id}/*", "full")

    def route_of(method, path):
        status, _, body = call(server, api_id, method, path)
        assert status == 200, body
        return json.loads(body)

    e = route_of("GET", "/prod/items/42?x=1&x=2")
    assert e["version"] == "1.0"
    assert e["resource"] == "/items/{id}"
    assert e["path"] == "/prod/items/42"
    assert e["httpMethod"] == "GET"
    assert e["pathParameters"] == {"id": "42"}
    assert e["stageVariables"] == {"color": "blue"}
    assert e["queryStringParameters"] == {"x": "2"}
    assert e["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert e["multiValueHeaders"]["host"] == [e["headers"]["host"]]
    assert e["body"] is None and e["isBase64Encoded"] is False
    ctx = e["requestContext"]
    assert ctx["resourcePath"] == "/items/{id}" and ctx["stage"] == "prod"
    assert ctx["accountId"] == server.account_id and ctx["apiId"] == api_id
    assert ctx["identity"]["sourceIp"] == "127.0.0.1" and ctx["requestId"]
    assert route_of("GET", "/prod/items/special")["resource"] == "/items/special"
    assert route_of("POST", "/prod/items/42")["pathParameters"] == {"proxy": "42"}
    assert route_of("GET", "/prod/items/a/b")["pathParameters"] == {"proxy": "a/b"}
    assert route_of("GET", "/prod/other/x")["resource"] == "/{proxy+}"
    assert route_of("GET", "/prod")["resource"] == "$default"


def test_errors(server):
    client = server.client()
    name = unique("resp")
    arn = create(client, name, RESPONDER)["FunctionArn"]
    api_id = v2(server, "create-api", "--name", "errs", "--protocol-type", "HTTP", "--target", arn)["ApiId"]
    allow(client, name)
    integration = v2(server, "get-integrations", "--api-id", api_id)["Items"][0]["IntegrationId"]
    assert call(server, api_id, "GET", "/")[0] == 200
    assert json.loads(call(server, api_id, "GET", "/")[2]) == {"plain": True}
    for query in ("raise=1", "bad=1"):
        status, _, body = call(server, api_id, "GET", f"/?{query}")
        assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"}), query
    v2(server, "update-integration", "--api-id", api_id, "--integration-id", integration, "--timeout-in-millis", "50")
    status, _, body = call(server, api_id, "GET", "/?sleep=2")
    assert (status, json.loads(body)) == (503, {"message": "Service Unavailable"})
    status, _, body = call(server, api_id, "POST", "/", b"x" * (10 * 1024 * 1024 + 1))
    assert status == 413
    assert json.loads(call(server, "nosuchapi", "GET", "/")[2]) == {"message": "Not Found"}
    v2(server, "update-stage", "--api-id", api_id, "--stage-name", "$default", "--default-route-settings",
       "ThrottlingBurstLimit=1,ThrottlingRateLimit=0.001")
    assert call(server, api_id, "GET", "/")[0] == 200
    status, _, body = call(server, api_id, "GET", "/")
    assert (status, json.loads(body)) == (429, {"message": "Too Many Requests"})
    bad = aws(server, "create-integration", "--api-id", api_id, "--integration-type", "AWS_PROXY",
              "--integration-uri", arn, "--payload-format-version", "2.0", "--timeout-in-millis", "30001",
              check=False, service="apigatewayv2")
    assert bad.returncode != 0 and "less than or equal to 30000" in bad.stderr
    missing = aws(server, "get-api", "--api-id", "nope", check=False, service="apigatewayv2")
    assert "NotFoundException" in missing.stderr and "Invalid API identifier specified" in missing.stderr


def test_cors_preflight_and_headers(server, echo):
    name, arn = echo
    api_id = v2(server, "create-api", "--name", "cors", "--protocol-type", "HTTP", "--target", arn,
                "--cors-configuration", "AllowOrigins=https://a.example,AllowMethods=GET,POST,MaxAge=300")["ApiId"]
    allow(server.client(), name, sid=f"cors-{api_id}")
    status, headers, body = call(server, api_id, "OPTIONS", "/x", headers={
        "Origin": "https://a.example", "Access-Control-Request-Method": "POST"})
    assert status == 204 and body == b""
    assert headers["access-control-allow-origin"] == "https://a.example"
    assert headers["access-control-allow-methods"] == "GET,POST"
    assert headers["access-control-max-age"] == "300"
    status, headers, _ = call(server, api_id, "GET", "/x", headers={"Origin": "https://a.example"})
    assert status == 200 and headers["access-control-allow-origin"] == "https://a.example"


def test_management_round_trip_and_tags(server, echo):
    _, arn = echo
    api_id, integration = _full_api(server, arn, "2.0")
    route = v2(server, "create-route", "--api-id", api_id, "--route-key", "GET /a",
               "--target", f"integrations/{integration}")
    assert v2(server, "get-route", "--api-id", api_id, "--route-id", route["RouteId"])["RouteKey"] == "GET /a"
    v2(server, "update-route", "--api-id", api_id, "--route-id", route["RouteId"], "--route-key", "GET /b")
    assert [r["RouteKey"] for r in v2(server, "get-routes", "--api-id", api_id)["Items"]] == ["GET /b"]
    bad = aws(server, "create-route", "--api-id", api_id, "--route-key", "FETCH /x", check=False,
              service="apigatewayv2")
    assert "BadRequestException" in bad.stderr
    resource = f"arn:aws:apigateway:{server.region}::/apis/{api_id}"
    aws(server, "tag-resource", "--resource-arn", resource, "--tags", "team=a,env=b", service="apigatewayv2")
    assert v2(server, "get-tags", "--resource-arn", resource)["Tags"] == {"team": "a", "env": "b"}
    aws(server, "untag-resource", "--resource-arn", resource, "--tag-keys", "env", service="apigatewayv2")
    assert v2(server, "get-api", "--api-id", api_id)["Tags"] == {"team": "a"}
    v2(server, "delete-route", "--api-id", api_id, "--route-id", route["RouteId"])
    aws(server, "delete-api", "--api-id", api_id, service="apigatewayv2")
    assert api_id not in [a["ApiId"] for a in v2(server, "get-apis")["Items"]]


def test_apis_survive_a_restart(server, echo):
    _, arn = echo
    api_id = v2(server, "create-api", "--name", "durable", "--protocol-type", "HTTP", "--target", arn)["ApiId"]
    server.terminate()
    server.restart()
    assert v2(server, "get-api", "--api-id", api_id)["Name"] == "durable"


AUTHORIZER = """
import itertools
calls = itertools.count(1)
def handler(event, context):
    token = event["identitySource"][0] if isinstance(event["identitySource"], list) else event["identitySource"]
    n = next(calls)
    if token == "boom":
        raise RuntimeError("authorizer failed")
    if event.get("version") == "1.0" or "routeArn" not in event:
        effect = "Allow" if token == "good" else "Deny"
        return {"principalId": "user-1", "context": {"call": n},
                "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]}}
    return {"isAuthorized": token == "good", "context": {"call": n, "routeArn": event["routeArn"]}}
"""


def test_lambda_authorizers(server, echo):
    client = server.client()
    name, arn = echo
    auth_name = unique("authz")
    auth_arn = create(client, auth_name, AUTHORIZER)["FunctionArn"]
    api_id = v2(server, "create-api", "--name", "authz", "--protocol-type", "HTTP")["ApiId"]
    integration = v2(server, "create-integration", "--api-id", api_id, "--integration-type", "AWS_PROXY",
                     "--integration-uri", arn, "--payload-format-version", "2.0")["IntegrationId"]
    simple = v2(server, "create-authorizer", "--api-id", api_id, "--name", "simple", "--authorizer-type", "REQUEST",
                "--authorizer-uri", auth_arn, "--authorizer-payload-format-version", "2.0",
                "--enable-simple-responses", "--identity-source", "$request.header.Authorization",
                "--authorizer-result-ttl-in-seconds", "300")["AuthorizerId"]
    policy = v2(server, "create-authorizer", "--api-id", api_id, "--name", "iam", "--authorizer-type", "REQUEST",
                "--authorizer-uri", auth_arn, "--authorizer-payload-format-version", "1.0",
                "--identity-source", "$request.querystring.token")["AuthorizerId"]
    for key, auth in (("GET /simple", simple), ("GET /iam", policy)):
        v2(server, "create-route", "--api-id", api_id, "--route-key", key, "--target", f"integrations/{integration}",
           "--authorization-type", "CUSTOM", "--authorizer-id", auth)
    v2(server, "create-stage", "--api-id", api_id, "--stage-name", "$default", "--auto-deploy")
    allow(client, name, sid=f"fn-{api_id}")
    # The authorizer function needs its own statement: without it, 500.
    status, _, body = call(server, api_id, "GET", "/simple", headers={"Authorization": "good"})
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    allow(client, auth_name, f"arn:aws:execute-api:{server.region}:{server.account_id}:{api_id}/authorizers/*")
    status, _, body = call(server, api_id, "GET", "/simple")
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    status, _, body = call(server, api_id, "GET", "/simple", headers={"Authorization": "good"})
    assert status == 200, body
    first = json.loads(body)["requestContext"]["authorizer"]["lambda"]
    assert first["routeArn"] == f"arn:aws:execute-api:{server.region}:{server.account_id}:{api_id}/$default/GET/simple"
    status, _, body = call(server, api_id, "GET", "/simple", headers={"Authorization": "good"})
    assert json.loads(body)["requestContext"]["authorizer"]["lambda"] == first  # cached: not called again
    status, _, body = call(server, api_id, "GET", "/simple", headers={"Authorization": "bad"})
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})
    status, _, body = call(server, api_id, "GET", "/simple", headers={"Authorization": "boom"})
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    # IAM-policy responses (payload 1.0 to the authorizer), no cache.
    status, _, body = call(server, api_id, "GET", "/iam?token=good")
    assert status == 200, body
    lam = json.loads(body)["requestContext"]["authorizer"]["lambda"]
    assert "call" in lam
    status, _, body = call(server, api_id, "GET", "/iam?token=bad")
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})
    assert call(server, api_id, "GET", "/iam")[0] == 401


@pytest.fixture(scope="module")
def issuer():
    """An OpenID issuer on loopback: discovery document and JWKS, served by the test."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="k1", alg="RS256", use="sig")
    state = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/.well-known/openid-configuration":
                body = {"issuer": state["url"], "jwks_uri": state["url"] + "/jwks"}
            elif self.path == "/jwks":
                body = {"keys": [jwk]}
            else:
                self.send_response(404)
                self.end_headers()
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["url"] = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["url"], key, other
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_jwt_authorizer(server, echo, issuer):
    import time as _time

    import jwt

    url, key, other = issuer
    name, arn = echo
    api_id = v2(server, "create-api", "--name", "jwt", "--protocol-type", "HTTP")["ApiId"]
    integration = v2(server, "create-integration", "--api-id", api_id, "--integration-type", "AWS_PROXY",
                     "--integration-uri", arn, "--payload-format-version", "2.0")["IntegrationId"]
    auth = v2(server, "create-authorizer", "--api-id", api_id, "--name", "jwt", "--authorizer-type", "JWT",
              "--identity-source", "$request.header.Authorization",
              "--jwt-configuration", json.dumps({"Issuer": url, "Audience": ["my-app"]}))["AuthorizerId"]
    v2(server, "create-route", "--api-id", api_id, "--route-key", "GET /me", "--target", f"integrations/{integration}",
       "--authorization-type", "JWT", "--authorizer-id", auth)
    v2(server, "create-route", "--api-id", api_id, "--route-key", "GET /admin", "--target",
       f"integrations/{integration}", "--authorization-type", "JWT", "--authorizer-id", auth,
       "--authorization-scopes", "admin")
    v2(server, "create-stage", "--api-id", api_id, "--stage-name", "$default", "--auto-deploy")
    allow(server.client(), name, sid=f"jwt-{api_id}")
    now = int(_time.time())

    def token(signer=key, **claims):
        body = {"iss": url, "aud": "my-app", "sub": "user-1", "exp": now + 600, "iat": now, "scope": "read"}
        body.update(claims)
        return jwt.encode(body, signer, algorithm="RS256", headers={"kid": "k1"})

    def get(path, tok):
        return call(server, api_id, "GET", path, headers={"Authorization": f"Bearer {tok}"} if tok else {})

    status, _, body = get("/me", token())
    assert status == 200, body
    authorizer = json.loads(body)["requestContext"]["authorizer"]["jwt"]
    assert authorizer["claims"]["sub"] == "user-1" and authorizer["claims"]["exp"] == str(now + 600)
    assert authorizer["scopes"] == ["read"]
    status, headers, body = get("/me", None)
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    for tok, description in ((token(exp=now - 10), "the token has expired"),
                             (token(aud="someone-else"), "the token does not have a valid audience"),
                             (token(signer=other), "the token has an invalid signature")):
        status, headers, body = get("/me", tok)
        assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
        assert headers["www-authenticate"] == f'Bearer scope="" error="invalid_token" error_description="{description}"'
    status, headers, body = get("/admin", token())
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})
    assert get("/admin", token(scope="read admin"))[0] == 200
    bad = aws(server, "create-authorizer", "--api-id", api_id, "--name", "x", "--authorizer-type", "JWT",
              "--identity-source", "$request.header.Authorization",
              "--jwt-configuration", json.dumps({"Issuer": "http://idp.example.com", "Audience": ["a"]}),
              check=False, service="apigatewayv2")
    assert "BadRequestException" in bad.stderr


def v1(server, *args):
    return aws_json(server, *args, service="apigateway")


def test_rest_api_with_proxy_resource(server):
    client = server.client()
    name = unique("rest")
    arn = create(client, name, ECHO)["FunctionArn"]  # its own: the shared one allows every API by now
    api = v1(server, "create-rest-api", "--name", "rest")
    api_id, root = api["id"], api["rootResourceId"]
    proxy = v1(server, "create-resource", "--rest-api-id", api_id, "--parent-id", root, "--path-part", "{proxy+}")
    assert proxy["path"] == "/{proxy+}"
    items = v1(server, "create-resource", "--rest-api-id", api_id, "--parent-id", root, "--path-part", "items")
    item = v1(server, "create-resource", "--rest-api-id", api_id, "--parent-id", items["id"], "--path-part", "{id}")
    uri = f"arn:aws:apigateway:{server.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
    for res, verb in ((proxy["id"], "ANY"), (item["id"], "GET")):
        v1(server, "put-method", "--rest-api-id", api_id, "--resource-id", res, "--http-method", verb,
           "--authorization-type", "NONE")
        v1(server, "put-integration", "--rest-api-id", api_id, "--resource-id", res, "--http-method", verb,
           "--type", "AWS_PROXY", "--integration-http-method", "POST", "--uri", uri)
    assert v1(server, "get-integration", "--rest-api-id", api_id, "--resource-id", item["id"],
              "--http-method", "GET")["timeoutInMillis"] == 29000
    v1(server, "create-deployment", "--rest-api-id", api_id, "--stage-name", "dev", "--variables", "v=1")
    assert v1(server, "get-stage", "--rest-api-id", api_id, "--stage-name", "dev")["variables"] == {"v": "1"}
    status, _, body = call(server, api_id, "GET", "/dev/items/5")
    assert (status, json.loads(body)) == (500, {"message": "Internal server error"})  # no permission yet
    allow(client, name, f"arn:aws:execute-api:{server.region}:{server.account_id}:{api_id}/*/*/*", f"rest-{api_id}")
    status, _, body = call(server, api_id, "GET", "/dev/items/5?q=1")
    assert status == 200, body
    e = json.loads(body)
    assert "version" not in e
    assert e["resource"] == "/items/{id}" and e["path"] == "/items/5" and e["httpMethod"] == "GET"
    assert e["pathParameters"] == {"id": "5"} and e["stageVariables"] == {"v": "1"}
    assert e["queryStringParameters"] == {"q": "1"} and e["multiValueQueryStringParameters"] == {"q": ["1"]}
    ctx = e["requestContext"]
    assert ctx["resourcePath"] == "/items/{id}" and ctx["stage"] == "dev" and ctx["resourceId"] == item["id"]
    assert ctx["identity"]["sourceIp"] == "127.0.0.1" and ctx["accountId"] == server.account_id
    assert ctx["apiId"] == api_id and ctx["requestId"]
    e = json.loads(call(server, api_id, "DELETE", "/dev/a/b")[2])
    assert e["resource"] == "/{proxy+}" and e["pathParameters"] == {"proxy": "a/b"}
    status, body = fallback(server, api_id, "dev", "/items/9")
    assert status == 200 and json.loads(body)["pathParameters"] == {"id": "9"}
    status, _, body = call(server, api_id, "GET", "/nostage/x")
    assert (status, body) == (403, b'{"message":"Missing Authentication Token"}')


def test_rest_api_errors(server):
    client = server.client()
    name = unique("rresp")
    arn = create(client, name, RESPONDER)["FunctionArn"]
    api = v1(server, "create-rest-api", "--name", "rest-errors")
    api_id, root = api["id"], api["rootResourceId"]
    uri = f"arn:aws:apigateway:{server.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
    v1(server, "put-method", "--rest-api-id", api_id, "--resource-id", root, "--http-method", "GET",
       "--authorization-type", "NONE")
    v1(server, "put-integration", "--rest-api-id", api_id, "--resource-id", root, "--http-method", "GET",
       # long enough for the cold start of the first call below on a loaded host, short of the sleep
       "--type", "AWS_PROXY", "--integration-http-method", "POST", "--uri", uri, "--timeout-in-millis", "1000")
    v1(server, "create-deployment", "--rest-api-id", api_id, "--stage-name", "p")
    allow(client, name)
    status, _, body = call(server, api_id, "GET", "/p/?raise=1")
    assert (status, body) == (502, b'{"message": "Internal server error"}')
    status, _, body = call(server, api_id, "GET", "/p/")  # {"plain": true} is not a proxy response
    assert (status, body) == (502, b'{"message": "Internal server error"}')
    status, _, body = call(server, api_id, "GET", "/p/?sleep=2.5")
    assert (status, body) == (504, b'{"message": "Endpoint request timed out"}')
    status, _, body = call(server, api_id, "GET", "/p/other")
    assert status == 403 and json.loads(body) == {"message": "Missing Authentication Token"}
    missing = aws(server, "get-rest-api", "--rest-api-id", "nope", check=False, service="apigateway")
    assert "NotFoundException" in missing.stderr and "Invalid API identifier specified" in missing.stderr


REST_AUTHORIZER = """
def handler(event, context):
    token = event.get("authorizationToken") or (event.get("headers") or {}).get("x-token", "")
    if token == "boom":
        raise RuntimeError("authorizer failed")
    effect = {"good": "Allow", "bad": "Deny"}.get(token)
    statements = [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}] if effect else []
    return {"principalId": "user-7", "context": {"type": event["type"]},
            "policyDocument": {"Version": "2012-10-17", "Statement": statements}}
"""


def test_rest_api_lambda_authorizers(server):
    client = server.client()
    name, auth_name = unique("rauthfn"), unique("rauth")
    arn = create(client, name, ECHO)["FunctionArn"]
    auth_arn = create(client, auth_name, REST_AUTHORIZER)["FunctionArn"]
    api = v1(server, "create-rest-api", "--name", "rest-auth")
    api_id, root = api["id"], api["rootResourceId"]
    fn_uri = f"arn:aws:apigateway:{server.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
    auth_uri = f"arn:aws:apigateway:{server.region}:lambda:path/2015-03-31/functions/{auth_arn}/invocations"
    token_auth = v1(server, "create-authorizer", "--rest-api-id", api_id, "--name", "tok", "--type", "TOKEN",
                    "--authorizer-uri", auth_uri, "--identity-source", "method.request.header.Authorization",
                    "--authorizer-result-ttl-in-seconds", "0")["id"]
    request_auth = v1(server, "create-authorizer", "--rest-api-id", api_id, "--name", "req", "--type", "REQUEST",
                      "--authorizer-uri", auth_uri, "--identity-source", "method.request.header.X-Token",
                      "--authorizer-result-ttl-in-seconds", "0")["id"]
    for part, auth in (("tok", token_auth), ("req", request_auth)):
        res = v1(server, "create-resource", "--rest-api-id", api_id, "--parent-id", root, "--path-part", part)["id"]
        v1(server, "put-method", "--rest-api-id", api_id, "--resource-id", res, "--http-method", "GET",
           "--authorization-type", "CUSTOM", "--authorizer-id", auth)
        v1(server, "put-integration", "--rest-api-id", api_id, "--resource-id", res, "--http-method", "GET",
           "--type", "AWS_PROXY", "--integration-http-method", "POST", "--uri", fn_uri)
    v1(server, "create-deployment", "--rest-api-id", api_id, "--stage-name", "s")
    allow(client, name, sid=f"restauth-{api_id}")
    allow(client, auth_name, f"arn:aws:execute-api:{server.region}:{server.account_id}:{api_id}/authorizers/*")
    status, _, body = call(server, api_id, "GET", "/s/tok")
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    status, _, body = call(server, api_id, "GET", "/s/tok", headers={"Authorization": "good"})
    assert status == 200, body
    assert json.loads(body)["requestContext"]["authorizer"] == {"type": "TOKEN", "principalId": "user-7",
                                                                 "integrationLatency": json.loads(body)["requestContext"]["authorizer"]["integrationLatency"]}
    status, _, body = call(server, api_id, "GET", "/s/tok", headers={"Authorization": "bad"})
    assert (status, json.loads(body)) == (403, {"Message": "User is not authorized to access this resource with an explicit deny"})
    status, _, body = call(server, api_id, "GET", "/s/tok", headers={"Authorization": "other"})
    assert (status, json.loads(body)) == (403, {"Message": "User is not authorized to access this resource"})
    status, _, body = call(server, api_id, "GET", "/s/tok", headers={"Authorization": "boom"})
    assert (status, json.loads(body)) == (500, {"message": None})
    status, _, body = call(server, api_id, "GET", "/s/req", headers={"X-Token": "good"})
    assert status == 200 and json.loads(body)["requestContext"]["authorizer"]["type"] == "REQUEST"


BINARY = """
import base64
def handler(event, context):
    data = base64.b64decode(event["body"]) if event.get("isBase64Encoded") else event.get("body", "").encode()
    return {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
            "body": base64.b64encode(data[::-1]).decode(), "isBase64Encoded": True,
            "multiValueHeaders": {"x-version": [context.function_version]}}
"""


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_binary_bodies_and_an_alias_target(server, version):
    client = server.client()
    name = unique("bin")
    create(client, name, BINARY)
    published = client.publish_version(FunctionName=name)["Version"]
    client.create_alias(FunctionName=name, Name="live", FunctionVersion=published)
    alias_arn = f"arn:aws:lambda:{server.region}:{server.account_id}:function:{name}:live"
    api_id = v2(server, "create-api", "--name", "bin", "--protocol-type", "HTTP")["ApiId"]
    integration = v2(server, "create-integration", "--api-id", api_id, "--integration-type", "AWS_PROXY",
                     "--integration-uri", alias_arn, "--payload-format-version", version)["IntegrationId"]
    v2(server, "create-route", "--api-id", api_id, "--route-key", "POST /bin", "--target", f"integrations/{integration}")
    v2(server, "create-stage", "--api-id", api_id, "--stage-name", "$default", "--auto-deploy")
    data = bytes(range(256))
    allow(client, name)  # the unqualified function's policy does not cover the alias
    status, _, body = call(server, api_id, "POST", "/bin", data, {"Content-Type": "application/octet-stream"})
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    client.add_permission(FunctionName=name, Qualifier="live", StatementId="apigw", Action="lambda:InvokeFunction",
                          Principal="apigateway.amazonaws.com")
    status, headers, body = call(server, api_id, "POST", "/bin", data, {"Content-Type": "application/octet-stream"})
    assert status == 200 and body == data[::-1]
    assert headers["content-type"] == "application/octet-stream"
    if version == "1.0":
        assert headers["x-version"] == published
