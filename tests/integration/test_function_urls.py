"""Serving function URLs (issue 14) with real clients: curl (the returned URL, resolved
through *.localhost) and urllib (the path fallback and an explicit Host header).
Expected answers are AWS's where recorded (LocalStack's AWS-validated
``test_lambda.snapshot.json``, ``TestLambdaURL``) or documented
(https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .conftest import LambServer, create, free_port, unique

KEY, SECRET = "AKIDURLTEST", "url-test-secret"
OTHER_KEY, OTHER_SECRET, OTHER_ARN = "AKIDOTHERACCT", "other-secret", "arn:aws:iam::444455556666:user/bob"
FORBIDDEN = ("Forbidden. For troubleshooting Function URL authorization issues, see: "
             "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html")

ECHO = """
import json
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}
"""
# Returns what the request body's "result" says, raises on "raise", sleeps on "sleep".
RESPONDER = """
import base64, json, time
def handler(event, context):
    body = event.get("body") or "{}"
    req = json.loads(base64.b64decode(body) if event.get("isBase64Encoded") else body)
    if req.get("raise"):
        raise RuntimeError("boom")
    if req.get("sleep"):
        time.sleep(req["sleep"])
    return req.get("result")
"""
WHO = """
def handler(event, context):
    return {"version": context.function_version, "arn": context.invoked_function_arn}
