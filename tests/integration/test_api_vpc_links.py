"""VPC links and private integrations: v1 and v2 VPC links made with boto3 (PENDING → AVAILABLE, or FAILED
when their load balancer or subnets do not exist on moto), and requests through an HTTP API route and a REST
API method reaching HTTP servers the test runs, registered on moto's elbv2 as a target group's ip targets
(127.0.0.1:<port>) behind a listener, or on moto's Cloud Map as a service's instances; round-robin between
two targets, Cloud Map attribute filters, a stage variable naming the link, AWS's answers with no target
(503) or a link that is not AVAILABLE (500). Lamb reaches moto through boto3's own ``AWS_ENDPOINT_URL``."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from http.server import ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from .async_support import moto, serving  # noqa: F401  (fixtures)
from .awscli import aws_json
from .conftest import unique
from .test_api_http_proxy import Backend
from .test_deploy_apis import curl


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A test CA (its PEM file) and a certificate it signed for ``api.internal``: (CA file, cert file, key file)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.timezone.utc)

    def cert(subject: str, key, issuer: str, issuer_key, ca: bool):
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
        else:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
                decipher_only=False), critical=True)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = cert("Lamb test CA", ca_key, "Lamb test CA", ca_key, True)
    leaf = cert("api.internal", key, "Lamb test CA", ca_key, False)
    files = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return tuple(str(f) for f in files)


@pytest.fixture(scope="module")
def vpc_server(moto, tmp_path_factory, tls):  # noqa: F811
    # The test CA is the one Lamb's HTTPS connections trust (OpenSSL's SSL_CERT_FILE).
    yield from serving({**moto.env(), "SSL_CERT_FILE": tls[0]}, tmp_path_factory, "vpc-links")


@pytest.fixture(scope="module")
def https_backend(tls):
    """An HTTPS echo server on loopback with the ``api.internal`` certificate: its (address, port)."""
    import ssl

    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls[1], tls[2])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[:2]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def backends():
    """Two echo servers on loopback, at 127.0.0.1 and 127.0.0.2 (moto keys a target group's targets by address):
    their ``(address, port)``."""
    servers = []
    for address in ("127.0.0.1", "127.0.0.2"):
        server = ThreadingHTTPServer((address, 0), Backend)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield [s.server_address[:2] for s in servers]
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.fixture(scope="module")
def network(moto):  # noqa: F811
    """A VPC, a subnet and a security group on moto."""
    ec2 = moto.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=unique("sg"), Description="links", VpcId=vpc)["GroupId"]
    return {"vpc": vpc, "subnet": subnet, "group": group}


def load_balancer(moto, network, kind: str, port: int, targets: list,  # noqa: F811
                  target_protocol: str | None = None) -> tuple[dict, str]:
    """A load balancer with a listener on ``port`` forwarding to an ip target group of ``targets``
    (``(address, port)``): (the load balancer, the listener's ARN)."""
    elb = moto.client("elbv2")
    lb = elb.create_load_balancer(Name=unique("lb")[:32], Subnets=[network["subnet"]], Type=kind,
                                  Scheme="internal")["LoadBalancers"][0]
    protocol = "TCP" if kind == "network" else "HTTP"
    tg = elb.create_target_group(Name=unique("tg")[:32], Protocol=target_protocol or protocol, Port=80,
                                 VpcId=network["vpc"], TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    if targets:
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": a, "Port": p} for a, p in targets])
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol=protocol, Port=port,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]
    return lb, listener["ListenerArn"]


def wait_status(get, field: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        link = get()
        if link[field] != "PENDING" or time.monotonic() > deadline:
            return link
        time.sleep(0.2)


def test_v2_vpc_links(vpc_server, network):
    v2 = vpc_server.client("apigatewayv2")
    made = v2.create_vpc_link(Name=unique("link"), SubnetIds=[network["subnet"]], SecurityGroupIds=[network["group"]],
                              Tags={"team": "a"})
    assert made["VpcLinkStatus"] in ("PENDING", "AVAILABLE") and made["VpcLinkVersion"] == "V2"
    link = wait_status(lambda: v2.get_vpc_link(VpcLinkId=made["VpcLinkId"]), "VpcLinkStatus")
    assert link["VpcLinkStatus"] == "AVAILABLE", link
    assert (link["SubnetIds"], link["SecurityGroupIds"], link["Tags"]) == ([network["subnet"]], [network["group"]],
                                                                          {"team": "a"})
    failed = v2.create_vpc_link(Name=unique("nolink"), SubnetIds=["subnet-0000000000000000f"])
    failed = wait_status(lambda: v2.get_vpc_link(VpcLinkId=failed["VpcLinkId"]), "VpcLinkStatus")
    assert failed["VpcLinkStatus"] == "FAILED" and "subnet-0000000000000000f" in failed["VpcLinkStatusMessage"]

    ids = {i["VpcLinkId"] for i in v2.get_vpc_links()["Items"]}
    assert {made["VpcLinkId"], failed["VpcLinkId"]} <= ids
    listed = aws_json(vpc_server, "get-vpc-links", service="apigatewayv2")  # the AWS CLI, unchanged
    assert {i["VpcLinkId"] for i in listed["Items"]} == ids
    cli = aws_json(vpc_server, "get-vpc-link", "--vpc-link-id", failed["VpcLinkId"], service="apigatewayv2")
    assert cli["VpcLinkStatus"] == "FAILED" and cli["VpcLinkVersion"] == "V2"
    assert v2.update_vpc_link(VpcLinkId=made["VpcLinkId"], Name="renamed")["Name"] == "renamed"
    arn = f"arn:aws:apigateway:{vpc_server.region}::/vpclinks/{made['VpcLinkId']}"
    v2.tag_resource(ResourceArn=arn, Tags={"env": "dev"})
    assert v2.get_tags(ResourceArn=arn)["Tags"] == {"team": "a", "env": "dev"}
    v2.delete_vpc_link(VpcLinkId=failed["VpcLinkId"])
    with pytest.raises(ClientError) as e:
        v2.get_vpc_link(VpcLinkId=failed["VpcLinkId"])
    assert e.value.response["Error"]["Code"] == "NotFoundException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_http_api_private_integrations(vpc_server, moto, network, backends):  # noqa: F811
    v2 = vpc_server.client("apigatewayv2")
    link = v2.create_vpc_link(Name=unique("link"), SubnetIds=[network["subnet"]])["VpcLinkId"]
    assert wait_status(lambda: v2.get_vpc_link(VpcLinkId=link), "VpcLinkStatus")["VpcLinkStatus"] == "AVAILABLE"
    _, listener = load_balancer(moto, network, "application", 80, backends)
    _, empty = load_balancer(moto, network, "application", 80, [])
    # Cloud Map: one service, an instance per backend told apart by an attribute.
    sd = moto.client("servicediscovery")
    sd.create_http_namespace(Name=unique("ns"))
    ns = sd.list_namespaces()["Namespaces"][-1]
    service = sd.create_service(Name=unique("svc"), NamespaceId=ns["Id"])["Service"]
    for color, (address, port) in zip(("blue", "green"), backends):
        sd.register_instance(ServiceId=service["Id"], InstanceId=color, Attributes={
            "AWS_INSTANCE_IPV4": address, "AWS_INSTANCE_PORT": str(port), "color": color})

    api_id = v2.create_api(Name=unique("private"), ProtocolType="HTTP")["ApiId"]

    def route(key: str, uri: str, connection: str = link, **kw) -> None:
        integ = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                      ConnectionType="VPC_LINK", ConnectionId=connection, IntegrationUri=uri,
                                      PayloadFormatVersion="1.0", **kw)
        assert integ["ConnectionType"] == "VPC_LINK"
        v2.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integ['IntegrationId']}")

    route("ANY /alb/{proxy+}", listener)
    route("GET /mapped", listener, RequestParameters={"overwrite:path": "/backend$request.path"})
    route("GET /green", service["Arn"] + "?color=green")
    route("GET /empty", empty)
    route("GET /staged", listener, "${stageVariables.link}")
    v2.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True, StageVariables={"link": link})
    base = f"http://{api_id}.execute-api.{vpc_server.region}.localhost:{vpc_server.port}/prod"

    hosts = set()
    for _ in range(4):
        status, body = curl(base + "/alb/a/b?q=1", "-X", "POST", "-d", "data", "-H", "Content-Type: text/plain")
        assert status == 200, body
        echo = json.loads(body)
        # The stage is in the path an HTTP API sends to a private integration.
        assert (echo["method"], echo["path"], echo["body"]) == ("POST", "/prod/alb/a/b?q=1", "data")
        hosts.add(echo["headers"]["host"])
    assert hosts == {f"{a}:{p}" for a, p in backends}  # round-robin over both targets
    assert json.loads(curl(base + "/mapped")[1])["path"] == "/backend/mapped"
    for _ in range(3):  # only the instance the filter selects
        assert json.loads(curl(base + "/green")[1])["headers"]["host"] == "{}:{}".format(*backends[1])
    assert json.loads(curl(base + "/staged")[1])["path"] == "/prod/staged"
    status, body = curl(base + "/empty")
    assert (status, json.loads(body)) == (503, {"message": "Service Unavailable"})

    # A link that is not AVAILABLE: 500.
    failed = v2.create_vpc_link(Name=unique("nolink"), SubnetIds=["subnet-0000000000000000e"])["VpcLinkId"]
    assert wait_status(lambda: v2.get_vpc_link(VpcLinkId=failed), "VpcLinkStatus")["VpcLinkStatus"] == "FAILED"
    route("GET /failed", listener, failed)
    status, body = curl(base + "/failed")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})

    with pytest.raises(ClientError) as e:
        v2.delete_vpc_link(VpcLinkId=link)
    assert e.value.response["Error"]["Code"] == "ConflictException"
    for bad in ({"ConnectionId": link, "IntegrationUri": "http://example.com/x"},
                {"ConnectionId": "nosuch", "IntegrationUri": listener},
                {"IntegrationUri": listener}):
        with pytest.raises(ClientError) as e:
            v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
                                  ConnectionType="VPC_LINK", **bad)
        assert e.value.response["Error"]["Code"] == "BadRequestException", bad


