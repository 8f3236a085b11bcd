"""HTTP proxy integrations (``HTTP_PROXY``) of HTTP APIs and REST APIs, forwarding to a real HTTP server
the test starts on loopback (Lamb reaches it from the host): path variables, the client's query,
headers and body, X-Forwarded-* and Forwarded, HTTP APIs' request and response parameter mapping
(``overwrite:header``, ``append:querystring``, ``remove:header``, ``overwrite:path``), REST's
``{proxy}`` from ``requestParameters``; AWS's answers past the timeout (HTTP APIs 503, REST 504) and
for an endpoint that refuses connections (500). Created with boto3, called with curl by Host and
through the path fallback."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from .conftest import unique
from .test_deploy_apis import curl
from .test_http_apis import fallback


class Backend(BaseHTTPRequestHandler):
    release = threading.Event()  # /slow answers only once the test is done with it

    def _answer(self) -> None:
        if self.path.startswith("/slow"):
            Backend.release.wait(120)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        echo = {"method": self.command, "path": self.path, "body": body.decode(),
                "headers": {k.lower(): v for k, v in self.headers.items()}}
        data = json.dumps(echo).encode()
        self.send_response(201 if self.path.startswith("/created") else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Backend", "from-the-backend")
        if "setcookie" in self.path:  # an application starting its session (sticky sessions' app_cookie)
            self.send_header("Set-Cookie", "sess=1; Path=/")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def backend():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    Backend.release.set()
    server.shutdown()
    server.server_close()


def dead_url() -> str:
    """A loopback port nothing listens on (connections are refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def route(v2, api_id: str, key: str, **integration) -> str:
    integ = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", **integration)
    v2.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integ['IntegrationId']}")
    return integ["IntegrationId"]


def test_http_api_http_proxy(lamb_server, backend):
    v2 = lamb_server.client("apigatewayv2")
    api_id = v2.create_api(Name=unique("httpproxy"), ProtocolType="HTTP")["ApiId"]
    integ = v2.create_integration(
        ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri=backend + "/backend/{proxy}", IntegrationMethod="ANY",
        PayloadFormatVersion="1.0",
        RequestParameters={"overwrite:header.x-added": "static-$request.querystring.q",
                           "append:querystring.extra": "${request.header.x-in}", "remove:header.x-secret": "''"},
        ResponseParameters={"200": {"overwrite:header.x-out": "$response.header.x-backend",
                                    "append:header.x-stage": "$context.stage"}})
    assert (integ["IntegrationMethod"], integ["PayloadFormatVersion"]) == ("ANY", "1.0")
    v2.create_route(ApiId=api_id, RouteKey="ANY /items/{proxy+}", Target=f"integrations/{integ['IntegrationId']}")
    route(v2, api_id, "GET /rewrite", IntegrationUri=backend + "/ignored", IntegrationMethod="GET",
          RequestParameters={"overwrite:path": "/backend/rewritten/$request.querystring.id"})
    route(v2, api_id, "GET /slow", IntegrationUri=backend + "/slow", IntegrationMethod="GET", TimeoutInMillis=500)
    route(v2, api_id, "GET /down", IntegrationUri=dead_url() + "/x", IntegrationMethod="GET")
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    base = f"http://{api_id}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}"

    status, body = curl(base + "/items/a/b?q=1", "-X", "POST", "-H", "x-in: hello", "-H", "x-secret: s",
                        "-H", "Content-Type: text/plain", "-d", "data")
    echo = json.loads(body)
    assert status == 200, body
    assert (echo["method"], echo["path"], echo["body"]) == ("POST", "/backend/a/b?q=1&extra=hello", "data")
    headers = echo["headers"]
    assert headers["x-added"] == "static-1" and "x-secret" not in headers and headers["x-in"] == "hello"
    assert headers["x-forwarded-for"] == "127.0.0.1" and headers["x-forwarded-proto"] == "http"
    assert headers["host"] == backend.removeprefix("http://")
    assert headers["forwarded"].startswith("for=127.0.0.1;host=") and headers["x-amzn-trace-id"].startswith("Root=")

    conn = http.client.HTTPConnection("127.0.0.1", lamb_server.port, timeout=60)
    conn.request("GET", "/items/c", headers={"Host": f"{api_id}.execute-api.{lamb_server.region}.localhost"})
    r = conn.getresponse()
    r.read()
    assert r.status == 200 and r.getheader("x-out") == "from-the-backend" and r.getheader("x-stage") == "$default"
    assert r.getheader("apigw-requestid")
    conn.close()

    assert json.loads(curl(base + "/rewrite?id=7")[1])["path"] == "/backend/rewritten/7?id=7"
    status, body = fallback(lamb_server, api_id, "$default", "/items/x?q=2")
    assert status == 200 and json.loads(body)["path"] == "/backend/x?q=2&extra="
    status, body = curl(base + "/slow")
    assert (status, json.loads(body)) == (503, {"message": "Service Unavailable"})
    status, body = curl(base + "/down")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})

    for bad in ({"IntegrationUri": "ftp://example.com/x", "IntegrationMethod": "GET"},
                {"IntegrationUri": backend},
                {"IntegrationUri": backend, "IntegrationMethod": "GET", "RequestParameters": {"overwrite:header.host": "x"}},
                {"IntegrationUri": backend, "IntegrationMethod": "GET", "PayloadFormatVersion": "2.0"}):
        with pytest.raises(ClientError) as e:
            v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", **bad)
        assert e.value.response["Error"]["Code"] == "BadRequestException", bad


