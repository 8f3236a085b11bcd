"""REST API caching (the stage cache) through boto3 and real requests: a function answering a new value per
invocation shows hits (the same value again), the integration's cache key parameters separating entries,
TTL 0, FlushStageCache, ``Cache-Control: max-age=0`` by each unauthorized strategy and by an AWS_IAM
caller allowed ``execute-api:InvalidateCache`` (or not), FlushStageAuthorizersCache and the
``CacheHitCount``/``CacheMissCount`` metrics. TTLs are 3600 s: misses come from a flush, TTL 0 or a key."""

from __future__ import annotations

import http.client
import json

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

from .conftest import unique, wait_for
from .test_api_integration_credentials import user
from .test_api_metrics import function, stat

FRESH = ("import json, uuid\n"
         "def handler(event, context):\n"
         "    return {'statusCode': 200, 'headers': {'Content-Type': 'application/json'},\n"
         "            'body': json.dumps({'n': uuid.uuid4().hex, 'q': event.get('queryStringParameters'),\n"
         "                                'auth': (event['requestContext'].get('authorizer') or {}).get('n')})}\n")
AUTHORIZER = ("import uuid\n"
              "def handler(event, context):\n"
              "    return {'principalId': 'me', 'context': {'n': uuid.uuid4().hex}, 'policyDocument': {\n"
              "        'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 'execute-api:Invoke',\n"
              "                                                'Resource': event['methodArn']}]}}\n")


def uri(server, arn: str) -> str:
    return f"arn:aws:apigateway:{server.region}:lambda:path/2015-03-31/functions/{arn}/invocations"


def get(server, api_id: str, path: str, headers: dict | None = None, creds=None) -> tuple[int, dict, dict]:
    """(status, headers with lower-cased names, JSON body) of a GET, signed with ``creds`` when given."""
    host = f"{api_id}.execute-api.{server.region}.localhost:{server.port}"
    headers = dict(headers or {})
    if creds is not None:
        req = AWSRequest("GET", f"http://{host}{path}", headers=headers)
        SigV4Auth(creds, "execute-api", server.region).add_auth(req)
        headers = dict(req.headers.items())
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("GET", path, headers=dict(headers, Host=host))
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, json.loads(r.read() or b"null")
    finally:
        conn.close()


def rest_api(server, apigw, path_part: str, auth: str = "NONE", api: dict | None = None,
             **method) -> tuple[str, dict]:
    arn = function(server, "cached", FRESH)
    api = api or apigw.create_rest_api(name=unique("cached"))
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="items")
    res = apigw.create_resource(restApiId=api["id"], parentId=res["id"], pathPart=path_part)
    ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "GET"}
    apigw.put_method(**ids, authorizationType=auth, **method)
    return arn, ids


def caching(apigw, api_id: str, stage: str, path: str, **values) -> dict:
    ops = [{"op": "replace", "path": f"{path}/caching/{k}", "value": str(v).lower() if isinstance(v, bool) else str(v)}
           for k, v in values.items()]
    return apigw.update_stage(restApiId=api_id, stageName=stage, patchOperations=ops)