"""


@pytest.fixture(scope="module")
def server():
    s = LambServer(env={"LAMB_URL_IAM_KEYS": f"{KEY}={SECRET},{OTHER_KEY}={OTHER_SECRET}@{OTHER_ARN}"}).start()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="module")
def lam(server):
    return server.client()


def grant(lam, name, qualifier=None, auth="NONE", principal="*"):
    q = {"Qualifier": qualifier} if qualifier else {}
    lam.add_permission(FunctionName=name, StatementId=unique("url"), Action="lambda:InvokeFunctionUrl",
                       Principal=principal, FunctionUrlAuthType=auth, **q)
    lam.add_permission(FunctionName=name, StatementId=unique("inv"), Action="lambda:InvokeFunction",
                       Principal=principal, InvokedViaFunctionUrl=True, **q)


def make_url(lam, code, *, auth="NONE", permit=True, **kw) -> tuple[str, str]:
    name = unique("furl")
    create(lam, name, code, **{k: v for k, v in kw.items() if k in ("Timeout",)})
    url = lam.create_function_url_config(FunctionName=name, AuthType=auth,
                                         **{k: v for k, v in kw.items() if k in ("Cors", "InvokeMode")})
    if permit:
        grant(lam, name, auth=auth)
    return name, url["FunctionUrl"]


def url_id(function_url: str) -> str:
    return urlsplit(function_url).hostname.split(".")[0]


def fetch(server, function_url, path="/", *, method="GET", body=None, headers=None, via="path"):
    """urllib: ``via="path"`` uses /_lamb/url/<id>/..., ``via="host"`` sends the Host header."""
    uid = url_id(function_url)
    headers = dict(headers or {})
    if via == "path":
        target = f"{server.url}/_lamb/url/{uid}{path}"
    else:
        target = f"{server.url}{path}"
        headers["Host"] = urlsplit(function_url).netloc
    req = urllib.request.Request(target, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def curl(*args) -> tuple[int, dict, bytes]:
    out = subprocess.run(["curl", "-s", "-i", "--max-time", "60", *args], capture_output=True, timeout=90).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.setdefault(k.strip().lower(), []).append(v.strip())
    return status, headers, body


def signed_headers(function_url, method="GET", body=b"", key=KEY, secret=SECRET, path="/", region="us-east-1") -> dict:
    req = AWSRequest(method=method, url=function_url.rstrip("/") + path, data=body)
    SigV4Auth(Credentials(key, secret), "lambda", region).add_auth(req)
    return dict(req.prepare().headers)


# ----------------------------------------------------------------------- auth
def test_none_needs_both_statements(server, lam):
    name, url = make_url(lam, RESPONDER, permit=False)
    assert re.fullmatch(rf"http://[a-z0-9]{{32}}\.lambda-url\.us-east-1\.localhost:{server.port}/", url)
    status, headers, body = curl(url)
    assert status == 403 and json.loads(body) == {"Message": FORBIDDEN}
    assert headers["x-amzn-errortype"] == ["AccessDeniedException"]
    lam.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl", Principal="*",
                       FunctionUrlAuthType="NONE")
    assert curl(url)[0] == 403  # lambda:InvokeFunction is needed too since October 2025
    lam.add_permission(FunctionName=name, StatementId="invoke", Action="lambda:InvokeFunction", Principal="*",
                       InvokedViaFunctionUrl=True)
    status, headers, body = curl("-X", "POST", "-H", "content-type: application/json", "-d",
                                 '{"result": {"ok": true}}', url)
    assert (status, body) == (200, b'{"ok":true}')
    assert headers["content-type"] == ["application/json"]
    lam.remove_permission(FunctionName=name, StatementId="invoke")
    assert curl(url)[0] == 403


def test_aws_iam(server, lam):
    name, url = make_url(lam, ECHO, auth="AWS_IAM", permit=False)
    status, headers, body = fetch(server, url, via="host")
    assert status == 403 and json.loads(body) == {"Message": "Forbidden"}
    # A signer of this account: its identity is allowed (no identity policies yet); the event names it.
    status, _, body = fetch(server, url, via="host", headers=signed_headers(url))
    assert status == 200, body
    ctx = json.loads(body)["requestContext"]
    assert ctx["accountId"] == "000000000000"
    assert ctx["authorizer"]["iam"]["accessKey"] == KEY
    assert ctx["authorizer"]["iam"]["userArn"] == "arn:aws:iam::000000000000:root"
    status, headers, body = fetch(server, url, via="host", headers=signed_headers(url, secret="wrong"))
    assert status == 403 and headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert json.loads(body)["Message"].startswith("The request signature we calculated does not match")
    status, headers, _ = fetch(server, url, via="host", headers=signed_headers(url, key="AKIDNOBODY"))
    assert status == 403 and headers["x-amzn-ErrorType"] == "UnrecognizedClientException"
    status, headers, _ = fetch(server, url, via="host", headers=signed_headers(url, region="eu-west-1"))
    assert status == 403 and headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    # The path form is signed as sent (its path and Lamb's host).
    uid = url_id(url)
    status, _, body = fetch(server, url, "/p", headers=signed_headers(f"{server.url}/_lamb/url/{uid}", path="/p"))
    assert status == 200 and json.loads(body)["rawPath"] == "/p"
    # Another account needs the resource policy, for both actions.
    other = signed_headers(url, key=OTHER_KEY, secret=OTHER_SECRET)
    assert fetch(server, url, via="host", headers=other)[0] == 403
    lam.add_permission(FunctionName=name, StatementId="u", Action="lambda:InvokeFunctionUrl",
                       Principal="444455556666", FunctionUrlAuthType="AWS_IAM")
    assert fetch(server, url, via="host", headers=signed_headers(url, key=OTHER_KEY, secret=OTHER_SECRET))[0] == 403
    lam.add_permission(FunctionName=name, StatementId="i", Action="lambda:InvokeFunction",
                       Principal="444455556666", InvokedViaFunctionUrl=True)
    status, _, body = fetch(server, url, via="host", headers=signed_headers(url, key=OTHER_KEY, secret=OTHER_SECRET))
    assert status == 200 and json.loads(body)["requestContext"]["accountId"] == "444455556666"


# ---------------------------------------------------------------------- event
def test_event_is_payload_format_2(server, lam):
    _, url = make_url(lam, ECHO)
    status, headers, body = curl("-X", "POST", url + "some/pa%20th?a=1&a=2&b=&c=x%20y",
                                 "-H", "Content-Type: application/json", "-H", "X-Multi: one", "-H", "X-Multi: two",
                                 "-H", "Cookie: s=1; t=2", "-H", "User-Agent: lamb-test", "-d", '{"k": "v"}')
    assert status == 200, body
    event = json.loads(body)
    uid = url_id(url)
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/some/pa%20th" and event["rawQueryString"] == "a=1&a=2&b=&c=x%20y"
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["queryStringParameters"] == {"a": "1,2", "b": "", "c": "x y"}
    h = event["headers"]
    assert all(k == k.lower() for k in h)
    assert h["x-multi"] == "one,two" and h["user-agent"] == "lamb-test" and "cookie" not in h
    assert h["content-type"] == "application/json" and h["x-forwarded-proto"] == "http"
    assert h["x-forwarded-for"] == "127.0.0.1" and h["x-amzn-trace-id"].startswith("Root=")
    assert event["body"] == '{"k": "v"}' and event["isBase64Encoded"] is False
    rc = event["requestContext"]
    assert rc["accountId"] == "anonymous" and rc["apiId"] == uid and rc["domainPrefix"] == uid
    assert rc["domainName"] == f"{uid}.lambda-url.us-east-1.localhost"
    assert rc["http"] == {"method": "POST", "path": "/some/pa%20th", "protocol": "HTTP/1.1",
                          "sourceIp": "127.0.0.1", "userAgent": "lamb-test"}
    assert rc["routeKey"] == "$default" and rc["stage"] == "$default"
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", rc["time"])
    assert isinstance(rc["timeEpoch"], int)
    assert rc["requestId"] == headers["x-amzn-requestid"][0]
    assert "authorizer" not in rc
    # A GET with no query and no body leaves those members out.
    status, _, body = fetch(server, url, "/")
    event = json.loads(body)
    assert "body" not in event and "queryStringParameters" not in event and "cookies" not in event
    assert event["isBase64Encoded"] is False and event["rawPath"] == "/"


def test_binary_bodies(server, lam):
    _, url = make_url(lam, ECHO)
    data = bytes(range(256))
    status, _, body = fetch(server, url, "/bin", method="POST", body=data,
                            headers={"Content-Type": "application/octet-stream"})
    event = json.loads(body)
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == data
    _, url2 = make_url(lam, RESPONDER)
    payload = base64.b64encode(data).decode()
    req = {"result": {"statusCode": 200, "headers": {"Content-Type": "image/png"}, "body": payload,
                      "isBase64Encoded": True}}
    status, headers, body = fetch(server, url2, method="POST", body=json.dumps(req).encode(),
                                  headers={"Content-Type": "application/json"})
    assert (status, headers["Content-Type"], body) == (200, "image/png", data)


# ------------------------------------------------------------------- responses
@pytest.fixture(scope="module")
def responder(lam) -> str:
    return make_url(lam, RESPONDER)[1]


@pytest.mark.parametrize("result, body", [
    ({"hello": "world"}, b'{"hello":"world"}'),
    (["hello", 3, True], b'["hello",3,true]'),
    ("hello", b"hello"),
    (3, b"3"),
    (3.1, b"3.1"),
    (True, b"true"),
    ({"statusCode": 200, "body": "body123"}, b"body123"),
])
def test_bare_and_structured_results(server, responder, result, body):
    status, headers, got = fetch(server, responder, method="POST", body=json.dumps({"result": result}).encode(),
                                 headers={"Content-Type": "application/json"})
    assert (status, headers["Content-Type"], got) == (200, "application/json", body)


def test_status_headers_and_cookies(server, lam):
    _, url = make_url(lam, RESPONDER)
    result = {"statusCode": 201, "headers": {"Content-Type": "text/plain", "My-Custom-Header": "Custom Value"},
              "cookies": ["a=1; Max-Age=60", "b=2"], "body": "made"}
    status, headers, body = curl("-X", "POST", "-H", "content-type: application/json",
                                 "-d", json.dumps({"result": result}), url)
    assert (status, body) == (201, b"made")
    assert headers["my-custom-header"] == ["Custom Value"] and headers["content-type"] == ["text/plain"]
    assert headers["set-cookie"] == ["a=1; Max-Age=60", "b=2"]
    status, _, body = fetch(server, url, method="POST", headers={"Content-Type": "application/json"},
                            body=json.dumps({"result": {"statusCode": "418", "body": "i'm a teapot"}}).encode())
    assert (status, body) == (418, b"i'm a teapot")


# ---------------------------------------------------------------------- errors
def test_error_statuses(server, lam):
    name, url = make_url(lam, RESPONDER, Timeout=1)
    post = dict(method="POST", headers={"Content-Type": "application/json"})
    # A URL that never existed.
    status, headers, body = fetch(server, "http://" + "0" * 32 + ".lambda-url.us-east-1.localhost/", via="host")
    assert (status, body, headers["x-amzn-ErrorType"]) == (403, b'{"Message":null}', "AccessDeniedException")
    assert headers["Content-Type"] == "application/json"
    # Function error, malformed responses, timeout: 502.
    for req in ({"raise": True}, {"result": {"statusCode": "abc"}}, {"result": {"statusCode": 200, "body": "!",
                                                                                 "isBase64Encoded": True}},
                {"sleep": 3}):
        status, _, body = fetch(server, url, body=json.dumps(req).encode(), **post)
        assert (status, body) == (502, b"Internal Server Error"), req
    # Oversized request: 413.
    status, headers, body = fetch(server, url, body=b"x" * (6 * 1024 * 1024 + 1),
                                  method="POST", headers={"Content-Type": "text/plain"})
    assert status == 413 and headers["x-amzn-ErrorType"] == "RequestEntityTooLargeException"
    # Throttled: 429.
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    status, headers, body = fetch(server, url, body=b'{"result": 1}', **post)
    assert (status, json.loads(body)) == (429, {"Message": "Rate Exceeded."})
    assert headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    lam.delete_function_concurrency(FunctionName=name)
    assert fetch(server, url, body=b'{"result": 1}', **post)[:3:2] == (200, b"1")
    # A deleted URL: Forbidden.
    lam.delete_function_url_config(FunctionName=name)
    status, _, body = fetch(server, url, body=b'{"result": 1}', **post)
    assert (status, json.loads(body)) == (403, {"Message": FORBIDDEN})


def test_stream_mode_url_of_a_function_that_does_not_stream(server, lam):
    """A Python handler cannot stream (AWS: Node.js and custom runtimes only): its result
    is answered as a BUFFERED URL answers it. Streaming functions: test_streaming.py."""
    _, url = make_url(lam, RESPONDER, InvokeMode="RESPONSE_STREAM")
    result = {"statusCode": 202, "headers": {"X-Out": "1"}, "body": "hi"}
    status, headers, body = fetch(server, url, method="POST", body=json.dumps({"result": result}).encode(),
                                  headers={"Content-Type": "application/json"})
    assert (status, headers["X-Out"], body) == (202, "1", b"hi")
    status, _, _ = fetch(server, url, method="POST", body=b'{"raise": true}', headers={"Content-Type": "application/json"})
    assert status == 502


# ------------------------------------------------------------------------ CORS
def test_cors(server, lam):
    cors = {"AllowOrigins": ["https://app.example.com"], "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["x-custom"], "ExposeHeaders": ["x-out"], "MaxAge": 300, "AllowCredentials": True}
    _, url = make_url(lam, RESPONDER, Cors=cors)
    status, headers, body = curl("-X", "OPTIONS", "-H", "Origin: https://app.example.com",
                                 "-H", "Access-Control-Request-Method: POST", url)
    assert status == 200 and body == b""
    assert headers["access-control-allow-origin"] == ["https://app.example.com"]
    assert headers["access-control-allow-methods"] == ["GET,POST"]
    assert headers["access-control-allow-headers"] == ["x-custom"]
    assert headers["access-control-max-age"] == ["300"]
    assert headers["access-control-allow-credentials"] == ["true"]
    result = {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "https://evil.example"}, "body": "x"}
    status, headers, body = curl("-X", "POST", "-H", "Origin: https://app.example.com", "-H",
                                 "content-type: application/json", "-d", json.dumps({"result": result}), url)
    assert (status, body) == (200, b"x")
    assert headers["access-control-allow-origin"] == ["https://app.example.com"]  # the URL's, not the function's
    assert headers["access-control-expose-headers"] == ["x-out"]
    status, headers, _ = curl("-X", "OPTIONS", "-H", "Origin: https://other.example",
                              "-H", "Access-Control-Request-Method: POST", url)
    assert status == 200 and "access-control-allow-origin" not in headers


# --------------------------------------------------------------------- aliases
def test_alias_urls(server, lam):
    name = unique("furl")
    create(lam, name, WHO)
    v = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=v)
    url = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")["FunctionUrl"]
    assert curl(url)[0] == 403  # the function's policy does not cover the alias
    grant(lam, name, qualifier="live")
    status, _, body = curl(url)
    assert status == 200 and json.loads(body) == {"version": v, "arn": server.arn(name, "live")}
    status, _, body = fetch(server, url, via="host")
    assert status == 200 and json.loads(body)["version"] == v
    lam.delete_alias(FunctionName=name, Name="live")
    status, _, body = curl(url)
    assert (status, json.loads(body)) == (403, {"Message": FORBIDDEN})


def test_path_fallback_and_api_still_served(server, lam):
    _, url = make_url(lam, ECHO)
    status, _, body = fetch(server, url, "/x/y?q=1", via="path")
    event = json.loads(body)
    assert status == 200 and event["rawPath"] == "/x/y" and event["rawQueryString"] == "q=1"
    assert lam.list_functions()["Functions"]  # the AWS API on the same port is unaffected


def test_urls_and_policies_survive_kill9(fresh_server):
    s = fresh_server()
    lam = s.client()
    name, url = make_url(lam, RESPONDER)
    post = dict(method="POST", body=b'{"result": "up"}', headers={"Content-Type": "application/json"})
    assert fetch(s, url, **post)[::2] == (200, b"up")
    s.kill9()
    s.restart()
    lam = s.client()
    assert lam.get_function_url_config(FunctionName=name)["FunctionUrl"] == url
    assert fetch(s, url, **post)[::2] == (200, b"up")


def test_dedicated_url_port(fresh_server):
    url_port = free_port()
    s = fresh_server(env={"LAMB_URL_PORT": str(url_port)})
    lam = s.client()
    _, url = make_url(lam, RESPONDER)
    assert urlsplit(url).port == url_port
    status, _, body = curl("-X", "POST", "-H", "content-type: application/json", "-d", '{"result": "here"}', url)
    assert (status, body) == (200, b"here")
    # The URL port serves URLs only: the AWS API is not there.
    status, headers, body = curl(f"http://127.0.0.1:{url_port}/2015-03-31/functions")
    assert (status, body) == (403, b'{"Message":null}')
    status, _, body = curl(f"http://127.0.0.1:{url_port}/_lamb/url/{url_id(url)}/", "-X", "POST",
                           "-H", "content-type: application/json", "-d", '{"result": "path"}')
    assert (status, body) == (200, b"path")
