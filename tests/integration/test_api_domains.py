"""API Gateway custom domain names (apis/domains.py) with real clients against a real ``lamb serve``:
boto3's ``apigatewayv2`` and ``apigateway`` clients and the AWS CLI to manage them, moto's server as ACM
(the certificate must exist), curl to call the APIs through the domain (``*.localhost`` names resolve to
loopback; other names with a ``Host`` header) and the ``/_lamb/domains/<domain>/`` path fallback."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import quote

import botocore.exceptions
import pytest

from .async_support import moto, serving  # noqa: F401  (fixtures)
from .awscli import aws_json
from .conftest import unique, wait_for
from .test_api_metrics import function
from .test_deploy_apis import curl

ECHO = ("import json\n"
        "def handler(event, context):\n"
        "    return {'statusCode': 200, 'headers': {'Content-Type': 'application/json'}, 'body': json.dumps(event)}\n")


@pytest.fixture(scope="module")
def dserver(moto, tmp_path_factory):  # noqa: F811
    """A Lamb that reaches moto's server for ACM through boto3's own ``AWS_ENDPOINT_URL_ACM``."""
    env = {"AWS_ENDPOINT_URL_ACM": moto.url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    yield from serving(env, tmp_path_factory, "domains-server")


@pytest.fixture(scope="module")
def certificate(moto, dserver) -> str:  # noqa: F811
    acm = moto.client("acm")
    return acm.request_certificate(DomainName="*.shop.localhost")["CertificateArn"]


def lines(server, group: str) -> list[str]:
    found = []
    for stream in server.get_json(f"/_lamb/logs?group={quote(group, safe='')}")["streams"]:
        path = f"/_lamb/logs?group={quote(group, safe='')}&stream={quote(stream, safe='')}"
        found += [line for _, line in server.get_json(path)["events"]]
    return found


def _code(e: pytest.ExceptionInfo) -> tuple[str, int, str]:
    err = e.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def _event(status_body: tuple[int, str]) -> dict:
    status, body = status_body
    assert status == 200, body
    return json.loads(body)


def test_http_api_mappings_by_longest_key(dserver, certificate):
    v2 = dserver.client("apigatewayv2")
    domain = unique("api").lower() + ".shop.localhost"
    missing = certificate.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v2.create_domain_name(DomainName=domain, DomainNameConfigurations=[
            {"CertificateArn": missing, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}])
    assert _code(e) == ("BadRequestException", 400, "Invalid request provided: The provided certificate does not exist.")

    made = v2.create_domain_name(DomainName=domain, Tags={"team": "shop"}, DomainNameConfigurations=[
        {"CertificateArn": certificate, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}])
    conf = made["DomainNameConfigurations"][0]
    assert made["DomainName"] == domain and made["ApiMappingSelectionExpression"] == "$request.basepath"
    assert conf["ApiGatewayDomainName"].startswith("d-")
    assert conf["ApiGatewayDomainName"].endswith(f".execute-api.{dserver.region}.localhost")
    assert (conf["DomainNameStatus"], conf["EndpointType"], conf["SecurityPolicy"], conf["CertificateArn"]) == \
        ("AVAILABLE", "REGIONAL", "TLS_1_2", certificate)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v2.create_domain_name(DomainName=domain, DomainNameConfigurations=[{"CertificateArn": certificate}])
    assert _code(e)[:2] == ("ConflictException", 409)
    assert v2.get_tags(ResourceArn=made["DomainNameArn"])["Tags"] == {"team": "shop"}
    v2.tag_resource(ResourceArn=made["DomainNameArn"], Tags={"env": "test"})
    assert v2.get_domain_name(DomainName=domain)["Tags"] == {"team": "shop", "env": "test"}

    arn = function(dserver, "dom", ECHO)
    root = v2.create_api(Name="root", ProtocolType="HTTP", Target=arn)["ApiId"]  # $default stage
    orders = v2.create_api(Name="orders", ProtocolType="HTTP", Target=arn, RouteKey="GET /items/{id}")["ApiId"]
    v2.create_stage(ApiId=orders, StageName="prod", AutoDeploy=True)
    v2.create_route(ApiId=orders, RouteKey="GET /ping",
                    Target=v2.get_routes(ApiId=orders)["Items"][0]["Target"])  # a change: prod deploys itself
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v2.create_api_mapping(DomainName=domain, ApiId=orders, Stage="nope", ApiMappingKey="v1/orders")
    assert _code(e) == ("BadRequestException", 400, "Invalid stage identifier specified")
    none = v2.create_api_mapping(DomainName=domain, ApiId=root, Stage="$default")
    assert "ApiMappingKey" not in none
    deep = v2.create_api_mapping(DomainName=domain, ApiId=orders, Stage="prod", ApiMappingKey="v1/orders")
    assert (deep["ApiMappingKey"], deep["Stage"], deep["ApiId"]) == ("v1/orders", "prod", orders)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v2.create_api_mapping(DomainName=domain, ApiId=root, Stage="$default", ApiMappingKey="v1/orders")
    assert _code(e) == ("ConflictException", 409, "ApiMapping key already exists for this domain name")
    listed = v2.get_api_mappings(DomainName=domain)["Items"]
    assert sorted(m.get("ApiMappingKey", "") for m in listed) == ["", "v1/orders"]

    base = f"http://{domain}:{dserver.port}"
    event = _event(curl(base + "/v1/orders/items/7?x=1"))  # the longest key: the orders API, /items/7 routed
    ctx = event["requestContext"]
    assert (event["routeKey"], event["pathParameters"]) == ("GET /items/{id}", {"id": "7"})
    assert event["rawPath"] == "/v1/orders/items/7" and ctx["http"]["path"] == "/v1/orders/items/7"
    assert (ctx["apiId"], ctx["stage"]) == (orders, "prod")
    assert (ctx["domainName"], ctx["domainPrefix"]) == (domain, domain.split(".")[0])
    event = _event(curl(base + "/v1/ordersx/items/7"))  # not a whole level: the (none) mapping's API
    assert (event["requestContext"]["apiId"], event["rawPath"]) == (root, "/v1/ordersx/items/7")
    assert curl(base + "/v1/orders/nothing") == (404, '{"message":"Not Found"}')  # the API's own 404
    # Any name that reaches Lamb with the domain as Host (what a CNAME to ApiGatewayDomainName gives).
    alias = f"http://{conf['ApiGatewayDomainName']}:{dserver.port}"
    assert _event(curl(alias + "/v1/orders/ping", "-H", f"Host: {domain}"))["routeKey"] == "GET /ping"
    # The stage's access log names the mapping's key the request matched.
    group = unique("dom-access")
    v2.update_stage(ApiId=orders, StageName="prod", AccessLogSettings={
        "DestinationArn": f"arn:aws:logs:{dserver.region}:{dserver.account_id}:log-group:{group}",
        "Format": "$context.requestId $context.customDomain.basePathMatched $context.path"})
    assert curl(base + "/v1/orders/items/8")[0] == 200
    wait_for(lambda: len(lines(dserver, group)) == 1, 30, 0.1, "the access log line")
    assert lines(dserver, group)[0].split(" ")[1:] == ["v1/orders", "/v1/orders/items/8"]
    assert _event(curl(alias + "/v1/orders/ping", "-H", f"Host: {domain.upper()}:443"))["routeKey"] == "GET /ping"
    assert curl(alias + "/v1/orders/ping") == (403, '{"message":"Forbidden"}')  # the d-<id> name as Host
    # The path fallback, for clients that cannot set Host.
    with urllib.request.urlopen(f"{dserver.url}/_lamb/domains/{domain}/v1/orders/items/9", timeout=60) as r:
        event = json.loads(r.read())
    assert (event["pathParameters"], event["requestContext"]["domainName"]) == ({"id": "9"}, domain)

    # The AWS CLI sees and changes the same mappings.
    key = aws_json(dserver, "update-api-mapping", "--domain-name", domain, "--api-mapping-id", deep["ApiMappingId"],
                   "--api-id", orders, "--api-mapping-key", "v2/orders", service="apigatewayv2")
    assert key["ApiMappingKey"] == "v2/orders"
    assert _event(curl(base + "/v2/orders/items/3"))["pathParameters"] == {"id": "3"}
    assert _event(curl(base + "/v1/orders/items/3"))["requestContext"]["apiId"] == root
    v2.delete_api_mapping(DomainName=domain, ApiMappingId=none["ApiMappingId"])
    assert curl(base + "/v1/orders/items/3") == (403, '{"message":"Forbidden"}')  # no mapping covers it
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v2.get_api_mapping(DomainName=domain, ApiMappingId=none["ApiMappingId"])
    assert _code(e)[:2] == ("NotFoundException", 404)

    # v1 sees the domain made through v2, and its mappings as base path mappings.
    v1 = dserver.client("apigateway")
    got = v1.get_domain_name(domainName=domain)
    assert (got["regionalDomainName"], got["regionalCertificateArn"], got["endpointConfiguration"]["types"]) == \
        (conf["ApiGatewayDomainName"], certificate, ["REGIONAL"])
    assert [(m["basePath"], m["restApiId"], m["stage"]) for m in v1.get_base_path_mappings(domainName=domain)["items"]] \
        == [("v2/orders", orders, "prod")]

    with pytest.raises(botocore.exceptions.ClientError) as e:  # a mapped API stays
        v2.delete_api(ApiId=orders)
    assert _code(e) == ("BadRequestException", 400, f"Deleting API {orders} failed. Please remove all API mappings "
                        "for the API from your custom domain names.")
    v2.delete_domain_name(DomainName=domain)
    v2.delete_api(ApiId=orders)  # its mappings went with the domain name
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v1.get_domain_name(domainName=domain)
    assert _code(e) == ("NotFoundException", 404, "Invalid domain name identifier specified")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{dserver.url}/_lamb/domains/{domain}/v2/orders/items/9", timeout=60)


def _rest_api(server, arn: str, endpoint: str = "REGIONAL") -> str:
    apigw = server.client("apigateway")
    open_policy = json.dumps({"Version": "2012-10-17", "Statement": [  # a private API needs one (AWS refuses
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]})  # it)
    api = apigw.create_rest_api(name=unique("domrest"), endpointConfiguration={"types": [endpoint]},
                                **({"policy": open_policy} if endpoint == "PRIVATE" else {}))
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="hello")
    ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "GET"}
    apigw.put_method(**ids, authorizationType="NONE")
    apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST",
                          uri=f"arn:aws:apigateway:{server.region}:lambda:path/2015-03-31/functions/{arn}/invocations")
    apigw.create_deployment(restApiId=api["id"], stageName="live")
    return api["id"]


def test_rest_api_base_path_mappings(dserver, certificate):
    v1 = dserver.client("apigateway")
    api_id = _rest_api(dserver, function(dserver, "domrest", ECHO))
    edge = unique("edge").lower() + ".shop.localhost"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v1.create_domain_name(domainName=edge)
    assert _code(e) == ("BadRequestException", 400, "A certificate was not provided for the endpoint type EDGE.")
    made = v1.create_domain_name(domainName=edge, certificateArn=certificate)
    assert made["endpointConfiguration"]["types"] == ["EDGE"] and made["distributionHostedZoneId"] == "Z2FDTNDATAQYW2"
    assert made["distributionDomainName"].endswith(".localhost") and made["domainNameStatus"] == "AVAILABLE"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v1.create_base_path_mapping(domainName=edge, restApiId=api_id, stage="gone")
    assert _code(e) == ("BadRequestException", 400, "Invalid stage identifier specified")
    mapped = v1.create_base_path_mapping(domainName=edge, restApiId=api_id, basePath="shop", stage="live")
    assert (mapped["basePath"], mapped["restApiId"], mapped["stage"]) == ("shop", api_id, "live")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v1.create_base_path_mapping(domainName=edge, restApiId=api_id, basePath="shop", stage="live")
    assert _code(e) == ("ConflictException", 409, "Base path already exists for this domain name")
    with pytest.raises(botocore.exceptions.ClientError) as e:  # an edge name: one level, and (none) alone
        v1.create_base_path_mapping(domainName=edge, restApiId=api_id, basePath="(none)", stage="live")
    assert _code(e) == ("ConflictException", 409, "Only one base path mapping is allowed if the base path is empty.")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v1.create_base_path_mapping(domainName=edge, restApiId=api_id, basePath="a/b", stage="live")
    assert _code(e)[:2] == ("BadRequestException", 400)
    base = f"http://{edge}:{dserver.port}"
    event = _event(curl(base + "/shop/hello?q=1"))
    ctx = event["requestContext"]
    assert (event["resource"], event["path"], ctx["path"], ctx["resourcePath"]) == \
        ("/hello", "/shop/hello", "/shop/hello", "/hello")
    assert (ctx["stage"], ctx["domainName"], ctx["domainPrefix"]) == ("live", edge, edge.split(".")[0])
    assert curl(base + "/elsewhere/hello") == (403, '{"message":"Forbidden"}')
    assert curl(base + "/shop/nothing") == (403, '{"message":"Missing Authentication Token"}')
    # UpdateBasePathMapping: the base path moves.
    moved = v1.update_base_path_mapping(domainName=edge, basePath="shop",
                                        patchOperations=[{"op": "replace", "path": "/basePath", "value": "store"}])
    assert (moved["basePath"], moved["stage"]) == ("store", "live")
    assert _event(curl(base + "/store/hello"))["path"] == "/store/hello"

    # A regional name: a multi-level base path, and (none) without a stage (callers name the stage).
    regional = unique("reg").lower() + ".shop.localhost"
    aws_json(dserver, "create-domain-name", "--domain-name", regional, "--regional-certificate-arn", certificate,
             "--endpoint-configuration", "types=REGIONAL", "--security-policy", "TLS_1_2", service="apigateway")
    v1.create_base_path_mapping(domainName=regional, restApiId=api_id, basePath="api/v2", stage="live")
    v1.create_base_path_mapping(domainName=regional, restApiId=api_id)
    assert {m["basePath"]: m.get("stage") for m in v1.get_base_path_mappings(domainName=regional)["items"]} == \
        {"(none)": None, "api/v2": "live"}
    base = f"http://{regional}:{dserver.port}"
    event = _event(curl(base + "/api/v2/hello"))
    assert (event["path"], event["requestContext"]["path"], event["resource"]) == \
        ("/api/v2/hello", "/api/v2/hello", "/hello")
    event = _event(curl(base + "/live/hello"))  # (none) without a stage: the first level names it
    assert (event["path"], event["requestContext"]["stage"]) == ("/live/hello", "live")
    got = v1.get_base_path_mapping(domainName=regional, basePath="api/v2")
    assert got["restApiId"] == api_id
    # v2 sees the REST API's mappings as API mappings.
    v2 = dserver.client("apigatewayv2")
    assert sorted((m.get("ApiMappingKey", ""), m["ApiId"]) for m in v2.get_api_mappings(DomainName=regional)["Items"]) \
        == [("", api_id), ("api/v2", api_id)]
    assert {d["DomainName"] for d in v2.get_domain_names()["Items"]} >= {edge, regional}
    v1.delete_base_path_mapping(domainName=regional, basePath="(none)")
    assert curl(base + "/live/hello") == (403, '{"message":"Forbidden"}')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v1.delete_base_path_mapping(domainName=regional, basePath="(none)")
    assert _code(e) == ("NotFoundException", 404, "Invalid base path mapping identifier specified")
    v1.delete_domain_name(domainName=regional)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v1.delete_rest_api(restApiId=api_id)
    assert _code(e) == ("BadRequestException", 400, f"Deleting RestApi {api_id} failed. Please remove all base path "
                        "mappings related to the RestApi in your domains.")
    v1.delete_domain_name(domainName=edge)
    v1.delete_rest_api(restApiId=api_id)
    assert v2.get_domain_names()["Items"] == [] or all(d["DomainName"] not in (edge, regional)
                                                      for d in v2.get_domain_names()["Items"])


def sam_head(api: str, *parameters: str) -> str:
    """A SAM template's start: String parameters, and a function serving GET /hello on the REST API ``api``."""
    params = "".join(f"  {p}: {{Type: String}}\n" for p in parameters)
    return ("AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nParameters:\n" + params +
            "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: app/\n"
            "      Handler: app.handler\n      Runtime: python3.12\n      Events:\n        Rest:\n          Type: Api\n"
            f"          Properties: {{RestApiId: !Ref {api}, Path: /hello, Method: get}}\n")