def test_alb_listener_rules(vpc_server, moto, network, backends):  # noqa: F811
    """An ALB listener's rules, made on moto's elbv2, decide where a private integration's request goes: a path
    rule to another target group, a header rule to weighted groups (1:3), a fixed response and a redirect
    answered by the rule itself; anything else takes the default action."""
    v2, elb = vpc_server.client("apigatewayv2"), moto.client("elbv2")
    link = v2.create_vpc_link(Name=unique("rules"), SubnetIds=[network["subnet"]])["VpcLinkId"]
    assert wait_status(lambda: v2.get_vpc_link(VpcLinkId=link), "VpcLinkStatus")["VpcLinkStatus"] == "AVAILABLE"
    _, listener = load_balancer(moto, network, "application", 80, backends[:1])
    second = elb.create_target_group(Name=unique("tg2")[:32], Protocol="HTTP", Port=80, VpcId=network["vpc"],
                                     TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=second, Targets=[{"Id": backends[1][0], "Port": backends[1][1]}])
    first = elb.describe_listeners(ListenerArns=[listener])["Listeners"][0]["DefaultActions"][0]["TargetGroupArn"]
    for priority, conditions, action in (
            (10, [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/blue/*"]}}],
             {"Type": "forward", "TargetGroupArn": second}),
            (20, [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Canary", "Values": ["yes"]}}],
             {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": first, "Weight": 1},
                                                                    {"TargetGroupArn": second, "Weight": 3}]}}),
            (30, [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/maintenance"]}}],
             {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503", "ContentType": "text/plain",
                                                                "MessageBody": "back soon"}}),
            (40, [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/old/*"]}}],
             {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "Host": "example.com",
                                                     "Path": "/new/#{path}", "StatusCode": "HTTP_301"}})):
        elb.create_rule(ListenerArn=listener, Priority=priority, Conditions=conditions, Actions=[action])
    api_id = v2.create_api(Name=unique("rules"), ProtocolType="HTTP")["ApiId"]
    integ = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                  ConnectionType="VPC_LINK", ConnectionId=link, IntegrationUri=listener,
                                  PayloadFormatVersion="1.0")["IntegrationId"]
    v2.create_route(ApiId=api_id, RouteKey="$default", Target=f"integrations/{integ}")
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    base = f"http://{api_id}.execute-api.{vpc_server.region}.localhost:{vpc_server.port}"
    a, b = ("{}:{}".format(*t) for t in backends)

    def host_of(path: str, *args: str) -> str:
        status, body = curl(base + path, *args)
        assert status == 200, body
        return json.loads(body)["headers"]["host"]

    assert {host_of("/other") for _ in range(3)} == {a}  # the default action
    assert {host_of("/blue/x") for _ in range(3)} == {b}
    canary = [host_of("/c", "-H", "X-Canary: yes") for _ in range(8)]
    assert (canary.count(a), canary.count(b)) == (2, 6)
    assert curl(base + "/maintenance") == (503, "back soon")
    head = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", base + "/old/page?q=1"],
                          capture_output=True, text=True, timeout=60).stdout
    assert head.startswith("HTTP/1.1 301 Moved Permanently\n")  # (curl's lines, read as text)
    assert "\nLocation: https://example.com:443/new/old/page?q=1\n" in head


def test_sticky_sessions(vpc_server, moto, network, backends, tmp_path):  # noqa: F811
    """Target groups with sticky sessions (apis/stickiness.py): an ALB's duration-based cookie (AWSALB and
    AWSALBCORS) and application-based cookie (AWSALBAPP-0, once the application sets its own), an NLB's source
    address (through a VPC link: the link's, so one target)."""
    v2, elb = vpc_server.client("apigatewayv2"), moto.client("elbv2")
    link = v2.create_vpc_link(Name=unique("sticky"), SubnetIds=[network["subnet"]])["VpcLinkId"]
    assert wait_status(lambda: v2.get_vpc_link(VpcLinkId=link), "VpcLinkStatus")["VpcLinkStatus"] == "AVAILABLE"
    api_id = v2.create_api(Name=unique("sticky"), ProtocolType="HTTP")["ApiId"]
    for prefix, kind, lb_kind, extra in (("lb", "lb_cookie", "application", {"stickiness.lb_cookie.duration_seconds": "60"}),
                                         ("app", "app_cookie", "application", {"stickiness.app_cookie.cookie_name": "sess"}),
                                         ("nlb", "source_ip", "network", {}),
                                         ("none", None, "application", {})):
        _, listener = load_balancer(moto, network, lb_kind, 80, backends)
        group = elb.describe_listeners(ListenerArns=[listener])["Listeners"][0]["DefaultActions"][0]["TargetGroupArn"]
        if kind is not None:
            elb.modify_target_group_attributes(TargetGroupArn=group, Attributes=[
                {"Key": "stickiness.enabled", "Value": "true"}, {"Key": "stickiness.type", "Value": kind},
                *({"Key": k, "Value": v} for k, v in extra.items())])
        integ = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                      ConnectionType="VPC_LINK", ConnectionId=link, IntegrationUri=listener,
                                      PayloadFormatVersion="1.0")["IntegrationId"]
        v2.create_route(ApiId=api_id, RouteKey=f"ANY /{prefix}/{{proxy+}}", Target=f"integrations/{integ}")
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    base = f"http://{api_id}.execute-api.{vpc_server.region}.localhost:{vpc_server.port}"
    both = {"{}:{}".format(*t) for t in backends}

    def call(path: str, jar: str | None = None, *more: str) -> tuple[str, dict[str, str]]:
        """(the backend that answered, the cookies the answer set); ``jar``: curl's cookie jar, kept."""
        heads = tmp_path / "heads.txt"
        args = ["-D", str(heads), *more] + (["-b", jar, "-c", jar] if jar else [])
        status, body = curl(base + path, *args)
        assert status == 200, body
        cookies = {}
        for line in heads.read_text().splitlines():
            if line.lower().startswith("set-cookie:"):
                value = line.split(":", 1)[1].strip()
                cookies[value.split("=", 1)[0]] = value
        return json.loads(body)["headers"]["host"], cookies

    # Duration-based: without the cookie each request goes round; with it, to the first one's target.
    assert {call("/lb/x")[0] for _ in range(4)} == both
    jar = str(tmp_path / "lb.jar")
    first, cookies = call("/lb/x", jar)
    assert set(cookies) == {"AWSALB", "AWSALBCORS"}
    assert cookies["AWSALBCORS"].endswith("; Path=/; SameSite=None; Secure") and "Expires=" in cookies["AWSALB"]
    assert {call("/lb/x", jar)[0] for _ in range(4)} == {first}
    # A cookie Lamb did not seal routes as none.
    assert {call("/lb/x", None, "-H", "Cookie: AWSALB=forged")[0] for _ in range(4)} == both

    # Application-based: no load balancer cookie until the application sets its own.
    assert call("/app/x")[1] == {}
    jar = str(tmp_path / "app.jar")
    first, cookies = call("/app/setcookie", jar)
    assert set(cookies) == {"sess", "AWSALBAPP-0"}
    assert {call("/app/x", jar)[0] for _ in range(4)} == {first}

    # NLB source addresses: every request through the link comes from the link, so one target.
    assert len({call("/nlb/x")[0] for _ in range(4)}) == 1
    assert {call("/none/x")[0] for _ in range(4)} == both


def test_https_targets_and_server_name_to_verify(vpc_server, moto, network, https_backend):  # noqa: F811
    """An HTTPS target group: with ``TlsConfig.ServerNameToVerify`` the target's certificate is checked against that
    name (signed by the CA Lamb trusts, SNI naming it); a name it is not for fails (500); without it the
    certificate is taken as a load balancer takes its targets'."""
    v2 = vpc_server.client("apigatewayv2")
    link = v2.create_vpc_link(Name=unique("tls"), SubnetIds=[network["subnet"]])["VpcLinkId"]
    assert wait_status(lambda: v2.get_vpc_link(VpcLinkId=link), "VpcLinkStatus")["VpcLinkStatus"] == "AVAILABLE"
    _, listener = load_balancer(moto, network, "application", 80, [https_backend], target_protocol="HTTPS")
    api_id = v2.create_api(Name=unique("tls"), ProtocolType="HTTP")["ApiId"]
    for key, tls_config in (("GET /verified", {"ServerNameToVerify": "api.internal"}),
                            ("GET /wrong", {"ServerNameToVerify": "other.internal"}), ("GET /unchecked", None)):
        integ = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
                                      ConnectionType="VPC_LINK", ConnectionId=link, IntegrationUri=listener,
                                      PayloadFormatVersion="1.0", **({"TlsConfig": tls_config} if tls_config else {}))
        assert integ.get("TlsConfig") == tls_config
        v2.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integ['IntegrationId']}")
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    base = f"http://{api_id}.execute-api.{vpc_server.region}.localhost:{vpc_server.port}"
    status, body = curl(base + "/verified")
    assert status == 200 and json.loads(body)["path"] == "/verified", body
    assert curl(base + "/wrong") == (500, '{"message":"Internal Server Error"}')
    assert curl(base + "/unchecked")[0] == 200
    with pytest.raises(ClientError) as e:  # TlsConfig belongs to private integrations
        v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
                              IntegrationUri="https://example.com", TlsConfig={"ServerNameToVerify": "example.com"})
    assert e.value.response["Error"]["Code"] == "BadRequestException"


def test_rest_api_private_integration(vpc_server, moto, network, backends):  # noqa: F811
    apigw = vpc_server.client("apigateway")
    nlb, _ = load_balancer(moto, network, "network", 8080, backends[:1])
    made = apigw.create_vpc_link(name=unique("link"), targetArns=[nlb["LoadBalancerArn"]], description="to the NLB")
    assert made["status"] in ("PENDING", "AVAILABLE")
    link = wait_status(lambda: apigw.get_vpc_link(vpcLinkId=made["id"]), "status")
    assert (link["status"], link["targetArns"]) == ("AVAILABLE", [nlb["LoadBalancerArn"]]), link
    missing = apigw.create_vpc_link(name=unique("nolink"), targetArns=[nlb["LoadBalancerArn"][:-4] + "0000"])
    missing = wait_status(lambda: apigw.get_vpc_link(vpcLinkId=missing["id"]), "status")
    assert missing["status"] == "FAILED" and missing["statusMessage"]
    with pytest.raises(ClientError) as e:
        apigw.create_vpc_link(name=unique("two"), targetArns=[nlb["LoadBalancerArn"]] * 2)
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    renamed = apigw.update_vpc_link(vpcLinkId=made["id"],
                                    patchOperations=[{"op": "replace", "path": "/name", "value": "renamed"}])
    assert renamed["name"] == "renamed" and renamed["description"] == "to the NLB"
    assert made["id"] in {i["id"] for i in apigw.get_vpc_links()["items"]}

    api = apigw.create_rest_api(name=unique("restprivate"))
    proxy = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="{proxy+}")
    ids = {"restApiId": api["id"], "resourceId": proxy["id"], "httpMethod": "ANY"}
    apigw.put_method(**ids, authorizationType="NONE", requestParameters={"method.request.path.proxy": True})
    out = apigw.put_integration(**ids, type="HTTP_PROXY", integrationHttpMethod="ANY", connectionType="VPC_LINK",
                                connectionId="${stageVariables.vpcLinkId}",
                                uri=f"http://{nlb['DNSName']}:8080/backend/{{proxy}}",
                                requestParameters={"integration.request.path.proxy": "method.request.path.proxy"})
    assert (out["connectionType"], out["connectionId"]) == ("VPC_LINK", "${stageVariables.vpcLinkId}")
    direct = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="direct")
    where = {"restApiId": api["id"], "resourceId": direct["id"], "httpMethod": "GET"}
    apigw.put_method(**where, authorizationType="NONE")
    apigw.put_integration(**where, type="HTTP_PROXY", integrationHttpMethod="GET", connectionType="VPC_LINK",
                          connectionId=made["id"], uri=f"http://{nlb['DNSName']}:8080/direct")
    apigw.create_deployment(restApiId=api["id"], stageName="v1", variables={"vpcLinkId": made["id"]})
    apigw.create_deployment(restApiId=api["id"], stageName="broken", variables={"vpcLinkId": missing["id"]})
    base = f"http://{api['id']}.execute-api.{vpc_server.region}.localhost:{vpc_server.port}"

    status, body = curl(base + "/v1/a/b?q=2", "-X", "PUT", "-d", "payload", "-H", "Content-Type: text/plain")
    assert status == 200, body
    echo = json.loads(body)
    assert (echo["method"], echo["path"], echo["body"]) == ("PUT", "/backend/a/b?q=2", "payload")
    assert echo["headers"]["host"] == f"{nlb['DNSName']}:8080"  # the URI's host, as the NLB passes it on
    assert json.loads(curl(base + "/v1/direct")[1])["path"] == "/direct"
    status, body = curl(base + "/broken/a")
    assert (status, json.loads(body)) == (500, {"message": "Internal server error"})

    with pytest.raises(ClientError) as e:
        apigw.put_integration(**ids, type="HTTP_PROXY", integrationHttpMethod="ANY", connectionType="VPC_LINK",
                              uri=f"http://{nlb['DNSName']}/x")
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    with pytest.raises(ClientError) as e:
        apigw.delete_vpc_link(vpcLinkId=made["id"])
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    assert f"[GET:{direct['id']}]" in e.value.response["Error"]["Message"]
    apigw.delete_vpc_link(vpcLinkId=missing["id"])
    with pytest.raises(ClientError) as e:
        apigw.get_vpc_link(vpcLinkId=missing["id"])
    assert e.value.response["Error"]["Code"] == "NotFoundException"


DEPLOYED = """\
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Nlb: {Type: String}
  Subnet: {Type: String}
  Listener: {Type: String}
Resources:
  RestLink:
    Type: AWS::ApiGateway::VpcLink
    Properties: {Name: rest-link, TargetArns: [!Ref Nlb], Description: deployed}
  HttpLink:
    Type: AWS::ApiGatewayV2::VpcLink
    Properties: {Name: http-link, SubnetIds: [!Ref Subnet], Tags: {team: a}}
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: private-deployed, ProtocolType: HTTP}
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP_PROXY
      IntegrationMethod: ANY
      ConnectionType: VPC_LINK
      ConnectionId: !Ref HttpLink
      IntegrationUri: !Ref Listener
      PayloadFormatVersion: '1.0'
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Api, RouteKey: 'GET /private', Target: !Sub 'integrations/${Integration}'}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Api, StageName: $default, AutoDeploy: true}
Outputs:
  ApiId: {Value: !Ref Api}
  RestLinkId: {Value: !GetAtt RestLink.VpcLinkId}
  HttpLinkId: {Value: !Ref HttpLink}
"""


def test_deployed_vpc_links(vpc_server, moto, network, backends, tmp_path):  # noqa: F811
    from .deploy_support import deploy_env, lamb_cmd, write
    from .test_deploy_apis import _outputs

    nlb, _ = load_balancer(moto, network, "network", 80, [])
    _, listener = load_balancer(moto, network, "application", 80, backends[:1])
    write(tmp_path, {"template.yaml": DEPLOYED})
    env = deploy_env(vpc_server, tmp_path / "cache")
    stack = unique("links")
    overrides = ["--parameter-overrides", f"Nlb={nlb['LoadBalancerArn']}", f"Subnet={network['subnet']}",
                 f"Listener={listener}"]
    out = lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", stack, *overrides, env=env).stdout
    assert "CREATE_COMPLETE" in out and "AWS::ApiGatewayV2::VpcLink" in out, out
    outputs = _outputs(out)
    rest_link = vpc_server.client("apigateway").get_vpc_link(vpcLinkId=outputs["RestLinkId"])
    assert (rest_link["name"], rest_link["status"], rest_link["description"]) == ("rest-link", "AVAILABLE", "deployed")
    http_link = vpc_server.client("apigatewayv2").get_vpc_link(VpcLinkId=outputs["HttpLinkId"])
    assert (http_link["Name"], http_link["VpcLinkStatus"], http_link["Tags"]) == ("http-link", "AVAILABLE", {"team": "a"})
    status, body = curl(f"http://{outputs['ApiId']}.execute-api.{vpc_server.region}.localhost:{vpc_server.port}/private")
    assert status == 200 and json.loads(body)["path"] == "/private", body

    write(tmp_path, {"template.yaml": DEPLOYED.replace("Name: http-link", "Name: http-link-2")})
    lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", stack, *overrides, env=env)
    assert vpc_server.client("apigatewayv2").get_vpc_link(VpcLinkId=outputs["HttpLinkId"])["Name"] == "http-link-2"
    lamb_cmd("deploy", "--delete", stack, env=env)
    with pytest.raises(ClientError):
        vpc_server.client("apigatewayv2").get_vpc_link(VpcLinkId=outputs["HttpLinkId"])


def test_links_survive_a_restart(fresh_server, moto, network, backends):  # noqa: F811
    server = fresh_server(env=moto.env())
    apigw, v2 = server.client("apigateway"), server.client("apigatewayv2")
    nlb, _ = load_balancer(moto, network, "network", 80, [])
    _, listener = load_balancer(moto, network, "application", 80, backends[1:])
    rest_link = apigw.create_vpc_link(name=unique("durable"), targetArns=[nlb["LoadBalancerArn"]])["id"]
    link = v2.create_vpc_link(Name=unique("durable"), SubnetIds=[network["subnet"]], Tags={"k": "v"})["VpcLinkId"]
    assert wait_status(lambda: v2.get_vpc_link(VpcLinkId=link), "VpcLinkStatus")["VpcLinkStatus"] == "AVAILABLE"
    api_id = v2.create_api(Name=unique("durable"), ProtocolType="HTTP")["ApiId"]
    integ = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
                                  ConnectionType="VPC_LINK", ConnectionId=link, IntegrationUri=listener,
                                  PayloadFormatVersion="1.0")
    v2.create_route(ApiId=api_id, RouteKey="GET /p", Target=f"integrations/{integ['IntegrationId']}")
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    base = f"http://{api_id}.execute-api.{server.region}.localhost:{server.port}"
    assert curl(base + "/p")[0] == 200

    server.terminate()
    server.restart()
    apigw, v2 = server.client("apigateway"), server.client("apigatewayv2")
    got = v2.get_vpc_link(VpcLinkId=link)
    assert (got["VpcLinkStatus"], got["Tags"]) == ("AVAILABLE", {"k": "v"})
    assert wait_status(lambda: apigw.get_vpc_link(vpcLinkId=rest_link), "status")["status"] == "AVAILABLE"
    status, body = curl(base + "/p")
    assert status == 200 and json.loads(body)["headers"]["host"] == "{}:{}".format(*backends[1]), body