def test_stage_cache_hits_key_parameters_ttl_flush_and_metrics(lamb_server):
    apigw, cw = lamb_server.client("apigateway"), lamb_server.client("cloudwatch")
    arn, ids = rest_api(lamb_server, apigw, "{id}", requestParameters={"method.request.querystring.q": False})
    api_id = ids["restApiId"]
    out = apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST", uri=uri(lamb_server, arn),
                                cacheKeyParameters=["method.request.querystring.q"])
    assert out["cacheKeyParameters"] == ["method.request.querystring.q"] and out["cacheNamespace"] == ids["resourceId"]
    with pytest.raises(ClientError) as e:
        apigw.create_deployment(restApiId=api_id, stageName="live", cacheClusterEnabled=True, cacheClusterSize="2.0")
    assert e.value.response["Error"]["Code"] == "ValidationException"  # the model's enum, as AWS checks it
    apigw.create_deployment(restApiId=api_id, stageName="live", cacheClusterEnabled=True, cacheClusterSize="0.5")
    stage = apigw.get_stage(restApiId=api_id, stageName="live")
    assert (stage["cacheClusterEnabled"], stage["cacheClusterSize"], stage["cacheClusterStatus"]) == (
        True, "0.5", "AVAILABLE")
    base = "/live/items"
    # The cluster alone caches nothing: a method setting turns caching on.
    assert get(lamb_server, api_id, base + "/1?q=a")[2]["n"] != get(lamb_server, api_id, base + "/1?q=a")[2]["n"]
    stage = caching(apigw, api_id, "live", "/*/*", enabled=True, ttlInSeconds=3600, dataEncrypted=True)
    assert stage["methodSettings"]["*/*"]["cachingEnabled"] is True
    assert stage["methodSettings"]["*/*"]["cacheDataEncrypted"] is True  # entries sealed in memory
    assert stage["methodSettings"]["*/*"]["cacheTtlInSeconds"] == 3600

    first = get(lamb_server, api_id, base + "/1?q=a")
    assert first[0] == 200 and first[1]["content-type"] == "application/json" and first[2]["q"] == {"q": "a"}
    again = get(lamb_server, api_id, base + "/1?q=a")
    assert again[0] == 200 and again[2] == first[2]  # a hit: the function did not run
    assert again[1]["x-amzn-requestid"] != first[1]["x-amzn-requestid"]
    other = get(lamb_server, api_id, base + "/1?q=b")[2]
    assert other["n"] != first[2]["n"] and other["q"] == {"q": "b"}  # a key parameter separates entries
    assert get(lamb_server, api_id, base + "/2?q=a")[2] == first[2]  # a path parameter outside the key does not

    apigw.flush_stage_cache(restApiId=api_id, stageName="live")
    flushed = get(lamb_server, api_id, base + "/1?q=a")[2]
    assert flushed["n"] != first[2]["n"]
    assert get(lamb_server, api_id, base + "/1?q=a")[2] == flushed

    # TTL 0 for this method (its own setting): nothing is cached.
    stage = caching(apigw, api_id, "live", "/~1items~1{id}/GET", ttlInSeconds=0)
    assert stage["methodSettings"]["~1items~1{id}/GET"]["cacheTtlInSeconds"] == 0
    assert stage["methodSettings"]["~1items~1{id}/GET"]["cachingEnabled"] is True  # copied from */*
    assert get(lamb_server, api_id, base + "/1?q=a")[2]["n"] != get(lamb_server, api_id, base + "/1?q=a")[2]["n"]

    # 6 requests reached a cached method: hits 1/a again, 2/a, 1/a after the flush; misses 1/a, 1/b, 1/a flushed.
    by_stage = {"ApiName": apigw.get_rest_api(restApiId=api_id)["name"], "Stage": "live"}
    wait_for(lambda: stat(cw, "CacheHitCount", by_stage) == 3, 30, 0.2, "three cache hits counted")
    assert stat(cw, "CacheMissCount", by_stage) == 3
    assert stat(cw, "Count", by_stage) == 10

    with pytest.raises(ClientError) as e:
        apigw.update_stage(restApiId=api_id, stageName="live",
                           patchOperations=[{"op": "replace", "path": "/cacheClusterSize", "value": "2.0"}])
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    with pytest.raises(ClientError) as e:
        caching(apigw, api_id, "live", "/*/*", ttlInSeconds=3601)
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    stage = apigw.update_stage(restApiId=api_id, stageName="live", patchOperations=[
        {"op": "replace", "path": "/cacheClusterEnabled", "value": "false"}])
    assert (stage["cacheClusterEnabled"], stage["cacheClusterStatus"]) == (False, "NOT_AVAILABLE")
    with pytest.raises(ClientError) as e:
        apigw.flush_stage_cache(restApiId=api_id, stageName="nope")
    assert e.value.response["Error"]["Code"] == "NotFoundException"


