"""Mutual TLS for API Gateway custom domain names (apis/mutual_tls.py, http/tls.py) with real TLS clients
(Python's ``ssl`` over ``http.client``, curl) against a real ``lamb serve --https-port``: truststores in
moto's S3 (versioned), the domain's certificate chosen by SNI from Lamb's certificates folder,
certificates made here with ``cryptography``."""

from __future__ import annotations

import datetime
import http.client
import json
import shutil
import socket
import ssl
import subprocess

import botocore.exceptions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .async_support import moto, versioned_bucket  # noqa: F401  (fixtures)
from .conftest import LambServer, free_port, unique, wait_for
from .test_api_access_logs import lines
from .test_api_domains import ECHO, _code, _rest_api
from .test_api_metrics import function
from .test_deploy_apis import curl

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


# ---------------------------------------------------------------- certificates
class Issued:
    def __init__(self, cert: x509.Certificate, key) -> None:
        self.cert, self.key = cert, key

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    def files(self, folder, name: str) -> tuple[str, str]:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.pem").write_bytes(self.pem)
        (folder / f"{name}.key").write_bytes(self.key_pem)
        return str(folder / f"{name}.pem"), str(folder / f"{name}.key")


def issue(subject: str, issuer: Issued | None = None, *, ca: bool = False, before=NOW - DAY, after=NOW + 30 * DAY,
          dns: str | None = None) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lamb tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer.cert.subject if issuer else name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(before).not_valid_after(after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
    if ca:
        builder = builder.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                      content_commitment=False, key_encipherment=False,
                                                      data_encipherment=False, key_agreement=False,
                                                      encipher_only=False, decipher_only=False), critical=True)
    return Issued(builder.sign(issuer.key if issuer else key, hashes.SHA256()), key)