SAM_DOMAINS = sam_head("Rest", "Suffix", "Cert", "Zone") + """        Http:
          Type: HttpApi
          Properties: {ApiId: !Ref Http, Path: "/items/{id}", Method: get}
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: live
      Domain:
        DomainName: !Sub "rest-${Suffix}.shop.localhost"
        CertificateArn: !Ref Cert
        EndpointConfiguration: REGIONAL
        BasePath: [/shop]
        Route53: {HostedZoneId: !Ref Zone}
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: prod
      Domain:
        DomainName: !Sub "http-${Suffix}.shop.localhost"
        CertificateArn: !Ref Cert
        BasePath: [orders]
        Route53: {HostedZoneId: !Ref Zone}
Outputs:
  RestUrl:
    Value: !Sub "https://rest-${Suffix}.shop.localhost/shop/hello"
  HttpUrl:
    Value: !Sub "https://http-${Suffix}.shop.localhost/orders/items/"
"""


def test_sam_domain_deployed(dserver, certificate, moto, tmp_path):  # noqa: F811
    from .deploy_support import deploy_env, lamb_cmd, write

    write(tmp_path, {"app/app.py": ECHO, "template.yaml": SAM_DOMAINS})
    zone = moto.client("route53").create_hosted_zone(Name="shop.localhost", CallerReference=unique("z"))
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    suffix = unique("s").lower()
    stack = unique("domains")
    args = ("deploy", str(tmp_path / "template.yaml"), "--stack-name", stack, "--parameter-overrides",
            f"Suffix={suffix}", f"Cert={certificate}", f"Zone={zone_id}")
    # Without a Route 53 endpoint the record sets are listed as skipped; the domains are served all the same.
    out = lamb_cmd(*args, env=deploy_env(dserver, tmp_path / "cache")).stdout
    assert "CREATE_COMPLETE             AWS::ApiGateway::DomainName" in out, out
    assert "CREATE_COMPLETE             AWS::ApiGatewayV2::ApiMapping" in out, out
    assert "skipped: no route53 endpoint configured" in out, out
    outputs = dict(line.split()[:2] for line in out.split("Outputs:\n", 1)[1].splitlines() if line.startswith("  "))
    rest_domain, http_domain = f"rest-{suffix}.shop.localhost", f"http-{suffix}.shop.localhost"
    assert outputs["RestUrl"] == f"http://{rest_domain}:{dserver.port}/shop/hello"
    event = _event(curl(outputs["RestUrl"]))
    assert (event["path"], event["resource"], event["requestContext"]["domainName"]) == \
        ("/shop/hello", "/hello", rest_domain)
    event = _event(curl(outputs["HttpUrl"] + "5"))
    assert (event["rawPath"], event["pathParameters"], event["requestContext"]["stage"]) == \
        ("/orders/items/5", {"id": "5"}, "prod")
    v2 = dserver.client("apigatewayv2")
    got = v2.get_domain_name(DomainName=http_domain)
    assert got["Tags"] == {"httpapi:createdBy": "SAM"}

    # With Route 53 (moto's) configured, the alias records are made there, pointing at the domains' names.
    out = lamb_cmd(*args, env=deploy_env(dserver, tmp_path / "cache", AWS_ENDPOINT_URL_ROUTE_53=moto.url)).stdout
    assert "CREATE_COMPLETE             AWS::Route53::RecordSetGroup" in out, out
    records = moto.client("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    aliases = {r["Name"].rstrip("."): r["AliasTarget"]["DNSName"].rstrip(".") for r in records if r.get("AliasTarget")}
    assert aliases[http_domain] == got["DomainNameConfigurations"][0]["ApiGatewayDomainName"]
    assert rest_domain in aliases

    lamb_cmd("deploy", "--delete", stack, env=deploy_env(dserver, tmp_path / "cache", AWS_ENDPOINT_URL_ROUTE_53=moto.url))
    names = {d["DomainName"] for d in v2.get_domain_names()["Items"]}
    assert rest_domain not in names and http_domain not in names
    assert curl(outputs["RestUrl"])[0] != 200
    records = moto.client("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    assert not [r for r in records if r.get("AliasTarget")]


def test_without_acm_a_well_formed_certificate_arn_is_taken(lamb_server):
    """The shared server has no credentials for ACM: the ARN's form is all that is checked."""
    v2 = lamb_server.client("apigatewayv2")
    domain = unique("noacm").lower() + ".example.com"
    made = v2.create_domain_name(DomainName=domain, DomainNameConfigurations=[
        {"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/never-issued"}])
    assert made["DomainNameConfigurations"][0]["DomainNameStatus"] == "AVAILABLE"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v2.create_domain_name(DomainName="x" + domain, DomainNameConfigurations=[{"CertificateArn": "not-an-arn"}])
    assert _code(e) == ("BadRequestException", 400, "Invalid request provided: The provided certificate does not exist.")
    arn = function(lamb_server, "noacm", ECHO)
    api = v2.create_api(Name="noacm", ProtocolType="HTTP", Target=arn)["ApiId"]
    v2.create_api_mapping(DomainName=domain, ApiId=api, Stage="$default", ApiMappingKey="a")
    # Not a *.localhost name: reached with its Host header, or through the path fallback.
    event = _event(curl(f"{lamb_server.url}/a/b", "-H", f"Host: {domain}"))
    assert (event["rawPath"], event["requestContext"]["domainPrefix"]) == ("/a/b", domain.split(".")[0])
    v2.delete_domain_name(DomainName=domain)