def test_rest_api_http_proxy(lamb_server, backend):
    apigw = lamb_server.client("apigateway")
    api = apigw.create_rest_api(name=unique("restproxy"))
    proxy = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="{proxy+}")
    ids = {"restApiId": api["id"], "resourceId": proxy["id"], "httpMethod": "ANY"}
    apigw.put_method(**ids, authorizationType="NONE", requestParameters={"method.request.path.proxy": True})
    out = apigw.put_integration(**ids, type="HTTP_PROXY", integrationHttpMethod="ANY", uri=backend + "/backend/{proxy}",
                                requestParameters={"integration.request.path.proxy": "method.request.path.proxy",
                                                   "integration.request.header.x-stage": "stageVariables.env",
                                                   "integration.request.querystring.fixed": "'yes'"})
    assert out["type"] == "HTTP_PROXY" and out["httpMethod"] == "ANY"

    def leaf(part: str, uri: str, **kw) -> None:
        res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart=part)
        where = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "GET"}
        apigw.put_method(**where, authorizationType="NONE")
        apigw.put_integration(**where, type="HTTP_PROXY", integrationHttpMethod="GET", uri=uri, **kw)

    leaf("slow", backend + "/slow", timeoutInMillis=500)
    leaf("down", dead_url() + "/x")
    leaf("created", backend + "/created")
    apigw.create_deployment(restApiId=api["id"], stageName="v1", variables={"env": "dev"})
    base = f"http://{api['id']}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/v1"

    status, body = curl(base + "/a/b?q=2", "-X", "PUT", "-d", "payload", "-H", "Content-Type: text/plain")
    echo = json.loads(body)
    assert status == 200, body
    assert (echo["method"], echo["path"], echo["body"]) == ("PUT", "/backend/a/b?q=2&fixed=yes", "payload")
    assert echo["headers"]["x-stage"] == "dev" and echo["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert fallback(lamb_server, api["id"], "v1", "/created")[0] == 201  # the backend's status as it is
    # The backend's reserved response headers (http.server sends Server and Date) come back renamed.
    status, head = curl(base + "/a", "-s", "-D", "-", "-o", "/dev/null")
    names = {line.split(":", 1)[0].lower() for line in head.splitlines() if ":" in line}
    assert {"x-amzn-remapped-server", "x-amzn-remapped-date", "x-backend"} <= names and "server" not in names
    status, body = curl(base + "/slow")
    assert (status, json.loads(body)) == (504, {"message": "Endpoint request timed out"})
    status, body = curl(base + "/down")
    assert (status, json.loads(body)) == (500, {"message": "Internal server error"})

    with pytest.raises(ClientError) as e:
        apigw.put_integration(**ids, type="HTTP_PROXY", integrationHttpMethod="GET", uri="not a url")
    assert e.value.response["Error"] == {"Code": "BadRequestException", "Message": "Invalid HTTP endpoint specified for URI"}


def test_rest_api_http_integration_with_mapping_templates(lamb_server, backend):
    """Type HTTP (non-proxy): the request template's payload and only the mapped parameters go to the
    endpoint; its status code selects the integration response, whose template and header mapping answer."""
    apigw = lamb_server.client("apigateway")
    api = apigw.create_rest_api(name=unique("resthttp"))
    orders = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="orders")
    item = apigw.create_resource(restApiId=api["id"], parentId=orders["id"], pathPart="{id}")
    ids = {"restApiId": api["id"], "resourceId": item["id"], "httpMethod": "POST"}
    apigw.put_method(**ids, authorizationType="NONE", requestParameters={"method.request.path.id": True})
    apigw.put_method_response(**ids, statusCode="200", responseParameters={"method.response.header.X-Backend": False})
    apigw.put_method_response(**ids, statusCode="404")
    out = apigw.put_integration(
        **ids, type="HTTP", integrationHttpMethod="PUT", uri=backend + "/{id}",
        requestParameters={"integration.request.path.id": "method.request.path.id",
                           "integration.request.header.x-from": "'lamb'"},
        requestTemplates={"application/json": '{"wrapped": "$input.params(\'id\')", "n": $input.json(\'$.n\')}'})
    assert out["type"] == "HTTP" and out["httpMethod"] == "PUT"
    apigw.put_integration_response(
        **ids, statusCode="200", selectionPattern="201",
        responseTemplates={"application/json": '{"path": "$input.path(\'$.path\')", "method": "$input.path(\'$.method\')",'
                                               ' "from": "$input.path(\'$.headers.x-from\')", "sent": $input.json(\'$.body\')}'},
        responseParameters={"method.response.header.X-Backend": "integration.response.header.X-Backend"})
    apigw.put_integration_response(**ids, statusCode="404", responseTemplates={"application/json": '{"missing": true}'})
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    base = f"http://{api['id']}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/v1/orders"

    status, body = curl(base + "/created?q=1", "-X", "POST", "-H", "Content-Type: application/json",
                        "-d", '{"n": 3}', "-D", "-")
    head, _, payload = body.partition("\n\n")
    answer = json.loads(payload)
    assert status == 200, body
    assert (answer["path"], answer["method"], answer["from"]) == ("/created", "PUT", "lamb")  # no client query
    assert json.loads(answer["sent"]) == {"wrapped": "created", "n": 3}
    assert "x-backend: from-the-backend" in head.lower()
    status, body = curl(base + "/other", "-X", "POST", "-H", "Content-Type: application/json", "-d", "{}")
    assert (status, json.loads(body)) == (404, {"missing": True})  # 200 from the endpoint: the default response