def expected_client_cert(c: Issued) -> dict:
    """``clientCert`` as AWS documents it, computed here independently of Lamb."""
    def when(t: datetime.datetime) -> str:
        return t.strftime("%b ") + f"{t.day:2d}" + t.strftime(" %H:%M:%S %Y GMT")

    serial = c.cert.serial_number.to_bytes((c.cert.serial_number.bit_length() + 7) // 8, "big")
    def cn(name: x509.Name) -> str:
        return name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value

    return {"clientCertPem": c.pem.decode(), "subjectDN": f"CN={cn(c.cert.subject)},O=Lamb tests",
            "issuerDN": f"CN={cn(c.cert.issuer)},O=Lamb tests",
            "serialNumber": ":".join(f"{b:02x}" for b in serial),
            "validity": {"notBefore": when(c.cert.not_valid_before_utc), "notAfter": when(c.cert.not_valid_after_utc)}}


# ---------------------------------------------------------------- the server
@pytest.fixture(scope="module")
def tserver(moto, tmp_path_factory):  # noqa: F811
    """A Lamb with a TLS port that reaches moto's server for ACM and S3 (boto3's standard variables)."""
    env = {"AWS_ENDPOINT_URL_ACM": moto.url, "AWS_ENDPOINT_URL_S3": moto.url, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    server = LambServer(env=env)
    https_port = free_port()
    while https_port == server.port:  # free_port may hand out the plain port again
        https_port = free_port()
    server.extra_args += ["--https-port", str(https_port)]
    server.https_port = https_port
    server.start()
    try:
        yield server
    finally:
        try:
            shutil.copy(server.log_path, tmp_path_factory.mktemp("mtls-server") / "server.log")
        except OSError:
            pass
        server.close()


@pytest.fixture(scope="module")
def pki():
    server_ca = issue("server CA", ca=True)
    client_ca = issue("client CA", ca=True)
    other_ca = issue("other CA", ca=True)
    return {"server_ca": server_ca, "client_ca": client_ca, "other_ca": other_ca,
            "good": issue("good client", client_ca), "expired": issue("expired client", client_ca,
                                                                      before=NOW - 30 * DAY, after=NOW - DAY),
            "untrusted": issue("untrusted client", other_ca), "other_good": issue("other client", other_ca)}


@pytest.fixture(scope="module")
def certificate(moto, tserver) -> str:  # noqa: F811
    return moto.client("acm").request_certificate(DomainName="*.mtls.localhost")["CertificateArn"]


def tls_get(server, domain: str, path: str, *, client: Issued | None = None, tmp=None, cafile: str | None = None,
            host: str | None = None) -> tuple[int, bytes, dict]:
    """GET over TLS to the server's TLS port with SNI ``domain``; (status, body, the server's certificate)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile:
        ctx.load_verify_locations(cafile)
    else:
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    if client is not None:
        ctx.load_cert_chain(*client.files(tmp, unique("client")))
    conn = http.client.HTTPSConnection("127.0.0.1", server.https_port, context=ctx, timeout=60)
    conn.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.https_port), timeout=60),
                                server_hostname=domain)
    try:
        conn.request("GET", path, headers={"Host": host or domain})
        resp = conn.getresponse()
        return resp.status, resp.read(), conn.sock.getpeercert() if cafile else {}
    finally:
        conn.close()


def refused(server, domain: str, path: str, client: Issued, tmp) -> None:
    """The handshake (or the first read, TLS 1.3 reports a refused certificate after it) fails."""
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)):
        tls_get(server, domain, path, client=client, tmp=tmp)


def truststore(moto, *certs: Issued) -> tuple[object, str, str, str]:  # noqa: F811
    s3, bucket = versioned_bucket(moto, "truststore")
    version = s3.put_object(Bucket=bucket, Key="ca.pem", Body=b"".join(c.pem for c in certs))["VersionId"]
    return s3, bucket, f"s3://{bucket}/ca.pem", version


# ---------------------------------------------------------------- tests
def test_http_api_domain_requires_a_trusted_client_certificate(tserver, moto, certificate, pki, tmp_path):  # noqa: F811
    v2 = tserver.client("apigatewayv2")
    # the default endpoint off, as AWS advises for mutual TLS: the domain is the only way in
    api_id = v2.create_api(Name=unique("mtls"), ProtocolType="HTTP", Target=function(tserver, "mtls2", ECHO),
                           DisableExecuteApiEndpoint=True)["ApiId"]
    assert curl(f"http://{api_id}.execute-api.{tserver.region}.localhost:{tserver.port}/items") == \
        (403, '{"message":"Forbidden"}')
    assert curl(f"{tserver.url}/_lamb/apis/{api_id}/$default/items")[0] == 403
    s3, bucket, uri, version = truststore(moto, pki["client_ca"])
    domain = unique("orders").lower() + ".mtls.localhost"
    pki["server_ca"].files(tmp_path, "server-ca")
    issue(domain, pki["server_ca"], dns=domain).files(tserver.data_dir / "tls" / "certificates", domain)
    made = v2.create_domain_name(DomainName=domain, DomainNameConfigurations=[{"CertificateArn": certificate}],
                                 MutualTlsAuthentication={"TruststoreUri": uri, "TruststoreVersion": version})
    assert made["MutualTlsAuthentication"] == {"TruststoreUri": uri, "TruststoreVersion": version,
                                               "TruststoreWarnings": []}
    assert v2.get_domain_name(DomainName=domain)["MutualTlsAuthentication"] == made["MutualTlsAuthentication"]
    v2.create_api_mapping(DomainName=domain, ApiId=api_id, Stage="$default", ApiMappingKey="orders")

    # the domain's own certificate, by SNI, verified by a client that trusts its CA and checks the name
    status, body, served = tls_get(tserver, domain, "/orders/items/7?x=1", client=pki["good"], tmp=tmp_path,
                                   cafile=str(tmp_path / "server-ca.pem"))
    assert status == 200, body
    assert dict(x[0] for x in served["subject"])["commonName"] == domain
    event = json.loads(body)
    assert event["rawPath"] == "/orders/items/7" and event["requestContext"]["domainName"] == domain
    got = event["requestContext"]["authentication"]["clientCert"]
    want = expected_client_cert(pki["good"])
    for field in ("clientCertPem", "subjectDN", "issuerDN", "serialNumber"):
        assert got[field] == want[field], field
    assert got["validity"] == want["validity"]

    # curl, as AWS's documentation calls a mutual TLS domain
    key = pki["good"].files(tmp_path, "curl-client")
    out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "--cacert", str(tmp_path / "server-ca.pem"),
                          "--cert", key[0], "--key", key[1], "--resolve", f"{domain}:{tserver.https_port}:127.0.0.1",
                          f"https://{domain}:{tserver.https_port}/orders/ping"], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.rpartition("\n")[2] == "200", out.stderr
    assert json.loads(out.stdout.rpartition("\n")[0])["requestContext"]["authentication"]["clientCert"]["subjectDN"] \
        == want["subjectDN"]

    # no certificate: API Gateway's 403; an untrusted or expired one: the handshake fails
    status, body, _ = tls_get(tserver, domain, "/orders/items/7")
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})
    refused(tserver, domain, "/orders/items/7", pki["untrusted"], tmp_path)
    refused(tserver, domain, "/orders/items/7", pki["expired"], tmp_path)
    # the plain port, or another SNI name, never serves the domain
    out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "-H", f"Host: {domain}",
                          f"{tserver.url}/orders/items/7"], capture_output=True, text=True, timeout=60)
    assert out.stdout.rpartition("\n")[2] == "403"
    status, _, _ = tls_get(tserver, "localhost", "/orders/items/7", host=domain)
    assert status == 403

    # a new truststore version: the other CA's clients now, the first CA's no more
    new_version = s3.put_object(Bucket=bucket, Key="ca.pem", Body=pki["other_ca"].pem)["VersionId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:  # AWS wants the configuration on every update
        v2.update_domain_name(DomainName=domain, MutualTlsAuthentication={"TruststoreUri": uri,
                                                                          "TruststoreVersion": new_version})
    assert _code(e) == ("BadRequestException", 400, "Invalid input. Expected one domain name configuration.")
    updated = v2.update_domain_name(DomainName=domain, DomainNameConfigurations=[{"CertificateArn": certificate}],
                                    MutualTlsAuthentication={"TruststoreUri": uri, "TruststoreVersion": new_version})
    assert updated["MutualTlsAuthentication"]["TruststoreVersion"] == new_version
    status, body, _ = tls_get(tserver, domain, "/orders/x", client=pki["other_good"], tmp=tmp_path)
    assert status == 200, body
    assert json.loads(body)["requestContext"]["authentication"]["clientCert"]["subjectDN"] == \
        expected_client_cert(pki["other_good"])["subjectDN"]
    refused(tserver, domain, "/orders/x", pki["good"], tmp_path)


def test_rest_api_domain_client_cert_in_the_event_and_the_access_log(tserver, moto, certificate, pki, tmp_path):  # noqa: F811
    v1 = tserver.client("apigateway")
    api_id = _rest_api(tserver, function(tserver, "mtls1", ECHO))
    group = unique("mtls-access")
    fmt = json.dumps({"requestId": "$context.requestId", "status": "$context.status",
                      **{k: f"$context.identity.clientCert.{k}" for k in
                         ("subjectDN", "issuerDN", "serialNumber", "validity.notBefore", "validity.notAfter")}})
    v1.update_stage(restApiId=api_id, stageName="live", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn",
         "value": f"arn:aws:logs:{tserver.region}:{tserver.account_id}:log-group:{group}"},
        {"op": "replace", "path": "/accessLogSettings/format", "value": fmt}])
    s3, bucket, uri, version = truststore(moto, pki["client_ca"])
    domain = unique("rest").lower() + ".mtls.localhost"
    with pytest.raises(botocore.exceptions.ClientError) as e:  # mutual TLS: REGIONAL names only
        v1.create_domain_name(domainName=domain, certificateArn=certificate,
                              mutualTlsAuthentication={"truststoreUri": uri})
    assert _code(e)[:2] == ("BadRequestException", 400)
    made = v1.create_domain_name(domainName=domain, regionalCertificateArn=certificate,
                                 endpointConfiguration={"types": ["REGIONAL"]},
                                 mutualTlsAuthentication={"truststoreUri": uri, "truststoreVersion": version})
    assert made["mutualTlsAuthentication"] == {"truststoreUri": uri, "truststoreVersion": version,
                                               "truststoreWarnings": []}
    v1.create_base_path_mapping(domainName=domain, restApiId=api_id, basePath="shop", stage="live")
    base = f"http://{api_id}.execute-api.{tserver.region}.localhost:{tserver.port}/live/hello"
    assert curl(base)[0] == 200
    v1.update_rest_api(restApiId=api_id, patchOperations=[
        {"op": "replace", "path": "/disableExecuteApiEndpoint", "value": "true"}])
    assert curl(base) == (403, '{"message":"Forbidden"}')

    status, body, _ = tls_get(tserver, domain, "/shop/hello", client=pki["good"], tmp=tmp_path)  # the default certificate
    assert status == 200, body
    event = json.loads(body)
    assert event["path"] == "/shop/hello"
    want = expected_client_cert(pki["good"])
    assert event["requestContext"]["identity"]["clientCert"] == want
    status, body, _ = tls_get(tserver, domain, "/shop/hello")
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})
    refused(tserver, domain, "/shop/hello", pki["expired"], tmp_path)

    found = wait_for(lambda: [x for x in lines(tserver, group) if x["requestId"] == event["requestContext"]["requestId"]],
                     30, 0.2, "the access log line")
    line = found[0]
    assert (line["status"], line["subjectDN"], line["issuerDN"], line["serialNumber"], line["validity.notBefore"],
            line["validity.notAfter"]) == ("200", want["subjectDN"], want["issuerDN"], want["serialNumber"],
                                           want["validity"]["notBefore"], want["validity"]["notAfter"])

    # PATCH: a new truststore version (the other CA's)
    new_version = s3.put_object(Bucket=bucket, Key="ca.pem", Body=pki["other_ca"].pem)["VersionId"]
    patched = v1.update_domain_name(domainName=domain, patchOperations=[
        {"op": "replace", "path": "/mutualTlsAuthentication/truststoreVersion", "value": new_version}])
    assert patched["mutualTlsAuthentication"] == {"truststoreUri": uri, "truststoreVersion": new_version,
                                                  "truststoreWarnings": []}
    assert tls_get(tserver, domain, "/shop/hello", client=pki["other_good"], tmp=tmp_path)[0] == 200
    refused(tserver, domain, "/shop/hello", pki["good"], tmp_path)

    # PATCH: mutual TLS turned off, the domain is served without a certificate
    off = v1.update_domain_name(domainName=domain, patchOperations=[
        {"op": "replace", "path": "/mutualTlsAuthentication/truststoreUri", "value": ""}])
    assert "mutualTlsAuthentication" not in off
    status, body, _ = tls_get(tserver, domain, "/shop/hello")
    assert status == 200 and "clientCert" not in json.loads(body)["requestContext"]["identity"]


def test_truststore_refusals_and_warnings(tserver, moto, certificate, pki):  # noqa: F811
    v2 = tserver.client("apigatewayv2")
    s3, bucket = versioned_bucket(moto, "badstore")
    s3.put_object(Bucket=bucket, Key="junk.pem", Body=b"not a certificate")
    expired_ca = issue("old CA", ca=True, before=NOW - 30 * DAY, after=NOW - DAY)
    s3.put_object(Bucket=bucket, Key="mixed.pem", Body=pki["client_ca"].pem + expired_ca.pem + pki["good"].pem)
    conf = [{"CertificateArn": certificate}]
    for key, what in (("missing.pem", "Unable to read the truststore"), ("junk.pem", "not a PEM bundle")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            v2.create_domain_name(DomainName=unique("bad").lower() + ".mtls.localhost", DomainNameConfigurations=conf,
                                  MutualTlsAuthentication={"TruststoreUri": f"s3://{bucket}/{key}"})
        assert _code(e)[:2] == ("BadRequestException", 400) and what in _code(e)[2]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v2.create_domain_name(DomainName=unique("bad").lower() + ".mtls.localhost", DomainNameConfigurations=conf,
                              MutualTlsAuthentication={"TruststoreUri": "https://example.com/ca.pem"})
    assert _code(e)[:2] == ("BadRequestException", 400)
    made = v2.create_domain_name(DomainName=unique("warn").lower() + ".mtls.localhost", DomainNameConfigurations=conf,
                                 MutualTlsAuthentication={"TruststoreUri": f"s3://{bucket}/mixed.pem"})
    warnings = made["MutualTlsAuthentication"]["TruststoreWarnings"]
    assert len(warnings) == 2, warnings
    assert "CN=old CA" in warnings[0] and "expired" in warnings[0]
    assert "CN=good client" in warnings[1] and "not a certificate authority" in warnings[1]


SAM_MTLS = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Domain: {Type: String}
  Cert: {Type: String}
  Store: {Type: String}
  Version: {Type: String}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: app/
      Handler: app.handler
      Runtime: python3.12
      Events:
        Http:
          Type: HttpApi
          Properties: {ApiId: !Ref Http, Path: "/items/{id}", Method: get}
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: prod
      DisableExecuteApiEndpoint: true
      Domain:
        DomainName: !Ref Domain
        CertificateArn: !Ref Cert
        BasePath: [orders]
        MutualTlsAuthentication: {TruststoreUri: !Ref Store, TruststoreVersion: !Ref Version}
"""


def test_sam_domain_with_mutual_tls_deployed(tserver, moto, certificate, pki, tmp_path):  # noqa: F811
    from .deploy_support import deploy_env, lamb_cmd, write

    write(tmp_path, {"app/app.py": ECHO, "template.yaml": SAM_MTLS})
    s3, bucket, uri, version = truststore(moto, pki["client_ca"])
    domain = unique("sam").lower() + ".mtls.localhost"
    stack = unique("mtls")
    env = deploy_env(tserver, tmp_path / "cache")

    def deploy(v: str) -> str:
        return lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", stack, "--parameter-overrides",
                        f"Domain={domain}", f"Cert={certificate}", f"Store={uri}", f"Version={v}", env=env).stdout

    out = deploy(version)
    assert "CREATE_COMPLETE             AWS::ApiGatewayV2::DomainName" in out, out
    assert "not applied" not in out, out
    v2 = tserver.client("apigatewayv2")
    assert v2.get_domain_name(DomainName=domain)["MutualTlsAuthentication"] == {
        "TruststoreUri": uri, "TruststoreVersion": version, "TruststoreWarnings": []}
    status, body, _ = tls_get(tserver, domain, "/orders/items/5", client=pki["good"], tmp=tmp_path)
    assert status == 200, body
    assert json.loads(body)["requestContext"]["authentication"]["clientCert"]["subjectDN"] == \
        expected_client_cert(pki["good"])["subjectDN"]
    assert tls_get(tserver, domain, "/orders/items/5")[0] == 403

    # a new truststore version through the template
    new_version = s3.put_object(Bucket=bucket, Key="ca.pem", Body=pki["other_ca"].pem)["VersionId"]
    deploy(new_version)
    assert v2.get_domain_name(DomainName=domain)["MutualTlsAuthentication"]["TruststoreVersion"] == new_version
    assert tls_get(tserver, domain, "/orders/items/5", client=pki["other_good"], tmp=tmp_path)[0] == 200
    refused(tserver, domain, "/orders/items/5", pki["good"], tmp_path)
    lamb_cmd("deploy", "--delete", stack, env=env)
    assert domain not in {d["DomainName"] for d in v2.get_domain_names()["Items"]}


def test_the_tls_port_serves_what_the_plain_port_serves(tserver, pki, tmp_path):
    """boto3 over TLS, trusting the default certificate Lamb made (key 0600): the AWS API and an HTTP API."""
    import boto3

    from .conftest import client_config

    key = tserver.data_dir / "tls" / "default.key"
    assert key.stat().st_mode & 0o777 == 0o600
    lam = boto3.client("lambda", endpoint_url=f"https://localhost:{tserver.https_port}", region_name=tserver.region,
                       config=client_config(), verify=str(tserver.data_dir / "tls" / "default.pem"),
                       **tserver.credentials("default"))
    arn = function(tserver, "tlsport", ECHO)
    assert arn in {f["FunctionArn"] for f in lam.list_functions()["Functions"]}
    api_id = tserver.client("apigatewayv2").create_api(Name=unique("tls"), ProtocolType="HTTP", Target=arn)["ApiId"]
    host = f"{api_id}.execute-api.{tserver.region}.localhost"
    out = subprocess.run(["curl", "-s", "--cacert", str(tserver.data_dir / "tls" / "default.pem"), "--resolve",
                          f"{host}:{tserver.https_port}:127.0.0.1", f"https://{host}:{tserver.https_port}/items/1"],
                         capture_output=True, text=True, timeout=60)
    event = json.loads(out.stdout)
    assert event["rawPath"] == "/items/1" and "authentication" not in event["requestContext"]
    # a client that offers a certificate where none is asked (no mutual TLS for this name) is served
    status, body, _ = tls_get(tserver, host, "/items/2", client=pki["untrusted"], tmp=tmp_path)
    assert status == 200 and "authentication" not in json.loads(body)["requestContext"]


AUTHORIZER = (
    "def handler(event, context):\n"
    "    cert = (event['requestContext'].get('authentication') or {}).get('clientCert') or {}\n"
    "    return {'isAuthorized': bool(cert.get('subjectDN')), 'context': {'subject': cert.get('subjectDN', '')}}\n")


def test_lambda_authorizer_and_parameter_mapping_see_the_client_cert(tserver, moto, certificate, pki, tmp_path):  # noqa: F811
    """AWS forwards the certificate to Lambda authorizers and integrations, and ``$context.identity.clientCert.*``
    is there for parameter mapping."""
    v2 = tserver.client("apigatewayv2")
    arn, auth_arn = function(tserver, "mtlsfn", ECHO), function(tserver, "mtlsauth", AUTHORIZER)
    api_id = v2.create_api(Name=unique("mtls-auth"), ProtocolType="HTTP")["ApiId"]
    integ = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn,
                                  PayloadFormatVersion="2.0", RequestParameters={
                                      "append:header.x-client-subject": "$context.identity.clientCert.subjectDN",
                                      "append:header.x-client-not-after":
                                          "$context.identity.clientCert.validity.notAfter"})["IntegrationId"]
    auth = v2.create_authorizer(
        ApiId=api_id, Name="cert", AuthorizerType="REQUEST", AuthorizerPayloadFormatVersion="2.0",
        EnableSimpleResponses=True, IdentitySource=["$request.header.host"],
        AuthorizerUri=f"arn:aws:apigateway:{tserver.region}:lambda:path/2015-03-31/functions/{auth_arn}/invocations")
    v2.create_route(ApiId=api_id, RouteKey="GET /things/{id}", Target=f"integrations/{integ}",
                    AuthorizationType="CUSTOM", AuthorizerId=auth["AuthorizerId"])
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    _, _, uri, version = truststore(moto, pki["client_ca"])
    domain = unique("authz").lower() + ".mtls.localhost"
    v2.create_domain_name(DomainName=domain, DomainNameConfigurations=[{"CertificateArn": certificate}],
                          MutualTlsAuthentication={"TruststoreUri": uri, "TruststoreVersion": version})
    v2.create_api_mapping(DomainName=domain, ApiId=api_id, Stage="$default")
    want = expected_client_cert(pki["good"])
    status, body, _ = tls_get(tserver, domain, "/things/1", client=pki["good"], tmp=tmp_path)
    assert status == 200, body
    event = json.loads(body)
    assert event["requestContext"]["authorizer"]["lambda"] == {"subject": want["subjectDN"]}
    assert event["headers"]["x-client-subject"] == want["subjectDN"]
    assert event["headers"]["x-client-not-after"] == want["validity"]["notAfter"]
    # the same API at its default endpoint: no certificate, so the authorizer refuses
    assert curl(f"http://{api_id}.execute-api.{tserver.region}.localhost:{tserver.port}/things/1") == \
        (403, '{"message":"Forbidden"}')