def test_cache_control_invalidation_by_strategy_and_by_an_authorized_caller(lamb_server):
    apigw = lamb_server.client("apigateway")
    arn, ids = rest_api(lamb_server, apigw, "open")
    api_id = ids["restApiId"]
    apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST", uri=uri(lamb_server, arn))
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    apigw.create_stage(restApiId=api_id, stageName="v2", cacheClusterEnabled=True,
                       deploymentId=apigw.get_stage(restApiId=api_id, stageName="v1")["deploymentId"])
    stage = caching(apigw, api_id, "v2", "/*/*", enabled=True, ttlInSeconds=3600)
    settings = stage["methodSettings"]["*/*"]
    assert settings["requireAuthorizationForCacheControl"] is True
    assert settings["unauthorizedCacheControlHeaderStrategy"] == "SUCCEED_WITH_RESPONSE_HEADER"
    path, fresh = "/v2/items/open", {"Cache-Control": "max-age=0"}
    cached = get(lamb_server, api_id, path)[2]
    # Not authorized (no AWS_IAM caller): the header is ignored, with a warning header by default.
    status, headers, body = get(lamb_server, api_id, path, fresh)
    assert (status, body) == (200, cached) and "x-amz-apigw-cache-control" in headers
    caching(apigw, api_id, "v2", "/*/*", unauthorizedCacheControlHeaderStrategy="SUCCEED_WITHOUT_RESPONSE_HEADER")
    status, headers, body = get(lamb_server, api_id, path, fresh)
    assert (status, body) == (200, cached) and "x-amz-apigw-cache-control" not in headers
    caching(apigw, api_id, "v2", "/*/*", unauthorizedCacheControlHeaderStrategy="FAIL_WITH_403")
    status, _, body = get(lamb_server, api_id, path, fresh)
    assert status == 403 and "execute-api:InvalidateCache" in body["Message"]
    assert get(lamb_server, api_id, path)[2] == cached  # without the header: still the entry
    with pytest.raises(ClientError) as e:
        caching(apigw, api_id, "v2", "/*/*", unauthorizedCacheControlHeaderStrategy="NOPE")
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    # No authorization required: anyone invalidates; the new answer replaces the entry.
    caching(apigw, api_id, "v2", "/*/*", requireAuthorizationForCacheControl=False)
    renewed = get(lamb_server, api_id, path, fresh)[2]
    assert renewed["n"] != cached["n"] and get(lamb_server, api_id, path)[2] == renewed
    assert get(lamb_server, api_id, "/v1/items/open")[2]["n"] != get(lamb_server, api_id, "/v1/items/open")[2]["n"]
    # A deleted stage's cache goes with it: the stage made again starts empty.
    deployment = apigw.get_stage(restApiId=api_id, stageName="v2")["deploymentId"]
    apigw.delete_stage(restApiId=api_id, stageName="v2")
    apigw.create_stage(restApiId=api_id, stageName="v2", cacheClusterEnabled=True, deploymentId=deployment)
    caching(apigw, api_id, "v2", "/*/*", enabled=True, ttlInSeconds=3600)
    again = get(lamb_server, api_id, path)[2]
    assert again["n"] != renewed["n"] and get(lamb_server, api_id, path)[2] == again

    # An AWS_IAM method: the authorizer still runs before the cache; InvalidateCache in the caller's policies.
    arn2, iam_ids = rest_api(lamb_server, apigw, "iam", auth="AWS_IAM")
    api2 = iam_ids["restApiId"]
    apigw.put_integration(**iam_ids, type="AWS_PROXY", integrationHttpMethod="POST", uri=uri(lamb_server, arn2))
    apigw.create_deployment(restApiId=api2, stageName="s", cacheClusterEnabled=True)
    caching(apigw, api2, "s", "/*/*", enabled=True, ttlInSeconds=3600)
    invoke = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"arn:aws:execute-api:*:*:{api2}/*"}
    invalidate = {"Effect": "Allow", "Action": "execute-api:InvalidateCache",
                  "Resource": f"arn:aws:execute-api:*:*:{api2}/s/GET/items/iam"}
    _, reader = user(lamb_server, invoke)
    _, admin = user(lamb_server, invoke, invalidate)
    path = "/s/items/iam"
    cached = get(lamb_server, api2, path, creds=reader)[2]
    assert get(lamb_server, api2, path, creds=admin)[2] == cached
    assert get(lamb_server, api2, path)[0] == 403  # unsigned: refused before the cache
    status, headers, body = get(lamb_server, api2, path, fresh, creds=reader)
    assert body == cached and "x-amz-apigw-cache-control" in headers
    status, headers, renewed = get(lamb_server, api2, path, fresh, creds=admin)
    assert status == 200 and renewed["n"] != cached["n"] and "x-amz-apigw-cache-control" not in headers
    assert get(lamb_server, api2, path, creds=reader)[2] == renewed


def test_flush_stage_authorizers_cache(lamb_server):
    apigw = lamb_server.client("apigateway")
    auth_arn = function(lamb_server, "cacheauth", AUTHORIZER)
    api = apigw.create_rest_api(name=unique("authcache"))
    auth = apigw.create_authorizer(restApiId=api["id"], name="tok", type="TOKEN",
                                   authorizerUri=uri(lamb_server, auth_arn),
                                   identitySource="method.request.header.Authorization",
                                   authorizerResultTtlInSeconds=3600)
    arn, ids = rest_api(lamb_server, apigw, "guarded", auth="CUSTOM", api=api, authorizerId=auth["id"])
    apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST", uri=uri(lamb_server, arn))
    apigw.create_deployment(restApiId=api["id"], stageName="p")
    token = {"Authorization": "letmein"}
    one = get(lamb_server, api["id"], "/p/items/guarded", token)[2]
    assert one["auth"] and get(lamb_server, api["id"], "/p/items/guarded", token)[2]["auth"] == one["auth"]
    apigw.flush_stage_authorizers_cache(restApiId=api["id"], stageName="p")
    assert get(lamb_server, api["id"], "/p/items/guarded", token)[2]["auth"] != one["auth"]