def test_an_exportable_acm_certificate_is_served_by_sni(tserver, moto):  # noqa: F811
    """ACM exports a certificate requested with ``Export: ENABLED``: Lamb writes it into its certificates
    folder (key 0600) and the TLS port serves it for the domain; an imported one is never exported."""
    acm = moto.client("acm")
    domain = unique("exp").lower() + ".mtls.localhost"
    arn = acm.request_certificate(DomainName=domain, Options={"Export": "ENABLED"})["CertificateArn"]
    v2 = tserver.client("apigatewayv2")
    api_id = v2.create_api(Name=unique("exp"), ProtocolType="HTTP", Target=function(tserver, "exp", ECHO))["ApiId"]
    v2.create_domain_name(DomainName=domain, DomainNameConfigurations=[{"CertificateArn": arn}])
    v2.create_api_mapping(DomainName=domain, ApiId=api_id, Stage="$default")
    folder = tserver.data_dir / "tls" / "certificates"
    assert (folder / f"{domain}.key").stat().st_mode & 0o777 == 0o600
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", tserver.https_port), timeout=60),
                         server_hostname=domain) as s:
        served = s.getpeercert(binary_form=True)
    want = x509.load_pem_x509_certificate(acm.get_certificate(CertificateArn=arn)["Certificate"].encode())
    assert served == want.public_bytes(serialization.Encoding.DER)
    assert tls_get(tserver, domain, "/x")[0] == 200
